"""The persistent job queue: one API, SQL shared by SQLite and PostgreSQL.

Connections, transactions and pragmas come from the account store's
implementations (``radius.store.sqlite.SqliteStore``,
``radius.store.postgresql.PostgresStore``), composed as ``self._db``: their
``_reader()`` (autocommit) and ``_writer()`` (one transaction, committed
before it returns; ``BEGIN IMMEDIATE`` on SQLite) and their ``?`` parameter
translation.  A dialect subclass only says how rows are locked.

Every method is blocking: Twisted code calls it from a thread pool
(``scheduler.py``).  Every change is committed before the method returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from appliance.jobs import _rows as rows
from appliance.jobs._changes import ChangeTables
from appliance.jobs._claims import ClaimTables, CloudLookup
from appliance.jobs._schema import ATTEMPT_COLUMNS, ENTRY_COLUMNS, FAX_COLUMNS, SCHEMA
from appliance.jobs._search import SearchTables, entry_filters
from appliance.jobs.choices import CloudState, RouteFilter, parse_route_filter
from appliance.jobs.model import (
    CLOUD,
    TERMINAL,
    Attempt,
    Claim,
    ClaimLost,
    Entry,
    EntryState,
    Fax,
    FaxSpec,
    IllegalTransition,
    JobError,
    NotFound,
    Recipient,
    Result,
    RetryPolicy,
    assign_routes,
    check_transition,
    number_key,
)
from radius.store.tables import AttachedTables

__all__ = ["CloudLookup", "JobStore"]

S = EntryState

_ENTRY_SELECT = "SELECT " + ", ".join(ENTRY_COLUMNS) + " FROM job_entries"
_FAX_SELECT = "SELECT " + ", ".join(FAX_COLUMNS) + " FROM job_faxes"
_INSERT_FAX = (
    f"INSERT INTO job_faxes ({', '.join(FAX_COLUMNS[1:])}) VALUES ({', '.join('?' * (len(FAX_COLUMNS) - 1))})"
    " RETURNING id"
)
_INSERT_ENTRY = (
    f"INSERT INTO job_entries ({', '.join(ENTRY_COLUMNS[1:])}) VALUES ({', '.join('?' * (len(ENTRY_COLUMNS) - 1))})"
)
_INSERT_ATTEMPT = (
    f"INSERT INTO job_attempts ({', '.join(ATTEMPT_COLUMNS)}) VALUES ({', '.join('?' * len(ATTEMPT_COLUMNS))})"
)
_RELEASE_CALL = "DELETE FROM job_calls WHERE number_key = ? AND entry_id = ?"


class JobStore(ClaimTables, ChangeTables, SearchTables, AttachedTables):
    """The job queue over one database; subclassed per dialect.  Claims,
    leases, progress and recovery are in :class:`ClaimTables`; abort,
    reschedule, release and kill in :class:`ChangeTables`."""

    #: appended to a SELECT that locks the rows it reads (PostgreSQL)
    lock_rows = ""
    #: appended to the claim SELECT (PostgreSQL: FOR UPDATE SKIP LOCKED)
    lock_skip = ""
    schema_types: ClassVar[dict[str, str]] = {}

    def __init__(self, db: Any, policy: RetryPolicy | None = None, lease_seconds: float = 30.0) -> None:
        super().__init__(db)
        self.policy = policy or RetryPolicy()
        self.lease_seconds = lease_seconds

    def init_schema(self) -> None:
        """Create the ``job_`` tables and indexes when missing."""
        self._create_tables(SCHEMA.format(**self.schema_types))

    def _entries(self, conn: Any, where: str, params: Sequence[Any], lock: bool = False) -> list[Entry]:
        sql = f"{_ENTRY_SELECT} WHERE {where} ORDER BY fax_id, idx" + (self.lock_rows if lock else "")
        return [rows.entry_from_row(r) for r in self._run(conn, sql, params).fetchall()]

    def _entry(self, conn: Any, entry_id: int, lock: bool = False) -> Entry:
        found = self._entries(conn, "id = ?", (entry_id,), lock)
        if not found:
            raise NotFound("fax entry", entry_id)
        return found[0]

    def _fax(self, conn: Any, fax_id: int) -> Fax:
        row = self._run(conn, _FAX_SELECT + " WHERE id = ?", (fax_id,)).fetchone()
        if row is None:
            raise NotFound("fax", f"{fax_id:08X}")
        return rows.fax_from_row(row)

    def _set(self, conn: Any, entry_id: int, **values: Any) -> None:
        sql = "UPDATE job_entries SET " + ", ".join(f"{k} = ?" for k in values) + " WHERE id = ?"
        self._run(conn, sql, (*values.values(), entry_id))

    # ------------------------------------------------------------- submit

    def submit(self, spec: FaxSpec, recipients: Sequence[Recipient], now: float) -> tuple[Fax, list[Entry]]:
        """Store a fax and one entry per recipient, in ``preprocessing`` or ``pending``
        (per ``spec``); committed on return."""
        if not recipients:
            raise JobError("a fax needs at least one recipient")
        keys = [number_key(r.fax_number) for r in recipients]
        for recipient, key in zip(recipients, keys):
            if not key:
                raise JobError(f"recipient fax number {recipient.fax_number!r} has no digits")
        if not 0 <= spec.priority <= 9:
            raise JobError(f"priority must be 0 (highest) to 9, not {spec.priority}")
        max_tries = spec.max_tries if spec.max_tries is not None else self.policy.max_tries
        if max_tries < 1:
            raise JobError(f"max_tries must be at least 1, not {max_tries}")
        state = S.PREPROCESSING if spec.preprocessing else S.PENDING
        due = spec.schedule_at if spec.schedule_at is not None else now
        with self._writer() as conn:
            fax_row = rows.fax_row(spec, max_tries, now, len(recipients))
            fax_id = int(self._run(conn, _INSERT_FAX, fax_row).fetchone()[0])
            entry_rows = [
                rows.new_entry_row(fax_id, i, state, now, due, spec.priority, max_tries, r, k)
                for i, (r, k) in enumerate(zip(recipients, keys))
            ]
            conn.cursor().executemany(self._db._sql(_INSERT_ENTRY), entry_rows)
            fax = self._fax(conn, fax_id)
            entries = self._entries(conn, "fax_id = ?", (fax_id,))
        return fax, entries

    # -------------------------------------------------------------- reads

    def get_fax(self, fax_id: int) -> Fax:
        with self._reader() as conn:
            return self._fax(conn, fax_id)

    def get_entry(self, entry_id: int) -> Entry:
        with self._reader() as conn:
            return self._entry(conn, entry_id)

    def get_entry_by_key(self, fax_id: int, index: int) -> Entry:
        with self._reader() as conn:
            found = self._entries(conn, "fax_id = ? AND idx = ?", (fax_id, index))
        if not found:
            raise NotFound("fax entry", f"{fax_id:08X}/{index:04X}")
        return found[0]

    def list_entries(
        self,
        *,
        fax_id: int | None = None,
        owner: str | None = None,
        states: Iterable[EntryState] | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries by fax then recipient; filtered by fax, owner (the fax's) and state."""
        filters = entry_filters(owner, states)
        if filters is None:
            return []
        where, params = filters
        if fax_id is not None:
            where.append("fax_id = ?")
            params.append(fax_id)
        sql = f"{_ENTRY_SELECT} WHERE {' AND '.join(where)} ORDER BY fax_id, idx"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        return [rows.entry_from_row(r) for r in self._read(sql, params)]

    def page_entries(
        self,
        *,
        owner: str | None = None,
        active: Iterable[EntryState] = (),
        done: Iterable[EntryState] = (),
        done_limit: int | None = None,
        limit: int,
        offset: int = 0,
    ) -> list[Entry]:
        """One page, by fax then recipient, of the entries in an ``active`` state and the
        ``done_limit`` most recently completed ones in a ``done`` state (of faxes of ``owner``);
        the database reads only what the page needs (LIMIT/OFFSET)."""
        owned, params = "", []  # type: tuple[str, list[Any]]
        if owner is not None:
            owned = " AND fax_id IN (SELECT id FROM job_faxes WHERE owner = ?)"
        alternatives = []
        active_states = [S(s).value for s in active]
        if active_states:
            alternatives.append(f"state IN ({', '.join('?' * len(active_states))})")
            params.extend(active_states)
        done_states = [S(s).value for s in done]
        if done_states and (done_limit is None or done_limit > 0):
            recent = (
                f"SELECT id FROM job_entries WHERE state IN ({', '.join('?' * len(done_states))}){owned}"
                " ORDER BY COALESCE(completed_at, updated_at) DESC, id DESC"
            )
            params.extend(done_states)
            if owner is not None:
                params.append(owner)
            if done_limit is not None:
                recent += " LIMIT ?"
                params.append(int(done_limit))
            alternatives.append(f"id IN ({recent})")
        if not alternatives:
            return []
        sql = f"{_ENTRY_SELECT} WHERE ({' OR '.join(alternatives)}){owned} ORDER BY fax_id, idx LIMIT ? OFFSET ?"
        if owner is not None:
            params.append(owner)
        params.extend((max(0, int(limit)), max(0, int(offset))))
        return [rows.entry_from_row(r) for r in self._read(sql, params)]

    def attempts(self, entry_id: int) -> list[Attempt]:
        """The entry's attempt history, oldest first."""
        sql = f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM job_attempts WHERE entry_id = ? ORDER BY number, id"
        return [rows.attempt_from_row(r) for r in self._read(sql, (entry_id,))]

    def count_by_state(self) -> dict[EntryState, int]:
        counts = {s: 0 for s in S}
        for state, count in self._read("SELECT state, COUNT(*) FROM job_entries GROUP BY state"):
            counts[S(state)] = int(count)
        return counts

    # -------------------------------------------------------------- claim

    def claim(
        self,
        node_id: str,
        now: float,
        route_filter: RouteFilter | str = RouteFilter.ANY,
        owned_lines: Sequence[str] = (),
        limit: int = 1,
    ) -> list[Claim]:
        """Move due ``pending`` entries to ``sending`` for this node, best
        first (priority, scheduled time, id), one per line in
        ``owned_lines`` (the node's free lines) and, when ``route_filter``
        allows, the rest to the cloud, at most ``limit`` in all.  An entry
        whose number is being called already is skipped; so is one pinned to
        a route not offered."""
        wanted = parse_route_filter(route_filter, JobError)
        lines = list(dict.fromkeys(owned_lines)) if wanted is not RouteFilter.CLOUD else []
        cloud = wanted is not RouteFilter.LINE
        if CLOUD in lines:
            raise JobError(f"{CLOUD!r} is the cloud route, not a line id")
        if not cloud:
            limit = min(limit, len(lines))
        if limit <= 0:
            return []
        pins = lines + ([CLOUD] if cloud else [])
        sql = (
            "SELECT id, number_key, route_pin FROM job_entries e"
            " WHERE e.state = 'pending' AND e.due_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM job_calls c WHERE c.number_key = e.number_key)"
            f" AND (e.route_pin IS NULL OR e.route_pin IN ({', '.join('?' * len(pins))}))"
            " ORDER BY e.priority, e.due_at, e.id LIMIT ?" + self.lock_skip
        )
        with self._writer() as conn:
            candidates = [(int(r[0]), r[1], r[2]) for r in self._run(conn, sql, (now, *pins, limit + 8)).fetchall()]
            chosen = assign_routes(candidates, lines, cloud, limit)
            keys = {c[0]: c[1] for c in candidates}
            # number locks in a fixed order, so two nodes cannot deadlock
            won = set()
            for entry_id, _route in sorted(chosen, key=lambda c: keys[c[0]]):
                insert = "INSERT INTO job_calls (number_key, entry_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
                if self._run(conn, insert, (keys[entry_id], entry_id)).rowcount == 1:
                    won.add(entry_id)
            claims = []
            faxes: dict[int, Fax] = {}
            lease_until = self._db_clock(conn)[0] + self.lease_seconds if won else 0.0
            for entry_id, route in chosen:
                if entry_id not in won:
                    continue
                self._set(
                    conn,
                    entry_id,
                    state=S.SENDING.value,
                    node=node_id,
                    route=route,
                    claimed_at=now,
                    schedule_message="",
                    cloud_state=None,
                    cloud_job_id=None,
                    updated_at=now,
                )
                entry = self._entry(conn, entry_id)
                if entry.fax_id not in faxes:
                    faxes[entry.fax_id] = self._fax(conn, entry.fax_id)
                first_page = self._start_lease(conn, entry_id, node_id, now, lease_until, faxes[entry.fax_id].pages)
                claims.append(Claim(entry=entry, fax=faxes[entry.fax_id], route=route, first_page=first_page))
        return claims

    # ----------------------------------------------------------- complete

    def complete(
        self, entry_id: int, result: Result, now: float, *, node: str | None = None, claimed_at: float | None = None
    ) -> Entry:
        """Record one attempt's outcome: ``sent``, a requeue, or a final
        state per the retry policy; the attempt is added to the history.

        With ``node`` and ``claimed_at`` (the claim the result belongs to),
        a claim that was taken over meanwhile (lease expired, recovered by
        another node) raises :class:`ClaimLost`, except that a ``sent``
        result for an entry recovered back to ``pending`` and not claimed
        again is still recorded (so the fax is not sent twice)."""
        with self._writer() as conn:
            entry = self._entry(conn, entry_id, lock=True)
            if node is not None and (
                entry.node != node or entry.claimed_at != claimed_at or entry.state is not S.SENDING
            ):
                if not (result.sent and entry.state is S.PENDING):
                    raise ClaimLost(entry_id, node, entry.state, entry.node)
                self._set(
                    conn,
                    entry_id,
                    state=check_transition(entry.state, S.SENDING).value,
                    node=node,
                    claimed_at=claimed_at,
                    updated_at=now,
                )
                entry = self._entry(conn, entry_id)
            if entry.state is not S.SENDING:
                raise IllegalTransition(entry_id, entry.state, S.SENT if result.sent else S.PENDING, "complete")
            fax = self._fax(conn, entry.fax_id)
            self._finish_attempt(conn, entry, fax, result, now)
            return self._entry(conn, entry_id)

    def _finish_attempt(self, conn: Any, entry: Entry, fax: Fax, result: Result, now: float) -> None:
        tries = entry.tries + 1
        claim = self._claim_row(conn, entry.id)
        first = claim.first_page if claim is not None and entry.route != CLOUD else 0
        done = max(entry.pages_sent, first + result.pages, claim.pages_done if claim is not None else 0)
        if result.sent:
            state, due, message = S.SENT, entry.due_at, "Successfully sent fax"
            done = result.pages
        elif not result.counts:  # the appliance stopped during the call: not a try, due again at once
            tries = entry.tries
            state = S.ABORTED if entry.abort_requested else S.PENDING
            due, message = now, "Fax aborted by user" if entry.abort_requested else "Requeued: the appliance stopped"
        else:
            assert result.cause is not None  # Result checks it
            decision = self.policy.decide(
                result.cause,
                tries,
                now,
                max_tries=entry.max_tries,
                try_interval=fax.try_interval,
                abort_requested=entry.abort_requested,
            )
            state, message = decision.state, decision.message
            due = decision.due_at if decision.due_at is not None else entry.due_at
        check_transition(entry.state, state, entry_id=entry.id, action="complete")
        self._set(
            conn,
            entry.id,
            state=state.value,
            tries=tries,
            due_at=due,
            schedule_message=message,
            completed_at=now if state in TERMINAL else None,
            pages_sent=done,
            duration=result.duration,
            remote_csid=result.remote_csid,
            last_cause=result.cause.value if result.cause else None,
            hangup_code=result.hangup_code,
            hangup_text=result.hangup_text,
            cloud_state=None,
            abort_requested=0 if state is S.PENDING else int(entry.abort_requested),
            updated_at=now,
        )
        self._run(conn, _RELEASE_CALL, (number_key(entry.recipient.fax_number), entry.id))
        self._end_lease(conn, entry.id, resume=False)
        if state is S.PENDING and entry.route != CLOUD and 0 < done < fax.pages:
            # the next try sends only the pages the receiver has not confirmed yet
            self._run(conn, "INSERT INTO job_resume (entry_id, first_page) VALUES (?, ?)", (entry.id, done))
        self._run(
            conn,
            _INSERT_ATTEMPT,
            (
                entry.id,
                tries,
                entry.claimed_at if entry.claimed_at is not None else now,
                now,
                entry.node or "",
                entry.route or "",
                state.value,
                result.cause.value if result.cause else None,
                result.pages,
                result.duration,
                result.remote_csid,
                result.hangup_code,
                result.hangup_text,
                json.dumps(dict(result.details), sort_keys=True, default=str),
            ),
        )

    # ------------------------------------------------- cloud write-ahead

    def cloud_submitting(self, entry_id: int, *, now: float) -> Entry:
        """Record the intent to submit a claimed cloud entry, before the
        request leaves (recovery then looks the job up instead of resending)."""
        return self._cloud_step(entry_id, now, cloud_state=CloudState.SUBMITTING.value)

    def cloud_submitted(self, entry_id: int, job_id: str, *, now: float) -> Entry:
        """Record the cloud job id, before the submit is acknowledged to anyone."""
        return self._cloud_step(entry_id, now, cloud_state=CloudState.SUBMITTED.value, cloud_job_id=str(job_id))

    def _cloud_step(self, entry_id: int, now: float, **values: Any) -> Entry:
        with self._writer() as conn:
            entry = self._entry(conn, entry_id, lock=True)
            if entry.state is not S.SENDING or entry.route != CLOUD:
                raise JobError(
                    f"entry {entry_id} is not being sent through the cloud "
                    f"(it is {entry.state.value}, route {entry.route})"
                )
            self._set(conn, entry_id, updated_at=now, **values)
            return self._entry(conn, entry_id)
