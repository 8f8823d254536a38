"""The job queue's pure core: records, entry states, the transition table and
the retry policy.

One *fax* (one FFWS ``POST /ffws/v1/ofax``) has one *entry* per recipient.
Entry states are the FaxFinder fax entry states, one to one
(``faxfinder-ffws.md`` §8).  Terminal states: ``sent``, ``aborted``,
``failed``, ``dead``.

``failed`` versus ``dead`` (the spec leaves ``dead`` undefined):

* ``failed``: calls were made and every allowed try failed (max tries
  exhausted), as §8's diagram shows.
* ``dead``: the entry can never be delivered, whatever the number of tries:
  its documents could not be rendered, or it was rejected before or during
  an attempt (authorization reject, dialing rule: cause ``rejected``).

Nothing here reads a clock: every ``now`` is an argument (unix seconds, UTC).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from appliance.jobs.choices import CloudState, FaxResolution, Receipt, ReceiptAttachment

__all__ = [
    "CAUSES",
    "CLOUD",
    "TERMINAL",
    "TRANSITIONS",
    "Attempt",
    "Cause",
    "Claim",
    "ClaimLost",
    "CloudStatus",
    "Decision",
    "Entry",
    "EntryState",
    "Fax",
    "FaxSpec",
    "IllegalTransition",
    "JobError",
    "NotFound",
    "Recipient",
    "RecoveredSession",
    "RecoveryReport",
    "Result",
    "RetryPolicy",
    "assign_routes",
    "check_transition",
    "number_key",
]

#: the route name of the FAXAGE cloud; any other route name is a line id
CLOUD = "cloud"


class JobError(Exception):
    """Base of the job queue's errors."""


class IllegalTransition(JobError):
    """A state change the transition table does not allow; nothing was changed."""

    def __init__(self, entry_id: int | None, current: EntryState, target: EntryState, action: str) -> None:
        self.entry_id = entry_id
        self.current = current
        self.target = target
        self.action = action
        who = f"entry {entry_id}" if entry_id is not None else "an entry"
        super().__init__(f"cannot {action} {who}: it is {current.value} (no {current.value} -> {target.value})")


class ClaimLost(JobError):
    """The node's claim on an entry is gone: its lease expired and another
    node recovered the entry (the result arrived too late to be recorded)."""

    def __init__(self, entry_id: int, node: str, now_state: EntryState, now_node: str | None) -> None:
        self.entry_id = entry_id
        self.node = node
        super().__init__(
            f"entry {entry_id} is no longer claimed by node {node} "
            f"(it is {now_state.value}{f' on node {now_node}' if now_node else ''})"
        )


class NotFound(JobError):
    """No fax or entry with that key."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")


class EntryState(enum.StrEnum):
    PREPROCESSING = "preprocessing"
    APPROVAL_PENDING = "approval_pending"  # FaxFinder's approval step: no entry here reaches it
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    ABORTED = "aborted"
    FAILED = "failed"
    DEAD = "dead"


S = EntryState
TERMINAL = frozenset({S.SENT, S.ABORTED, S.FAILED, S.DEAD})

#: every allowed (from -> to); anything else raises IllegalTransition.
#: pending -> pending is a reschedule; sending -> pending a requeue;
#: terminal -> pending a reschedule of a completed entry (§3.4).
TRANSITIONS: Mapping[EntryState, frozenset[EntryState]] = {
    S.PREPROCESSING: frozenset({S.APPROVAL_PENDING, S.PENDING, S.ABORTED, S.DEAD}),
    S.APPROVAL_PENDING: frozenset({S.PENDING, S.ABORTED, S.DEAD}),
    S.PENDING: frozenset({S.PENDING, S.SENDING, S.ABORTED, S.DEAD}),
    S.SENDING: frozenset({S.PENDING, S.SENT, S.FAILED, S.DEAD, S.ABORTED}),
    S.SENT: frozenset({S.PENDING}),
    S.ABORTED: frozenset({S.PENDING}),
    S.FAILED: frozenset({S.PENDING}),
    S.DEAD: frozenset({S.PENDING}),
}


def check_transition(
    current: EntryState, target: EntryState, *, entry_id: int | None = None, action: str = "move"
) -> EntryState:
    """``target`` when the table allows ``current -> target``; raises IllegalTransition otherwise."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(entry_id, current, target, action)
    return target


