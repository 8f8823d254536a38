"""Line events of the modem layer: RING and caller ID from the idle parser, a
session's progress one step per modem line, and the driver's listeners; the
events never depend on how the serial port chunks the bytes."""

from __future__ import annotations

import pytest

from modem import at
from modem import class2 as c2
from modem.events import CallerId, IdleParser, LineEvent, Ring
from modem.params import PageFormat
from modem.progress import CallEvent, PagePost
from modem.progress import CallEventKind as K

from .test_driver import PROBE_20, connect, settle
from .transcript import Transcript, r


def cut(data: bytes, at_: int) -> list[bytes]:
    return [data[:at_], data[at_:]]


UNSOLICITED = b"\r\nRING\r\n\r\nNMBR = 5550199\r\nNAME = ACME\r\n\r\nOK\r\nRING\r"


@pytest.mark.parametrize("split", range(len(UNSOLICITED) + 1))
def test_rings_and_caller_id_whatever_the_chunks(split: int) -> None:
    parser = IdleParser()
    events = [e for piece in cut(UNSOLICITED, split) for e in parser.feed(piece)]
    assert events == [Ring(), CallerId("NMBR", "5550199"), CallerId("NAME", "ACME"), Ring()]


def test_byte_by_byte_and_other_lines() -> None:
    parser = IdleParser(c2.DIALECTS[c2.FaxClass.CLASS2])
    data = b"ring\r\n\x11+FHNG:0\r\nRINGING\r\nRING\n"
    events = [e for i in range(len(data)) for e in parser.feed(data[i : i + 1])]
    assert events == [Ring(), Ring()]  # lower case is a RING; XON, reports and other words are not


def test_a_partial_line_is_forgotten_on_reset() -> None:
    parser = IdleParser()
    assert parser.feed(b"\r\nRI") == []
    parser.reset()
    assert parser.feed(b"NG\r\n") == []
    assert parser.feed(b"RING\r\n") == [Ring()]


def test_an_endless_line_is_dropped_and_parsing_goes_on() -> None:
    parser = IdleParser()
    assert parser.feed(b"X" * (at.MAX_LINE + 1)) == []
    assert parser.feed(b"\r\nRING\r\n") == [Ring()]


def test_the_driver_reports_rings_only_while_idle() -> None:
    clock, proto, _, _ = connect({**PROBE_20, "ATDT5550002": b""})
    events: list[LineEvent] = []
    proto.listen(events.append)
    proto.probe()
    settle(clock, 2)
    proto.dataReceived(b"\r\nRI")
    proto.dataReceived(b"NG\r\n")
    assert events == [Ring()]
    proto.send("5550002", [b"\x00\x01"], PageFormat())
    settle(clock, 1)
    proto.dataReceived(b"\r\nNO CARRIER\r\n")  # dialing: results go to the session
    settle(clock, 1)
    kinds = [e.kind for e in events if isinstance(e, CallEvent)]
    assert kinds == [K.DIALING, K.HANGUP] and events.count(Ring()) == 1
    proto.dataReceived(b"RING\r\n")
    assert events[-1] == Ring()


def test_a_failing_listener_does_not_stop_the_others() -> None:
    clock, proto, _, _ = connect(PROBE_20)
    got: list[LineEvent] = []

    def broken(event: LineEvent) -> None:
        raise RuntimeError("observer bug")

    proto.listen(broken)
    proto.listen(got.append)
    proto.probe()
    settle(clock, 2)
    proto.dataReceived(b"RING\r\n")
    assert got == [Ring()]


SEND = [
    ("ATQ0V1", r("OK")),
    ("ATE0", r("OK")),
    ("AT+FCLASS=2.0", r("OK")),
    ("AT+FBO=0", r("OK")),
    ("AT+FNR=1,1,1,0", r("OK")),
    ("AT+FLO=1", r("OK")),
    ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
    ("ATDT5550002", r("+FCO", '+FCI:"REMOTE"', "+FIS:1,5,0,2,0,0,0,0", "OK")),
    ("AT+FDT", r("+FCS:1,5,0,2,0,0,0,0", "CONNECT")),
    ("<data>", r("OK")),
    ("AT+FDT", r("+FCS:1,5,0,2,0,0,0,0", "CONNECT")),
    ("<data>", r("+FHS:00", "OK")),
]


def test_a_sessions_progress_is_one_step_per_line_and_the_hangup_comes_last() -> None:
    session = c2.SendSession(
        c2.DIALECTS[c2.FaxClass.CLASS20], c2.SessionConfig(), "5550002", [b"\x00\x01", b"\x00\x02"], PageFormat()
    )
    transcript = Transcript(session, list(SEND))
    events: list[CallEvent] = []
    real_receive = session.receive_bytes

    def receive(data: bytes) -> list[c2.Output]:  # the transcript feeds byte by byte
        out = real_receive(data)
        events.extend(session.take_events())
        return out

    session.receive_bytes = receive  # type: ignore[method-assign]
    result = transcript.run()
    events += session.take_events()
    assert result.ok and result.pages_confirmed == 2
    steps = [(e.kind, e.page, e.post, e.remote_id, e.bps) for e in events]
    assert steps == [
        (K.CONNECTED, 0, None, "", 0),  # +FCO
        (K.CONNECTED, 0, None, "REMOTE", 0),  # +FCI
        (K.CONNECTED, 0, None, "REMOTE", 14400),  # +FCS
        (K.PAGE_STARTED, 1, None, "", 0),
        (K.PAGE_DONE, 1, PagePost.MCF, "", 0),
        (K.PAGE_STARTED, 2, None, "", 0),
        (K.PAGE_DONE, 2, PagePost.MCF, "", 0),
        (K.HANGUP, 0, None, "", 0),  # +FHS:00 came before the OK of the last page
    ]
    assert session.take_events() == []
