"""Call progress events of the driver (Clock + simulator core) and the pure
snapshot diff behind them."""

from __future__ import annotations

import pytest

from hwsim.faults import FaultPlan, Faults
from modem import class2 as c2
from modem.params import PageFormat
from modem.progress import CallEvent, PagePost, Snapshot, events_between
from modem.progress import CallEventKind as K

from .pair import Bench
from .test_pairing import PAGE1, PAGE2, B, probe_both

MCF, RTN = PagePost.MCF, PagePost.RTN


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_a_send_reports_dialing_connect_pages_and_hangup(fax_class: str) -> None:
    bench = Bench(fax_class)
    tx, rx = probe_both(bench)
    events: list[CallEvent] = []
    received: list[CallEvent] = []
    sent, got = bench.run(
        tx.send(B, [PAGE1, PAGE2, PAGE1], PageFormat(), on_event=events.append), rx.receive(on_event=received.append)
    )
    assert sent.ok and got.ok
    kinds = [(e.kind, e.page, e.post) for e in events if e.kind is not K.CONNECTED]
    assert kinds == [
        (K.DIALING, 0, None),
        (K.PAGE_STARTED, 1, None),
        (K.PAGE_DONE, 1, MCF),
        (K.PAGE_STARTED, 2, None),
        (K.PAGE_DONE, 2, MCF),
        (K.PAGE_STARTED, 3, None),
        (K.PAGE_DONE, 3, MCF),
        (K.HANGUP, 0, None),
    ]
    connected = [e for e in events if e.kind is K.CONNECTED]
    assert connected and connected[-1].bps == sent.params.bps and connected[-1].resolution == "fine"
    assert connected[-1].remote_id == (sent.remote_id or "").strip()
    assert events[-1].hangup_code in ("0", "00")
    assert [e.page for e in received if e.kind is K.PAGE_DONE] == [1, 2, 3]


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_a_lost_carrier_ends_with_a_hangup_event(fax_class: str) -> None:
    bench = Bench(fax_class, FaultPlan(lines={B: Faults(carrier_lost_page=2)}))
    tx, rx = probe_both(bench)
    events: list[CallEvent] = []
    sent, _ = bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat(), on_event=events.append), rx.receive())
    assert not sent.ok
    assert [e.page for e in events if e.kind is K.PAGE_DONE] == [1]
    assert [e.page for e in events if e.kind is K.PAGE_STARTED] == [1, 2]
    assert events[-1].kind is K.HANGUP and (events[-1].hangup_code or events[-1].hangup_text)


def test_a_failing_event_observer_does_not_break_the_call() -> None:
    bench = Bench("2.0")
    tx, rx = probe_both(bench)

    def broken(event: CallEvent) -> None:
        raise RuntimeError("observer bug")

    sent, _ = bench.run(tx.send(B, [PAGE1], PageFormat(), on_event=broken), rx.receive())
    assert sent.outcome is c2.Outcome.OK


def test_snapshot_diff() -> None:
    before = Snapshot(connected=True, remote_id="X", bps=14400, vr=1, sending_page=1)
    after = Snapshot(connected=True, remote_id="X", bps=14400, vr=1, sending_page=0, confirmed=1)
    assert events_between(before, after) == [CallEvent(K.PAGE_DONE, page=1, post=MCF)]
    rtn = Snapshot(connected=True, remote_id="X", bps=14400, vr=1, sending_page=0, rejected=1)
    assert events_between(before, rtn) == [CallEvent(K.PAGE_DONE, page=1, post=RTN)]
    up = events_between(Snapshot(), Snapshot(connected=True, remote_id="R", bps=9600, vr=0))
    assert up[0].kind is K.CONNECTED and up[0].resolution == "normal" and up[0].bps == 9600
    assert events_between(after, after) == []