class Cause(enum.StrEnum):
    """Why an attempt failed."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    PROTOCOL = "protocol"
    OTHER = "other"
    REJECTED = "rejected"  # authorization reject, dialing rule: final, entry -> dead
    INTERRUPTED = "interrupted"  # the node died during the call (recovery)


CAUSES = tuple(Cause)


class CloudStatus(enum.StrEnum):
    """What the cloud service says of a job (answer of a recovery lookup)."""

    SENT = "sent"
    FAILED = "failed"
    PENDING = "pending"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Decision:
    """Where a failed attempt leaves its entry."""

    state: EntryState
    due_at: float | None
    message: str


@dataclass(frozen=True)
class RetryPolicy:
    """Requeue interval per cause (seconds) and the default max tries
    (HylaFAX defaults: busy 180 s, no answer and others 300 s, protocol 60 s, 3 tries)."""

    max_tries: int = 3
    intervals: Mapping[Cause, float] = field(
        default_factory=lambda: {
            Cause.BUSY: 180.0,
            Cause.NO_ANSWER: 300.0,
            Cause.PROTOCOL: 60.0,
            Cause.OTHER: 300.0,
            Cause.INTERRUPTED: 0.0,
        }
    )

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError(f"max_tries must be at least 1, not {self.max_tries}")
        for cause, seconds in self.intervals.items():
            if seconds < 0:
                raise ValueError(f"the retry interval for {Cause(cause).value} must not be negative, not {seconds}")

    def interval(self, cause: Cause, try_interval: float | None = None) -> float:
        """Seconds before the next try; a fax's own ``try_interval`` overrides the per-cause value."""
        if try_interval is not None and cause is not Cause.INTERRUPTED:
            return float(try_interval)
        return float(self.intervals.get(cause, self.intervals.get(Cause.OTHER, 300.0)))

    def decide(
        self,
        cause: Cause,
        tries: int,
        now: float,
        *,
        max_tries: int | None = None,
        try_interval: float | None = None,
        abort_requested: bool = False,
    ) -> Decision:
        """The next state after a failed attempt; ``tries`` counts it already."""
        limit = max_tries if max_tries is not None else self.max_tries
        if abort_requested:
            return Decision(S.ABORTED, None, "Fax aborted by user")
        if cause is Cause.REJECTED:
            return Decision(S.DEAD, None, "Fax rejected")
        if tries >= limit:
            return Decision(S.FAILED, None, f"Failed after {tries} tries ({cause.value})")
        return Decision(S.PENDING, now + self.interval(cause, try_interval), f"Retrying after {cause.value}")


_NON_DIGITS = re.compile(r"[^0-9*#+]")


def number_key(number: str) -> str:
    """The destination as dialled (digits, ``*``, ``#``, ``+``): two entries
    with the same key never call at the same time."""
    return _NON_DIGITS.sub("", number)


@dataclass(frozen=True, kw_only=True)
class Recipient:
    """One recipient of a fax (FFWS ``<recipient>``)."""

    fax_number: str
    name: str = ""
    organization: str = ""
    phone_number: str = ""
    route_pin: str | None = None  # a line id or "cloud": only that route may send it


@dataclass(frozen=True, kw_only=True)
class FaxSpec:
    """A fax as submitted, documents already converted to pages."""

    owner: str  # the API user (FFWS sender/username)
    account: str = ""  # the RADIUS account billed / authorized
    documents: tuple[str, ...] = ()  # page files (paths or ids), in order
    pages: int = 0
    resolution: FaxResolution = FaxResolution.FINE
    agent: str = "FFWS"
    tsid: str = ""
    cover_url: str = ""
    cover_enabled: bool = False
    cover_subject: str = ""
    cover_comments: str = ""
    sender_name: str = ""
    sender_organization: str = ""
    sender_phone_number: str = ""
    sender_fax_number: str = ""
    sender_email_address: str = ""
    max_tries: int | None = None  # None: the store's policy default
    priority: int = 3  # 0 highest .. 5 lowest
    try_interval: int | None = None  # None: per-cause intervals
    receipt: Receipt = Receipt.FAILURE
    receipt_attachment: ReceiptAttachment = ReceiptAttachment.NONE
    schedule_at: float | None = None  # None: as soon as possible
    preprocessing: bool = False  # entries start in preprocessing (documents not converted yet)

    def __post_init__(self) -> None:
        # the wire and the database give the choices as text: keep them as enums (ValueError if not one)
        object.__setattr__(self, "resolution", FaxResolution(self.resolution))
        object.__setattr__(self, "receipt", Receipt(self.receipt))
        object.__setattr__(self, "receipt_attachment", ReceiptAttachment(self.receipt_attachment))


