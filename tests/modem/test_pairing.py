"""Our driver against the simulator core in memory (Clock, no sleeping), both classes:
sends, receives, every network fault and the hangup paths."""

from __future__ import annotations

import pytest

from hwsim.faults import CallFault, FaultPlan, Faults
from modem import class2 as c2
from modem.params import PageFormat

from .pair import Bench

A, B = "5550001", "5550002"
PAGE1 = bytes([0x00, 0x10, 0x80]) + bytes(range(256)) * 4
PAGE2 = bytes([0x00, 0x01, 0x4D]) + bytes(reversed(range(256))) * 3
CLASSES = ["2.0", "2"]


def cfg(**kw: object) -> c2.SessionConfig:
    return c2.SessionConfig(local_id=kw.pop("local_id", "5550001"), **kw)  # type: ignore[arg-type]


def probe_both(bench: Bench, rx_cfg: c2.SessionConfig | None = None, tx_cfg: c2.SessionConfig | None = None) -> tuple:
    tx = bench.attach(A, tx_cfg or cfg())
    rx = bench.attach(B, rx_cfg or cfg(local_id="5550002"))
    bench.run(tx.probe(), rx.probe())
    return tx, rx


@pytest.mark.parametrize("fax_class", CLASSES)
def test_send_and_receive_two_pages(fax_class: str) -> None:
    """Our sender and our receiver exchange 2 pages; the receiver gets the exact bytes."""
    bench = Bench(fax_class)
    tx, rx = probe_both(bench)
    assert tx.probe_result.fax_class.value == fax_class
    d_rx = rx.receive(rings=2)
    d_tx = tx.send(B, [PAGE1, PAGE2], PageFormat(fine=True))
    sent, got = bench.run(d_tx, d_rx)
    assert sent.outcome is c2.Outcome.OK, sent
    assert (sent.pages_confirmed, sent.pages_total) == (2, 2)
    assert sent.remote_id == "5550002" and sent.hangup.normal
    assert sent.params.fine and sent.params.bps == 14400
    assert got.outcome is c2.Outcome.OK, got
    assert got.caller_id == A and got.remote_id == "5550001"
    assert len(got.received) == 2
    # the simulator appends RTC when the sender left it out
    assert got.received[0].data.startswith(PAGE1) and got.received[1].data.startswith(PAGE2)
    assert sent.duration_s >= 2.0  # paced at the line rate, at least 1 s a page


@pytest.mark.parametrize("fax_class", CLASSES)
@pytest.mark.parametrize("page", [1, 2])
def test_carrier_lost_at_page(fax_class: str, page: int) -> None:
    """Carrier lost on page k: the sender reports code 40 and k-1 pages; the receiver code 90."""
    bench = Bench(fax_class, FaultPlan(lines={B: Faults(carrier_lost_page=page)}))
    tx, rx = probe_both(bench)
    sent, got = bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat()), rx.receive())
    assert sent.outcome is c2.Outcome.HANGUP, sent
    assert sent.pages_confirmed == page - 1
    assert sent.hangup.code == (0x40 if fax_class == "2.0" else 40)
    assert "phase C" in sent.hangup.meaning
    assert got.outcome is c2.Outcome.HANGUP, got
    assert got.hangup.code == (0x90 if fax_class == "2.0" else 90)
    assert len(got.received) == page - 1 and all(p.good for p in got.received)
    (fragment,) = got.discarded  # the part of page k that arrived is not a page
    assert fragment.ppm is None and not fragment.good


@pytest.mark.parametrize("fax_class", CLASSES)
def test_rtn_once_then_resend(fax_class: str) -> None:
    """RTN on page 1 (first transmission): the driver resends it and both pages get through."""
    bench = Bench(fax_class, FaultPlan(lines={B: Faults(rtn_pages=frozenset({1}))}))
    tx, rx = probe_both(bench)
    sent, got = bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat()), rx.receive())
    assert sent.outcome is c2.Outcome.OK, sent
    assert sent.pages_confirmed == 2 and sent.rtn_resends == 1
    # the rejected first copy is not part of the fax; its confirmed resend takes its place
    assert len(got.received) == 2
    assert got.received[0].data.startswith(PAGE1) and got.received[1].data.startswith(PAGE2)
    assert got.pages_confirmed == got.pages_total == 2
    assert [(p.good, p.ppr, p.ppm) for p in got.discarded] == [(False, 2, 0)]


