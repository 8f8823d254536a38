"""MH, MR, MMR with ECM, and V.34 rates: our driver -> simulator -> our driver (Clock, no sleeping).

The received page data decode to the very bitmaps sent; with bit errors on
the line ECM delivers the pages intact where a session without ECM gets RTN.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from hwsim.faults import FaultPlan, Faults
from modem import class2 as c2
from modem import coding
from modem.coding import CodedPage, Coding
from modem.document import FaxPage, Resolution
from modem.params import PageFormat
from tests.imaging._samples import assert_same_bitmap, bitmap

from .pair import Bench

A, B = "5550001", "5550002"


def text_page(rows: int = 600, seed: int = 0) -> Image.Image:
    small = Image.new("1", (576, rows // 4), 1)
    draw = ImageDraw.Draw(small)
    for y in range(5, rows // 4 - 12, 12):
        draw.text((10 + seed, y), f"Line {y} of a test page, seed {seed}: the quick brown fox", fill=0)
    return small.resize((1728, rows), Image.Resampling.NEAREST)


IMAGES = [text_page(seed=1), bitmap(300, seed=3)]


def cfg(number: str, **kw: object) -> c2.SessionConfig:
    return c2.SessionConfig(local_id=number, **kw)  # type: ignore[arg-type]


def pages(codings: tuple[Coding, ...]) -> list[CodedPage]:
    return [coding.code_page(FaxPage(image, Resolution.FINE), codings) for image in IMAGES]


def run(
    fax_class: str,
    sent_pages: list[CodedPage],
    *,
    ecm: bool = True,
    rx_ecm: bool = True,
    faults: FaultPlan | None = None,
    policy: c2.RtnPolicy | None = None,
) -> tuple:
    bench = Bench(fax_class, faults)
    tx = bench.attach(A, cfg(A, ecm=ecm, rtn_policy=policy or c2.RtnPolicy()))
    rx = bench.attach(B, cfg(B, ecm=rx_ecm))
    bench.run(tx.probe(), rx.probe())
    return tuple(bench.run(tx.send(B, sent_pages, PageFormat(fine=True)), rx.receive()))


def assert_received_exactly(got: c2.SessionResult, df: int) -> None:
    assert got.outcome is c2.Outcome.OK, got
    assert len(got.received) == len(IMAGES)
    for page, image in zip(got.received, IMAGES):
        assert page.coding == df
        assert_same_bitmap(coding.decode(page.data, page.coding), image)


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
@pytest.mark.parametrize(
    ("codings", "ecm", "df", "ec"),
    [
        ((Coding.MH,), True, 0, 2),  # MH pages only: MH, with ECM
        ((Coding.MH, Coding.MR), False, 1, 0),  # MR without ECM
        ((Coding.MH, Coding.MR, Coding.MMR), False, 1, 0),  # MMR needs ECM: MR
        ((Coding.MH, Coding.MR, Coding.MMR), True, 3, 2),  # MMR with 256-byte ECM frames
    ],
)
def test_coding_negotiated_and_pages_arrive_identical(
    fax_class: str, codings: tuple, ecm: bool, df: int, ec: int
) -> None:
    sent, got = run(fax_class, pages(codings), ecm=ecm)
    assert sent.outcome is c2.Outcome.OK, sent
    assert (sent.params.df, sent.params.ec) == (df, ec)
    assert (got.params.df, got.params.ec) == (df, ec)
    assert_received_exactly(got, df)
    name = {0: "MH", 1: "MR", 3: "MMR"}[df] + ("+ECM" if ec else "")
    assert any(f"bytes {name}>" in line for line in sent.exchange), sent.exchange


def test_plain_bytes_pages_stay_mh_without_ecm_offer_of_codings() -> None:
    """Pages given as MH bytes (the old interface) are sent as MH."""
    sent, got = run("2.0", [coding.encode(image, Coding.MH) for image in IMAGES])
    assert sent.ok and sent.params.df == 0
    assert_received_exactly(got, 0)


def test_receiver_without_ecm_gets_mr() -> None:
    """The receiving side does not offer ECM: the sender falls back from MMR to MR."""
    sent, got = run("2.0", pages(tuple(Coding)), rx_ecm=False)
    assert sent.ok and (sent.params.df, sent.params.ec) == (1, 0)
    assert_received_exactly(got, 1)


@pytest.mark.parametrize(("ecm", "br", "bps"), [(True, 13, 33600), (False, 5, 14400)])
def test_class21_uses_v34_rates_only_with_ecm(ecm: bool, br: int, bps: int) -> None:
    sent, got = run("2.1", pages(tuple(Coding)), ecm=ecm)
    assert sent.ok, sent
    assert sent.params.br == br and sent.params.bps == bps
    assert got.params.br == br
    assert_received_exactly(got, 3 if ecm else 1)


BER = FaultPlan(lines={B: Faults(bit_error_rate=1e-4)})


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_bit_errors_ecm_delivers_identical_pages(fax_class: str) -> None:
    sent, got = run(fax_class, pages(tuple(Coding)), faults=BER)
    assert sent.outcome is c2.Outcome.OK and sent.rtn_resends == 0, sent
    assert sent.params.ec
    assert_received_exactly(got, 3)


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_bit_errors_without_ecm_get_rtn(fax_class: str) -> None:
    policy = c2.RtnPolicy(retries=1, continue_after=False)
    sent, got = run(fax_class, pages(tuple(Coding)), ecm=False, faults=BER, policy=policy)
    assert sent.outcome is c2.Outcome.PAGE_REJECTED, sent
    assert sent.rtn_resends == 1 and sent.pages_confirmed == 0
    assert not got.received
    assert [p.ppr for p in got.discarded] == [2, 2]


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_long_page_is_paced_and_xoff_honoured(fax_class: str) -> None:
    """A long MH page: the driver writes little faster than the line, the simulator's 2 KiB
    buffer fills to XOFF now and then, the driver stops until XON, and nothing overruns."""
    image = bitmap(2400, seed=5)
    bench = Bench(fax_class)
    tx = bench.attach(A, cfg(A, ecm=False))
    rx = bench.attach(B, cfg(B))
    bench.run(tx.probe(), rx.probe())
    sent, got = bench.run(tx.send(B, [coding.encode(image, Coding.MH)], PageFormat(fine=True)), rx.receive())
    assert sent.ok and got.ok, (sent, got)
    stats = bench.modems[A].flow_stats
    assert stats.xoffs >= 1 and stats.overrun == 0 and stats.peak <= 2048, stats
    assert_same_bitmap(coding.decode(got.received[0].data, 0), image)