@dataclass(frozen=True, kw_only=True)
class Fax(FaxSpec):
    """A stored fax: the spec plus its key and bookkeeping."""

    id: int
    created: float
    entry_count: int = 0


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One recipient's fax entry: what FFWS ``<fax_entry>`` shows, plus the claim."""

    id: int
    fax_id: int
    index: int  # ENTRYKEY
    state: EntryState
    schedule_message: str
    created: float
    due_at: float  # next try (pending)
    tries: int  # attempts made
    priority: int
    max_tries: int
    recipient: Recipient
    node: str | None = None
    route: str | None = None
    claimed_at: float | None = None
    completed_at: float | None = None
    cloud_job_id: str | None = None
    cloud_state: CloudState | None = None
    abort_requested: bool = False
    pages_sent: int = 0
    duration: float = 0.0
    remote_csid: str = ""
    last_cause: str | None = None
    hangup_code: str = ""
    hangup_text: str = ""
    updated_at: float = 0.0

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def try_number(self) -> int:
        """FFWS ``try_number``: 1-based number of the current or last try (§8)."""
        if self.state in (S.PREPROCESSING, S.APPROVAL_PENDING, S.PENDING, S.SENDING):
            return self.tries + 1
        return max(1, self.tries)

    @property
    def stime(self) -> float:
        """FFWS ``stime``: next try when pending, start when sending, completion otherwise."""
        if self.state is S.SENDING and self.claimed_at is not None:
            return self.claimed_at
        if self.state in TERMINAL and self.completed_at is not None:
            return self.completed_at
        return self.due_at

    @property
    def key(self) -> str:
        """``FAXKEY/ENTRYKEY`` as FFWS spells it."""
        return f"{self.fax_id:08X}/{self.index:04X}"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A due entry moved to ``sending`` for one route."""

    entry: Entry
    fax: Fax
    route: str  # a line id or CLOUD
    first_page: int = 0  # resume: pages before this one were confirmed by an interrupted call


@dataclass(frozen=True, kw_only=True)
class Result:
    """The outcome of one attempt, handed to ``complete``."""

    sent: bool
    cause: Cause | None = None  # required when not sent
    pages: int = 0
    duration: float = 0.0
    remote_csid: str = ""
    hangup_code: str = ""
    hangup_text: str = ""
    details: Mapping[str, object] = field(default_factory=dict)  # route/modem details (JSON-able)
    counts: bool = True  # False: the appliance stopped during the call; not a try, the entry is due again at once

    def __post_init__(self) -> None:
        if not self.sent and self.cause is None:
            raise ValueError("a failed attempt needs a cause")
        if self.sent and self.cause is not None:
            raise ValueError("a sent attempt has no failure cause")

    @classmethod
    def ok(cls, pages: int, duration: float, remote_csid: str = "", **details: object) -> Result:
        return cls(sent=True, pages=pages, duration=duration, remote_csid=remote_csid, details=details)

    @classmethod
    def failure(
        cls,
        cause: Cause | str,
        hangup_code: str = "",
        hangup_text: str = "",
        *,
        pages: int = 0,
        duration: float = 0.0,
        **details: object,
    ) -> Result:
        return cls(
            sent=False,
            cause=Cause(cause),
            hangup_code=hangup_code,
            hangup_text=hangup_text,
            pages=pages,
            duration=duration,
            details=details,
        )


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """One row of an entry's attempt history."""

    entry_id: int
    number: int  # 1, 2, …
    started_at: float
    ended_at: float
    node: str
    route: str
    outcome: str  # the entry state the attempt led to: sent, pending, failed, dead, aborted
    cause: str | None
    pages: int
    duration: float
    remote_csid: str
    hangup_code: str
    hangup_text: str
    details: Mapping[str, object]


@dataclass(frozen=True)
class RecoveryReport:
    """What ``recover`` did with the entries a node left in ``sending``."""

    requeued: tuple[int, ...] = ()  # entry ids back to pending
    finished: tuple[int, ...] = ()  # entry ids now sent/failed/dead/aborted
    resumed: tuple[Claim, ...] = ()  # cloud jobs still running: the caller keeps watching them
    unresolved: tuple[int, ...] = ()  # cloud lookups that said "unknown" for a submitted job
    stops: tuple[RecoveredSession, ...] = ()  # interrupted sessions whose accounting Stop is still owed

    def __bool__(self) -> bool:
        return bool(self.requeued or self.finished or self.resumed or self.unresolved)


@dataclass(frozen=True)
class RecoveredSession:
    """An interrupted call's accounting session, for the Stop written on recovery."""

    entry_id: int
    node: str  # the node that made the call
    session: Mapping[str, object]  # the session as recorded when its Start was sent
    pages: int  # pages confirmed by the receiver
    delivered: bool  # every page was confirmed
    ended_at: float


def assign_routes(
    candidates: list[tuple[int, str, str | None]], lines: list[str], cloud: bool, limit: int
) -> list[tuple[int, str]]:
    """Pick routes for due entries, in queue order.

    ``candidates`` are ``(entry_id, number_key, route_pin)``; each free line
    takes one entry; an unpinned entry takes the first free line, else the
    cloud when ``cloud`` (lines a queued entry is pinned to go last); a
    pinned entry takes only its route; a number is
    called once per batch.  Returns ``(entry_id, route)`` pairs, at most ``limit``.
    """
    free = list(lines)
    wanted = {pin for _, _, pin in candidates if pin is not None and pin != CLOUD}
    numbers: set[str] = set()
    chosen: list[tuple[int, str]] = []
    for entry_id, key, pin in candidates:
        if len(chosen) >= limit:
            break
        if key in numbers:
            continue
        if pin is None:
            spare = [line for line in free if line not in wanted] or free
            route = spare[0] if spare else (CLOUD if cloud else None)
        elif pin == CLOUD:
            route = CLOUD if cloud else None
        else:
            route = pin if pin in free else None
        if route is None:
            continue
        if route != CLOUD:
            free.remove(route)
        numbers.add(key)
        chosen.append((entry_id, route))
    return chosen
