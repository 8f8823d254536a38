"""Page events of the driver against the simulator core (Clock): the sender
hears of each page the receiver confirmed (MCF) as it happens; the receiver
reports each good page before the modem confirms it, with the post-page
message that says whether it was the last."""

from __future__ import annotations

from typing import Any

import pytest

from hwsim.faults import FaultPlan, Faults
from modem import class2 as c2
from modem.params import PageFormat

from .pair import Bench
from .test_pairing import PAGE1, PAGE2, B, probe_both


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_page_events_on_both_sides(fax_class: str) -> None:
    bench = Bench(fax_class)
    tx, rx = probe_both(bench)
    events: list[tuple[str, Any]] = []

    def printed(count: int) -> None:
        session = rx.session
        assert session is not None
        events.append(("printed", (count, session.remote_id, getattr(session, "ppm", None) == 2)))

    d_rx = rx.receive(on_page=printed)
    d_tx = tx.send(B, [PAGE1, PAGE2], PageFormat(), on_page=lambda n: events.append(("confirmed", n)))
    sent, got = bench.run(d_tx, d_rx)
    assert sent.outcome is c2.Outcome.OK and got.outcome is c2.Outcome.OK
    assert events == [
        ("printed", (1, "5550001", False)),
        ("confirmed", 1),
        ("printed", (2, "5550001", True)),
        ("confirmed", 2),
    ]
    assert tx.session is None  # the callbacks end with the call


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_no_event_for_a_page_lost_with_the_carrier(fax_class: str) -> None:
    bench = Bench(fax_class, FaultPlan(lines={B: Faults(carrier_lost_page=2)}))
    tx, rx = probe_both(bench)
    confirmed: list[int] = []
    printed: list[int] = []
    bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat(), on_page=confirmed.append), rx.receive(on_page=printed.append))
    assert confirmed == [1] and printed == [1]


def test_a_failing_callback_does_not_break_the_call() -> None:
    bench = Bench("2.0")
    tx, rx = probe_both(bench)

    def broken(count: int) -> None:
        raise RuntimeError("observer bug")

    sent, _ = bench.run(tx.send(B, [PAGE1], PageFormat(), on_page=broken), rx.receive())
    assert sent.outcome is c2.Outcome.OK and sent.pages_confirmed == 1
