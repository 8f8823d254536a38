"""Incoming calls on the appliance's lines.

A ``RING`` on an idle line (:class:`~appliance.lines.LinePool`) asks the
port-server role which account the line's DID belongs to
(:meth:`PortServer.route_receive`: Get-Account-From-DID, then Get-Account,
failover included).  A refused route (DID disabled, unknown, account cannot
receive, no RADIUS server) leaves the call unanswered.  Otherwise the line
answers, receives, the pages go into the receiving account's inbox as
TIFF-F + PDF + PNG previews, and the session is accounted (Start, Stop with
the CDR).  Faxes received through FAXAGE are filed by
:mod:`appliance.inbound.sinks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.config import LineConfig
from appliance.inbound.inbox import UNROUTED_ACCOUNT, Inbox, InboxItem
from appliance.jobs.scheduler import RunBlocking
from appliance.lines import LineUnavailable
from appliance.logsafe import safe_for_log
from appliance.outcomes import receive_cdr
from appliance.pending import PendingWork
from appliance.portserver import Cdr, ReceiveRoute, Session
from modem import class2 as c2
from radius.client import ClientError

__all__ = ["InboundRouter", "ReceiveLines", "ReceiveRole"]

#: seconds ``stop`` waits for calls and accounting still under way
STOP_WAIT = 10.0


class ReceiveLines(Protocol):
    """What the router needs of the line pool (:class:`appliance.lines.LinePool`)."""

    def config(self, name: str) -> LineConfig: ...

    def receive(self, name: str, recipient: str = "") -> Deferred[c2.SessionResult]: ...

    def ignore_call(self, name: str) -> None: ...


class ReceiveRole(Protocol):
    """What the router needs of the port-server role (:class:`appliance.portserver.PortServer`)."""

    def route_receive(self, did: str, session_id: str) -> Deferred[ReceiveRoute]: ...

    def start(self, session: Session) -> Deferred[bool]: ...

    def stop(self, session: Session, cdr: Cdr) -> Deferred[bool]: ...


class InboundRouter:
    """``on_ring`` for the line pool; see the module docstring."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        pool: ReceiveLines,
        inbox: Inbox,
        portserver: ReceiveRole | None,
        run_blocking: RunBlocking,
        *,
        node_id: str,
        token_hex: Callable[[], str],
        default_account: str = "",
    ) -> None:
        self.clock = clock
        self.pool = pool
        self.inbox = inbox
        self.portserver = portserver
        self.run = run_blocking
        self.node_id = node_id
        self.token_hex = token_hex
        self.default_account = default_account
        self.calls: list[tuple[str, str, str]] = []  # (line, did, outcome) for status and tests
        #: (inbox item, line, seconds) for each fax stored: the e-mail gateway's delivery
        self.on_stored: Callable[[InboxItem, str, float], object] | None = None
        #: calls being handled, and accounting on its way
        self.pending = PendingWork(clock, "inbound router")

    def on_ring(self, line: str) -> None:
        d = Deferred.fromCoroutine(self._call(line))
        self.pending.track(d, "incoming call", line=line)

    async def stop(self, timeout: float = STOP_WAIT) -> None:
        """Wait (up to ``timeout`` seconds) for the calls and the accounting still under
        way; for ``stopService``, after the line pool stopped (which ends the calls)."""
        await self.pending.drain(timeout)

    async def _call(self, line: str) -> None:
        did = self.pool.config(line).did
        sid = f"{self.node_id}-in-{self.token_hex()}"
        route = None
        account = self.default_account
        if self.portserver is not None:
            try:
                route = await self.portserver.route_receive(did, sid)
            except ClientError as exc:
                self.log.warn(
                    "call on {line} to {did} not answered: no RADIUS server ({error})",
                    line=line,
                    did=did,
                    error=str(exc),
                )
                self._refuse(line, did, "no RADIUS server")
                return
            if not route.accepted:
                self.log.info(
                    "call on {line} to {did} not answered: {reason}",
                    line=line,
                    did=did,
                    reason=safe_for_log(route.reason),
                )
                self._refuse(line, did, route.reason)
                return
            account = route.receive_account
        session = route.session(sid, self.clock.seconds()) if route is not None else None
        if session is not None and self.portserver is not None:
            self.pending.track(self.portserver.start(session), "accounting", session_id=sid)
        started = self.clock.seconds()
        try:
            result = await self.pool.receive(line, recipient=account or "")
        except LineUnavailable as exc:
            self.log.warn("call on {line} could not be answered: {error}", line=line, error=str(exc))
            self.calls.append((line, did, "unavailable"))
            return
        item = None
        if result.discarded:
            self.log.info(
                "call on {line}: {count} page transmission(s) not kept ({why})",
                line=line,
                count=len(result.discarded),
                why="; ".join(p.note for p in result.discarded),
            )
        if result.received:  # only the pages confirmed to the sender; a resent page once
            fine = result.params.fine if result.params else True
            caller = result.caller_id or ""
            try:
                item = await self.run(
                    self.inbox.add_received,
                    account or UNROUTED_ACCOUNT,
                    [p.data for p in result.received],
                    fine,
                    received_at=self.clock.seconds(),
                    codings=[p.coding for p in result.received],
                    did=did,
                    caller_id=caller,
                    remote_csid=(result.remote_id or "").strip(),
                    source=f"line:{line}",
                    session_id=sid,
                )
            except Exception:
                self.log.failure("received fax on {line} could not be stored", line=line)
        self.calls.append((line, did, "received" if item is not None else result.outcome.value))
        if item is not None:
            self.log.info(
                "fax from {caller} to {did} on {line}: {pages} page(s) into {account}'s inbox (#{id})",
                caller=safe_for_log(item.caller_id or "-", 64),
                did=did,
                line=line,
                pages=item.pages,
                account=safe_for_log(item.account, 64),
                id=item.id,
            )
            if self.on_stored is not None:
                self.on_stored(item, line, self.clock.seconds() - started)
        if session is not None and self.portserver is not None:
            fields = receive_cdr(result, self.pool.config(line).tsid, session.client_account)
            cdr = Cdr(total_seconds=int(self.clock.seconds() - started), **fields.as_kwargs())
            try:
                d = self.portserver.stop(session, cdr)
            except Exception:
                self.log.failure("accounting Stop for {session_id} could not be spooled", session_id=sid)
                return
            self.pending.track(d, "accounting", session_id=sid)

    def _refuse(self, line: str, did: str, why: str) -> None:
        self.pool.ignore_call(line)
        self.calls.append((line, did, f"refused: {why}"))
