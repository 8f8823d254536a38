"""The pure outcome rules shared by the outbound and the inbound router:
policy → route filter, outcome → cause, line faults, called-number result,
the CDR fields of every kind of session, and the attempt results."""

from __future__ import annotations

import pytest

from appliance.cloud.records import ShortStatus, StatusRecord
from appliance.jobs.model import CLOUD, Cause, CloudStatus
from appliance.outcomes import (
    LINE_FAULTS,
    TERMINATE_RECOVERED,
    CdrFields,
    RouteFilter,
    RoutingPolicy,
    called_number_result,
    cloud_result,
    cloud_status,
    effective_route_filter,
    failed_cdr,
    fax_error_code,
    is_line_fault,
    line_result,
    modem_info,
    outcome_cause,
    receive_cdr,
    recovered_cdr,
    routing_filter,
    send_cdr,
)
from appliance.progress import CallDirection, LiveCall
from modem import class2 as c2
from modem.hangup import Numbering, parse_hangup
from modem.params import SessionParams

Out = c2.Outcome
FINE_14400 = SessionParams(vr=1, br=5)


def session(outcome: c2.Outcome, **kw: object) -> c2.SessionResult:
    return c2.SessionResult(outcome, kw.pop("detail", outcome.value), **kw)  # type: ignore[arg-type]


def test_outcome_causes() -> None:
    """Busy, no answer and protocol failures map to their retry causes; the rest is other."""
    assert outcome_cause(c2.Outcome.BUSY) is Cause.BUSY
    assert outcome_cause(c2.Outcome.NO_ANSWER) is Cause.NO_ANSWER
    assert outcome_cause(c2.Outcome.NO_CARRIER) is Cause.NO_ANSWER
    assert outcome_cause(c2.Outcome.PAGE_REJECTED) is Cause.PROTOCOL
    assert outcome_cause(c2.Outcome.TIMEOUT) is Cause.PROTOCOL
    assert outcome_cause(c2.Outcome.NO_DIALTONE) is Cause.OTHER


def test_routing_filters() -> None:
    """Each policy maps to the scheduler's route filter; the wire strings stay the config's."""
    assert [routing_filter(p) for p in ("local_first", "local_only", "cloud_only")] == ["any", "line", "cloud"]
    assert routing_filter(RoutingPolicy.CLOUD_ONLY) is RouteFilter.CLOUD
    with pytest.raises(ValueError, match="local_last"):
        routing_filter("local_last")


def test_effective_route_filter_follows_the_routes_the_node_has() -> None:
    """local_first without a cloud route sends on the lines, without lines through the cloud."""
    both = {"has_lines": True, "has_cloud": True}
    assert effective_route_filter("local_first", **both) is RouteFilter.ANY
    assert effective_route_filter("local_first", has_lines=True, has_cloud=False) is RouteFilter.LINE
    assert effective_route_filter("local_first", has_lines=False, has_cloud=True) is RouteFilter.CLOUD
    assert effective_route_filter("local_only", **both) is RouteFilter.LINE
    assert effective_route_filter("cloud_only", has_lines=True, has_cloud=False) is RouteFilter.CLOUD


def test_line_faults_are_our_lines_failures() -> None:
    """No dial tone or a dead modem counts against the line; busy or no answer does not; success never."""
    assert is_line_fault(session(Out.NO_DIALTONE)) and is_line_fault(session(Out.DEVICE_GONE))
    assert not is_line_fault(session(Out.BUSY)) and not is_line_fault(session(Out.NO_ANSWER))
    assert not is_line_fault(session(Out.OK))
    assert Out.OK not in LINE_FAULTS


def test_called_number_result() -> None:
    """0 delivered, 2 voice or data, 1 other fax error, none when nobody was reached."""
    assert called_number_result(session(Out.OK)) == 0
    assert called_number_result(session(Out.NO_FAX)) == 2
    assert called_number_result(session(Out.DATA_MODEM)) == 2
    assert called_number_result(session(Out.BUSY)) is None
    assert called_number_result(session(Out.NO_DIALTONE)) is None
    assert called_number_result(session(Out.PAGE_REJECTED)) == 1


def test_fax_error_code_is_the_hangup_code() -> None:
    hangup = parse_hangup("54", Numbering.CLASS2)
    assert fax_error_code(session(Out.OK, hangup=parse_hangup("0", Numbering.CLASS2))) == 0
    assert fax_error_code(session(Out.PROTOCOL_ERROR, hangup=hangup)) == 54
    assert fax_error_code(session(Out.PROTOCOL_ERROR)) == 1


def test_send_cdr() -> None:
    """A line send's CDR: confirmed pages, trimmed remote id, our id, the rate and the results."""
    ok = session(Out.OK, pages_confirmed=3, remote_id=" 5550101 ", params=FINE_14400)
    assert send_cdr(ok, "ACME") == CdrFields(
        page_count=3,
        remote_csid="5550101",
        local_csid="ACME",
        connect_bps=14400,
        fax_error_code=0,
        called_number_result=0,
    )
    busy = send_cdr(session(Out.BUSY), "ACME")
    assert (busy.page_count, busy.connect_bps, busy.fax_error_code, busy.called_number_result) == (0, 0, 1, None)


