"""Incoming faxes: calls on the appliance's lines and faxes polled from FAXAGE.

A ``RING`` on an idle line (:class:`~appliance.lines.LinePool`) asks the
port-server role which account the line's DID belongs to
(:meth:`PortServer.route_receive`: Get-Account-From-DID, then Get-Account,
failover included).  A refused route (DID disabled, unknown, account cannot
receive, no RADIUS server) leaves the call unanswered.  Otherwise the line
answers, receives, the pages go into the receiving account's inbox as
TIFF-F + PDF + PNG previews, and the session is accounted (Start, Stop with
the CDR).

Cloud faxes arrive through the FAXAGE inbound poller; :class:`CloudInboxSink`
routes each by its DNIS the same way and stores it in that account's inbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.inbound.inbox import Inbox
from appliance.lines import LinePool, LineUnavailable
from appliance.logsafe import safe_for_log

__all__ = ["UNROUTED_ACCOUNT", "CloudInboxSink", "InboundRouter"]

#: the inbox of faxes no account could be found for
UNROUTED_ACCOUNT = "_unrouted"


class InboundRouter:
    """``on_ring`` for the line pool; see the module docstring."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        pool: LinePool,
        inbox: Inbox,
        portserver: Any,
        run_blocking: Callable[..., Deferred[Any]],
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
        self.on_stored: Callable[[Any, str, float], Any] | None = None

    def on_ring(self, line: str) -> None:
        d = Deferred.fromCoroutine(self._call(line))
        d.addErrback(lambda f: self.log.failure("incoming call on {line} failed", f, line=line))

    async def _call(self, line: str) -> None:
        from radius.client import ClientError

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
        if session is not None:
            self.portserver.start(session).addErrback(self._acct_failed, sid)
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
        if session is not None:
            from appliance.portserver import Cdr

            hangup = result.hangup
            # page count: the pages stored (confirmed to the sender), not page transmissions
            cdr = Cdr(
                page_count=len(result.received),
                total_seconds=int(self.clock.seconds() - started),
                remote_csid=(result.remote_id or "").strip(),
                local_csid=self.pool.config(line).tsid,
                connect_bps=result.params.bps if result.params else 0,
                fax_error_code=0 if result.ok else (hangup.code if hangup and hangup.code else 1),
                caller_id=result.caller_id or "",
                rcv_account_id=session.client_account,
            )
            try:
                self.portserver.stop(session, cdr).addErrback(self._acct_failed, sid)
            except Exception:
                self.log.failure("accounting Stop for {session_id} could not be spooled", session_id=sid)

    def _refuse(self, line: str, did: str, why: str) -> None:
        self.pool.ignore_call(line)
        self.calls.append((line, did, f"refused: {why}"))

    def _acct_failed(self, failure: Any, sid: str) -> None:
        self.log.failure("accounting for session {session_id} failed", failure, session_id=sid)


class CloudInboxSink:
    """A :class:`appliance.cloud.receive_poller.FaxSink` that files cloud faxes by DNIS.

    ``resolve(dnis) -> account`` blocks (it runs in the poller's thread pool;
    production: the port-server role through ``blockingCallFromThread``)."""

    def __init__(self, inbox: Inbox, resolve: Callable[[str], str]) -> None:
        self.inbox = inbox
        self.resolve = resolve
        #: (inbox item) for each fax stored, called in the storing thread: the e-mail gateway's delivery
        self.on_stored: Callable[[Any], Any] | None = None

    def contains(self, recvid: int) -> bool:
        return self.inbox.contains("recvid", recvid)

    def store(self, recvid: int, meta: Mapping[str, Any], data: bytes) -> None:
        if self.contains(recvid):
            return
        dnis = str(meta.get("dnis") or "")
        account = self.resolve(dnis) or UNROUTED_ACCOUNT
        item = self.inbox.add_document(
            account,
            data,
            received_at=_epoch(meta),
            did=dnis,
            caller_id=str(meta.get("cid") or ""),
            remote_csid=str(meta.get("tsid") or ""),
            source="cloud",
            extra=dict(meta),
        )
        if self.on_stored is not None:
            self.on_stored(item)


def _epoch(meta: Mapping[str, Any]) -> float:
    import datetime

    text = str(meta.get("recvdate") or "")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.UTC).timestamp()
        except ValueError:
            continue
    return 0.0


def portserver_resolver(
    reactor: Any, portserver: Any, token_hex: Callable[[], str], default: str = ""
) -> Callable[[str], str]:
    """``resolve(dnis)`` for :class:`CloudInboxSink`, asking RADIUS from a worker thread."""
    from twisted.internet.threads import blockingCallFromThread

    def resolve(dnis: str) -> str:
        if portserver is None or not dnis:
            return default
        try:
            route = blockingCallFromThread(reactor, portserver.route_receive, dnis, f"cloud-{token_hex()}")
        except Exception:
            return default
        return str(route.receive_account) if route.accepted else default

    return resolve
