"""What a call's outcome means, for sends and receives alike (pure).

The rules the outbound and the inbound router share: the ``[routing] policy``
and the scheduler's route filter, a modem session outcome's retry cause,
whether it is our line's fault, the called-number result, and the CDR fields
of the accounting Stop (line sends, cloud sends, receptions, and the Stop
written on recovery).  No I/O and no clock: the routers pass in the session
results and the times, and do the accounting themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from appliance.cloud.records import ShortStatus, StatusRecord
from appliance.config.core import RoutingPolicy
from appliance.jobs.choices import RouteFilter
from appliance.jobs.model import CLOUD, Cause, CloudStatus, Result
from appliance.progress import CallDirection, LiveCall
from modem import class2 as c2
from modem.progress import resolution_name

__all__ = [
    "LINE_FAULTS",
    "TERMINATE_RECOVERED",
    "CdrFields",
    "RouteFilter",
    "RoutingPolicy",
    "called_number_result",
    "cloud_result",
    "cloud_status",
    "effective_route_filter",
    "failed_cdr",
    "fax_error_code",
    "is_line_fault",
    "line_result",
    "modem_info",
    "outcome_cause",
    "receive_cdr",
    "recovered_cdr",
    "routing_filter",
    "send_cdr",
]

Outcome = c2.Outcome


_FILTERS = {
    RoutingPolicy.LOCAL_FIRST: RouteFilter.ANY,
    RoutingPolicy.LOCAL_ONLY: RouteFilter.LINE,
    RoutingPolicy.CLOUD_ONLY: RouteFilter.CLOUD,
}


def routing_filter(policy: RoutingPolicy | str) -> RouteFilter:
    """The scheduler's route filter for a ``[routing] policy`` (ValueError for an unknown policy)."""
    return _FILTERS[RoutingPolicy(policy)]


def effective_route_filter(policy: RoutingPolicy | str, *, has_lines: bool, has_cloud: bool) -> RouteFilter:
    """The route filter of a node: ``local_first`` without a cloud route sends on the lines
    only, and without lines through the cloud only."""
    wanted = routing_filter(policy)
    if wanted is RouteFilter.ANY and not has_cloud:
        return RouteFilter.LINE
    if wanted is RouteFilter.ANY and not has_lines:
        return RouteFilter.CLOUD
    return wanted


# ------------------------------------------------------------------ line outcomes

_CAUSES: dict[c2.Outcome, Cause] = {
    Outcome.BUSY: Cause.BUSY,
    Outcome.NO_ANSWER: Cause.NO_ANSWER,
    Outcome.NO_CARRIER: Cause.NO_ANSWER,
    Outcome.NO_FAX: Cause.NO_ANSWER,
    Outcome.DATA_MODEM: Cause.NO_ANSWER,
    Outcome.PAGE_REJECTED: Cause.PROTOCOL,
    Outcome.INCOMPATIBLE: Cause.PROTOCOL,
    Outcome.PROTOCOL_ERROR: Cause.PROTOCOL,
    Outcome.HANGUP: Cause.PROTOCOL,
    Outcome.TIMEOUT: Cause.PROTOCOL,
}

#: outcomes that say something about our line rather than the destination
LINE_FAULTS = frozenset(
    {
        Outcome.NO_DIALTONE,
        Outcome.ERROR,
        Outcome.NO_RESPONSE,
        Outcome.DEVICE_GONE,
        Outcome.NOT_FAX,
        Outcome.HANGUP,
        Outcome.PROTOCOL_ERROR,
        Outcome.TIMEOUT,
    }
)

#: FB-Called-Number-Result of a send: the number answered as a voice line or a data modem
_VOICE = frozenset({Outcome.NO_FAX, Outcome.DATA_MODEM, Outcome.NO_CARRIER})
#: … and no result at all: the call never reached anyone
_NOT_REACHED = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.NO_DIALTONE})

#: Acct-Terminate-Cause of a Stop written on recovery (RFC 2866 NAS-Reboot)
TERMINATE_RECOVERED = 11


def outcome_cause(outcome: c2.Outcome) -> Cause:
    """The job queue's failure cause for a modem session outcome."""
    return _CAUSES.get(outcome, Cause.OTHER)


def is_line_fault(result: c2.SessionResult) -> bool:
    """Whether a session failed because of our line (it counts towards resting the line)."""
    return not result.ok and result.outcome in LINE_FAULTS


def called_number_result(result: c2.SessionResult) -> int | None:
    """FB-Called-Number-Result of a send: 0 fax delivered, 1 fax error, 2 voice or data,
    None when the call reached no one (busy, no answer, no dial tone)."""
    if result.ok:
        return 0
    if result.outcome in _VOICE:
        return 2
    if result.outcome in _NOT_REACHED:
        return None
    return 1


def fax_error_code(result: c2.SessionResult) -> int:
    """FB-Fax-Error-Code: 0 on success, else the hangup code (1 when there is none)."""
    if result.ok:
        return 0
    hangup = result.hangup
    return hangup.code if hangup is not None and hangup.code else 1


# ------------------------------------------------------------------ CDRs