def test_receive_cdr_counts_the_pages_kept() -> None:
    """A reception's CDR counts the pages confirmed to the sender, not the transmissions, and
    names the caller and the account that received."""
    kept = c2.ReceivedPage(b"p", 1, 100, True)
    resent = c2.ReceivedPage(b"p", 2, 100, False, note="answered RTN")
    result = session(
        Out.OK,
        received=(kept, kept),
        discarded=(resent,),
        caller_id="5550102",
        remote_id="REMOTE ",
        params=FINE_14400,
    )
    assert receive_cdr(result, "5550001", "failover") == CdrFields(
        page_count=2,
        remote_csid="REMOTE",
        local_csid="5550001",
        connect_bps=14400,
        caller_id="5550102",
        rcv_account_id="failover",
    )


def test_recovered_and_failed_cdrs() -> None:
    assert recovered_cdr(2, True) == CdrFields(
        page_count=2, called_number_result=0, extra=(("Acct-Terminate-Cause", TERMINATE_RECOVERED),)
    )
    assert recovered_cdr(0, False).fax_error_code == 1
    assert failed_cdr() == CdrFields(fax_error_code=1)
    assert failed_cdr().as_kwargs()["fax_error_code"] == 1


def test_line_result_ok_carries_the_modem_info() -> None:
    """A delivered send counts the pages of earlier tries too and keeps the live call's data."""
    hangup = parse_hangup("0", Numbering.CLASS2)
    result = session(Out.OK, pages_confirmed=2, duration_s=40.0, remote_id="R ", params=FINE_14400, hangup=hangup)
    call = LiveCall(CallDirection.SEND, "5550101", started_at=5.0, connect_time=9.0, width=1728, compression="MR")
    got = line_result(result, line="L1", first_page=1, call=call, stopping=False)
    assert got.sent and got.pages == 3 and got.remote_csid == "R" and got.duration == 40.0
    assert got.details["line"] == "L1" and got.details["first_page"] == 2
    assert got.details["baud_rate"] == 14400 and got.details["init_time"] == 5.0
    assert got.details["hangup_code"] == "0" and "height" not in got.details  # zero values are left out


def test_line_result_failure_and_stopping() -> None:
    """A failure carries its cause and hangup itself; while stopping it is not a try."""
    hangup = parse_hangup("54", Numbering.CLASS2)
    result = session(Out.PAGE_REJECTED, pages_confirmed=1, hangup=hangup)
    failed = line_result(result, line="L1", first_page=0, call=None, stopping=False)
    assert (failed.sent, failed.cause, failed.counts, failed.hangup_code) == (False, Cause.PROTOCOL, True, "54")
    assert failed.hangup_text == hangup.meaning and "hangup_code" not in failed.details
    stopped = line_result(result, line="L1", first_page=0, call=None, stopping=True)
    assert (stopped.cause, stopped.counts, stopped.hangup_text) == (
        Cause.INTERRUPTED,
        False,
        "the appliance stopped during the call",
    )
    busy = line_result(session(Out.BUSY), line="L1", first_page=0, call=None, stopping=False)
    assert busy.cause is Cause.BUSY and busy.hangup_text == "busy"


def test_modem_info_of_a_receive_call_has_only_the_session_data() -> None:
    result = session(Out.OK, params=FINE_14400)
    call = LiveCall(CallDirection.RECEIVE, started_at=3.0)
    assert modem_info(call, result) == {"baud_rate": 14400, "resolution": "fine"}


def status(short: ShortStatus, **kw: object) -> StatusRecord:
    fields: dict[str, object] = {
        "jobid": 42,
        "commid": "c",
        "destname": "",
        "destnum": "5550101",
        "shortstatus": short,
        "longstatus": "Success" if short is ShortStatus.SUCCESS else "Busy",
        "sendtime": "",
        "completetime": "",
        "xmittime": "",
    }
    fields.update(kw)
    return StatusRecord(**fields)  # type: ignore[arg-type]


def test_cloud_results() -> None:
    """A cloud send's result and CDR from its final status; the page count falls back to the fax's."""
    result, cdr = cloud_result(status(ShortStatus.SUCCESS, xmitpages=2, csid="R"), pages=3)
    assert result.sent and result.pages == 2 and result.details == {"route": CLOUD, "cloud_job_id": 42}
    assert cdr == CdrFields(page_count=2, remote_csid="R", called_number_result=0)
    assert cloud_result(status(ShortStatus.SUCCESS), pages=3)[0].pages == 3
    failed, cdr = cloud_result(status(ShortStatus.FAILURE, xmitpages=1), pages=3)
    assert (failed.sent, failed.cause, failed.hangup_text) == (False, Cause.OTHER, "Busy")
    assert (cdr.page_count, cdr.fax_error_code, cdr.called_number_result) == (0, 1, 1)


def test_cloud_status_for_recovery() -> None:
    assert cloud_status(status(ShortStatus.SUCCESS)) is CloudStatus.SENT
    assert cloud_status(status(ShortStatus.FAILURE)) is CloudStatus.FAILED
    assert cloud_status(status(ShortStatus.PENDING)) is CloudStatus.PENDING
