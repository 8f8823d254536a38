"""Claims as leases, per-page progress, node heartbeats and recovery: the part
of :class:`appliance.jobs.store.JobStore` that lets several nodes share one
queue and survive one another's crashes.

Every ``sending`` entry has a ``job_claims`` row: the node making the call,
its lease (database time), the page the attempt started at, the pages the
receiver confirmed so far, and the accounting session once its Start was
sent.  The owner renews its leases with :meth:`heartbeat`; any node recovers
an entry whose lease expired (:meth:`recover_expired`); a restarted node
recovers its own at once (:meth:`recover`).  Lease times always come from
the database clock, so nodes whose clocks disagree still agree on leases.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from appliance.jobs._schema import CLAIM_COLUMNS
from appliance.jobs.lease import ClaimRecord, Interrupted, interrupted_call, lease_expired
from appliance.jobs.model import (
    CLOUD,
    Cause,
    Claim,
    CloudStatus,
    Entry,
    EntryState,
    Fax,
    JobError,
    RecoveredSession,
    RecoveryReport,
    Result,
    number_key,
)

__all__ = ["ClaimTables", "CloudLookup"]

S = EntryState
#: (entry) -> what the cloud service says of the entry's job (see ``recover``)
CloudLookup = Callable[[Entry], "CloudStatus | str"]
_CLAIM_SELECT = "SELECT " + ", ".join(CLAIM_COLUMNS) + " FROM job_claims"
_RELEASE_CALL = "DELETE FROM job_calls WHERE number_key = ? AND entry_id = ?"


class _Recovered(enum.Enum):
    """What recovery did with one interrupted entry (the lists of RecoveryReport)."""

    REQUEUED = "requeued"
    FINISHED = "finished"
    RESUMED = "resumed"
    UNRESOLVED = "unresolved"


def _claim_from_row(row: Sequence[Any]) -> ClaimRecord:
    entry_id, node, claimed_at, lease_until, first_page, pages_done, pages_total, session = row
    return ClaimRecord(
        int(entry_id),
        node,
        float(claimed_at),
        float(lease_until),
        int(first_page),
        int(pages_done),
        int(pages_total),
        session,
    )


class ClaimTables:
    """Mixin of :class:`JobStore` (which provides ``_run``, ``_entry`` …)."""

    lease_seconds: float
    #: (now, started) of the database server, unix seconds; per dialect
    db_clock_sql = "SELECT (julianday('now') - 2440587.5) * 86400.0, 0.0"
    #: tests replace the database clock with their own (a ``task.Clock``'s seconds)
    db_clock_override: Callable[[], float] | None = None

    # the JobStore methods this mixin uses
    _run: Callable[..., Any]  # a cursor
    _entry: Callable[..., Entry]
    _entries: Callable[..., list[Entry]]
    _fax: Callable[..., Fax]
    _set: Callable[..., None]
    _reader: Callable[[], AbstractContextManager[Any]]  # a connection
    _writer: Callable[[], AbstractContextManager[Any]]  # a connection
    _finish_attempt: Callable[..., None]

    def _db_clock(self, conn: Any) -> tuple[float, float]:
        if self.db_clock_override is not None:
            return float(self.db_clock_override()), 0.0
        now, started = self._run(conn, self.db_clock_sql).fetchone()
        return float(now), float(started or 0.0)

    def db_time(self) -> float:
        """The database clock (unix seconds)."""
        with self._reader() as conn:
            return self._db_clock(conn)[0]

    # -------------------------------------------------------------- leases

    def _start_lease(self, conn: Any, entry_id: int, node: str, now: float, lease_until: float, pages: int) -> int:
        row = self._run(conn, "SELECT first_page FROM job_resume WHERE entry_id = ?", (entry_id,)).fetchone()
        first_page = min(int(row[0]), max(0, pages - 1)) if row is not None else 0
        self._run(conn, "DELETE FROM job_claims WHERE entry_id = ?", (entry_id,))
        self._run(
            conn,
            f"INSERT INTO job_claims ({', '.join(CLAIM_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (entry_id, node, now, lease_until, first_page, first_page, int(pages), ""),
        )
        return first_page

    def _end_lease(self, conn: Any, entry_id: int, resume: bool) -> None:
        self._run(conn, "DELETE FROM job_claims WHERE entry_id = ?", (entry_id,))
        if not resume:
            self._run(conn, "DELETE FROM job_resume WHERE entry_id = ?", (entry_id,))

    def _claim_row(self, conn: Any, entry_id: int) -> ClaimRecord | None:
        row = self._run(conn, _CLAIM_SELECT + " WHERE entry_id = ?", (entry_id,)).fetchone()
        return _claim_from_row(row) if row is not None else None

    def get_claim(self, entry_id: int) -> ClaimRecord | None:
        """The claim (lease and progress) of a ``sending`` entry, None otherwise."""
        with self._reader() as conn:
            return self._claim_row(conn, entry_id)

    def heartbeat(self, node: str, entry_ids: Iterable[int]) -> set[int]:
        """Renew this node's leases on ``entry_ids`` (the calls it is still
        making or whose results it still holds) and record that the node is
        alive.  Returns the ids whose lease was renewed: an id missing from it
        was recovered by another node."""
        wanted = sorted({int(i) for i in entry_ids})
        with self._writer() as conn:
            db_now, _ = self._db_clock(conn)
            self._run(
                conn,
                "INSERT INTO job_nodes (node, started_at, seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at",
                (node, db_now, db_now),
            )
            renewed: set[int] = set()
            for i in range(0, len(wanted), 200):
                chunk = wanted[i : i + 200]
                marks = ", ".join("?" * len(chunk))
                self._run(
                    conn,
                    f"UPDATE job_claims SET lease_until = ? WHERE node = ? AND entry_id IN ({marks})",
                    (db_now + self.lease_seconds, node, *chunk),
                )
                found = self._run(
                    conn, f"SELECT entry_id FROM job_claims WHERE node = ? AND entry_id IN ({marks})", (node, *chunk)
                ).fetchall()
                renewed |= {int(r[0]) for r in found}
        return renewed

    def nodes(self) -> list[tuple[str, float, float]]:
        """Every node that ever sent a heartbeat: (node, first seen, last seen), database time."""
        with self._reader() as conn:
            return [
                (r[0], float(r[1]), float(r[2]))
                for r in self._run(conn, "SELECT node, started_at, seen_at FROM job_nodes ORDER BY node")
            ]

    # ------------------------------------------------------------ progress

    def _update_claim(self, entry_id: int, node: str, claimed_at: float, **values: Any) -> bool:
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._writer() as conn:
            cur = self._run(
                conn,
                f"UPDATE job_claims SET {sets} WHERE entry_id = ? AND node = ? AND claimed_at = ?",
                (*values.values(), entry_id, node, claimed_at),
            )
            return bool(cur.rowcount)

    def record_pages(self, entry_id: int, node: str, claimed_at: float, pages_done: int, pages_total: int) -> bool:
        """The receiver confirmed pages up to ``pages_done`` (of the whole fax);
        False when the claim is no longer this node's."""
        return self._update_claim(entry_id, node, claimed_at, pages_done=int(pages_done), pages_total=int(pages_total))

    def record_session(self, entry_id: int, node: str, claimed_at: float, session: Mapping[str, object]) -> bool:
        """Remember the call's accounting session (before its Start is sent),
        so that recovery can write its Stop."""
        return self._update_claim(entry_id, node, claimed_at, session=json.dumps(dict(session), sort_keys=True))

    # ------------------------------------------------------------ recovery

    def recover(self, node_id: str, now: float, cloud_lookup: CloudLookup | None = None) -> RecoveryReport:
        """Reconcile the entries ``node_id`` left in ``sending`` (after a
        crash or restart of that node: none of its calls is running).

        Line route: an interrupted call whose last page was confirmed is
        ``sent``; otherwise it counts as an attempt (cause ``interrupted``)
        and is requeued per policy, resuming from the first unconfirmed
        page, or final when its tries are spent.  Cloud route: never
        submitted → pending again, no attempt counted; otherwise
        ``cloud_lookup(entry)`` decides: sent → ``sent``; failed → an attempt
        (cause ``other``); pending → still sending (returned in ``resumed``
        for the caller to watch); unknown → pending again when the submit
        was never acknowledged (no job id), else left ``sending`` and listed
        as ``unresolved`` (never resent blindly).
        """
        with self._reader() as conn:
            stuck = self._entries(conn, "state = 'sending' AND node = ?", (node_id,))
        return self._recover(stuck, node_id, now, cloud_lookup, expired_only=False)

    def recover_expired(self, node_id: str, now: float, cloud_lookup: CloudLookup | None = None) -> RecoveryReport:
        """Like :meth:`recover`, for the entries of any node whose lease
        expired (the node is gone); ``node_id`` takes over cloud jobs still running."""
        with self._reader() as conn:
            db_now, started = self._db_clock(conn)
            rows = self._run(conn, "SELECT entry_id, lease_until FROM job_claims").fetchall()
            ids = [int(r[0]) for r in rows if lease_expired(float(r[1]), db_now, started, self.lease_seconds)]
            stuck = []
            for i in range(0, len(ids), 200):
                chunk = ids[i : i + 200]
                stuck += self._entries(conn, f"state = 'sending' AND id IN ({', '.join('?' * len(chunk))})", chunk)
        return self._recover(stuck, node_id, now, cloud_lookup, expired_only=True)

    def _recover(
        self, stuck: list[Entry], node_id: str, now: float, cloud_lookup: CloudLookup | None, expired_only: bool
    ) -> RecoveryReport:
        submitted = [e.id for e in stuck if e.route == CLOUD and e.cloud_state is not None]
        if submitted and cloud_lookup is None:
            raise JobError(
                f"entries {', '.join(map(str, submitted))} were submitted to the cloud: recovery needs a cloud lookup"
            )
        requeued, finished, resumed, unresolved, stops = [], [], [], [], []
        for entry in stuck:
            status = None
            if entry.id in submitted and cloud_lookup is not None:
                status = CloudStatus(cloud_lookup(entry))
            with self._writer() as conn:
                current = self._entry(conn, entry.id, lock=True)
                if (
                    current.state is not S.SENDING
                    or current.node != entry.node
                    or current.claimed_at != entry.claimed_at
                ):
                    continue  # someone else resolved it meanwhile
                claim = self._claim_row(conn, entry.id)
                if expired_only:
                    db_now, started = self._db_clock(conn)
                    if claim is None or not lease_expired(claim.lease_until, db_now, started, self.lease_seconds):
                        continue  # renewed meanwhile: the owner is alive
                fax = self._fax(conn, entry.fax_id)
                outcome = self._recover_one(conn, current, fax, claim, status, now)
                if outcome is _Recovered.RESUMED and current.node != node_id:
                    self._take_over(conn, current.id, node_id)
                    current = self._entry(conn, current.id)
            if claim is not None and claim.session and current.route != CLOUD:
                stops.append(
                    RecoveredSession(
                        entry.id,
                        entry.node or "",
                        json.loads(claim.session),
                        claim.pages_done - claim.first_page,
                        interrupted_call(claim.pages_done, claim.pages_total) is Interrupted.DELIVERED,
                        now,
                    )
                )
            if outcome is _Recovered.REQUEUED:
                requeued.append(entry.id)
            elif outcome is _Recovered.FINISHED:
                finished.append(entry.id)
            elif outcome is _Recovered.RESUMED:
                resumed.append(Claim(entry=current, fax=fax, route=CLOUD))
            else:
                unresolved.append(entry.id)
        return RecoveryReport(tuple(requeued), tuple(finished), tuple(resumed), tuple(unresolved), tuple(stops))

    def _take_over(self, conn: Any, entry_id: int, node_id: str) -> None:
        lease_until = self._db_clock(conn)[0] + self.lease_seconds
        self._set(conn, entry_id, node=node_id)
        self._run(
            conn, "UPDATE job_claims SET node = ?, lease_until = ? WHERE entry_id = ?", (node_id, lease_until, entry_id)
        )

    def _recover_one(
        self, conn: Any, entry: Entry, fax: Fax, claim: ClaimRecord | None, status: CloudStatus | None, now: float
    ) -> _Recovered:
        if entry.route != CLOUD:
            done, total = (claim.pages_done, claim.pages_total) if claim is not None else (0, 0)
            first = claim.first_page if claim is not None else 0
            decision = interrupted_call(done, total)
            if decision is Interrupted.DELIVERED:
                result = Result.ok(total, 0.0, recovered=True, note="every page was confirmed before the node stopped")
            else:
                result = Result.failure(
                    Cause.INTERRUPTED,
                    hangup_text="the node stopped during the call",
                    pages=max(0, done - first),
                    recovered=True,
                    resume_page=done + 1,
                )
        elif entry.cloud_state is None or (status is CloudStatus.UNKNOWN and entry.cloud_job_id is None):
            if entry.abort_requested:
                self._set(
                    conn,
                    entry.id,
                    state=S.ABORTED.value,
                    completed_at=now,
                    cloud_state=None,
                    schedule_message="Fax aborted by user",
                    updated_at=now,
                )
            else:
                self._set(
                    conn,
                    entry.id,
                    state=S.PENDING.value,
                    due_at=now,
                    cloud_state=None,
                    cloud_job_id=None,
                    schedule_message="Requeued after restart",
                    updated_at=now,
                )
            self._run(conn, _RELEASE_CALL, (number_key(entry.recipient.fax_number), entry.id))
            self._end_lease(conn, entry.id, resume=False)
            return _Recovered.FINISHED if entry.abort_requested else _Recovered.REQUEUED
        elif status is CloudStatus.SENT:
            result = Result.ok(fax.pages, 0.0, recovered=True, cloud_job_id=entry.cloud_job_id)
        elif status is CloudStatus.FAILED:
            result = Result.failure(
                Cause.OTHER,
                hangup_text="the cloud service reports failure",
                recovered=True,
                cloud_job_id=entry.cloud_job_id,
            )
        elif status is CloudStatus.PENDING:
            self._set(conn, entry.id, updated_at=now)
            return _Recovered.RESUMED
        else:
            return _Recovered.UNRESOLVED
        self._finish_attempt(conn, entry, fax, result, now)  # a requeued line call resumes after its confirmed pages
        state = self._entry(conn, entry.id).state
        return _Recovered.REQUEUED if state is S.PENDING else _Recovered.FINISHED