@pytest.mark.parametrize("fax_class", CLASSES)
def test_rtn_policy_abort(fax_class: str) -> None:
    """With a no-retry, no-continue policy an RTN ends the call as PAGE_REJECTED."""
    bench = Bench(fax_class, FaultPlan(lines={B: Faults(rtn_pages=frozenset({1}))}))
    policy = c2.RtnPolicy(retries=0, continue_after=False)
    tx, rx = probe_both(bench, tx_cfg=cfg(rtn_policy=policy))
    sent, got = bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat()), rx.receive())
    assert sent.outcome is c2.Outcome.PAGE_REJECTED and sent.pages_confirmed == 0
    assert got.outcome is not c2.Outcome.OK


@pytest.mark.parametrize("fax_class", CLASSES)
@pytest.mark.parametrize(
    ("faults", "outcome"),
    [
        (Faults(busy_first=1), c2.Outcome.BUSY),
        (Faults(no_dial_tone=True), c2.Outcome.NO_DIALTONE),
        (Faults(no_carrier=True), c2.Outcome.NO_CARRIER),
        (Faults(never_answer=True), c2.Outcome.NO_ANSWER),
    ],
)
def test_call_faults(fax_class: str, faults: Faults, outcome: c2.Outcome) -> None:
    """Busy, no dial tone, no carrier, never answers: each gives its outcome, no page sent."""
    plan = FaultPlan(calls=(CallFault(faults, caller=A),)) if not faults.no_dial_tone else FaultPlan(lines={A: faults})
    bench = Bench(fax_class, plan)
    tx, rx = probe_both(bench, rx_cfg=c2.SessionConfig(timers=c2.Timers(wait_call=200)))
    sent, got = bench.run(tx.send(B, [PAGE1], PageFormat()), rx.receive())
    assert sent.outcome is outcome, sent
    assert sent.pages_confirmed == 0 and not got.received
    assert "ATDT5550002" in sent.detail


@pytest.mark.parametrize("fax_class", CLASSES)
def test_busy_first_then_through(fax_class: str) -> None:
    """busy_first=1: the first attempt is BUSY, the second one goes through."""
    bench = Bench(fax_class, FaultPlan(calls=(CallFault(Faults(busy_first=1)),)))
    tx, rx = probe_both(bench)
    (first,) = bench.run(tx.send(B, [PAGE1], PageFormat()))
    assert first.outcome is c2.Outcome.BUSY
    sent, got = bench.run(tx.send(B, [PAGE1], PageFormat()), rx.receive())
    assert sent.ok and got.ok


def test_unknown_number_no_carrier() -> None:
    """Dialing a number nobody has gives NO CARRIER."""
    bench = Bench("2.0")
    tx, _rx = probe_both(bench)
    (sent,) = bench.run(tx.send("5559999", [PAGE1], PageFormat()))
    assert sent.outcome is c2.Outcome.NO_CARRIER


@pytest.mark.parametrize("fax_class", CLASSES)
def test_receiver_vanishes_mid_call(fax_class: str) -> None:
    """The receiving device disappears mid-page: DEVICE_GONE there, a hangup for the sender."""
    bench = Bench(fax_class)
    tx, rx = probe_both(bench)
    d_tx = tx.send(B, [PAGE1, PAGE2], PageFormat())
    d_rx = rx.receive()
    for _ in range(200):
        bench.clock.advance(0.05)
        if rx._session is not None and rx._session.state is c2.State.RECEIVING:
            break
    assert rx._session.state is c2.State.RECEIVING
    bench.unplug(B)
    # the modem of the vanished DTE notices nothing by itself; the sender times out
    # waiting for the receiver's response and hangs up
    sent, got = bench.run(d_tx, d_rx, limit=600)
    assert got.outcome is c2.Outcome.DEVICE_GONE
    assert not sent.ok and sent.pages_confirmed < 2


@pytest.mark.parametrize("fax_class", CLASSES)
def test_receive_times_out_without_call(fax_class: str) -> None:
    """receive with a wait limit and no call ends as TIMEOUT after that many seconds."""
    bench = Bench(fax_class)
    _tx, rx = probe_both(bench, rx_cfg=c2.SessionConfig(timers=c2.Timers(wait_call=30)))
    start = bench.clock.seconds()
    (got,) = bench.run(rx.receive())
    assert got.outcome is c2.Outcome.TIMEOUT
    assert bench.clock.seconds() - start == pytest.approx(30, abs=1)


