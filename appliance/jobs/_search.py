"""Job store queries for operators: a filtered listing, newest first, and
the retention purge of finished faxes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from appliance.jobs import _rows as rows
from appliance.jobs._schema import ENTRY_COLUMNS
from appliance.jobs.model import TERMINAL, Entry, EntryState, Fax

__all__ = ["SearchTables", "entry_filters"]

_SELECT = "SELECT " + ", ".join(ENTRY_COLUMNS) + " FROM job_entries"
_TERMINAL = tuple(s.value for s in TERMINAL)


def entry_filters(owner: str | None, states: Iterable[EntryState] | None) -> tuple[list[str], list[Any]] | None:
    """SQL conditions and parameters on job_entries for the fax's owner and the
    entry states; None when ``states`` is empty (nothing can match)."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if owner is not None:
        where.append("fax_id IN (SELECT id FROM job_faxes WHERE owner = ?)")
        params.append(owner)
    if states is not None:
        wanted = [EntryState(s).value for s in states]
        if not wanted:
            return None
        where.append(f"state IN ({', '.join('?' * len(wanted))})")
        params.extend(wanted)
    return where, params


class SearchTables:
    """Mixed into :class:`~appliance.jobs.store.JobStore`."""

    _run: Callable[..., Any]  # a cursor
    _read: Callable[..., list[Any]]  # rows
    _writer: Callable[[], AbstractContextManager[Any]]  # a connection
    _fax: Callable[..., Fax]

    def search_entries(
        self,
        *,
        owner: str | None = None,
        states: Iterable[EntryState] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Entry]:
        """Entries newest first (by creation), filtered by the fax's owner,
        state and creation time (``since`` <= created < ``until``)."""
        filters = entry_filters(owner, states)
        if filters is None:
            return []
        where, params = filters
        if since is not None:
            where.append("created >= ?")
            params.append(float(since))
        if until is not None:
            where.append("created < ?")
            params.append(float(until))
        sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY created DESC, id DESC LIMIT ? OFFSET ?"
        params.extend((max(0, int(limit)), max(0, int(offset))))
        return [rows.entry_from_row(r) for r in self._read(sql, params)]

    def with_live_pages(self, entries: list[Entry]) -> list[Entry]:
        """``entries`` with ``pages_sent`` of each one being sent raised to
        the pages its receiver has confirmed so far (the claim's progress)."""
        sending = [e.id for e in entries if e.state is EntryState.SENDING]
        if not sending:
            return entries
        marks = ", ".join("?" * len(sending))
        done = {
            int(i): int(n)
            for i, n in self._read(f"SELECT entry_id, pages_done FROM job_claims WHERE entry_id IN ({marks})", sending)
        }
        return [replace(e, pages_sent=max(e.pages_sent, done.get(e.id, 0))) for e in entries]

    def finished_faxes(self) -> list[tuple[int, float, bool, tuple[str, ...]]]:
        """Faxes whose every entry is finished: (fax id, last completion, all sent, documents)."""
        out = []
        found = self._read(
            "SELECT fax_id, MAX(COALESCE(completed_at, updated_at)), "
            "SUM(CASE WHEN state = 'sent' THEN 0 ELSE 1 END), "
            f"SUM(CASE WHEN state IN ({', '.join('?' * len(_TERMINAL))}) THEN 0 ELSE 1 END) "
            "FROM job_entries GROUP BY fax_id",
            _TERMINAL,
        )
        for fax_id, last, unsent, active in found:
            if int(active):
                continue
            with self._writer() as conn:
                fax = self._fax(conn, int(fax_id))
            out.append((int(fax_id), float(last or 0.0), not int(unsent), tuple(fax.documents)))
        return out

    def all_documents(self) -> set[str]:
        """Every document path any stored fax refers to."""
        found: set[str] = set()
        for (documents,) in self._read("SELECT documents FROM job_faxes", ()):
            try:
                found.update(str(d) for d in json.loads(documents or "[]"))
            except ValueError:
                continue
        return found

    def delete_fax(self, fax_id: int) -> bool:
        """Remove a finished fax and its entries, attempts and resume marks;
        False (nothing removed) when one of its entries is still active."""
        with self._writer() as conn:
            ids = [
                int(r[0])
                for r in self._run(
                    conn,
                    f"SELECT id FROM job_entries WHERE fax_id = ? AND state NOT IN ({', '.join('?' * len(_TERMINAL))})",
                    (fax_id, *_TERMINAL),
                )
            ]
            if ids:
                return False
            entries = "SELECT id FROM job_entries WHERE fax_id = ?"
            for table in ("job_attempts", "job_resume", "job_claims"):
                self._run(conn, f"DELETE FROM {table} WHERE entry_id IN ({entries})", (fax_id,))
            self._run(conn, "DELETE FROM job_entries WHERE fax_id = ?", (fax_id,))
            cur = self._run(conn, "DELETE FROM job_faxes WHERE id = ?", (fax_id,))
            return bool(cur.rowcount)
