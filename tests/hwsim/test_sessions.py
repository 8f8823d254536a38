"""Fax calls between simulated modems in memory (task.Clock): both classes, every
fault of the network and every hangup path of the modem."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twisted.internet.task import Clock

from hwsim import _page
from hwsim.faults import CallFault, FaultPlan, Faults
from hwsim.modem import State

from .harness import A, B, Dte, connect, lines, make_net, setup

PAGE = bytes(range(256)) * 8  # contains DLE, XON, DC2 and CAN bytes
PAGE_RTC = b"\x00\x80" + PAGE + _page.RTC_MH
PPM = {0: b",", 1: b";", 2: b"."}


def advance(clock: Clock, seconds: float, step: float = 0.05, until: Callable[[], bool] | None = None) -> None:
    """Let ``seconds`` pass in small steps, so that timers started meanwhile run too
    (stop early once ``until()`` holds)."""
    target = clock.seconds() + seconds + 1e-9
    while clock.seconds() < target and not (until is not None and until()):
        clock.advance(min(step, target - clock.seconds()))


def send_page(clock: Clock, tx: Dte, data: bytes, ppm: int, fax_class: str) -> list[str]:
    """+FDT, page data, page end (and +FET= in Class 2); the sender's results."""
    tx.send(b"AT+FDT\r")
    raw = tx.take()
    assert raw.endswith(b"CONNECT\r\n\x11" if fax_class == "2" else b"CONNECT\r\n"), raw
    tx.send(_page.dle_stuff(data) + (b"\x10\x03" if fax_class == "2" else b"\x10" + PPM[ppm]))
    advance(clock, 5, until=lambda: b"OK" in tx.received)
    if fax_class == "2":
        out = tx.take()
        assert out.startswith(b"\x13\x11")  # 2 KiB filled the buffer: XOFF, XON once drained
        assert lines(out[2:]) == ["OK"]
        tx.send(f"AT+FET={ppm}\r".encode())
        return lines(tx.take())
    out = tx.take()  # Class 2.0 at +FLO=1: XOFF/XON too
    assert out.count(b"\x13") == out.count(b"\x11") >= 1, out
    return lines(out.replace(b"\x13", b"").replace(b"\x11", b""))


def receive_page(clock: Clock, rx: Dte, fdr: bool = True) -> tuple[bytes, list[str]]:
    """[+FDR], DC2, page data up to DLE ETX; (data, report lines)."""
    if fdr:
        rx.take()
        rx.send(b"AT+FDR\r")
    out = lines(rx.take())
    assert out[-1] == "CONNECT", out
    rx.send(b"\x12")
    advance(clock, 5)
    raw = rx.take()
    end = raw.index(b"\x10\x03")
    return raw[:end].replace(b"\x10\x10", b"\x10"), lines(raw[end + 2 :])


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_two_page_fax_end_to_end(fax_class: str) -> None:
    """Dial, two pages, EOP: data arrives intact (with RTC) and both ends see hangup 0."""
    clock, _, (tx, rx) = make_net(fax_class=fax_class)
    tx_out, rx_out = connect(clock, tx, rx, fax_class)
    c2 = fax_class == "2"
    assert tx_out == (["+FCON", f'+FCSI:"{B}"', "+FDIS:1,5,0,2,0,0,0,0", "OK"] if c2 else
                      ["+FCO", f'+FCI:"{B}"', "+FIS:1,5,0,2,0,0,0,0", "OK"])  # fmt: skip
    assert rx_out[:2] == ["RING", f"NMBR = {A}"]
    assert rx_out[2:] == ([ "+FCON", f'+FTSI:"{A}"', "+FDCS:1,5,0,2,0,0,0,0", "OK"] if c2 else
                          ["+FCO", f'+FTI:"{A}"', "+FCS:1,5,0,2,0,0,0,0", "OK"])  # fmt: skip
    final: list[str] = []
    for page_no, (page, ppm) in enumerate([(PAGE, 0), (PAGE_RTC, 2)], 1):
        rx.send(b"AT+FDR\r")  # releases the previous page's response, waits for a page
        if page_no == 2:
            assert lines(tx.take()) == (["+FPTS:1", "OK"] if c2 else ["OK"])
        sent = send_page(clock, tx, page, ppm, fax_class)
        assert sent == []  # response waits for the receiver's +FDR
        data, report = receive_page(clock, rx, fdr=False)
        expected = page if page.endswith(_page.RTC_MH) else page + _page.RTC_MH
        expected += _page.TRAILING_FILL
        assert data == (_page.reverse_bits(expected) if c2 else expected)
        assert report[-2:] == [f"+FET:{ppm}", "OK"]
        assert report[0].startswith("+FPTS:1," if c2 else "+FPS:1,")
    final = rx.at("+FDR")  # releases MCF for the last page
    assert final == (["+FHNG:0", "OK"] if c2 else ["+FHS:00", "OK"])
    assert lines(tx.take()) == (["+FPTS:1", "+FHNG:0", "OK"] if c2 else ["+FHS:00", "OK"])


