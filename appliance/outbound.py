"""Outbound dispatch for the job scheduler: a claimed entry goes out on a line
or through the FAXAGE cloud.

For every attempt, line or cloud: RADIUS Get-Account / Pre-Send-Session
(:meth:`PortServer.authorize_send`; a reject makes the entry ``dead`` with
the reason), Accounting Start, the call, Accounting Stop with the CDR.  Which
route an entry takes is decided when it is claimed (``JobScheduler``'s
``lines`` = the pool's free lines; route filter per ``[routing] policy``).

Cloud sends are write-ahead: ``cloud_submitting`` before the request leaves,
``cloud_submitted`` with the job id before anything else happens, so after a
crash recovery looks the job up instead of sending it again.  Completion
comes from url_notify callbacks or the status poller (:class:`CloudRoute`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.jobs.model import CLOUD, Cause, Claim, CloudStatus, Entry, RecoveredSession, RecoveryReport, Result
from appliance.lines import LinePool, LineUnavailable
from appliance.logsafe import safe_for_log
from modem import class2 as c2
from modem.dialect import dial_string_problem
from modem.driver import SendRefused
from modem.params import PageFormat

__all__ = ["CloudRoute", "Router", "load_fax_pages", "outcome_cause", "routing_filter"]

Outcome = c2.Outcome
_CAUSES: dict[Any, Cause] = {
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
_LINE_FAULTS = {
    Outcome.NO_DIALTONE,
    Outcome.ERROR,
    Outcome.NO_RESPONSE,
    Outcome.DEVICE_GONE,
    Outcome.NOT_FAX,
    Outcome.HANGUP,
    Outcome.PROTOCOL_ERROR,
    Outcome.TIMEOUT,
}


def outcome_cause(outcome: Any) -> Cause:
    """The job queue's failure cause for a modem session outcome."""
    return _CAUSES.get(outcome, Cause.OTHER)


def routing_filter(policy: str) -> str:
    """The scheduler's route filter for a ``[routing] policy``."""
    return {"local_first": "any", "local_only": "line", "cloud_only": "cloud"}[policy]


def load_fax_pages(documents: Sequence[str], fine: bool) -> list[Any]:
    """The fax pages of an entry's documents (blocking: run it in a thread).

    TIFF-F files are read as they are; raw T.4 pages (``.g3``) are decoded;
    anything else is rendered (A4) in a bounded worker process.  A fine page
    is 3.7 MB in memory: sending uses :func:`iter_fax_pages`."""
    pages = list(iter_fax_pages(documents, fine))
    if not pages:
        raise ValueError("the fax has no pages")
    return pages


def iter_fax_pages(documents: Sequence[str], fine: bool) -> Iterator[Any]:
    """Like :func:`load_fax_pages`, one page at a time."""
    from modem.document import FaxPage, Resolution
    from modem.t4 import decode_page
    from modem.tiff import iter_tiff_pages

    resolution = Resolution.FINE if fine else Resolution.NORMAL
    for name in documents:
        path = Path(name)
        if path.suffix.lower() in (".g3", ".t4"):
            yield FaxPage(decode_page(path.read_bytes()), resolution)
        elif path.suffix.lower() in (".tif", ".tiff"):
            yield from iter_tiff_pages(path)
        else:
            yield from (FaxPage(decode_page(data), resolution) for data in _rendered(str(path), fine))


def _rendered(name: str, fine: bool) -> list[bytes]:
    from appliance.render.jobs import files_to_t4
    from appliance.render.runner import shared_pool

    pool = shared_pool()  # the default [limits]
    return list(pool.call(files_to_t4, [name], fine, "a4", pool.limits.max_pages))


def _t4_pages(documents: Sequence[str], fine: bool) -> list[Any]:
    """Each page coded MH, MR and MMR (:class:`modem.coding.CodedPage`): the call sends the
    most compact coding the remote takes."""
    from modem.coding import code_page

    data = []
    for page in iter_fax_pages(documents, fine):
        data.append(code_page(page))
        page.image.close()
    if not data:
        raise ValueError("the fax has no pages")
    return data


def _tiff_bytes(documents: Sequence[str], fine: bool) -> bytes:
    from modem.fax_files import tiff_f_from_pages

    return tiff_f_from_pages(iter_fax_pages(documents, fine))


def _modem_info(call: Any, result: c2.SessionResult) -> dict[str, Any]:
    """What FFWS ``include_modem_info`` shows of a line attempt, from its live call state."""
    info: dict[str, Any] = {}
    params = result.params
    if params is not None:
        from modem.progress import resolution_name

        info.update(baud_rate=params.bps, resolution=resolution_name(params.vr))
    if call is not None and call.direction == "send":
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


