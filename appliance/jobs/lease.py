"""Claim leases and recovery decisions (pure: every time is an argument).

A claim is a lease: it names the node making the call and expires at
``lease_until`` (database time), renewed by that node's heartbeat while the
call runs.  Any node may take over a claim whose lease expired; none takes a
live node's claim.  After the database itself restarted every node has lost
its connection at the same time, so nobody's lease is judged expired until
the database has been up for ``grace`` seconds: the owners reconnect and
renew first.

What recovery does with an interrupted line call depends on what the node
recorded before it went away: every page confirmed by the receiver (MCF) →
the fax was delivered; otherwise the next try resumes from the first page
that was not confirmed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["ClaimRecord", "Interrupted", "interrupted_call", "lease_expired", "recovery_grace"]


@dataclass(frozen=True)
class ClaimRecord:
    """A ``job_claims`` row: who holds an entry, until when, and its progress."""

    entry_id: int
    node: str
    claimed_at: float
    lease_until: float
    first_page: int = 0  # the attempt started at this page (0-based)
    pages_done: int = 0  # pages of the fax confirmed by the receiver, counting those of earlier attempts
    pages_total: int = 0  # pages of the fax (0: not known yet)
    session: str = ""  # the accounting session (JSON) once the Start was sent


def recovery_grace(lease_seconds: float) -> float:
    """How long the database must be up before leases can be judged expired."""
    return 2.0 * lease_seconds


def lease_expired(lease_until: float, db_now: float, db_started: float, lease_seconds: float) -> bool:
    """True when a claim's owner is gone: its lease ran out, and the database
    has been up long enough for a live owner to have renewed it."""
    return lease_until < db_now and db_now - db_started >= recovery_grace(lease_seconds)


class Interrupted(enum.StrEnum):
    """What to do with a line call whose node went away."""

    DELIVERED = "delivered"  # the last page was confirmed: the fax is sent
    RESUME = "resume"  # some pages were confirmed: retry from the first unconfirmed one
    RETRY = "retry"  # nothing confirmed: retry the whole fax


def interrupted_call(pages_done: int, pages_total: int) -> Interrupted:
    """The recovery decision for an interrupted line call, from its recorded progress."""
    if pages_total > 0 and pages_done >= pages_total:
        return Interrupted.DELIVERED
    if pages_done > 0:
        return Interrupted.RESUME
    return Interrupted.RETRY