def test_page_takes_line_time_and_at_least_min_seconds() -> None:
    """The sender's page response cannot come before the paced line time."""
    clock, exchange, (tx, rx) = make_net()
    connect(clock, tx, rx)
    rx.at("+FDR")
    tx.at("+FDT")
    rx.send(b"\x12")
    tx.send(bytes(100) + b"\x10.")
    advance(clock, 1.0)
    assert b"\x10\x03" not in rx.take()
    assert exchange.modems[A].state is State.TX_LINE
    advance(clock, 0.1)
    assert exchange.modems[A].state is State.TX_WAIT_PPR
    big = bytes(18000)  # 10 s at 14400 bit/s
    assert exchange.modems[A].page_duration(len(big)) == pytest.approx(10.0)


def test_fast_mode_sends_pages_without_waiting() -> None:
    """With pacing off the page travels on zero-second timers."""
    clock, exchange, (tx, rx) = make_net(pacing=False)
    connect(clock, tx, rx)
    tx.at("+FDT")
    tx.send(PAGE + b"\x10,")
    clock.advance(0)
    clock.advance(0)
    assert exchange.modems[A].state is State.TX_WAIT_PPR


def test_bit_order_follows_fbo_in_class_2_0() -> None:
    """+FBO=1 on both ends reverses bits on the way in and out again."""
    clock, _, (tx, rx) = make_net()
    connect(clock, tx, rx)
    tx.at("+FBO=1")
    rx.at("+FBO=1")
    rx.send(b"AT+FDR\r")
    send_page(clock, tx, _page.reverse_bits(PAGE_RTC), 2, "2.0")
    data, _ = receive_page(clock, rx, fdr=False)
    assert data == _page.reverse_bits(PAGE_RTC + _page.TRAILING_FILL)


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
def test_rtn_on_a_page_then_resend(fax_class: str) -> None:
    """A damaged page gets RTN (ERROR / +FPTS:2); the resent page is accepted."""
    faults = FaultPlan(lines={B: Faults(rtn_pages=frozenset({1}))})
    clock, _, (tx, rx) = make_net(fax_class=fax_class, faults=faults)
    connect(clock, tx, rx, fax_class)
    send_page(clock, tx, PAGE, 2, fax_class)
    _, report = receive_page(clock, rx)
    assert report[0].startswith("+FPTS:2," if fax_class == "2" else "+FPS:2,")
    rx.send(b"AT+FDR\r")  # releases RTN, waits for the resent page
    assert lines(tx.take()) == (["+FPTS:2", "OK"] if fax_class == "2" else ["ERROR"])
    send_page(clock, tx, PAGE, 2, fax_class)
    rx.take()
    rx.send(b"\x12")
    advance(clock, 5)
    assert rx.at("+FDR")[-1] == "OK"
    assert "OK" in lines(tx.take())


def test_receiver_can_turn_a_good_page_into_rtn() -> None:
    """AT+FPS=2 after the report makes the sender see ERROR."""
    clock, _, (tx, rx) = make_net()
    connect(clock, tx, rx)
    send_page(clock, tx, PAGE, 0, "2.0")
    receive_page(clock, rx)
    assert rx.at("+FPS=2") == ["OK"]
    rx.send(b"AT+FDR\r")
    assert lines(tx.take()) == ["ERROR"]


