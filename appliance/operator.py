"""Day-to-day operation shared by ``faxappliance inbox|jobs`` and the
``/api/v1`` JSON API: listing, showing, exporting, cancelling,
rescheduling and retrying, with one permission rule (a user sees their own
faxes, an admin all).

Every method blocks (database and file I/O): Twisted code runs it in the
thread pool.  Errors are :class:`OperatorError` with an HTTP-like status
(400 bad input, 403 another user's fax, 404 not found, 409 not possible in
the job's state); the CLI maps 400 to exit status 2 and the rest to 1.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.inbound.inbox import Inbox, InboxItem
from appliance.jobs.choices import DocumentFormat
from appliance.jobs.model import TERMINAL, Attempt, Entry, EntryState, Fax, IllegalTransition, NotFound
from appliance.jobs.store import JobStore
from modem.fax_files import pdf_from_tiff

__all__ = ["Caller", "JobAction", "Operations", "OperatorError", "iso", "parse_date", "parse_job_key", "parse_states"]

S = EntryState
ACTIVE = (S.PREPROCESSING, S.APPROVAL_PENDING, S.PENDING, S.SENDING)
STATE_GROUPS = {"active": ACTIVE, "done": tuple(TERMINAL)}
MAX_LIMIT = 1000
_KEY = re.compile(r"^([0-9A-Fa-f]{1,8})(?:[-/]([0-9A-Fa-f]{1,4}))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?Z?$")


class JobAction(enum.StrEnum):
    """What an operator may do to a job (``/api/v1/jobs/KEY/<action>``)."""

    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    RETRY = "retry"


def _document_format(kind: DocumentFormat | str) -> DocumentFormat:
    try:
        return DocumentFormat(kind)
    except ValueError:
        raise OperatorError(400, f"a document is pdf or tiff, not {kind!r}") from None


class OperatorError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Caller:
    """Who asks: a user name and whether it is an admin (the local CLI is an admin)."""

    username: str = ""
    admin: bool = True

    def may(self, owner: str) -> bool:
        return self.admin or owner.casefold() == self.username.casefold()


def iso(value: float | None) -> str | None:
    """Unix time as ISO 8601 UTC (``2026-01-31T12:00:00Z``)."""
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text: str, name: str) -> float:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` (UTC) as unix time; 400 otherwise."""
    value = text.strip()
    if not _DATE.match(value):
        raise OperatorError(400, f"{name} must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC), not {text!r}")
    value = value.rstrip("Z").replace(" ", "T")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise OperatorError(400, f"{name}: {text!r} is not a valid date") from None
    return parsed.replace(tzinfo=UTC).timestamp()


def parse_job_key(text: str) -> tuple[int, int | None]:
    """``FAXKEY-ENTRYKEY`` (or ``FAXKEY/ENTRYKEY``, or ``FAXKEY`` alone) as (fax id, entry index)."""
    m = _KEY.match(text.strip())
    if not m:
        raise OperatorError(400, f"a job is FAXKEY-ENTRYKEY in hex (e.g. 0000002A-0000), not {text!r}")
    return int(m.group(1), 16), int(m.group(2), 16) if m.group(2) is not None else None


def parse_states(text: str) -> tuple[EntryState, ...] | None:
    """``--state``/``state=``: comma-separated states or ``active``/``done``; None for all."""
    if not text:
        return None
    states: list[EntryState] = []
    for word in text.split(","):
        word = word.strip().lower()
        if word in STATE_GROUPS:
            states += STATE_GROUPS[word]
            continue
        try:
            states.append(EntryState(word))
        except ValueError:
            names = ", ".join([s.value for s in EntryState] + list(STATE_GROUPS))
            raise OperatorError(400, f"unknown state {word!r} (one of {names})") from None
    return tuple(dict.fromkeys(states))