@dataclass(frozen=True)
class CdrFields:
    """The CDR of a session but its duration, which the router measures
    (``appliance.portserver.Cdr(total_seconds=…, **fields.as_kwargs())``)."""

    page_count: int = 0
    remote_csid: str = ""
    local_csid: str = ""
    connect_bps: int = 0
    fax_error_code: int = 0
    called_number_result: int | None = None  # sends only
    caller_id: str = ""  # receives only
    rcv_account_id: str = ""  # receives only: the account that received
    extra: tuple[tuple[str, Any], ...] = ()  # further accounting attributes

    def as_kwargs(self) -> dict[str, Any]:
        return asdict(self)


def failed_cdr() -> CdrFields:
    """The CDR of a send that never reached a line or the cloud."""
    return CdrFields(fax_error_code=1)


def send_cdr(result: c2.SessionResult, local_csid: str) -> CdrFields:
    """The CDR of a send on a line."""
    return CdrFields(
        page_count=result.pages_confirmed,
        remote_csid=(result.remote_id or "").strip(),
        local_csid=local_csid,
        connect_bps=result.params.bps if result.params else 0,
        fax_error_code=fax_error_code(result),
        called_number_result=called_number_result(result),
    )


def receive_cdr(result: c2.SessionResult, local_csid: str, receive_account: str) -> CdrFields:
    """The CDR of a reception on a line; the page count is the pages kept (confirmed
    to the sender), not the page transmissions."""
    return CdrFields(
        page_count=len(result.received),
        remote_csid=(result.remote_id or "").strip(),
        local_csid=local_csid,
        connect_bps=result.params.bps if result.params else 0,
        fax_error_code=fax_error_code(result),
        caller_id=result.caller_id or "",
        rcv_account_id=receive_account,
    )


def recovered_cdr(pages: int, delivered: bool) -> CdrFields:
    """The CDR of an interrupted session settled by recovery (the node making the call went away)."""
    return CdrFields(
        page_count=pages,
        fax_error_code=0 if delivered else 1,
        called_number_result=0 if delivered else 1,
        extra=(("Acct-Terminate-Cause", TERMINATE_RECOVERED),),
    )


# ------------------------------------------------------------------ results


def modem_info(call: LiveCall | None, result: c2.SessionResult) -> dict[str, object]:
    """What FFWS ``include_modem_info`` shows of a line attempt, from its live call state."""
    info: dict[str, object] = {}
    params = result.params
    if params is not None:
        info.update(baud_rate=params.bps, resolution=resolution_name(params.vr))
    if call is not None and call.direction is CallDirection.SEND:
        info.update(
            init_time=call.started_at,
            connect_time=call.connect_time,
            width=call.width,
            height=call.height,
            compression=call.compression,
            ecm=call.ecm,
        )
        info.setdefault("baud_rate", call.baud_rate)
        info.setdefault("resolution", call.resolution)
    if result.hangup is not None:
        info.update(hangup_code=result.hangup.wire, hangup_text=result.hangup.meaning)
    return {k: v for k, v in info.items() if v not in (None, "", 0)}


def line_result(
    result: c2.SessionResult, *, line: str, first_page: int, call: LiveCall | None, stopping: bool
) -> Result:
    """The attempt's result of a send on ``line`` that started at page ``first_page``
    (0-based); ``stopping``: the appliance is stopping, so a failure is not a try."""
    hangup = result.hangup
    details: dict[str, object] = {"line": line, "outcome": result.outcome.value, "detail": result.detail}
    details.update(modem_info(call, result))
    if first_page:
        details["first_page"] = first_page + 1
    remote = (result.remote_id or "").strip()
    if result.ok:
        return Result.ok(first_page + result.pages_confirmed, result.duration_s, remote, **details)
    details.pop("hangup_code", None)  # a failure carries them itself
    details.pop("hangup_text", None)
    code = hangup.wire if hangup else ""
    if stopping:  # not a try, due again when the appliance starts
        failed = Result.failure(
            Cause.INTERRUPTED,
            code,
            "the appliance stopped during the call",
            pages=result.pages_confirmed,
            duration=result.duration_s,
            **details,
        )
        return replace(failed, counts=False)
    return Result.failure(
        outcome_cause(result.outcome),
        code,
        hangup.meaning if hangup else result.detail,
        pages=result.pages_confirmed,
        duration=result.duration_s,
        **details,
    )


def cloud_result(record: StatusRecord, pages: int) -> tuple[Result, CdrFields]:
    """The attempt's result and CDR of a cloud send from its final status; ``pages``:
    the fax's page count, used when the status names none."""
    sent = record.shortstatus is ShortStatus.SUCCESS
    count = record.xmitpages if record.xmitpages is not None else (record.pagecount or pages)
    cdr = CdrFields(
        page_count=count if sent else 0,
        remote_csid=record.csid or "",
        fax_error_code=0 if sent else 1,
        called_number_result=0 if sent else 1,
    )
    if sent:
        return Result.ok(count, 0.0, record.csid or "", route=CLOUD, cloud_job_id=record.jobid), cdr
    return Result.failure(Cause.OTHER, hangup_text=record.longstatus, route=CLOUD, cloud_job_id=record.jobid), cdr


def cloud_status(record: StatusRecord) -> CloudStatus:
    """What recovery makes of a cloud job's status."""
    if record.shortstatus is ShortStatus.SUCCESS:
        return CloudStatus.SENT
    if record.shortstatus is ShortStatus.FAILURE:
        return CloudStatus.FAILED
    return CloudStatus.PENDING
