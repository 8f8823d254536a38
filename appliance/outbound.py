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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.cloud.errors import FaxageRequestError
from appliance.cloud.notify import NotifyTracker
from appliance.cloud.records import JobSubmitted, StatusRecord
from appliance.config import LineConfig
from appliance.fax_pages import coded_pages, tiff_bytes
from appliance.jobs.choices import FaxResolution
from appliance.jobs.model import CLOUD, Cause, Claim, CloudStatus, Entry, RecoveredSession, RecoveryReport, Result
from appliance.jobs.scheduler import RunBlocking
from appliance.jobs.store import JobStore
from appliance.lines import LineUnavailable
from appliance.logsafe import safe_for_log
from appliance.outcomes import (
    CdrFields,
    cloud_result,
    cloud_status,
    failed_cdr,
    is_line_fault,
    line_result,
    recovered_cdr,
    send_cdr,
)
from appliance.pending import PendingWork
from appliance.portserver import Cdr, SendAuthorization, Session
from appliance.progress import LiveCall
from modem import class2 as c2
from modem.coding import CodedPage
from modem.dialect import dial_string_problem
from modem.driver import SendRefused
from modem.params import PageFormat
from radius.client import ClientError

if TYPE_CHECKING:
    from appliance.cloud.client import TwistedFaxage

__all__ = ["CloudRoute", "Router", "SendLines", "SendRole"]

#: seconds ``stop`` waits for accounting still on its way
STOP_WAIT = 10.0
ACK_WAIT = 5.0  # seconds a send waits for its Stop to be acknowledged before its result is recorded


class SendLines(Protocol):
    """What the router needs of the line pool (:class:`appliance.lines.LinePool`)."""

    running: int  # false while the appliance is stopping

    def config(self, name: str) -> LineConfig: ...

    def send(
        self,
        name: str,
        number: str,
        pages: list[bytes] | list[CodedPage],
        page_format: PageFormat,
        local_id: str = "",
        on_page: Callable[[int], None] | None = None,
        *,
        job: str = "",
        first_page: int = 0,
        pages_total: int = 0,
    ) -> Deferred[c2.SessionResult]: ...

    def record_failure(self, name: str, line_fault: bool, why: str = "") -> None: ...

    def call(self, name: str) -> LiveCall | None: ...


class SendRole(Protocol):
    """What the router needs of the port-server role (:class:`appliance.portserver.PortServer`)."""

    def authorize_send(self, account: str, dial_number: str, session_id: str) -> Deferred[SendAuthorization]: ...

    def start(self, session: Session) -> Deferred[bool]: ...

    def stop(self, session: Session, cdr: Cdr, *, resend_start: bool = False) -> Deferred[bool]: ...


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

    def flushed(self) -> Deferred[None]:
        """Fires once every page so far is recorded (or its failure logged)."""
        d: Deferred[None] = Deferred()

        def fire(result: object) -> object:
            d.callback(None)
            return result

        self.chain.addBoth(fire)
        return d


class CloudRoute:
    """FAXAGE sends: submit, then wait for the final status (callback or poll)."""

    log = Logger()

    def __init__(self, faxage: TwistedFaxage, tracker: NotifyTracker, *, notify: bool) -> None:
        self.faxage = faxage
        self.tracker = tracker
        self.notify = notify  # url_notify callbacks reach us
        self._waiting: dict[int, Deferred[StatusRecord]] = {}

    def submit(self, number: str, name: str, data: bytes) -> Deferred[tuple[int, Deferred[StatusRecord]]]:
        """sendfax; fires with (jobid, a Deferred of the final StatusRecord)."""
        options: dict[str, str] = {}
        token = ""
        if self.notify:
            token, url = self.tracker.new_token()
            options["url_notify"] = url
        d = self.faxage.sendfax(number, name or number, [("fax.tif", data)], **options)

        def sent(submitted: JobSubmitted) -> tuple[int, Deferred[StatusRecord]]:
            jobid = int(submitted.jobid)
            if token:
                self.tracker.bind(token, jobid)
            else:
                self.tracker.watch(jobid)
            return jobid, self.wait(jobid)

        return d.addCallback(sent)

    def wait(self, jobid: int) -> Deferred[StatusRecord]:
        self.tracker.watch(jobid)
        return self._waiting.setdefault(jobid, Deferred())

    def on_final(self, record: StatusRecord) -> None:
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
                return cloud_status(record)
        return CloudStatus.UNKNOWN


