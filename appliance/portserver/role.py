"""The port-server role: the RADIUS-client side of sending and receiving.

Request sequences follow the FaxBack port server (spec faxback-radius.md §4,
§6, §9):

* before a send: Get-Account / Pre-Send-Session (:meth:`PortServer.authorize_send`),
  and, when asked separately, Get-Call-Ahead-Mode / Pre-Send-Session
  (:meth:`PortServer.call_ahead_mode`);
* on an incoming call: Get-Account-From-DID / Pre-Receive-Session, then
  Get-Account / Pre-Receive-Session for the account, its failover account or
  a member of its load-balance group (:meth:`PortServer.route_receive`);
* accounting Start, Interim-Update (on a timer) and Stop with the CDR.  A
  Stop is spooled durably before it is sent and removed only once a server
  acknowledged it; spooled Stops are resent with backoff, across restarts.
  Start and Interim-Update are given up after the client's retries.

When no RADIUS server answers an Access-Request, the :class:`ClientError`
reaches the caller, who decides (retry the send later, leave the call
unanswered).

The rules (what a reply means, failover accounts, group order, CDR
attributes, resend backoff) are in the pure :mod:`appliance.portserver.planner`;
this adapter sends the planner's requests, applies its decisions, runs the
timers (Interim-Updates, Stop resends) and keeps the spool.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from appliance.logsafe import safe_for_log
from appliance.portserver.config import PortServerConfig
from appliance.portserver.model import Attr, Cdr, ReceiveRoute, SendAuthorization, Session
from appliance.portserver.planner import (
    Planner,
    Query,
    ReceivePlan,
    ResendBackoff,
    call_ahead_query,
    interpret_call_ahead,
    interpret_send,
    with_delay,
)
from appliance.portserver.spool import SpoolError, StopSpool, spool_key
from radius.client import ClientError, RadiusClient, Reply
from radius.codec import Dictionary
from radius.model import AcctStatus

__all__ = ["PortServer", "RadiusRequester", "make_portserver"]


class RadiusRequester(Protocol):
    """What the role needs from a RADIUS client (``radius.client.RadiusClient``)."""

    def access(self, attributes: Sequence[Attr], password: str | None = None) -> Deferred[Reply]: ...
    def accounting(self, attributes: Sequence[Attr]) -> Deferred[Reply]: ...


class PortServer:
    """Authorizes sends, routes receives and accounts sessions through RADIUS."""

    log = Logger()

    def __init__(
        self,
        client: RadiusRequester,
        clock: IReactorTime,
        spool: StopSpool,
        rng: random.Random,
        dictionary: Dictionary,
        *,
        nas_identifier: str = "",
        transfer_type: int = 1,
        interim_interval: float = 0.0,
        free_receive_sessions: Callable[[str], int] | None = None,
        is_available: Callable[[str], bool] | None = None,
        resend_initial: float = 5.0,
        resend_max: float = 300.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.spool = spool
        self.planner = Planner(
            dictionary,  # attributes it does not define are left out of accounting
            nas_identifier=nas_identifier,
            transfer_type=transfer_type,
            is_available=is_available,
            free_receive_sessions=free_receive_sessions,
            shuffle=rng.shuffle,
        )
        self.interim_interval = interim_interval
        self._backoff = ResendBackoff(resend_initial, resend_max)
        self._resend_call: IDelayedCall | None = None
        self._sending: set[str] = set()
        self._interims: dict[str, IDelayedCall] = {}
        self._work: set[Deferred[Any]] = set()  # Interim-Updates and resend passes the timers started
        self._stopped = False

    @property
    def transfer_type(self) -> int:
        return self.planner.transfer_type

    @property
    def group_member_requests(self) -> int:
        """Get-Load-Balance-Group-Members requests sent (the member cache missed)."""
        return self.planner.group_member_requests

    # ---------------------------------------------------------- lifetime
    def start_service(self) -> None:
        """Resend Stops left in the spool by an earlier run (soon, not inline)."""
        self._stopped = False
        if len(self.spool):
            self._schedule_resend(0.0)

    def stop_service(self) -> Deferred[None]:
        """Cancel the timers (no resend is armed after this); fires when the
        accounting they started has ended (closing the client ends it now)."""
        self._stopped = True
        for call in [self._resend_call, *self._interims.values()]:
            if call is not None and call.active():
                call.cancel()
        self._resend_call = None
        self._interims.clear()
        return DeferredList(list(self._work), consumeErrors=True).addCallback(lambda _: None)

    # -------------------------------------------------------------- send
    def authorize_send(
        self, account: str, dial_number: str, session_id: str, transfer_type: int | None = None
    ) -> Deferred[SendAuthorization]:
        """Get-Account / Pre-Send-Session for ``account`` sending to ``dial_number``."""
        transfer = transfer_type or self.planner.transfer_type
        query = self.planner.send_query(account, dial_number, session_id, transfer)
        return Deferred.fromCoroutine(self._authorize_send(query, account, dial_number, transfer))

    async def _authorize_send(self, query: Query, account: str, number: str, transfer: int) -> SendAuthorization:
        return interpret_send(await self._ask(query), account, number, transfer)

    def call_ahead_mode(self, number: str, session_id: str) -> Deferred[bool]:
        """Get-Call-Ahead-Mode / Pre-Send-Session: True = call ahead (also when no server answers)."""
        return Deferred.fromCoroutine(self._call_ahead(number, session_id))

    async def _call_ahead(self, number: str, session_id: str) -> bool:
        try:
            reply = await self._ask(call_ahead_query(number, session_id))
        except ClientError as exc:
            self.log.info("call-ahead mode unknown ({error}): calling ahead", error=str(exc))
            return True
        return interpret_call_ahead(reply)

    # ----------------------------------------------------------- receive
    def route_receive(self, did: str, session_id: str) -> Deferred[ReceiveRoute]:
        """Route an incoming call to ``did``: which account receives, who is billed."""
        return Deferred.fromCoroutine(self._route_receive(did, session_id))

    async def _route_receive(self, did: str, session_id: str) -> ReceiveRoute:
        route = await self._follow(self.planner.route_receive(did, session_id))
        for hop in route.failovers:
            self.log.info(
                "receive on {did} fails over from {account} to {failover}: {why}",
                did=did,
                account=safe_for_log(hop.account, 64),
                failover=safe_for_log(hop.failover, 64),
                why=safe_for_log(hop.why),
            )
        return route

    async def _follow(self, plan: ReceivePlan) -> ReceiveRoute:
        """Ask each query of ``plan`` and send it the reply, until it returns."""
        query = next(plan)
        while True:
            reply = await self._ask(query)
            try:
                query = plan.send(reply)
            except StopIteration as done:
                route: ReceiveRoute = done.value
                return route

    # -------------------------------------------------------- accounting
    def start(self, session: Session) -> Deferred[bool]:
        """Accounting Start (and Interim-Updates every ``interim_interval`` until the Stop).

        Fires True when acknowledged, False when given up or not wanted (FB-Save-CDR = 0)."""
        if not session.save_cdr:
            return succeed(False)
        if self.interim_interval > 0:
            self._arm_interim(session)
        attrs = self.planner.start_attributes(session)
        return Deferred.fromCoroutine(self._informational(session, AcctStatus.START, attrs))

    def interim(self, session: Session) -> Deferred[bool]:
        """Accounting Interim-Update (the manual's Alive)."""
        if not session.save_cdr:
            return succeed(False)
        attrs = self.planner.interim_attributes(session, self.clock.seconds())
        return Deferred.fromCoroutine(self._informational(session, AcctStatus.INTERIM_UPDATE, attrs))

    def stop(self, session: Session, cdr: Cdr, *, resend_start: bool = False) -> Deferred[bool]:
        """Accounting Stop with the CDR: spooled first, then sent.

        ``resend_start``: the session's Start was never acknowledged (no
        server answered, or the node that sent it went away); it is spooled
        and sent again before the Stop, so that Starts and Stops pair (a
        server drops a duplicate Start).  Fires True when acknowledged now,
        False when FB-Save-CDR = 0 or when it stays in the spool to be
        resent.  Raises :class:`SpoolError` when the spool cannot be written."""
        call = self._interims.pop(session.session_id, None)
        if call is not None and call.active():
            call.cancel()
        if not session.save_cdr:
            return succeed(False)
        attrs = self.planner.stop_attributes(session, cdr)
        key = spool_key(session.session_id, session.account)
        now = self.clock.seconds()
        if resend_start:
            start = self.planner.start_attributes(session)
            start_key = spool_key(f"{session.session_id}\x00start", session.account)
            self.spool.put(start_key, start, now - 0.001)  # resent in order: the Start first
            self.spool.put(key, attrs, now)
            return Deferred.fromCoroutine(self._deliver_pair(start_key, start, key, attrs, now))
        self.spool.put(key, attrs, now)
        return Deferred.fromCoroutine(self._deliver(key, attrs, now))

    async def _deliver_pair(
        self, start_key: str, start: Sequence[Attr], key: str, attrs: Sequence[Attr], now: float
    ) -> bool:
        if not await self._deliver(start_key, start, now - 0.001):
            return False
        return await self._deliver(key, attrs, now)

    def resend_spooled(self) -> Deferred[int]:
        """Try every spooled Stop once now; fires with how many were acknowledged."""
        return Deferred.fromCoroutine(self._resend_pass())

    def _arm_interim(self, session: Session) -> None:
        def tick() -> None:
            self._interims[session.session_id] = self.clock.callLater(self.interim_interval, tick)
            self._track(self.interim(session), "Interim-Update")

        self._interims[session.session_id] = self.clock.callLater(self.interim_interval, tick)

    async def _informational(self, session: Session, status: AcctStatus, attrs: list[Attr]) -> bool:
        try:
            await self.client.accounting(attrs)
        except ClientError as exc:
            self.log.warn(
                "accounting {status} for session {session_id} given up: {error}",
                status=status.name,
                session_id=session.session_id,
                error=str(exc),
            )
            return False
        return True

    async def _deliver(self, key: str, attrs: Sequence[Attr], stopped_at: float) -> bool:
        if key in self._sending:
            return False
        self._sending.add(key)
        try:
            await self.client.accounting(with_delay(tuple(attrs), stopped_at, self.clock.seconds()))
        except ClientError as exc:
            self.log.warn("accounting Stop {key} stays spooled: {error}", key=key, error=str(exc))
            self._schedule_resend(self._backoff.failed())
            return False
        finally:
            self._sending.discard(key)
        self.spool.remove(key)
        self._backoff.succeeded()
        return True

    async def _resend_pass(self) -> int:
        delivered = 0
        try:
            pending = self.spool.pending()
        except SpoolError:
            self.log.failure("the Stop spool cannot be read")
            return 0
        for entry in pending:
            if entry.key in self._sending:
                continue
            if not await self._deliver(entry.key, entry.attributes, entry.stopped_at):
                break  # no server answers: the backoff timer takes it from here
            delivered += 1
        return delivered

    def _schedule_resend(self, delay: float) -> None:
        if self._stopped or (self._resend_call is not None and self._resend_call.active()):
            return

        def fire() -> None:
            self._resend_call = None
            self._track(self.resend_spooled(), "resend of spooled Stops")

        self._resend_call = self.clock.callLater(delay, fire)

    # ------------------------------------------------------------ helpers
    def _track(self, work: Deferred[Any], what: str) -> None:
        """Keep ``work`` (started by a timer) until it ends, for stop_service; log it if it fails."""
        self._work.add(work)

        def ended(result: object) -> None:
            self._work.discard(work)
            if isinstance(result, Failure):
                self.log.failure("{what} failed", result, what=what)

        work.addBoth(ended)

    async def _ask(self, query: Query) -> Reply:
        return await self.client.access(query.attributes(self.planner.nas_identifier))


def make_portserver(
    config: PortServerConfig,
    reactor: IReactorTime,
    dictionary: Dictionary,
    data_dir: str,
    token_bytes: Callable[[int], bytes],
    rng: random.Random,
    *,
    free_receive_sessions: Callable[[str], int] | None = None,
    is_available: Callable[[str], bool] | None = None,
) -> PortServer:
    """Wire a listening :class:`RadiusClient` and a :class:`PortServer` from ``[portserver]``.

    The spool is ``spool_dir`` or ``<data_dir>/acct-spool``."""
    if not config.servers:
        raise ValueError("[portserver] lists no servers: add at least one [[portserver.servers]]")
    client = RadiusClient(
        reactor,
        config.server_specs(),
        dictionary,
        token_bytes,
        timeout=config.timeout,
        retries=config.retries,
        dead_time=config.dead_time,
    )
    client.listen()
    spool = StopSpool(config.spool_dir or f"{data_dir}/acct-spool")
    return PortServer(
        client,
        reactor,
        spool,
        rng,
        dictionary,
        nas_identifier=config.nas_identifier,
        transfer_type=config.transfer_type,
        interim_interval=config.interim_interval,
        free_receive_sessions=free_receive_sessions,
        is_available=is_available,
    )
