"""The live call state folded from call events (pure), its log line and the
views of `send --wait` and `status`, on a task.Clock."""

from __future__ import annotations

from twisted.internet.task import Clock

from appliance.cli._progress_view import bar, busy_suffix, plain
from appliance.progress import CallDirection, LiveCall, apply, eta, page_line
from modem.progress import CallEvent, PagePost
from modem.progress import CallEventKind as K

MCF, RTN = PagePost.MCF, PagePost.RTN


def _run(events: list[CallEvent], clock: Clock, step: float = 10.0, first_page: int = 0) -> list[LiveCall]:
    call = LiveCall(
        CallDirection.SEND, "5550101", clock.seconds(), pages_total=5, first_page=first_page, job="0000002A/0000"
    )
    states = []
    for event in events:
        clock.advance(step)
        call = apply(call, event, clock.seconds())
        states.append(call)
    return states


def test_a_resumed_call_counts_pages_of_the_whole_fax() -> None:
    clock = Clock()
    clock.advance(1000)
    events = [
        CallEvent(K.DIALING, number="5550101"),
        CallEvent(K.CONNECTED, remote_id="REMOTE", bps=14400, resolution="fine", width=1728, height=770),
        CallEvent(K.PAGE_STARTED, page=1),
        CallEvent(K.PAGE_DONE, page=1, post=MCF),
        CallEvent(K.PAGE_STARTED, page=2),
        CallEvent(K.PAGE_DONE, page=2, post=RTN),
        CallEvent(K.PAGE_STARTED, page=2),
        CallEvent(K.PAGE_DONE, page=2, post=MCF),
        CallEvent(K.HANGUP, hangup_code="00", hangup_text="normal"),
    ]
    states = _run(events, clock, first_page=2)
    connected = states[1]
    assert connected.connect_time == 1020 and connected.baud_rate == 14400 and connected.remote_id == "REMOTE"
    assert [s.page for s in states[2:8]] == [3, 3, 4, 4, 4, 4]
    assert states[3].confirmed == 3 and states[5].rtn == 1 and states[7].confirmed == 4
    last = states[-1]
    assert (last.phase, last.hangup_code, last.ended_at) == ("done", "00", 1090)
    assert (
        page_line("line1", states[3], events[3]) == "line line1: page 3/5 to 5550101 confirmed (MCF), 14400 bit/s fine"
    )
    assert "rejected (RTN)" in (page_line("line1", states[5], events[5]) or "")
    assert page_line("line1", states[2], events[2]) is None


def test_eta_and_views() -> None:
    assert eta(0, 5, 30.0) is None and eta(2, 5, 60.0) == 90.0 and eta(5, 5, 60.0) == 0.0
    clock = Clock()
    clock.advance(1000)
    states = _run(
        [
            CallEvent(K.DIALING, number="5550101"),
            CallEvent(K.CONNECTED, remote_id="R", bps=9600, resolution="normal"),
            CallEvent(K.PAGE_STARTED, page=1),
            CallEvent(K.PAGE_DONE, page=1, post=MCF),
            CallEvent(K.PAGE_STARTED, page=2),
        ],
        clock,
    )
    call = states[-1].to_json()
    text = bar("0000002A/0000", call, clock.seconds(), width=10)
    assert text.startswith("0000002A/0000 [##........] 1/5 pages 9600 bit/s page 2")
    assert "00:50 elapsed" in text and "~02:00 left" in text  # 1 page in the 30 s since connect, 4 to go
    lines = plain("K", states[3].to_json(), clock.seconds(), states[2].to_json())
    assert lines == ["K: page 1/5 confirmed (MCF) 9600 bit/s"]
    assert plain("K", states[1].to_json(), clock.seconds(), states[0].to_json()) == [
        "K: connected to R at 9600 bit/s normal"
    ]
    assert busy_suffix(call) == "  to 5550101, remote R, page 2/5, 9600 bit/s"
    assert busy_suffix({**call, "ended_at": 5.0}) == ""


def test_plain_lines_catch_up_on_pages_confirmed_between_looks() -> None:
    before = {"phase": "page", "page": 1, "pages_sent": 0, "pages_total": 4, "first_page": 0, "baud_rate": 14400}
    after = {**before, "page": 3, "pages_sent": 2}
    assert plain("K", after, 0.0, before) == [
        "K: page 1/4 confirmed (MCF) 14400 bit/s",
        "K: page 2/4 confirmed (MCF) 14400 bit/s",
        "K: sending page 3/4",
    ]
    resumed = {**after, "first_page": 2, "pages_total": 5}
    assert plain("K", resumed, 0.0, {**before, "first_page": 2})[0] == "K: page 3/5 confirmed (MCF) 14400 bit/s"