#: Acct-Terminate-Cause of a Stop written on recovery (RFC 2866 NAS-Reboot)
TERMINATE_RECOVERED = 11


class _Progress:
    """Records each page the receiver confirms, in order, one write per page."""

    def __init__(self, router: Router, entry_id: int, claimed_at: float | None, first: int, total: int) -> None:
        self.router = router
        self.entry_id = entry_id
        self.claimed_at = claimed_at
        self.first = first
        self.total = total
        self.chain: Deferred[Any] = Deferred()
        self.chain.callback(None)

    def page(self, count: int) -> None:
        done = self.first + count
        router = self.router

        def write(_: Any) -> Deferred[Any]:
            d = router.run(router.store.record_pages, self.entry_id, router.node_id, self.claimed_at, done, self.total)
            return d.addErrback(
                lambda f: router.log.warn(
                    "progress of entry {entry_id} (page {page}) not recorded: {error}",
                    entry_id=self.entry_id,
                    page=done,
                    error=f.getErrorMessage(),
                )
            )

        self.chain.addCallback(write)

    def flushed(self) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.chain.addBoth(lambda r: (d.callback(None), r)[1])
        return d


class CloudRoute:
    """FAXAGE sends: submit, then wait for the final status (callback or poll)."""

    log = Logger()

    def __init__(self, faxage: Any, tracker: Any, *, notify: bool) -> None:
        self.faxage = faxage  # appliance.cloud.client.TwistedFaxage
        self.tracker = tracker  # appliance.cloud.notify.NotifyTracker
        self.notify = notify  # url_notify callbacks reach us
        self._waiting: dict[int, Deferred[Any]] = {}

    def submit(self, number: str, name: str, data: bytes) -> Deferred[tuple[int, Any]]:
        """sendfax; fires with (jobid, a Deferred of the final StatusRecord)."""
        options: dict[str, Any] = {}
        token = ""
        if self.notify:
            token, url = self.tracker.new_token()
            options["url_notify"] = url
        d = self.faxage.sendfax(number, name or number, [("fax.tif", data)], **options)

        def sent(submitted: Any) -> tuple[int, Any]:
            jobid = int(submitted.jobid)
            if token:
                self.tracker.bind(token, jobid)
            else:
                self.tracker.watch(jobid)
            return jobid, self.wait(jobid)

        return d.addCallback(sent)

    def wait(self, jobid: int) -> Deferred[Any]:
        self.tracker.watch(jobid)
        d: Deferred[Any] = self._waiting.setdefault(jobid, Deferred())
        return d

    def on_final(self, record: Any) -> None:
        """A job's final status arrived (callback resource or poller)."""
        d = self._waiting.pop(record.jobid, None)
        self.tracker.forget(record.jobid)
        if d is not None:
            d.callback(record)

    def lookup(self, entry: Entry) -> CloudStatus:
        """Recovery: what FAXAGE says of the entry's job (blocking, from the thread pool)."""
        if not entry.cloud_job_id:
            return CloudStatus.UNKNOWN
        try:
            records = self.faxage.client.status([int(entry.cloud_job_id)])
        except Exception as exc:  # the service cannot tell now: leave it unresolved
            self.log.warn(
                "cloud lookup of job {jobid} failed: {error}", jobid=entry.cloud_job_id, error=safe_for_log(exc)
            )
            return CloudStatus.UNKNOWN
        for record in records:
            if str(record.jobid) == entry.cloud_job_id:
                short = record.shortstatus.value
                return {"success": CloudStatus.SENT, "failure": CloudStatus.FAILED}.get(short, CloudStatus.PENDING)
        return CloudStatus.UNKNOWN