class Router:
    """``dispatch(claim) -> Deferred[Result]`` for :class:`JobScheduler`."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        store: JobStore,
        run_blocking: RunBlocking,
        *,
        node_id: str,
        pool: SendLines | None,
        portserver: SendRole | None,
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
        #: accounting Starts and Stops on their way
        self.pending = PendingWork(clock, "outbound router")

    def dispatch(self, claim: Claim) -> Deferred[Result]:
        return Deferred.fromCoroutine(self._dispatch(claim))

    async def stop(self, timeout: float = STOP_WAIT) -> None:
        """Wait (up to ``timeout`` seconds) for the accounting still on its way; for ``stopService``."""
        await self.pending.drain(timeout)

    def session_id(self, claim: Claim) -> str:
        e = claim.entry
        return f"{self.node_id}-{e.fax_id:08X}{e.index:04X}-{e.tries + 1}"

    async def _dispatch(self, claim: Claim) -> Result:
        entry = claim.entry
        account = claim.fax.account or claim.fax.owner
        sid = self.session_id(claim)
        problem = dial_string_problem(entry.recipient.fax_number)
        if problem is not None:  # stored before the dial plan or by another tool: never dialled, never retried
            return Result.failure(Cause.REJECTED, hangup_text=problem)
        session = None
        auth = None
        start_acked: list[bool] = []
        if self.portserver is not None:
            try:
                auth = await self.portserver.authorize_send(account, entry.recipient.fax_number, sid)
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
            start.addCallback(lambda ok: start_acked.append(bool(ok)))
            self.pending.track(start, "accounting", session_id=sid)
        started = self.clock.seconds()
        if claim.route == CLOUD:
            result, cdr = await self._cloud(claim)
        else:
            result, cdr = await self._line(claim, auth)
        if session is not None:
            stop = self._stop(session, cdr, int(self.clock.seconds() - started), resend_start=start_acked != [True])
            if stop is not None:
                # The result is recorded only after the Stop is acknowledged (or ACK_WAIT passed):
                # a node that dies before then leaves the claim to recovery, which writes the Stop
                # from the shared store; a Stop only in this node's spool would die with it.
                await self._acknowledged(stop, ACK_WAIT)
        self.sessions += 1
        return result

    def _stop(self, session: Session, fields: CdrFields, seconds: int, *, resend_start: bool) -> Deferred[bool] | None:
        """The accounting Stop with the CDR, tracked; a spool that cannot be written loses the CDR, not the fax."""
        assert self.portserver is not None  # only sessions of a role are accounted
        cdr = Cdr(total_seconds=seconds, **fields.as_kwargs())
        try:
            d = self.portserver.stop(session, cdr, resend_start=resend_start)
        except Exception:
            self.log.failure("accounting Stop for {session_id} could not be spooled", session_id=session.session_id)
            return None
        self.pending.track(d, "accounting", session_id=session.session_id)
        return d

    async def _acknowledged(self, d: Deferred[bool], timeout: float) -> None:
        """Wait until ``d`` has fired or ``timeout`` seconds passed (``d`` goes on either way)."""
        if d.called:
            return
        waiter: Deferred[None] = Deferred()

        def wake(_: object = None) -> None:
            if not waiter.called:
                waiter.callback(None)

        def passing(result: object) -> object:
            wake()
            return result

        timer = self.clock.callLater(timeout, wake)
        d.addBoth(passing)
        await waiter
        if timer.active():
            timer.cancel()

    # -------------------------------------------------------------- line
    async def _line(self, claim: Claim, auth: SendAuthorization | None) -> tuple[Result, CdrFields]:
        entry, fax = claim.entry, claim.fax
        if self.pool is None:
            return Result.failure(Cause.OTHER, hangup_text="this node has no lines"), failed_cdr()
        fine = fax.resolution is not FaxResolution.NORMAL
        try:
            pages = await self.run(coded_pages, list(fax.documents), fine)
        except Exception as exc:
            return Result.failure(Cause.REJECTED, hangup_text=f"the documents cannot be converted: {exc}"), failed_cdr()
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
            return Result.failure(Cause.OTHER, hangup_text=str(exc), line=claim.route), failed_cdr()
        except SendRefused as exc:  # e.g. a stored number that is not a dial string: final, never retried
            return Result.failure(Cause.REJECTED, hangup_text=str(exc), line=claim.route), failed_cdr()
        await progress.flushed()
        self.pool.record_failure(claim.route, is_line_fault(result), result.detail)
        outcome = line_result(
            result,
            line=claim.route,
            first_page=first,
            call=self.pool.call(claim.route),
            stopping=not self.pool.running,
        )
        return outcome, send_cdr(result, local_id)

    # ------------------------------------------------------------- cloud
    async def _cloud(self, claim: Claim) -> tuple[Result, CdrFields]:
        entry, fax = claim.entry, claim.fax
        if self.cloud is None:
            return Result.failure(Cause.OTHER, hangup_text="no cloud route is configured"), failed_cdr()
        try:
            data = await self.run(tiff_bytes, list(fax.documents), fax.resolution is not FaxResolution.NORMAL)
        except Exception as exc:
            return Result.failure(Cause.REJECTED, hangup_text=f"the documents cannot be converted: {exc}"), failed_cdr()
        await self.run(self.store.cloud_submitting, entry.id, now=self.clock.seconds())
        try:
            jobid, final = await self.cloud.submit(entry.recipient.fax_number, entry.recipient.name, data)
        except Exception as exc:
            cause = Cause.REJECTED if isinstance(exc, FaxageRequestError) else Cause.OTHER
            return Result.failure(cause, hangup_text=f"cloud submit failed: {exc}", route=CLOUD), failed_cdr()
        await self.run(self.store.cloud_submitted, entry.id, str(jobid), now=self.clock.seconds())
        record = await final
        return cloud_result(record, fax.pages)

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
        fields = {f.name for f in dataclasses.fields(Session)}
        session = Session(**{k: v for k, v in item.session.items() if k in fields})  # type: ignore[arg-type]
        self.log.info(
            "accounting Stop for session {session_id} written on recovery ({pages} page(s) confirmed)",
            session_id=session.session_id,
            pages=item.pages,
        )
        # the Start again first: the node may have gone before its Start was stored
        seconds = max(0, int(item.ended_at - session.started_at))
        self._stop(session, recovered_cdr(item.pages, item.delivered), seconds, resend_start=True)

    async def resume(self, claim: Claim) -> None:
        """After a restart: wait for a cloud job that was still running, then complete its entry."""
        if self.cloud is None or not claim.entry.cloud_job_id:
            return
        record = await self.cloud.wait(int(claim.entry.cloud_job_id))
        result, _ = cloud_result(record, claim.fax.pages)
        await self.run(self.store.complete, claim.entry.id, result, self.clock.seconds())
