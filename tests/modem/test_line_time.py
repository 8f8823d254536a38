"""Our driver -> paced simulator -> our driver: a page's line time is what T.30/T.4 make of its data.

MR at the receiver's minimum scan-line time (our receiver asks for 0 ms: it
buffers, so no fill), MMR with ECM in 256-byte frames (framing worked out
bit by bit in :mod:`tests.hwsim.test_line_time`).  Simulated seconds on a
Clock, no T.30 phase timing: the line runs at its nominal 14,400 bit/s.
"""

from __future__ import annotations

import pytest

from hwsim import _page
from hwsim.line import Caps, LineAction, PageEnd, PageStart, ToLine
from hwsim.pstn import Delivery
from modem import class2 as c2
from modem import coding
from modem.coding import CodedPage, Coding
from modem.document import FaxPage, Resolution
from modem.params import PageFormat
from tests.hwsim.test_line_time import BPS, ecm_line_bits

from .pair import Bench
from .test_coding_pairing import text_page

A, B = "5550001", "5550002"


def page_time(page: CodedPage, *, ecm: bool) -> tuple[float, Caps]:
    bench = Bench("2.0")
    marks: list[float] = []
    dcs: list[Caps] = []
    handle = bench.network.handle

    def recording(number: str, action: LineAction) -> list[Delivery]:
        if isinstance(action, ToLine) and isinstance(action.signal, (PageStart, PageEnd)):
            marks.append(bench.clock.seconds())
            if isinstance(action.signal, PageStart):
                dcs.append(action.signal.dcs)
        return handle(number, action)

    bench.network.handle = recording  # type: ignore[method-assign]  # observe the line
    tx = bench.attach(A, c2.SessionConfig(local_id=A, ecm=ecm))
    rx = bench.attach(B, c2.SessionConfig(local_id=B))
    bench.run(tx.probe(), rx.probe())
    results: list[c2.SessionResult] = []
    for deferred in (tx.send(B, [page], PageFormat(fine=True)), rx.receive()):
        deferred.addCallback(results.append)
    clock = bench.clock
    while len(results) < 2 and clock.seconds() < 600:  # from timer to timer: marks at their exact time
        clock.advance(max(1e-6, min(call.getTime() for call in clock.getDelayedCalls()) - clock.seconds()))
    assert len(results) == 2 and all(result.ok for result in results), results
    assert len(marks) == 2
    return marks[1] - marks[0], dcs[0]


def test_mmr_ecm_and_mr_pages_take_their_t30_line_time() -> None:
    page = coding.code_page(FaxPage(text_page(rows=2000, seed=2), Resolution.FINE))
    assert page.mmr is not None
    mr_seconds, mr_dcs = page_time(page, ecm=False)
    assert (mr_dcs[4], mr_dcs[5], mr_dcs[7]) == (1, 0, 0)  # MR without ECM, st 0 ms
    assert page.mr is not None
    assert mr_seconds == pytest.approx(len(page.mr) * 8 / BPS, abs=0.01)
    mmr_seconds, mmr_dcs = page_time(page, ecm=True)
    assert (mmr_dcs[1], mmr_dcs[4], mmr_dcs[5]) == (5, Coding.MMR, 2)  # 14,400 bit/s, MMR, 256-byte frames
    line_bits, blocks = ecm_line_bits(_page.reverse_bits(page.mmr), 256)
    assert blocks == 1
    assert mmr_seconds == pytest.approx(line_bits / BPS, abs=0.01)
