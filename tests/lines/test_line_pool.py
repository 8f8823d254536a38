"""The line pool on a task.Clock with scripted modems (tests/lines/fake_modem.py):
busy lines, resting lines, failing and vanishing lines, send/receive-only lines,
incoming RINGs, and the same history however the modem's output is chunked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from appliance.config import LineClass, LineConfig, LineDirection
from appliance.lines import LineActivity, LinePool, LineSnapshot, LineUnavailable
from modem import class2 as c2
from modem.params import PageFormat

from .fake_modem import DIAL_OK, Chunker, FakeModem, FakePorts, byte_by_byte, r, random_cuts, whole

PAGE = b"\x00\x08\x01\x10\x00"  # a DLE in the data: stuffed on the wire
RING = r("RING")
ANSWER = r("+FCO", '+FTI:"CALLER"', "+FCS:1,5,0,2,0,0,0,0", "OK")


def line(name: str, direction: str = "both") -> LineConfig:
    return LineConfig(
        name,
        f"/dev/tty{name}",
        fax_class=LineClass.CLASS20,
        did=f"555000{name[-1]}",
        direction=LineDirection(direction),
    )


class Rig:
    """A started pool of scripted lines; ``trace`` records every call event and dispatched RING."""

    def __init__(self, *configs: LineConfig, chunks: Chunker = whole, **pool_args: Any) -> None:
        self.clock = Clock()
        self.ports = FakePorts(self.clock, chunks)
        for config in configs:
            self.ports.tables[config.name] = {"ATDT5550100": DIAL_OK, "ATA": ANSWER}
        self.rings: list[str] = []
        self.trace: list[tuple[Any, ...]] = []
        self._last: dict[str, tuple[Any, ...]] = {}
        self.pool = LinePool(self.clock, configs, self.ports, on_ring=self._ring, **pool_args)
        self.pool.on_call_event = self._event

    def _ring(self, name: str) -> None:
        self.rings.append(name)
        self.trace.append(("ring", name))

    def _event(self) -> None:
        for s in self.pool.status():
            if s.call is not None:
                c = s.call
                step = (s.name, s.state, c.phase, c.page, c.pages_sent, c.remote_id, c.baud_rate, c.hangup_code)
                if self._last.get(s.name) != step:
                    self._last[s.name] = step
                    self.trace.append(step)

    def start(self) -> Rig:
        self.pool.startService()
        self.run(1.0)
        return self

    def run(self, seconds: float) -> None:
        self.clock.pump([0.001] * int(seconds * 1000))

    def line(self, name: str) -> LineSnapshot:
        (snapshot,) = (s for s in self.pool.status() if s.name == name)
        return snapshot

    def modem(self, name: str) -> FakeModem:
        return self.ports.modems[name]

    def send(self, name: str, pages: int = 1) -> list[Any]:
        """Start a send; the list gets its SessionResult or Failure."""
        out: list[Any] = []
        self.pool.send(name, "5550100", [PAGE] * pages, PageFormat(), local_id="ME").addBoth(out.append)
        return out


def refused(d: Deferred[Any]) -> Failure:
    got: list[Any] = []
    d.addBoth(got.append)
    (failure,) = got
    assert isinstance(failure, Failure) and failure.check(LineUnavailable), failure
    return failure


def test_a_busy_line_takes_no_second_call() -> None:
    rig = Rig(line("line1")).start()
    assert rig.pool.free_lines() == ["line1"] and rig.line("line1").state is LineActivity.IDLE
    sent = rig.send("line1", pages=2)
    assert rig.line("line1").state is LineActivity.DIALING and rig.pool.free_lines() == []
    refused(rig.pool.send("line1", "5550100", [PAGE], PageFormat()))
    rig.run(2.0)
    (result,) = sent
    assert isinstance(result, c2.SessionResult) and result.ok and result.pages_confirmed == 2
    assert 'AT+FLI="                  ME"' in rig.modem("line1").commands  # this call's local id
    snapshot = rig.line("line1")
    assert snapshot.state is LineActivity.IDLE and rig.pool.free_lines() == ["line1"]
    assert (snapshot.stats.sends, snapshot.stats.sends_ok, snapshot.stats.pages_sent) == (1, 1, 2)
    assert rig.modem("line1").pages == 2


def test_when_every_line_is_busy_none_is_free() -> None:
    rig = Rig(line("line1"), line("line2")).start()
    assert sorted(rig.pool.free_lines()) == ["line1", "line2"]
    first, second = rig.send("line1"), rig.send("line2")
    assert rig.pool.free_lines() == []
    for name in ("line1", "line2"):
        refused(rig.pool.send(name, "5550100", [PAGE], PageFormat()))
    refused(rig.pool.send("line9", "5550100", [PAGE], PageFormat()))  # no such line
    rig.run(2.0)
    assert first[0].ok and second[0].ok
    assert sorted(rig.pool.free_lines()) == ["line1", "line2"]


def test_a_failing_line_rests_then_comes_back() -> None:
    rig = Rig(line("line1"), line("line2"), rest_after=2, rest_seconds=60.0).start()
    rig.pool.record_failure("line1", True, "no carrier")
    assert rig.pool.free_lines() == ["line2", "line1"]  # the line that failed last
    rig.pool.record_failure("line1", True, "no carrier again")
    now = rig.clock.seconds()
    snapshot = rig.line("line1")
    assert snapshot.resting_until == now + 60.0 and snapshot.stats.last_error == "no carrier again"
    assert rig.pool.free_lines() == ["line2"]
    rig.clock.advance(59.9)
    assert rig.pool.free_lines() == ["line2"]
    rig.clock.advance(0.1)
    assert rig.pool.free_lines() == ["line2", "line1"]  # rested; still the one that failed
    rig.pool.record_failure("line1", False)  # a call failed, not the line
    assert rig.line("line1").stats.consecutive_failures == 0
    assert sorted(rig.pool.free_lines()) == ["line1", "line2"]


def test_a_line_whose_modem_is_not_a_fax_modem_stays_offline() -> None:
    rig = Rig(line("line1"), line("line2"))
    rig.ports.tables["line1"]["AT+FCLASS=?"] = r("0,1", "OK")
    rig.start()
    snapshot = rig.line("line1")
    assert snapshot.state is LineActivity.OFFLINE and "not a fax modem" in snapshot.stats.last_error
    assert rig.pool.free_lines() == ["line2"]
    refused(rig.pool.send("line1", "5550100", [PAGE], PageFormat()))


def test_a_missing_device_is_offline_until_it_appears() -> None:
    rig = Rig(line("line1"), backoff_max=4.0)
    rig.ports.absent.add("line1")
    rig.start()
    assert rig.line("line1").state is LineActivity.OFFLINE and "No such file" in rig.line("line1").stats.last_error
    rig.ports.absent.clear()
    rig.run(5.0)
    assert rig.line("line1").state is LineActivity.IDLE and rig.pool.free_lines() == ["line1"]


def test_a_device_that_vanishes_during_a_send_ends_the_call_and_the_line_goes_offline() -> None:
    rig = Rig(line("line1")).start()
    rig.modem("line1").table["ATDT5550100"] = b""  # the remote never answers
    sent = rig.send("line1")
    rig.run(0.5)
    modem = rig.modem("line1")
    rig.ports.absent.add("line1")
    modem.protocol.connectionLost(Failure(OSError(5, "Input/output error")))
    (result,) = sent
    assert result.outcome is c2.Outcome.DEVICE_GONE
    snapshot = rig.line("line1")
    assert snapshot.state is LineActivity.OFFLINE and "Input/output error" in snapshot.stats.last_error
    assert snapshot.call is not None and snapshot.call.phase == "done"
    assert rig.pool.free_lines() == []


def test_send_only_and_receive_only_lines() -> None:
    rig = Rig(line("line1", "out"), line("line2", "in")).start()
    assert rig.pool.free_lines() == ["line1"]  # line2 does not send
    rig.modem("line1").say(RING)
    rig.modem("line2").say(RING)
    rig.run(0.5)
    assert rig.rings == ["line2"]  # line1 does not receive


def test_a_ring_is_dispatched_once_per_call_and_answered() -> None:
    rig = Rig(line("line1")).start()
    modem = rig.modem("line1")
    modem.say(RING)
    rig.run(0.5)
    assert rig.rings == ["line1"] and not rig.pool.reserve("line1")  # held for the router
    assert rig.pool.free_lines() == []
    modem.say(RING)
    rig.run(0.5)
    assert rig.rings == ["line1"]  # the same call ringing again
    received: list[Any] = []
    rig.pool.receive("line1", recipient="demo").addBoth(received.append)
    assert rig.line("line1").state is LineActivity.RECEIVING
    rig.run(1.0)
    assert "ATA" not in modem.commands  # answers on the next ring
    modem.say(RING)
    rig.run(1.0)
    assert "ATA" in modem.commands and "AT+FDR" in modem.commands
    (result,) = received
    assert isinstance(result, c2.SessionResult) and result.remote_id == "CALLER"
    snapshot = rig.line("line1")
    assert snapshot.state is LineActivity.IDLE and snapshot.stats.receives == 1
    assert snapshot.call is not None and snapshot.call.remote_id == "CALLER" and snapshot.call.recipient == "demo"
    assert snapshot.call.phase == "done"
    assert rig.rings == ["line1"]  # the rings of the answered call were the session's


def test_an_ignored_call_rings_unanswered_until_it_stops() -> None:
    rig = Rig(line("line1")).start()
    modem = rig.modem("line1")
    modem.say(RING)
    rig.run(0.5)
    rig.pool.ignore_call("line1")
    for _ in range(3):
        rig.clock.advance(6.0)
        modem.say(RING)
        rig.run(0.5)
    assert rig.rings == ["line1"] and rig.line("line1").stats.refused_calls == 1
    assert rig.pool.free_lines() == ["line1"]  # an ignored call does not hold the line
    rig.clock.advance(20.0)  # silence: the next RING is a new call
    modem.say(RING)
    rig.run(0.5)
    assert rig.rings == ["line1", "line1"]


def scenario(chunks: Chunker) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """Rings (one ignored, one answered) and a two-page send, the modem's output cut by ``chunks``."""
    rig = Rig(line("line1"), line("line2"), chunks=chunks).start()
    one, two = rig.modem("line1"), rig.modem("line2")
    one.say(RING + b"\r\nNMBR = 5550199\r\n" + RING)
    rig.run(0.5)
    rig.pool.ignore_call("line1")
    sent = rig.send("line2", pages=2)
    rig.run(3.0)
    rig.clock.advance(20.0)
    one.say(RING)
    rig.run(0.5)
    received: list[Any] = []
    rig.pool.receive("line1").addBoth(received.append)
    rig.run(1.0)
    one.say(RING)
    rig.run(2.0)
    two.say(b"\r\nRI")  # half a RING, then a call: the pieces never make a RING
    rig.run(0.5)
    again = rig.send("line2")
    rig.run(2.0)
    results = [(x.outcome, x.pages_confirmed, x.remote_id) for x in sent + received + again]
    stats = [(s.name, s.state, s.stats) for s in rig.pool.status()]
    return rig.trace, results + stats


