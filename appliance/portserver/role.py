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
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from appliance.logsafe import safe_for_log
from appliance.portserver.config import PortServerConfig
from appliance.portserver.spool import SpoolError, StopSpool, spool_key
from radius.client import ClientError, RadiusClient, Reply
from radius.codec import Dictionary
from radius.model import A, AcctStatus, Code, FbCommand, FbContext, Value

__all__ = [
    "Cdr",
    "PortServer",
    "RadiusRequester",
    "ReceiveRoute",
    "SendAuthorization",
    "Session",
    "make_portserver",
]

Attr = tuple[str, Value]
_GROUP_TYPES = (8, 9, 10)
_ALTERNATING, _MOST_FREE, _RANDOM = 8, 9, 10
MAX_FAILOVER_HOPS = 4


class RadiusRequester(Protocol):
    """What the role needs from a RADIUS client (``radius.client.RadiusClient``)."""

    def access(self, attributes: Sequence[Attr], password: str | None = None) -> Deferred[Reply]: ...
    def accounting(self, attributes: Sequence[Attr]) -> Deferred[Reply]: ...


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Session:
    """One fax session as accounting sees it."""

    session_id: str
    account: str  # the billed account (User-Name of every accounting packet)
    is_send: bool
    dial_number: str = ""  # send: the destination; receive: the DID
    client_account: str = ""  # the account that physically sent/received, when different
    save_cdr: bool = True  # FB-Save-CDR of the billed account
    started_at: float = 0.0
    cdr_info: str = ""
    customer: str = ""
    source: str = ""


@dataclass(frozen=True)
class Cdr:
    """The outcome of a session, sent in the Stop (spec §8.3)."""

    page_count: int = 0
    total_seconds: int = 0
    remote_csid: str = ""
    local_csid: str = ""
    connect_bps: int = 0
    fax_error_code: int = 0  # 0 = success
    called_number_result: int | None = None  # sends only: 0 success, 1 fax error, 2 voice
    caller_id: str = ""  # receives only
    rcv_account_id: str = ""  # the failover account that received
    extra: tuple[Attr, ...] = ()


@dataclass(frozen=True)
class SendAuthorization:
    """The answer to Get-Account / Pre-Send-Session."""

    allowed: bool
    account: str
    dial_number: str
    reason: str = ""  # why a send is refused
    tsid: str = ""  # FB-Snd-TSID ("" = use the line's)
    ani: str = ""  # FB-Snd-ANI ("" = use the line's)
    save_cdr: bool = True
    rule_group: str = ""
    call_ahead: bool = False  # only meaningful for queue transfers
    on_behalf_of: bool = False
    cdr_info: str = ""
    customer: str = ""
    source: str = ""

    def session(self, session_id: str, started_at: float) -> Session:
        return Session(
            session_id,
            self.account,
            True,
            self.dial_number,
            save_cdr=self.save_cdr,
            started_at=started_at,
            cdr_info=self.cdr_info,
            customer=self.customer,
            source=self.source,
        )


@dataclass(frozen=True)
class ReceiveRoute:
    """Where an incoming call goes, or why it is not answered."""

    accepted: bool
    did: str
    reason: str = ""
    billed_account: str = ""  # the DID's (primary) account
    receive_account: str = ""  # the account that receives (failover or group member)
    csid: str = ""  # FB-Rcv-CSID of the receiving account
    save_cdr: bool = True
    cdr_info: str = ""
    customer: str = ""
    source: str = ""

    def session(self, session_id: str, started_at: float) -> Session:
        client = self.receive_account if self.receive_account.casefold() != self.billed_account.casefold() else ""
        return Session(
            session_id,
            self.billed_account,
            False,
            self.did,
            client,
            self.save_cdr,
            started_at,
            self.cdr_info,
            self.customer,
            self.source,
        )


def _refused(did: str, reason: str) -> ReceiveRoute:
    return ReceiveRoute(False, did, reason)


