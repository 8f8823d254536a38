"""The port-server planner: the rules of the port-server role, without I/O.

Replies come in, decisions and the next request go out; nothing here sends,
waits, reads a clock or draws random numbers (``now`` is an argument, the
shuffle of random delivery is injected).  The Twisted side is
:mod:`appliance.portserver.role`; the data it works on is in
:mod:`appliance.portserver.model`.

* **Sends** (spec faxback-radius.md §6.1): :meth:`Planner.send_query` and
  :func:`interpret_send` (Get-Account / Pre-Send-Session),
  :func:`call_ahead_query` and :func:`interpret_call_ahead`.
* **Receives** (§6.2): :meth:`Planner.route_receive` is a plan, a generator
  that yields each :class:`Query` to ask and is sent its reply; it returns
  the :class:`ReceiveRoute`.  It follows FB-Rcv-Failover-Account-Id chains
  (at most :data:`MAX_FAILOVER_HOPS`, never in a loop) and picks the member
  of a load-balance group in the group's delivery order
  (:class:`LoadBalanceGroups`).
* **Accounting** (§9): the attributes of Start, Interim-Update and Stop
  (the CDR, §8.3), and the backoff of Stop resends (:class:`ResendBackoff`).

Server order and failover between RADIUS servers belong to the RADIUS
client (``radius.client.ClientCore``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Protocol, TypedDict

from appliance.portserver.model import (
    LOAD_BALANCE_GROUPS,
    AccountType,
    Attr,
    Cdr,
    Failover,
    ReceiveRoute,
    SendAuthorization,
    Session,
    TransferType,
)
from radius.model import A, AcctStatus, Code, FbCommand, FbContext, Value

__all__ = [
    "MAX_FAILOVER_HOPS",
    "KnownAttributes",
    "LoadBalanceGroups",
    "Planner",
    "Query",
    "ReceivePlan",
    "ReplyView",
    "ResendBackoff",
    "call_ahead_query",
    "interpret_call_ahead",
    "interpret_send",
    "with_delay",
]

MAX_FAILOVER_HOPS = 4


class ReplyView(Protocol):
    """What the planner reads of a RADIUS reply (``radius.client.Reply``)."""

    @property
    def code(self) -> Code: ...
    def get_all(self, name: str) -> list[Value]: ...
    def get_int(self, name: str) -> int | None: ...
    def get_str(self, name: str) -> str | None: ...


class KnownAttributes(Protocol):
    """The attribute names the dictionary defines (``radius.codec.Dictionary``)."""

    def __contains__(self, name: str) -> bool: ...


@dataclass(frozen=True)
class Query:
    """One Access-Request to send: FB-Command, FB-Context, User-Name and more."""

    command: FbCommand
    context: FbContext
    user: str
    extra: tuple[Attr, ...] = ()

    def attributes(self, nas_identifier: str = "") -> list[Attr]:
        attrs: list[Attr] = [
            (A.FB_COMMAND.value, int(self.command)),
            (A.FB_CONTEXT.value, int(self.context)),
            (A.USER_NAME.value, self.user),
            *self.extra,
        ]
        if nas_identifier:
            attrs.append((A.NAS_IDENTIFIER.value, nas_identifier))
        return attrs


ReceivePlan = Generator[Query, ReplyView, ReceiveRoute]
"""Yields the queries of a receive's routing, is sent each reply, returns the route."""


# --------------------------------------------------------------------- send


def interpret_send(reply: ReplyView, account: str, number: str, transfer: int) -> SendAuthorization:
    """The decision of a Get-Account / Pre-Send-Session reply."""
    if reply.code == Code.ACCESS_REJECT:
        reason = reply.get_str(A.REPLY_MESSAGE) or f"account {account} was rejected"
        return SendAuthorization(False, account, number, f"send refused: {reason}")
    refused = ""
    if reply.get_int(A.FB_SND_FROM_ACCOUNT) == 0:
        refused = f"sending is disabled for account {account}"
    elif reply.get_int(A.FB_SND_TIME_EXPIRED) == 1:
        refused = f"send time has expired for account {account}"
    call_ahead = reply.get_int(A.FB_CALL_AHEAD_MODE)
    return SendAuthorization(
        allowed=not refused,
        account=account,
        dial_number=number,
        reason=refused,
        tsid=reply.get_str(A.FB_SND_TSID) or "",
        ani=reply.get_str(A.FB_SND_ANI) or "",
        save_cdr=reply.get_int(A.FB_SAVE_CDR) != 0,
        rule_group=reply.get_str(A.FB_RULE_GROUP) or "",
        call_ahead=transfer == TransferType.QUEUE and call_ahead != 0,
        on_behalf_of=reply.get_int(A.FB_SND_ON_BEHALF_OF) == 1,
        **_billing(reply),
    )