@pytest.mark.parametrize(
    "chunks",
    [byte_by_byte, random_cuts(1), random_cuts(2, largest=3), random_cuts(3, largest=20)],
    ids=["bytes", "cuts1", "cuts2", "cuts3"],
)
def test_the_history_does_not_depend_on_how_the_output_is_chunked(chunks: Callable[[bytes], list[bytes]]) -> None:
    reference = scenario(whole)
    trace, _ = reference
    assert [step for step in trace if step[0] == "ring"] == [("ring", "line1"), ("ring", "line1")]
    sending = [step for step in trace if step[0] == "line2" and step[1] is LineActivity.SENDING]
    assert sending and sending[0][2] == "connected"  # +FCO: the line is sending from the fax CONNECT on
    assert ("line2", LineActivity.SENDING, "connected", 0, 0, "REMOTE FAX", 0, "") in trace  # +FCI, one line later
    last_page = ("line2", LineActivity.SENDING, "page", 2, 2, "REMOTE FAX", 14400, "")
    assert trace[trace.index(last_page) + 1] == ("line2", LineActivity.SENDING, "done", 2, 2, "REMOTE FAX", 14400, "00")
    assert ("line1", LineActivity.RECEIVING, "connected", 0, 0, "CALLER", 14400, "") in trace
    assert scenario(chunks) == reference
