"""The changes users and the document converter make to queued faxes: abort,
reschedule, release after conversion and kill; the part of
:class:`appliance.jobs.store.JobStore` that moves entries on request rather
than by claiming and completing calls."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from appliance.jobs.model import (
    CLOUD,
    TERMINAL,
    Entry,
    EntryState,
    Fax,
    IllegalTransition,
    NotFound,
    check_transition,
)

__all__ = ["ChangeTables"]

S = EntryState


class ChangeTables:
    """Mixin of :class:`JobStore` (which provides ``_run``, ``_entry`` …)."""

    # the JobStore methods this mixin uses
    _run: Callable[..., Any]  # a cursor
    _entry: Callable[..., Entry]
    _entries: Callable[..., list[Entry]]
    _fax: Callable[..., Fax]
    _set: Callable[..., None]
    _writer: Callable[[], AbstractContextManager[Any]]  # a connection

    def _targets(self, conn: Any, fax_id: int, index: int | None) -> list[Entry]:
        if index is None:
            found = self._entries(conn, "fax_id = ?", (fax_id,), lock=True)
        else:
            found = self._entries(conn, "fax_id = ? AND idx = ?", (fax_id, index), lock=True)
        if not found:
            raise NotFound(
                "fax" if index is None else "fax entry",
                f"{fax_id:08X}" if index is None else f"{fax_id:08X}/{index:04X}",
            )
        return found

    def abort(self, fax_id: int, index: int | None = None, *, now: float) -> list[Entry]:
        """Abort one entry or every entry of a fax.  A ``sending`` entry is
        marked and ends ``aborted`` when its call fails (a fax that went out
        stays ``sent``).  Returns the entries changed; for one entry that
        cannot be aborted any more (terminal) raises IllegalTransition."""
        changed = []
        with self._writer() as conn:
            for entry in self._targets(conn, fax_id, index):
                if entry.state in TERMINAL:
                    if index is not None:
                        raise IllegalTransition(entry.id, entry.state, S.ABORTED, "abort")
                    continue
                if entry.state is S.SENDING:
                    self._set(conn, entry.id, abort_requested=1, schedule_message="Abort requested", updated_at=now)
                else:
                    check_transition(entry.state, S.ABORTED, entry_id=entry.id, action="abort")
                    self._set(
                        conn,
                        entry.id,
                        state=S.ABORTED.value,
                        completed_at=now,
                        schedule_message="Fax aborted by user",
                        updated_at=now,
                    )
                changed.append(self._entry(conn, entry.id))
        return changed

    def reschedule(self, fax_id: int, index: int | None = None, at: float | None = None, *, now: float) -> list[Entry]:
        """Schedule a pending or completed entry (or every such entry of a
        fax) for ``at`` (UTC unix time; None = now).  A completed entry goes
        back to ``pending`` with its tries reset.  Entries being sent or
        converted are skipped; for one such entry raises IllegalTransition."""
        due = now if at is None else at
        changed = []
        with self._writer() as conn:
            for entry in self._targets(conn, fax_id, index):
                if entry.state is not S.PENDING and entry.state not in TERMINAL:
                    if index is not None:
                        raise IllegalTransition(entry.id, entry.state, S.PENDING, "reschedule")
                    continue
                check_transition(entry.state, S.PENDING, entry_id=entry.id, action="reschedule")
                if entry.state is S.PENDING:
                    self._set(conn, entry.id, due_at=due, updated_at=now)
                else:
                    self._set(
                        conn,
                        entry.id,
                        state=S.PENDING.value,
                        due_at=due,
                        tries=0,
                        completed_at=None,
                        abort_requested=0,
                        schedule_message="Rescheduled",
                        updated_at=now,
                    )
                    self._resume_after(conn, entry)
                changed.append(self._entry(conn, entry.id))
        return changed

    def _resume_after(self, conn: Any, entry: Entry) -> None:
        """A finished entry sent again: a failed one goes on after the pages
        its receiver confirmed; a sent one starts from the first page."""
        self._run(conn, "DELETE FROM job_resume WHERE entry_id = ?", (entry.id,))
        if entry.state is S.SENT:
            self._set(conn, entry.id, pages_sent=0)
        elif entry.route != CLOUD and 0 < entry.pages_sent < self._fax(conn, entry.fax_id).pages:
            self._run(conn, "INSERT INTO job_resume (entry_id, first_page) VALUES (?, ?)", (entry.id, entry.pages_sent))

    # ------------------------------------------- preprocessing

    def release(self, fax_id: int, documents: Sequence[str], pages: int, *, now: float) -> list[Entry]:
        """Documents converted: ``preprocessing`` entries go to ``pending``."""
        with self._writer() as conn:
            self._fax(conn, fax_id)
            self._run(
                conn,
                "UPDATE job_faxes SET documents = ?, pages = ? WHERE id = ?",
                (json.dumps(list(documents)), int(pages), fax_id),
            )
            return self._move_all(conn, fax_id, S.PREPROCESSING, S.PENDING, now, "release")

    def kill(self, fax_id: int, message: str, *, now: float) -> list[Entry]:
        """The fax can never be sent (unrenderable): its entries still converting or pending go ``dead``."""
        with self._writer() as conn:
            changed = []
            for source in (S.PREPROCESSING, S.PENDING):
                changed += self._move_all(conn, fax_id, source, S.DEAD, now, "kill", message)
            return changed

    def _move_all(
        self, conn: Any, fax_id: int, source: EntryState, target: EntryState, now: float, action: str, message: str = ""
    ) -> list[Entry]:
        changed = []
        for entry in self._targets(conn, fax_id, None):
            if entry.state is not source:
                continue
            check_transition(entry.state, target, entry_id=entry.id, action=action)
            self._set(
                conn,
                entry.id,
                state=target.value,
                schedule_message=message or entry.schedule_message,
                completed_at=now if target in TERMINAL else None,
                updated_at=now,
            )
            changed.append(self._entry(conn, entry.id))
        return changed
