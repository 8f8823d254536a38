"""The simulator's T.30 phase timing against sessions measured on real modems
(efax -> iaxmodem -> iaxmodem -> efax, V.17): within 10 %, on a Clock."""

from __future__ import annotations

import pytest

from hwsim._t30 import DEFAULT_T30, REFERENCE, REFERENCE_PAGE_BPS
from modem import class2 as c2
from modem.params import PageFormat

from .pair import Bench

A, B = "5550001", "5550002"
# the page data of the reference pages: their line time (session less the fixed phases) at the line rate
FIXED = DEFAULT_T30.connect + DEFAULT_T30.dcs + DEFAULT_T30.ppm + DEFAULT_T30.ppr + DEFAULT_T30.dcn


def page_of(seconds: float) -> bytes:
    body = bytes([0x00, 0x01]) + bytes([0x5A, 0x3C]) * int(seconds * REFERENCE_PAGE_BPS / 16)
    return body + b"\x00\x10\x01" * 3


def session_seconds(resolution: str, pages: int, *, time_scale: float = 1.0) -> float:
    bench = Bench("2.0", t30=DEFAULT_T30, time_scale=time_scale)
    # a time-scaled line is faster than its nominal rate: no pacing by the driver, XOFF only
    tx = bench.attach(A, c2.SessionConfig(local_id=A, ecm=False, pace_margin=1.25 if time_scale == 1 else 0))
    rx = bench.attach(B, c2.SessionConfig(local_id=B))
    bench.run(tx.probe(), rx.probe())
    line_time = REFERENCE[(resolution, 1)] - FIXED
    sent, got = bench.run(
        tx.send(B, [page_of(line_time)] * pages, PageFormat(fine=resolution == "fine")), rx.receive(), step=0.125
    )  # a binary fraction: timer ticks land exactly
    assert sent.ok and got.ok and len(got.received) == pages, (sent, got)
    return sent.duration_s


@pytest.mark.parametrize(("resolution", "pages"), sorted(REFERENCE))
def test_session_time_matches_real_t30_within_10_percent(resolution: str, pages: int) -> None:
    seconds = session_seconds(resolution, pages)
    real = REFERENCE[(resolution, pages)]
    assert 0.9 * real <= seconds <= 1.1 * real, (seconds, real)


def test_time_scale_shortens_everything() -> None:
    full, tenth = session_seconds("normal", 1), session_seconds("normal", 1, time_scale=0.1)
    assert tenth == pytest.approx(full / 10, rel=0.2)  # clock steps of 1/8 s weigh more at 1/10
