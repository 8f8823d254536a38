"""The port-server role's vocabulary: account and transfer types, sessions,
CDRs and the answers to sends and receives.  Pure data; no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from radius.model import Value

__all__ = [
    "LOAD_BALANCE_GROUPS",
    "AccountType",
    "Attr",
    "Cdr",
    "Failover",
    "ReceiveRoute",
    "SendAuthorization",
    "Session",
    "TransferType",
]

Attr = tuple[str, Value]


class AccountType(enum.IntEnum):
    """FB-Account-Type (spec §8.4)."""

    PRIVATE_SEND_RECEIVE = 0
    SHARED_SEND_ONLY = 1
    PRIVATE_SEND_RECEIVE_QUEUE = 4
    SHARED_SEND_ONLY_QUEUE = 5
    LB_GROUP_ALTERNATING = 8
    LB_GROUP_MOST_FREE = 9  # most free receive sessions
    LB_GROUP_RANDOM = 10


LOAD_BALANCE_GROUPS = frozenset(
    {AccountType.LB_GROUP_ALTERNATING, AccountType.LB_GROUP_MOST_FREE, AccountType.LB_GROUP_RANDOM}
)


class TransferType(enum.IntEnum):
    """FB-Transfer-Type: how the client hands the fax over."""

    REAL_TIME = 1
    QUEUE = 2  # fax ATAs: may call ahead


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
class Failover:
    """One hop of a receive's failover chain: ``account`` could not (or must not) receive."""

    account: str
    failover: str
    why: str


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
    failovers: tuple[Failover, ...] = ()  # the hops taken, in order

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