@pytest.mark.parametrize("fax_class", CLASSES)
def test_remote_cannot_receive(fax_class: str) -> None:
    """A remote that answers with +FCR=0 (cannot receive) ends the send with hangup 21."""
    bench = Bench(fax_class)
    tx = bench.attach(A, cfg())
    (_probe,) = bench.run(tx.probe())
    select = "2.0" if fax_class == "2.0" else "2"
    bench.to_modem(B, f"ATE0;+FCLASS={select};+FCR=0;S0=1\r".encode())  # a bare auto-answering modem
    (sent,) = bench.run(tx.send(B, [PAGE1], PageFormat()))
    assert sent.outcome is c2.Outcome.HANGUP, sent
    assert sent.hangup.code == (0x21 if fax_class == "2.0" else 21)
    assert "cannot receive" in sent.hangup.meaning


@pytest.mark.parametrize("fax_class", CLASSES)
def test_cancel_while_sending(fax_class: str) -> None:
    """Cancelling mid-page sends CAN and the abort command; the result is ABORTED, the receiver's call fails."""
    bench = Bench(fax_class)
    tx, rx = probe_both(bench)
    d_tx = tx.send(B, [PAGE1 * 8, PAGE2], PageFormat())
    d_rx = rx.receive()
    for _ in range(400):
        bench.clock.advance(0.05)
        if tx._session is not None and tx._session.state is c2.State.SENDING:
            break
    tx.cancel("operator abort")
    sent, got = bench.run(d_tx, d_rx)
    assert sent.outcome is c2.Outcome.ABORTED and "operator abort" in sent.detail
    assert sent.pages_confirmed == 0
    assert sent.hangup is None or sent.hangup.code == 2  # the modem may report +FHS:02
    # the page data may already have reached the modem whole, so the receiver may hold it
    assert not got.ok and len(got.received) <= 1


@pytest.mark.parametrize("fax_class", CLASSES)
def test_receiver_copy_quality_check_asks_rtn(fax_class: str) -> None:
    """Our receiver's page check rejects the first copy: +FPS=2 makes the sender resend it."""
    bench = Bench(fax_class)
    seen: list[bytes] = []

    def check(data: bytes) -> bool:
        seen.append(data)
        return len(seen) > 1

    tx, rx = probe_both(bench, rx_cfg=cfg(local_id="5550002", page_check=check))
    sent, got = bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat()), rx.receive())
    assert sent.ok and sent.rtn_resends == 1, sent
    assert len(seen) == 3 and seen[0] == seen[1]
    assert [p.data for p in got.received] == seen[1:] and all(p.good for p in got.received)
    assert got.pages_confirmed == 2
    assert [p.note for p in got.discarded] == ["the copy-quality check failed"]


@pytest.mark.parametrize("fax_class", CLASSES)
def test_rtn_step_down_speed(fax_class: str) -> None:
    """With step_down, the resend after RTN goes one speed step lower (+FIS=/+FDIS=)."""
    bench = Bench(fax_class, FaultPlan(lines={B: Faults(rtn_pages=frozenset({1}))}))
    tx, rx = probe_both(bench, tx_cfg=cfg(rtn_policy=c2.RtnPolicy(step_down=True)))
    sent, _got = bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat()), rx.receive())
    assert sent.ok and sent.rtn_resends == 1, sent
    assert sent.params.br == 4  # the modem reported the lower rate in its DCS


@pytest.mark.parametrize("fax_class", CLASSES)
def test_receive_page_limit_cancels_the_call(fax_class: str) -> None:
    """A page longer than the receiver's max_page_bytes: CAN ends the call at the modem; nothing is stored."""
    bench = Bench(fax_class)
    tx, rx = probe_both(bench, rx_cfg=cfg(local_id="5550002", max_page_bytes=500))
    sent, got = bench.run(tx.send(B, [PAGE1, PAGE2], PageFormat()), rx.receive())
    assert got.outcome is c2.Outcome.PROTOCOL_ERROR and "longer than 500 bytes" in got.detail, got
    assert got.received == () and not sent.ok and sent.pages_confirmed == 0
    assert rx._session is None  # the line is free again
    (again,) = bench.run(rx.probe())  # and the modem answers commands
    assert again.fax_class.value == fax_class