# --------------------------------------------------------------------- role


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
        self.rng = rng
        self.dictionary = dictionary  # attributes it does not define are left out of accounting
        self.nas_identifier = nas_identifier
        self.transfer_type = transfer_type
        self.interim_interval = interim_interval
        self.free_receive_sessions = free_receive_sessions
        self.is_available = is_available or (lambda account: True)
        self.resend_initial = resend_initial
        self.resend_max = resend_max
        self._backoff = resend_initial
        self._resend_call: IDelayedCall | None = None
        self._sending: set[str] = set()
        self._interims: dict[str, IDelayedCall] = {}
        self._groups: dict[str, tuple[int, tuple[str, ...]]] = {}  # group -> (last modified, members)
        self._turns: dict[str, int] = {}  # alternating groups: next member index
        self.group_member_requests = 0

    # ---------------------------------------------------------- lifetime
    def start_service(self) -> None:
        """Resend Stops left in the spool by an earlier run (soon, not inline)."""
        if len(self.spool):
            self._schedule_resend(0.0)

    def stop_service(self) -> None:
        for call in [self._resend_call, *self._interims.values()]:
            if call is not None and call.active():
                call.cancel()
        self._resend_call = None
        self._interims.clear()

    # -------------------------------------------------------------- send
    def authorize_send(
        self, account: str, dial_number: str, session_id: str, transfer_type: int | None = None
    ) -> Deferred[SendAuthorization]:
        """Get-Account / Pre-Send-Session for ``account`` sending to ``dial_number``."""
        return Deferred.fromCoroutine(
            self._authorize_send(account, dial_number, session_id, transfer_type or self.transfer_type)
        )

    async def _authorize_send(self, account: str, number: str, session_id: str, transfer: int) -> SendAuthorization:
        reply = await self._access(
            FbCommand.GET_ACCOUNT,
            FbContext.PRE_SEND_SESSION,
            account,
            [
                (A.ACCT_SESSION_ID.value, session_id),
                (A.FB_DIAL_NUMBER.value, number),
                (A.FB_TRANSFER_TYPE.value, transfer),
            ],
        )
        if reply.code == Code.ACCESS_REJECT:
            reason = reply.get_str(A.REPLY_MESSAGE.value) or f"account {account} was rejected"
            return SendAuthorization(False, account, number, f"send refused: {reason}")
        refused = ""
        if reply.get_int(A.FB_SND_FROM_ACCOUNT.value) == 0:
            refused = f"sending is disabled for account {account}"
        elif reply.get_int(A.FB_SND_TIME_EXPIRED.value) == 1:
            refused = f"send time has expired for account {account}"
        call_ahead = reply.get_int(A.FB_CALL_AHEAD_MODE.value)
        return SendAuthorization(
            allowed=not refused,
            account=account,
            dial_number=number,
            reason=refused,
            tsid=reply.get_str(A.FB_SND_TSID.value) or "",
            ani=reply.get_str(A.FB_SND_ANI.value) or "",
            save_cdr=reply.get_int(A.FB_SAVE_CDR.value) != 0,
            rule_group=reply.get_str(A.FB_RULE_GROUP.value) or "",
            call_ahead=transfer == 2 and call_ahead != 0,
            on_behalf_of=reply.get_int(A.FB_SND_ON_BEHALF_OF.value) == 1,
            **_billing(reply),
        )

    def call_ahead_mode(self, number: str, session_id: str) -> Deferred[bool]:
        """Get-Call-Ahead-Mode / Pre-Send-Session: True = call ahead (also when no server answers)."""
        return Deferred.fromCoroutine(self._call_ahead(number, session_id))

    async def _call_ahead(self, number: str, session_id: str) -> bool:
        try:
            reply = await self._access(
                FbCommand.GET_CALL_AHEAD_MODE,
                FbContext.PRE_SEND_SESSION,
                number,
                [(A.ACCT_SESSION_ID.value, session_id)],
            )
        except ClientError as exc:
            self.log.info("call-ahead mode unknown ({error}): calling ahead", error=str(exc))
            return True
        return reply.code == Code.ACCESS_REJECT or reply.get_int(A.FB_CALL_AHEAD_MODE.value) != 0

    # ----------------------------------------------------------- receive
    def route_receive(self, did: str, session_id: str) -> Deferred[ReceiveRoute]:
        """Route an incoming call to ``did``: which account receives, who is billed."""
        return Deferred.fromCoroutine(self._route_receive(did, session_id))

    async def _route_receive(self, did: str, session_id: str) -> ReceiveRoute:
        sid = (A.ACCT_SESSION_ID.value, session_id)
        reply = await self._access(FbCommand.GET_ACCOUNT_FROM_DID, FbContext.PRE_RECEIVE_SESSION, did, [sid])
        if reply.code == Code.ACCESS_REJECT:
            return _refused(did, reply.get_str(A.REPLY_MESSAGE.value) or f"DID {did} is not routed")
        if reply.get_int(A.FB_DID_ENABLED.value) == 0:
            return _refused(did, f"DID {did} is disabled")
        primary = reply.get_str(A.USER_NAME.value)
        if not primary:
            return _refused(did, f"the route of DID {did} names no account")
        billed: ReceiveRoute | None = None
        current, seen = primary, {primary.casefold()}
        for _ in range(MAX_FAILOVER_HOPS):
            reply = await self._pre_receive(current, did, session_id)
            if reply.code == Code.ACCESS_REJECT:
                why = reply.get_str(A.REPLY_MESSAGE.value) or "rejected"
                return _refused(did, f"account {current} cannot receive: {why}")
            if billed is None:
                billed = ReceiveRoute(
                    True,
                    did,
                    billed_account=primary,
                    save_cdr=reply.get_int(A.FB_SAVE_CDR.value) != 0,
                    **_billing(reply),
                )
            problem = self._receive_problem(current, reply)
            failover = reply.get_str(A.FB_RCV_FAILOVER_ACCOUNT_ID.value) or ""
            always = reply.get_int(A.FB_RCV_FAILOVER_MODE.value) == 1 and bool(failover)
            if not problem and not always:
                if reply.get_int(A.FB_ACCOUNT_TYPE.value) in _GROUP_TYPES:
                    member = await self._pick_member(current, reply, did, session_id)
                    if member is not None:
                        return replace(billed, receive_account=member[0], csid=member[1])
                    problem = f"no member of load-balance group {current} can receive"
                else:
                    return replace(billed, receive_account=current, csid=reply.get_str(A.FB_RCV_CSID.value) or "")
            if not failover:
                return _refused(did, problem)
            if failover.casefold() in seen:
                return _refused(did, f"{problem}; failover account {failover} loops back")
            self.log.info(
                "receive on {did} fails over from {account} to {failover}: {why}",
                did=did,
                account=safe_for_log(current, 64),
                failover=safe_for_log(failover, 64),
                why=safe_for_log(problem or "always failover"),
            )
            seen.add(failover.casefold())
            current = failover
        return _refused(did, f"more than {MAX_FAILOVER_HOPS} failover accounts in a chain")

    def _receive_problem(self, account: str, reply: Reply) -> str:
        if reply.get_int(A.FB_RCV_TO_ACCOUNT.value) == 0:
            return f"receiving is disabled for account {account}"
        if reply.get_int(A.FB_RCV_TIME_EXPIRED.value) == 1:
            return f"receive time has expired for account {account}"
        if reply.get_int(A.FB_ACCOUNT_TYPE.value) not in _GROUP_TYPES and not self.is_available(account):
            return f"account {account} is busy or unavailable"
        return ""

    async def _pre_receive(self, account: str, did: str, session_id: str) -> Reply:
        return await self._access(
            FbCommand.GET_ACCOUNT,
            FbContext.PRE_RECEIVE_SESSION,
            account,
            [
                (A.ACCT_SESSION_ID.value, session_id),
                (A.FB_DIAL_NUMBER.value, did),
                (A.FB_TRANSFER_TYPE.value, self.transfer_type),
            ],
        )

    async def _pick_member(self, group: str, reply: Reply, did: str, session_id: str) -> tuple[str, str] | None:
        """The first member, in the group's delivery order, that can receive: (name, CSID)."""
        members = await self._members(group, reply, session_id)
        for member in self._order(group, reply.get_int(A.FB_ACCOUNT_TYPE.value) or 0, members):
            r = await self._pre_receive(member, did, session_id)
            if r.code == Code.ACCESS_ACCEPT and not self._receive_problem(member, r):
                return member, r.get_str(A.FB_RCV_CSID.value) or ""
        return None

    async def _members(self, group: str, reply: Reply, session_id: str) -> tuple[str, ...]:
        modified = reply.get_int(A.FB_LAST_MODIFIED_TIME.value)
        cached = self._groups.get(group.casefold())
        if cached is not None and modified is not None and cached[0] == modified:
            return cached[1]
        self.group_member_requests += 1
        r = await self._access(
            FbCommand.GET_LOAD_BALANCE_GROUP_MEMBERS,
            FbContext.PRE_RECEIVE_SESSION,
            group,
            [(A.ACCT_SESSION_ID.value, session_id)],
        )
        if r.code == Code.ACCESS_REJECT:
            return ()
        members = tuple(str(v) for v in r.get_all(A.USER_NAME.value))
        stamp = r.get_int(A.FB_LAST_MODIFIED_TIME.value)
        stamp = modified if stamp is None else stamp
        if stamp is not None:
            self._groups[group.casefold()] = (stamp, members)
        return members

    def _order(self, group: str, mode: int, members: tuple[str, ...]) -> list[str]:
        if not members:
            return []
        if mode == _ALTERNATING:
            turn = self._turns.get(group.casefold(), 0) % len(members)
            self._turns[group.casefold()] = turn + 1
            return list(members[turn:] + members[:turn])
        if mode == _MOST_FREE and self.free_receive_sessions is not None:
            free = self.free_receive_sessions
            return sorted(members, key=lambda m: -free(m))
        if mode == _RANDOM:
            shuffled = list(members)
            self.rng.shuffle(shuffled)
            return shuffled
        return list(members)

    # -------------------------------------------------------- accounting
    def start(self, session: Session) -> Deferred[bool]:
        """Accounting Start (and Interim-Updates every ``interim_interval`` until the Stop).

        Fires True when acknowledged, False when given up or not wanted (FB-Save-CDR = 0)."""
        if not session.save_cdr:
            return succeed(False)
        if self.interim_interval > 0:
            self._arm_interim(session)
        return Deferred.fromCoroutine(self._informational(session, AcctStatus.START))

    def interim(self, session: Session) -> Deferred[bool]:
        """Accounting Interim-Update (the manual's Alive)."""
        if not session.save_cdr:
            return succeed(False)
        return Deferred.fromCoroutine(self._informational(session, AcctStatus.INTERIM_UPDATE))

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
        attrs = self._stop_attributes(session, cdr)
        key = spool_key(session.session_id, session.account)
        now = self.clock.seconds()
        if resend_start:
            start = [a for a in self._common(session, AcctStatus.START) if a[0] in self.dictionary]
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
            self.interim(session)

        self._interims[session.session_id] = self.clock.callLater(self.interim_interval, tick)

    async def _informational(self, session: Session, status: AcctStatus) -> bool:
        attrs = self._common(session, status)
        if status == AcctStatus.INTERIM_UPDATE and session.started_at:
            attrs.append(("Acct-Session-Time", int(self.clock.seconds() - session.started_at)))
        attrs = [a for a in attrs if a[0] in self.dictionary]
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
            delay = int(self.clock.seconds() - stopped_at)
            await self.client.accounting(list(attrs) + ([(A.ACCT_DELAY_TIME.value, delay)] if delay > 0 else []))
        except ClientError as exc:
            self.log.warn("accounting Stop {key} stays spooled: {error}", key=key, error=str(exc))
            self._schedule_resend(self._backoff)
            self._backoff = min(self._backoff * 2, self.resend_max)
            return False
        finally:
            self._sending.discard(key)
        self.spool.remove(key)
        self._backoff = self.resend_initial
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
        if self._resend_call is not None and self._resend_call.active():
            return

        def fire() -> None:
            self._resend_call = None
            self.resend_spooled()

        self._resend_call = self.clock.callLater(delay, fire)

    def _common(self, session: Session, status: AcctStatus) -> list[Attr]:
        attrs: list[Attr] = [
            (A.ACCT_STATUS_TYPE.value, int(status)),
            (A.ACCT_SESSION_ID.value, session.session_id),
            (A.USER_NAME.value, session.account),
        ]
        if self.nas_identifier:
            attrs.append((A.NAS_IDENTIFIER.value, self.nas_identifier))
        attrs.append(("FB-Is-Send", int(session.is_send)))
        if session.dial_number:
            attrs.append((A.FB_DIAL_NUMBER.value, session.dial_number))
        if session.client_account:
            attrs.append(("FB-Client-Account-ID", session.client_account))
        return attrs

    def _stop_attributes(self, session: Session, cdr: Cdr) -> list[Attr]:
        attrs = self._common(session, AcctStatus.STOP)
        attrs += [
            ("FB-CDR-Type", 0),
            ("FB-Page-Count", cdr.page_count),
            ("FB-Total-Seconds", cdr.total_seconds),
            ("FB-Fax-Error-Code", cdr.fax_error_code),
        ]
        if session.started_at:
            attrs.append(("FB-Start-Time", int(session.started_at)))
        optional: list[tuple[str, Any]] = [
            ("FB-Connect-BPS", cdr.connect_bps),
            ("FB-Remote-CSID", cdr.remote_csid),
            ("FB-Local-CSID", cdr.local_csid),
            ("FB-Caller-ID", cdr.caller_id if not session.is_send else ""),
            ("FB-Rcv-Account-Id", cdr.rcv_account_id),
            (A.FB_CDR_INFO.value, session.cdr_info),
            (A.FB_CUSTOMER.value, session.customer),
            (A.FB_SOURCE.value, session.source),
        ]
        attrs += [(k, v) for k, v in optional if v]
        if session.is_send and cdr.called_number_result is not None:
            attrs.append((A.FB_CALLED_NUMBER_RESULT.value, cdr.called_number_result))
        attrs += cdr.extra
        return [a for a in attrs if a[0] in self.dictionary]

    # ------------------------------------------------------------ helpers
    async def _access(self, command: FbCommand, context: FbContext, user: str, extra: list[Attr]) -> Reply:
        attrs: list[Attr] = [
            (A.FB_COMMAND.value, int(command)),
            (A.FB_CONTEXT.value, int(context)),
            (A.USER_NAME.value, user),
            *extra,
        ]
        if self.nas_identifier:
            attrs.append((A.NAS_IDENTIFIER.value, self.nas_identifier))
        return await self.client.access(attrs)


def _billing(reply: Reply) -> dict[str, str]:
    return {
        "cdr_info": reply.get_str(A.FB_CDR_INFO.value) or "",
        "customer": reply.get_str(A.FB_CUSTOMER.value) or "",
        "source": reply.get_str(A.FB_SOURCE.value) or "",
    }


def make_portserver(
    config: PortServerConfig,
    reactor: Any,
    dictionary: Dictionary,
    data_dir: str,
    token_bytes: Callable[[int], bytes],
    rng: random.Random,
    **callbacks: Any,
) -> PortServer:
    """Wire a listening :class:`RadiusClient` and a :class:`PortServer` from ``[portserver]``.

    ``callbacks`` are ``free_receive_sessions`` and ``is_available``; the
    spool is ``spool_dir`` or ``<data_dir>/acct-spool``."""
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
        **callbacks,
    )