@pytest.mark.parametrize(
    ("fax_class", "tx_code", "rx_code"), [("2.0", "+FHS:40", "+FHS:90"), ("2", "+FHNG:40", "+FHNG:90")]
)
def test_carrier_lost_mid_page(fax_class: str, tx_code: str, rx_code: str) -> None:
    """Carrier lost during page 2: sender reports 40, receiver 90, page 1 was confirmed."""
    faults = FaultPlan(lines={B: Faults(carrier_lost_page=2)})
    clock, exchange, (tx, rx) = make_net(fax_class=fax_class, faults=faults)
    connect(clock, tx, rx, fax_class)
    send_page(clock, tx, PAGE, 0, fax_class)
    receive_page(clock, rx)
    rx.send(b"AT+FDR\r")
    assert lines(tx.take())[-1] == "OK"  # page 1 confirmed
    assert "CONNECT" in tx.at("+FDT")
    rx.send(b"\x12")
    tx.send(PAGE + (b"\x10\x03" if fax_class == "2" else b"\x10."))
    advance(clock, 5)
    out = tx.take()
    assert out.count(b"\x13") == out.count(b"\x11")  # an XOFF is always followed by XON
    assert lines(out.replace(b"\x13", b"").replace(b"\x11", b"")) == [tx_code, "OK"]
    raw = rx.take()
    assert raw.endswith(b"\x10\x03" + f"\r\n{rx_code}\r\n\r\nOK\r\n".encode())
    assert exchange.modems[A].state is State.IDLE and exchange.modems[B].state is State.IDLE


def test_dial_results_busy_no_dialtone_no_carrier() -> None:
    """Busy numbers, a dead line and an unknown number give the Hayes results."""
    faults = FaultPlan(lines={"5550003": Faults(no_dial_tone=True)})
    clock, _, (a, b, c) = make_net(3, faults=faults)
    for dte in (a, b, c):
        setup(dte, "2.0")
    assert c.at(f"D{A}") == ["NO DIALTONE"]
    assert a.at("D5559999") == ["NO CARRIER"]
    assert a.at(f"D{B}") == []  # ringing at B (no auto-answer)
    assert lines(b.take()) == ["RING", f"NMBR = {A}"]
    assert lines(b.take()) == []
    advance(clock, 6)
    assert lines(b.take()) == ["RING"]  # no caller id after the first ring


def test_busy_when_line_in_use_and_busy_first() -> None:
    """A line in a call is busy; busy_first gives BUSY to the first attempts only."""
    faults = FaultPlan(calls=(CallFault(Faults(busy_first=1), callee=B),))
    _clock, _, (a, b, c) = make_net(3, faults=faults)
    for dte in (a, b, c):
        setup(dte, "2.0")
    b.at("S0=1")
    assert a.at(f"D{B}") == ["BUSY"]
    assert a.at(f"D{B}")[-1] == "OK"
    assert c.at(f"D{B}") == ["BUSY"]


def test_no_answer_after_s7() -> None:
    """A remote that never answers gives NO ANSWER when S7 runs out."""
    faults = FaultPlan(lines={B: Faults(never_answer=True)})
    clock, _, (a, b) = make_net(faults=faults)
    setup(a, "2.0")
    setup(b, "2.0")
    assert a.at("S7=30") == ["OK"]
    assert a.at(f"D{B}") == []
    assert b.take() == b""  # never alerted
    advance(clock, 30)
    assert lines(a.take()) == ["NO ANSWER"]


def test_no_carrier_when_the_answer_is_not_a_fax() -> None:
    """A voice/data answer ends the dial with NO CARRIER on both sides."""
    faults = FaultPlan(lines={B: Faults(no_carrier=True)})
    clock, _, (a, b) = make_net(faults=faults)
    tx_out, rx_out = connect(clock, a, b)
    assert tx_out == ["NO CARRIER"]
    assert rx_out[-1] == "NO CARRIER"