def call_ahead_query(number: str, session_id: str) -> Query:
    """Get-Call-Ahead-Mode / Pre-Send-Session for the number dialled."""
    return Query(
        FbCommand.GET_CALL_AHEAD_MODE, FbContext.PRE_SEND_SESSION, number, ((A.ACCT_SESSION_ID.value, session_id),)
    )


def interpret_call_ahead(reply: ReplyView) -> bool:
    """True = call ahead: a reject (number unknown) or a mode other than 0."""
    return reply.code == Code.ACCESS_REJECT or reply.get_int(A.FB_CALL_AHEAD_MODE) != 0


class _Billing(TypedDict):
    cdr_info: str
    customer: str
    source: str


def _billing(reply: ReplyView) -> _Billing:
    return {
        "cdr_info": reply.get_str(A.FB_CDR_INFO) or "",
        "customer": reply.get_str(A.FB_CUSTOMER) or "",
        "source": reply.get_str(A.FB_SOURCE) or "",
    }


def _account_type(reply: ReplyView) -> AccountType | None:
    value = reply.get_int(A.FB_ACCOUNT_TYPE)
    if value is None:
        return None
    try:
        return AccountType(value)
    except ValueError:
        return None


# -------------------------------------------------------------- load balance


class LoadBalanceGroups:
    """Member cache (keyed by FB-Last-Modified-Time) and delivery order of load-balance groups."""

    def __init__(
        self,
        free_receive_sessions: Callable[[str], int] | None = None,
        shuffle: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.free_receive_sessions = free_receive_sessions
        self.shuffle = shuffle
        self._members: dict[str, tuple[int, tuple[str, ...]]] = {}  # group -> (last modified, members)
        self._turns: dict[str, int] = {}  # alternating groups: next member index

    def cached(self, group: str, modified: int | None) -> tuple[str, ...] | None:
        """The members seen for ``group`` when it was last modified at ``modified``, if any."""
        entry = self._members.get(group.casefold())
        if entry is None or modified is None or entry[0] != modified:
            return None
        return entry[1]

    def remember(self, group: str, modified: int, members: tuple[str, ...]) -> None:
        self._members[group.casefold()] = (modified, members)

    def order(self, group: str, kind: AccountType | None, members: tuple[str, ...]) -> list[str]:
        """The members in the order they are offered a call (advances an alternating group)."""
        if not members:
            return []
        if kind == AccountType.LB_GROUP_ALTERNATING:
            turn = self._turns.get(group.casefold(), 0) % len(members)
            self._turns[group.casefold()] = turn + 1
            return list(members[turn:] + members[:turn])
        if kind == AccountType.LB_GROUP_MOST_FREE and self.free_receive_sessions is not None:
            free = self.free_receive_sessions
            return sorted(members, key=lambda m: -free(m))
        if kind == AccountType.LB_GROUP_RANDOM and self.shuffle is not None:
            shuffled = list(members)
            self.shuffle(shuffled)
            return shuffled
        return list(members)


# ------------------------------------------------------------------ planner


class Planner:
    """The port-server rules for one appliance: its settings, group state and local line state.

    ``is_available(account)``: False when the account's client cannot take a
    call now (busy, offline); ``free_receive_sessions(account)``: for
    most-free delivery; ``shuffle``: for random delivery (``rng.shuffle``);
    ``known``: the attributes the dictionary defines (others are left out of
    accounting packets)."""

    def __init__(
        self,
        known: KnownAttributes,
        *,
        nas_identifier: str = "",
        transfer_type: int = TransferType.REAL_TIME,
        is_available: Callable[[str], bool] | None = None,
        free_receive_sessions: Callable[[str], int] | None = None,
        shuffle: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.known = known
        self.nas_identifier = nas_identifier
        self.transfer_type = transfer_type
        self.is_available = is_available or (lambda account: True)
        self.groups = LoadBalanceGroups(free_receive_sessions, shuffle)
        self.group_member_requests = 0

    # -------------------------------------------------------------- send
    def send_query(self, account: str, number: str, session_id: str, transfer: int | None = None) -> Query:
        """Get-Account / Pre-Send-Session for ``account`` sending to ``number``."""
        return Query(
            FbCommand.GET_ACCOUNT,
            FbContext.PRE_SEND_SESSION,
            account,
            (
                (A.ACCT_SESSION_ID.value, session_id),
                (A.FB_DIAL_NUMBER.value, number),
                (A.FB_TRANSFER_TYPE.value, int(transfer or self.transfer_type)),
            ),
        )

    # ----------------------------------------------------------- receive
    def route_receive(self, did: str, session_id: str) -> ReceivePlan:
        """The routing of an incoming call to ``did``: which account receives, who is billed."""
        sid = (A.ACCT_SESSION_ID.value, session_id)
        reply = yield Query(FbCommand.GET_ACCOUNT_FROM_DID, FbContext.PRE_RECEIVE_SESSION, did, (sid,))
        if reply.code == Code.ACCESS_REJECT:
            return _refused(did, reply.get_str(A.REPLY_MESSAGE) or f"DID {did} is not routed")
        if reply.get_int(A.FB_DID_ENABLED) == 0:
            return _refused(did, f"DID {did} is disabled")
        primary = reply.get_str(A.USER_NAME)
        if not primary:
            return _refused(did, f"the route of DID {did} names no account")
        billed: ReceiveRoute | None = None
        hops: list[Failover] = []
        current, seen = primary, {primary.casefold()}
        for _ in range(MAX_FAILOVER_HOPS):
            reply = yield self._pre_receive(current, did, session_id)
            if reply.code == Code.ACCESS_REJECT:
                why = reply.get_str(A.REPLY_MESSAGE) or "rejected"
                return _refused(did, f"account {current} cannot receive: {why}", hops)
            if billed is None:
                save_cdr = reply.get_int(A.FB_SAVE_CDR) != 0
                billed = ReceiveRoute(True, did, billed_account=primary, save_cdr=save_cdr, **_billing(reply))
            problem = self.receive_problem(current, reply)
            failover = reply.get_str(A.FB_RCV_FAILOVER_ACCOUNT_ID) or ""
            always = reply.get_int(A.FB_RCV_FAILOVER_MODE) == 1 and bool(failover)
            if not problem and not always:
                if _account_type(reply) in LOAD_BALANCE_GROUPS:
                    member = yield from self._pick_member(current, reply, did, session_id)
                    if member is not None:
                        return replace(billed, receive_account=member[0], csid=member[1], failovers=tuple(hops))
                    problem = f"no member of load-balance group {current} can receive"
                else:
                    csid = reply.get_str(A.FB_RCV_CSID) or ""
                    return replace(billed, receive_account=current, csid=csid, failovers=tuple(hops))
            if not failover:
                return _refused(did, problem, hops)
            if failover.casefold() in seen:
                return _refused(did, f"{problem}; failover account {failover} loops back", hops)
            hops.append(Failover(current, failover, problem or "always failover"))
            seen.add(failover.casefold())
            current = failover
        return _refused(did, f"more than {MAX_FAILOVER_HOPS} failover accounts in a chain", hops)

    def receive_problem(self, account: str, reply: ReplyView) -> str:
        """Why ``account`` cannot receive now ("" when it can), from its Get-Account reply."""
        if reply.get_int(A.FB_RCV_TO_ACCOUNT) == 0:
            return f"receiving is disabled for account {account}"
        if reply.get_int(A.FB_RCV_TIME_EXPIRED) == 1:
            return f"receive time has expired for account {account}"
        if _account_type(reply) not in LOAD_BALANCE_GROUPS and not self.is_available(account):
            return f"account {account} is busy or unavailable"
        return ""

    def _pre_receive(self, account: str, did: str, session_id: str) -> Query:
        return Query(
            FbCommand.GET_ACCOUNT,
            FbContext.PRE_RECEIVE_SESSION,
            account,
            (
                (A.ACCT_SESSION_ID.value, session_id),
                (A.FB_DIAL_NUMBER.value, did),
                (A.FB_TRANSFER_TYPE.value, int(self.transfer_type)),
            ),
        )

    def _pick_member(
        self, group: str, reply: ReplyView, did: str, session_id: str
    ) -> Generator[Query, ReplyView, tuple[str, str] | None]:
        """The first member, in the group's delivery order, that can receive: (name, CSID)."""
        members = yield from self._members(group, reply, session_id)
        for member in self.groups.order(group, _account_type(reply), members):
            r = yield self._pre_receive(member, did, session_id)
            if r.code == Code.ACCESS_ACCEPT and not self.receive_problem(member, r):
                return member, r.get_str(A.FB_RCV_CSID) or ""
        return None

    def _members(self, group: str, reply: ReplyView, session_id: str) -> Generator[Query, ReplyView, tuple[str, ...]]:
        modified = reply.get_int(A.FB_LAST_MODIFIED_TIME)
        cached = self.groups.cached(group, modified)
        if cached is not None:
            return cached
        self.group_member_requests += 1
        r = yield Query(
            FbCommand.GET_LOAD_BALANCE_GROUP_MEMBERS,
            FbContext.PRE_RECEIVE_SESSION,
            group,
            ((A.ACCT_SESSION_ID.value, session_id),),
        )
        if r.code == Code.ACCESS_REJECT:
            return ()
        members = tuple(str(v) for v in r.get_all(A.USER_NAME))
        stamp = r.get_int(A.FB_LAST_MODIFIED_TIME)
        stamp = modified if stamp is None else stamp
        if stamp is not None:
            self.groups.remember(group, stamp, members)
        return members

    # -------------------------------------------------------- accounting
    def start_attributes(self, session: Session) -> list[Attr]:
        """The Accounting Start of ``session``."""
        return self._known(self._common(session, AcctStatus.START))

    def interim_attributes(self, session: Session, now: float) -> list[Attr]:
        """An Accounting Interim-Update of ``session`` at ``now`` (with Acct-Session-Time)."""
        attrs = self._common(session, AcctStatus.INTERIM_UPDATE)
        if session.started_at:
            attrs.append((A.ACCT_SESSION_TIME.value, int(now - session.started_at)))
        return self._known(attrs)

    def stop_attributes(self, session: Session, cdr: Cdr) -> list[Attr]:
        """The Accounting Stop of ``session`` carrying its CDR."""
        attrs = self._common(session, AcctStatus.STOP)
        attrs += [
            (A.FB_CDR_TYPE.value, 0),
            (A.FB_PAGE_COUNT.value, cdr.page_count),
            (A.FB_TOTAL_SECONDS.value, cdr.total_seconds),
            (A.FB_FAX_ERROR_CODE.value, cdr.fax_error_code),
        ]
        if session.started_at:
            attrs.append((A.FB_START_TIME.value, int(session.started_at)))
        optional: list[Attr] = [
            (A.FB_CONNECT_BPS.value, cdr.connect_bps),
            (A.FB_REMOTE_CSID.value, cdr.remote_csid),
            (A.FB_LOCAL_CSID.value, cdr.local_csid),
            (A.FB_CALLER_ID.value, cdr.caller_id if not session.is_send else ""),
            (A.FB_RCV_ACCOUNT_ID.value, cdr.rcv_account_id),
            (A.FB_CDR_INFO.value, session.cdr_info),
            (A.FB_CUSTOMER.value, session.customer),
            (A.FB_SOURCE.value, session.source),
        ]
        attrs += [(k, v) for k, v in optional if v]
        if session.is_send and cdr.called_number_result is not None:
            attrs.append((A.FB_CALLED_NUMBER_RESULT.value, cdr.called_number_result))
        attrs += cdr.extra
        return self._known(attrs)

    def _common(self, session: Session, status: AcctStatus) -> list[Attr]:
        attrs: list[Attr] = [
            (A.ACCT_STATUS_TYPE.value, int(status)),
            (A.ACCT_SESSION_ID.value, session.session_id),
            (A.USER_NAME.value, session.account),
        ]
        if self.nas_identifier:
            attrs.append((A.NAS_IDENTIFIER.value, self.nas_identifier))
        attrs.append((A.FB_IS_SEND.value, int(session.is_send)))
        if session.dial_number:
            attrs.append((A.FB_DIAL_NUMBER.value, session.dial_number))
        if session.client_account:
            attrs.append((A.FB_CLIENT_ACCOUNT_ID.value, session.client_account))
        return attrs

    def _known(self, attrs: list[Attr]) -> list[Attr]:
        return [a for a in attrs if a[0] in self.known]


def with_delay(attrs: tuple[Attr, ...] | list[Attr], stopped_at: float, now: float) -> list[Attr]:
    """``attrs`` as sent at ``now``: with Acct-Delay-Time when a whole second has passed since ``stopped_at``."""
    delay = int(now - stopped_at)
    return [*attrs, (A.ACCT_DELAY_TIME.value, delay)] if delay > 0 else list(attrs)


def _refused(did: str, reason: str, hops: list[Failover] | None = None) -> ReceiveRoute:
    return ReceiveRoute(False, did, reason, failovers=tuple(hops or ()))


class ResendBackoff:
    """Delays between resends of an unacknowledged Stop: ``initial``, doubling up to ``maximum``."""

    def __init__(self, initial: float = 5.0, maximum: float = 300.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def failed(self) -> float:
        """The delay before the next try after a failure (and the one after it grows)."""
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay

    def succeeded(self) -> None:
        self._next = self.initial