def check_limit(limit: int, offset: int = 0) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise OperatorError(400, f"limit must be 1..{MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise OperatorError(400, "offset must not be negative")


def _key(entry: Entry) -> str:
    return f"{entry.fax_id:08X}-{entry.index:04X}"


class Operations:
    """Inbox and job operations over a job store and an inbox (see module docstring)."""

    def __init__(self, jobs: JobStore, inbox: Inbox | None, base_url: str = "") -> None:
        self.jobs = jobs
        self.inbox = inbox
        self.base_url = base_url.rstrip("/")

    # ---------------------------------------------------------------- jobs
    def job_json(self, entry: Entry, fax: Fax, attempts: list[Attempt] | None = None) -> dict[str, object]:
        key = _key(entry)
        data: dict[str, object] = {
            "id": key,
            "fax_id": f"{entry.fax_id:08X}",
            "owner": fax.owner,
            "account": fax.account,
            "to": entry.recipient.fax_number,
            "state": entry.state.value,
            "pages": fax.pages,
            "pages_sent": entry.pages_sent,
            "tries": entry.tries,
            "max_tries": entry.max_tries,
            "due_at": iso(entry.due_at) if entry.state is S.PENDING else None,
            "created": iso(entry.created),
            "completed_at": iso(entry.completed_at),
            "message": entry.schedule_message,
            "route": entry.route,
            "remote_id": entry.remote_csid,
            "hangup_code": entry.hangup_code,
            "hangup_text": entry.hangup_text,
            "agent": fax.agent,
        }
        if self.base_url:
            data["pdf_url"] = f"{self.base_url}/api/v1/jobs/{key}/fax.pdf"
            data["tiff_url"] = f"{self.base_url}/api/v1/jobs/{key}/fax.tif"
        if attempts is not None:
            data["attempts"] = [
                {
                    "number": a.number,
                    "started_at": iso(a.started_at),
                    "ended_at": iso(a.ended_at),
                    "route": a.route,
                    "outcome": a.outcome,
                    "cause": a.cause,
                    "pages": a.pages,
                    "duration": round(a.duration, 1),
                    "remote_id": a.remote_csid,
                    "hangup_code": a.hangup_code or str(a.details.get("hangup_code", "")),
                    "hangup_text": a.hangup_text,
                    "details": dict(a.details),
                }
                for a in attempts
            ]
        return data

    def list_jobs(
        self,
        caller: Caller,
        *,
        owner: str | None = None,
        states: tuple[EntryState, ...] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, object]], int | None]:
        """(jobs, next offset or None), newest first."""
        check_limit(limit, offset)
        if not caller.admin:
            if owner is not None and not caller.may(owner):
                raise OperatorError(403, "only admins may list another user's jobs")
            owner = caller.username
        found = self.jobs.search_entries(
            owner=owner, states=states, since=since, until=until, limit=limit + 1, offset=offset
        )
        more = len(found) > limit
        faxes: dict[int, Fax] = {}
        out = []
        for entry in self.jobs.with_live_pages(found[:limit]):
            fax = faxes.get(entry.fax_id) or faxes.setdefault(entry.fax_id, self.jobs.get_fax(entry.fax_id))
            out.append(self.job_json(entry, fax))
        return out, (offset + limit if more else None)

    def _entries(self, caller: Caller, key: str) -> tuple[Fax, list[Entry]]:
        fax_id, index = parse_job_key(key)
        try:
            fax = self.jobs.get_fax(fax_id)
            entries = (
                [self.jobs.get_entry_by_key(fax_id, index)]
                if index is not None
                else self.jobs.list_entries(fax_id=fax_id)
            )
        except NotFound as exc:
            raise OperatorError(404, str(exc)) from None
        if not caller.may(fax.owner):
            raise OperatorError(403, f"job {key} belongs to another user")
        return fax, entries

    def show_job(self, caller: Caller, key: str) -> list[dict[str, object]]:
        fax, entries = self._entries(caller, key)
        return [self.job_json(e, fax, self.jobs.attempts(e.id)) for e in self.jobs.with_live_pages(entries)]

    def _change(
        self, caller: Caller, key: str, action: JobAction, now: float, at: float | None = None
    ) -> list[dict[str, object]]:
        fax, entries = self._entries(caller, key)
        _, index = parse_job_key(key)
        try:
            if action is JobAction.CANCEL:
                self.jobs.abort(fax.id, index, now=now)
            elif action is JobAction.RETRY:
                if index is not None and entries[0].state not in (S.FAILED, S.DEAD, S.ABORTED):
                    raise OperatorError(
                        409,
                        f"job {key} is {entries[0].state.value}: only a failed, dead or "
                        f"aborted job can be retried (reschedule moves a pending one)",
                    )
                self.jobs.reschedule(fax.id, index, None, now=now)
            else:
                self.jobs.reschedule(fax.id, index, at, now=now)
        except IllegalTransition as exc:
            raise OperatorError(409, str(exc)) from None
        except NotFound as exc:
            raise OperatorError(404, str(exc)) from None
        return [self.job_json(self.jobs.get_entry(e.id), fax) for e in entries]

    def cancel(self, caller: Caller, key: str, now: float) -> list[dict[str, object]]:
        return self._change(caller, key, JobAction.CANCEL, now)

    def reschedule(self, caller: Caller, key: str, at: float | None, now: float) -> list[dict[str, object]]:
        return self._change(caller, key, JobAction.RESCHEDULE, now, at)

    def retry(self, caller: Caller, key: str, now: float) -> list[dict[str, object]]:
        return self._change(caller, key, JobAction.RETRY, now)

    def job_file(self, caller: Caller, key: str, kind: DocumentFormat | str) -> tuple[bytes, str]:
        """(content, file name) of a job's document as converted for sending: ``pdf`` or ``tiff``."""
        fmt = _document_format(kind)
        fax, _entries = self._entries(caller, key)
        tiffs = [Path(d) for d in fax.documents if Path(d).suffix.lower() in (".tif", ".tiff")]
        if not tiffs or not tiffs[0].is_file():
            raise OperatorError(404, f"job {key} has no converted document (yet)")
        name = f"fax-{fax.id:08X}"
        if fmt is DocumentFormat.TIFF:
            return tiffs[0].read_bytes(), f"{name}.tif"
        pdf = tiffs[0].with_suffix(".pdf")
        if pdf.is_file():
            return pdf.read_bytes(), f"{name}.pdf"
        return pdf_from_tiff(tiffs[0]), f"{name}.pdf"

    # --------------------------------------------------------------- inbox
    def item_json(self, item: InboxItem) -> dict[str, object]:
        data = {
            "id": item.id,
            "account": item.account,
            "received_at": iso(item.received_at),
            "pages": item.pages,
            "did": item.did,
            "caller_id": item.caller_id,
            "remote_id": item.remote_csid,
            "source": item.source,
            "has_pdf": bool(item.pdf),
            "has_tiff": bool(item.tiff),
        }
        if self.base_url:
            data["pdf_url"] = f"{self.base_url}/api/v1/inbox/{item.id}/fax.pdf"
            data["tiff_url"] = f"{self.base_url}/api/v1/inbox/{item.id}/fax.tif"
        return data

    def list_inbox(
        self,
        caller: Caller,
        *,
        account: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, object]], int | None]:
        check_limit(limit, offset)
        if not caller.admin:
            if account is not None and not caller.may(account):
                raise OperatorError(403, "only admins may list another account's faxes")
            account = caller.username
        items = [
            i
            for i in self._inbox().list(account)
            if (since is None or i.received_at >= since) and (until is None or i.received_at < until)
        ]
        page = items[offset : offset + limit]
        return [self.item_json(i) for i in page], (offset + limit if len(items) > offset + limit else None)

    def _inbox(self) -> Inbox:
        if self.inbox is None:
            raise OperatorError(404, "this appliance keeps no inbox")
        return self.inbox

    def _item(self, caller: Caller, item_id: str | int) -> InboxItem:
        try:
            number = int(str(item_id))
        except ValueError:
            raise OperatorError(400, f"an inbox id is a number, not {item_id!r}") from None
        item = self._inbox().get(number)
        if item is None:
            raise OperatorError(404, f"no received fax {number}")
        if not caller.may(item.account):
            raise OperatorError(403, f"received fax {number} belongs to another account")
        return item

    def show_item(self, caller: Caller, item_id: str | int) -> dict[str, object]:
        item = self._item(caller, item_id)
        data = self.item_json(item)
        data.update(tiff=item.tiff, pdf=item.pdf, previews=list(item.previews))
        return data

    def item_file(self, caller: Caller, item_id: str | int, kind: DocumentFormat | str) -> tuple[bytes, str]:
        fmt = _document_format(kind)
        item = self._item(caller, item_id)
        tiff = fmt is DocumentFormat.TIFF
        name = item.tiff if tiff else item.pdf
        path = Path(name) if name else None
        if path is None or not path.is_file():
            raise OperatorError(404, f"received fax {item.id} has no {fmt.upper()} file")
        return path.read_bytes(), f"fax-{item.id:06d}{'.tif' if tiff else '.pdf'}"

    def delete_item(self, caller: Caller, item_id: str | int) -> dict[str, object]:
        item = self._item(caller, item_id)
        self._inbox().delete(item.id)
        return self.item_json(item)