def test_any_character_aborts_dialing() -> None:
    """A key pressed while dialing hangs up with NO CARRIER; the callee stops ringing."""
    _clock, exchange, (a, b) = make_net()
    setup(a, "2.0")
    setup(b, "2.0")
    a.at(f"D{B}")
    a.send(b"\r")
    assert lines(a.take()) == ["NO CARRIER"]
    assert exchange.modems[B].state is State.IDLE


def test_ata_answers_and_ath_hangs_up() -> None:
    """Manual answer with ATA; ATH from the receiver ends the call (sender: +FHS:22 on +FDT)."""
    _clock, _, (a, b) = make_net()
    setup(a, "2.0")
    setup(b, "2.0")
    a.at(f"D{B}")
    b.take()
    assert b.at("A")[-1] == "OK"
    assert lines(a.take())[-1] == "OK"
    assert b.at("H") == ["OK"]
    assert a.at("+FDT") == ["+FHS:22", "OK"]
    assert b.at("A") == ["NO CARRIER"]


def test_fks_aborts_with_code_2() -> None:
    """+FKS in a call answers +FHS:02; the receiver's waiting +FDR gets 71."""
    clock, _, (tx, rx) = make_net()
    connect(clock, tx, rx)
    rx.send(b"AT+FDR\r")
    assert tx.at("+FKS") == ["+FHS:02", "OK"]
    assert lines(rx.take()) == ["+FHS:71", "OK"]


def test_class2_missing_fet_times_out_with_50() -> None:
    """No +FET= within +FPHCTO: the modem ends the call; the late +FET= gets +FHNG:50."""
    clock, _, (tx, rx) = make_net(fax_class="2")
    connect(clock, tx, rx, "2")
    tx.at("+FDT")
    tx.send(PAGE + b"\x10\x03")
    advance(clock, 5, until=lambda: b"OK" in tx.received)
    assert lines(tx.take()) == ["\x13\x11", "OK"]  # XOFF while the buffer was full, XON
    advance(clock, 3)
    assert tx.at("+FET=0") == ["+FHNG:50", "OK"]


@pytest.mark.parametrize(("ppm", "code"), [(0, "52"), (1, "56"), (2, "54")])
def test_no_page_response_gives_52_56_54(ppm: int, code: str) -> None:
    """A receiver that never releases its response: no response to MPS/EOM/EOP."""
    clock, _, (tx, rx) = make_net(response_seconds=20.0)
    connect(clock, tx, rx)
    send_page(clock, tx, PAGE, ppm, "2.0")
    advance(clock, 20)
    assert lines(tx.take()) == [f"+FHS:{code}", "OK"]


def test_receiver_waiting_for_a_page_times_out_with_73() -> None:
    """+FDR with no page coming: hangup 73 after page_wait_seconds."""
    clock, _, (tx, rx) = make_net(page_wait_seconds=30.0)
    connect(clock, tx, rx)
    rx.send(b"AT+FDR\r")
    advance(clock, 30)
    assert lines(rx.take()) == ["+FHS:73", "OK"]


def test_can_during_reception_aborts_with_code_2() -> None:
    """CAN from the receiving DTE ends the data and the call (hangup 2)."""
    clock, _, (tx, rx) = make_net()
    connect(clock, tx, rx)
    tx.at("+FDT")
    rx.at("+FDR")
    rx.send(b"\x12\x18")
    assert rx.take().endswith(b"\x10\x03\r\n+FHS:02\r\n\r\nOK\r\n")


def test_remote_that_cannot_receive_gives_21() -> None:
    """+FCR=0 at the callee: the caller's +FDT gets hangup 21."""
    _, _, (tx2, rx2) = make_net()
    setup(tx2, "2.0")
    assert rx2.at("E0;+FCLASS=2.0;S0=1")[-1] == "OK"
    tx2.at(f"D{B}")
    assert tx2.at("+FDT") == ["+FHS:21", "OK"]


def test_hangup_report_formats() -> None:
    """Class 2 decimal, 2.0 hex with 94->92 and 100->A0."""
    from hwsim.modem import hangup_report

    assert hangup_report(100, "2") == "+FHNG:100"
    assert hangup_report(100, "2.0") == "+FHS:A0"
    assert hangup_report(94, "2.0") == "+FHS:92"
    assert hangup_report(2, "2.0") == "+FHS:02"