class Router:
    """``dispatch(claim) -> Deferred[Result]`` for :class:`JobScheduler`."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        store: Any,
        run_blocking: Callable[..., Deferred[Any]],
        *,
        node_id: str,
        pool: LinePool | None,
        portserver: Any,
        cloud: CloudRoute | None,
    ) -> None:
        self.clock = clock
        self.store = store
        self.run = run_blocking
        self.node_id = node_id
        self.pool = pool
        self.portserver = portserver
        self.cloud = cloud
        self.sessions = 0

    def dispatch(self, claim: Claim) -> Deferred[Result]:
        return Deferred.fromCoroutine(self._dispatch(claim))

    def session_id(self, claim: Claim) -> str:
        e = claim.entry
        return f"{self.node_id}-{e.fax_id:08X}{e.index:04X}-{e.tries + 1}"

    async def _dispatch(self, claim: Claim) -> Result:
        from radius.client import ClientError

        entry, fax = claim.entry, claim.fax
        number = entry.recipient.fax_number
        account = fax.account or fax.owner
        sid = self.session_id(claim)
        problem = dial_string_problem(number)
        if problem is not None:  # stored before the dial plan or by another tool: never dialled, never retried
            return Result.failure(Cause.REJECTED, hangup_text=problem)
        session = None
        auth = None
        start_acked: list[bool] = []
        if self.portserver is not None:
            try:
                auth = await self.portserver.authorize_send(account, number, sid)
            except ClientError as exc:
                return Result.failure(Cause.OTHER, hangup_text=f"no RADIUS server answered: {exc}")
            if not auth.allowed:
                return Result.failure(Cause.REJECTED, hangup_text=auth.reason)
            session = auth.session(sid, self.clock.seconds())
            if session.save_cdr:
                # recorded before the Start: whoever recovers an interrupted call writes its Stop
                try:
                    await self.run(
                        self.store.record_session, entry.id, self.node_id, entry.claimed_at, dataclasses.asdict(session)
                    )
                except Exception as exc:
                    return Result.failure(Cause.OTHER, hangup_text=f"the job store is unreachable: {exc}")
            start = self.portserver.start(session)
            start.addCallback(lambda ok: start_acked.append(bool(ok))).addErrback(self._log_acct, sid)
        started = self.clock.seconds()
        if claim.route == CLOUD:
            result, cdr = await self._cloud(claim)
        else:
            result, cdr = await self._line(claim, auth)
        if session is not None and self.portserver is not None:
            from appliance.portserver import Cdr

            cdr_obj = Cdr(total_seconds=int(self.clock.seconds() - started), **cdr)
            try:
                self.portserver.stop(session, cdr_obj, resend_start=start_acked != [True]).addErrback(
                    self._log_acct, sid
                )
            except Exception:  # the spool cannot be written: the CDR is lost, the fax is not
                self.log.failure("accounting Stop for {session_id} could not be spooled", session_id=sid)
        self.sessions += 1
        return result

    def _log_acct(self, failure: Any, sid: str) -> None:
        self.log.failure("accounting for session {session_id} failed", failure, session_id=sid)

    # -------------------------------------------------------------- line
    async def _line(self, claim: Claim, auth: Any) -> tuple[Result, dict[str, Any]]:
        entry, fax = claim.entry, claim.fax
        if self.pool is None:
            return Result.failure(Cause.OTHER, hangup_text="this node has no lines"), {"fax_error_code": 1}
        fine = fax.resolution != "normal"
        try:
            pages = await self.run(_t4_pages, list(fax.documents), fine)
        except Exception as exc:
            return Result.failure(Cause.REJECTED, hangup_text=f"the documents cannot be converted: {exc}"), {
                "fax_error_code": 1
            }
        config = self.pool.config(claim.route)
        local_id = (auth.tsid if auth is not None and auth.tsid else "") or fax.tsid or config.tsid
        total, first = len(pages), min(claim.first_page, max(0, len(pages) - 1))
        progress = _Progress(self, entry.id, entry.claimed_at, first, total)
        try:
            result: c2.SessionResult = await self.pool.send(
                claim.route,
                entry.recipient.fax_number,
                pages[first:],
                PageFormat(fine=fine),
                local_id,
                progress.page,
                job=entry.key,
                first_page=first,
                pages_total=total,
            )
        except LineUnavailable as exc:
            return Result.failure(Cause.OTHER, hangup_text=str(exc), line=claim.route), {"fax_error_code": 1}
        except SendRefused as exc:  # e.g. a stored number that is not a dial string: final, never retried
            return Result.failure(Cause.REJECTED, hangup_text=str(exc), line=claim.route), {"fax_error_code": 1}
        await progress.flushed()
        line_fault = not result.ok and result.outcome in _LINE_FAULTS
        self.pool.record_failure(claim.route, line_fault, result.detail)
        hangup = result.hangup
        details: dict[str, Any] = {"line": claim.route, "outcome": result.outcome.value, "detail": result.detail}
        details.update(_modem_info(self.pool.call(claim.route), result))
        cdr: dict[str, Any] = {
            "page_count": result.pages_confirmed,
            "remote_csid": (result.remote_id or "").strip(),
            "local_csid": local_id,
            "connect_bps": result.params.bps if result.params else 0,
            "fax_error_code": 0 if result.ok else (hangup.code if hangup is not None and hangup.code else 1),
            "called_number_result": self._called_number_result(result),
        }
        if first:
            details["first_page"] = first + 1
        if result.ok:
            return Result.ok(
                first + result.pages_confirmed, result.duration_s, (result.remote_id or "").strip(), **details
            ), cdr
        details.pop("hangup_code", None)  # a failure carries them itself
        details.pop("hangup_text", None)
        if not self.pool.running:  # the appliance is stopping: not a try, due again when it starts
            return dataclasses.replace(
                Result.failure(
                    Cause.INTERRUPTED,
                    hangup.wire if hangup else "",
                    "the appliance stopped during the call",
                    pages=result.pages_confirmed,
                    duration=result.duration_s,
                    **details,
                ),
                counts=False,
            ), cdr
        return Result.failure(
            outcome_cause(result.outcome),
            hangup.wire if hangup else "",
            hangup.meaning if hangup else result.detail,
            pages=result.pages_confirmed,
            duration=result.duration_s,
            **details,
        ), cdr

    @staticmethod
    def _called_number_result(result: c2.SessionResult) -> int | None:
        if result.ok:
            return 0
        if result.outcome in (Outcome.NO_FAX, Outcome.DATA_MODEM, Outcome.NO_CARRIER):
            return 2
        if result.outcome in (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.NO_DIALTONE):
            return None
        return 1

    # ------------------------------------------------------------- cloud
    async def _cloud(self, claim: Claim) -> tuple[Result, dict[str, Any]]:
        entry, fax = claim.entry, claim.fax
        if self.cloud is None:
            return Result.failure(Cause.OTHER, hangup_text="no cloud route is configured"), {"fax_error_code": 1}
        try:
            data = await self.run(_tiff_bytes, list(fax.documents), fax.resolution != "normal")
        except Exception as exc:
            return Result.failure(Cause.REJECTED, hangup_text=f"the documents cannot be converted: {exc}"), {
                "fax_error_code": 1
            }
        await self.run(self.store.cloud_submitting, entry.id, now=self.clock.seconds())
        try:
            jobid, final = await self.cloud.submit(entry.recipient.fax_number, entry.recipient.name, data)
        except Exception as exc:
            from appliance.cloud.errors import FaxageRequestError

            cause = Cause.REJECTED if isinstance(exc, FaxageRequestError) else Cause.OTHER
            return Result.failure(cause, hangup_text=f"cloud submit failed: {exc}", route=CLOUD), {"fax_error_code": 1}
        await self.run(self.store.cloud_submitted, entry.id, str(jobid), now=self.clock.seconds())
        record = await final
        return self._cloud_result(record, fax.pages)

    @staticmethod
    def _cloud_result(record: Any, pages: int) -> tuple[Result, dict[str, Any]]:
        count = record.xmitpages if record.xmitpages is not None else (record.pagecount or pages)
        cdr = {
            "page_count": count if record.shortstatus.value == "success" else 0,
            "remote_csid": record.csid or "",
            "fax_error_code": 0 if record.shortstatus.value == "success" else 1,
            "called_number_result": 0 if record.shortstatus.value == "success" else 1,
        }
        if record.shortstatus.value == "success":
            return Result.ok(count, 0.0, record.csid or "", route=CLOUD, cloud_job_id=record.jobid), cdr
        return Result.failure(Cause.OTHER, hangup_text=record.longstatus, route=CLOUD, cloud_job_id=record.jobid), cdr

    # ---------------------------------------------------------- recovery
    def recovered_stops(self, report: RecoveryReport) -> None:
        """Write the accounting Stop of every interrupted session recovery settled
        (Acct-Terminate-Cause NAS-Reboot: the node making the call went away),
        after resending its Start, which that node may not have delivered."""
        if self.portserver is None:
            return
        for item in report.stops:
            self._recovered_stop(item)

    def _recovered_stop(self, item: RecoveredSession) -> None:
        from appliance.portserver import Cdr, Session

        fields = {f.name for f in dataclasses.fields(Session)}
        session = Session(**{k: v for k, v in item.session.items() if k in fields})  # type: ignore[arg-type]
        cdr = Cdr(
            page_count=item.pages,
            total_seconds=max(0, int(item.ended_at - session.started_at)),
            fax_error_code=0 if item.delivered else 1,
            called_number_result=0 if item.delivered else 1,
            extra=(("Acct-Terminate-Cause", TERMINATE_RECOVERED),),
        )
        self.log.info(
            "accounting Stop for session {session_id} written on recovery ({pages} page(s) confirmed)",
            session_id=session.session_id,
            pages=item.pages,
        )
        try:  # the Start again first: the node may have gone before its Start was stored
            self.portserver.stop(session, cdr, resend_start=True).addErrback(self._log_acct, session.session_id)
        except Exception:
            self.log.failure("accounting Stop for {session_id} could not be spooled", session_id=session.session_id)

    async def resume(self, claim: Claim) -> None:
        """After a restart: wait for a cloud job that was still running, then complete its entry."""
        if self.cloud is None or not claim.entry.cloud_job_id:
            return
        record = await self.cloud.wait(int(claim.entry.cloud_job_id))
        result, _ = self._cloud_result(record, claim.fax.pages)
        await self.run(self.store.complete, claim.entry.id, result, self.clock.seconds())
