"""url_notify callbacks and the fallback status poller.

:class:`NotifyTracker` is the pure core: it hands out an unguessable token
per job (put into the sendfax ``url_notify`` URL), authenticates callbacks by
that token, checks the callback names the job the token was issued for, and
delivers each job's final status exactly once whether it arrives by callback
or by polling.  :class:`NotifyResource` (twisted.web) and
:class:`StatusPoller` (``status`` with ``jobids[]`` batches on a clock, as
the FAXAGE document recommends for missed callbacks) are thin adapters.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Request

from appliance.cloud._parsers import STATUS_FIELDS, status_record_from_fields
from appliance.cloud.errors import FaxageError
from appliance.cloud.records import StatusRecord

__all__ = ["CALLBACK_FIELDS", "NotifyResource", "NotifyTracker", "Outcome", "StatusPoller"]

CALLBACK_FIELDS = STATUS_FIELDS  # pagecount, xmitpages, csid optional


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    PROGRESS = "progress"  # a non-final status: acknowledged, nothing delivered
    UNKNOWN_TOKEN = "unknown-token"
    WRONG_JOB = "wrong-job"
    MALFORMED = "malformed"


@dataclass
class _Entry:
    jobid: int | None
    delivered: bool = False


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class NotifyTracker:
    """Tokens, jobs awaiting a final status, and exactly-once delivery."""

    def __init__(self, base_url: str, token_bytes: Callable[[int], bytes]) -> None:
        self._base_url = base_url.rstrip("/")
        self._token_bytes = token_bytes
        self._by_digest: dict[bytes, _Entry] = {}
        self._by_job: dict[int, _Entry] = {}

    def new_token(self) -> tuple[str, str]:
        """A fresh (token, url_notify URL) to send with one sendfax."""
        token = self._token_bytes(24).hex()
        self._by_digest[_digest(token)] = _Entry(jobid=None)
        return token, f"{self._base_url}/{token}"

    def bind(self, token: str, jobid: int) -> None:
        """The sendfax carrying ``token`` became job ``jobid``."""
        entry = self._by_digest[_digest(token)]
        entry.jobid = jobid
        self._by_job[jobid] = entry

    def watch(self, jobid: int) -> None:
        """Poll ``jobid`` without a callback token (e.g. after a restart)."""
        self._by_job.setdefault(jobid, _Entry(jobid=jobid))

    def pending(self) -> list[int]:
        return sorted(j for j, e in self._by_job.items() if not e.delivered)

    def batches(self, size: int) -> list[list[int]]:
        ids = self.pending()
        return [ids[i : i + size] for i in range(0, len(ids), size)]

    def callback(self, token: str, form: dict[str, str]) -> tuple[Outcome, StatusRecord | None]:
        """Judge one callback POST for ``token``."""
        entry = self._by_digest.get(_digest(token))
        if entry is None:
            return Outcome.UNKNOWN_TOKEN, None
        if any(name not in form for name in CALLBACK_FIELDS):
            return Outcome.MALFORMED, None
        try:
            record = status_record_from_fields("url_notify", form)
        except FaxageError:
            return Outcome.MALFORMED, None
        if entry.jobid is None:  # the callback beat the sendfax reply
            entry.jobid = record.jobid
            self._by_job[record.jobid] = entry
        elif entry.jobid != record.jobid:
            return Outcome.WRONG_JOB, None
        return self._deliver(entry, record)

    def polled(self, records: tuple[StatusRecord, ...]) -> list[StatusRecord]:
        """Final statuses among polled ``records`` not delivered before."""
        out = []
        for record in records:
            entry = self._by_job.get(record.jobid)
            if entry is not None and self._deliver(entry, record)[0] is Outcome.DELIVERED:
                out.append(record)
        return out

    def _deliver(self, entry: _Entry, record: StatusRecord) -> tuple[Outcome, StatusRecord | None]:
        if not record.shortstatus.final:
            return Outcome.PROGRESS, None
        if entry.delivered:
            return Outcome.DUPLICATE, None
        entry.delivered = True
        return Outcome.DELIVERED, record

    def forget(self, jobid: int) -> None:
        entry = self._by_job.pop(jobid, None)
        if entry is not None:
            self._by_digest = {d: e for d, e in self._by_digest.items() if e is not entry}


class NotifyResource(Resource):
    """POST ``<base>/<token>`` with the callback fields; 200 when accepted
    (also for duplicates, so FAXAGE stops retrying), 404 for an unknown
    token, 400 for a malformed post or a token used for another job."""

    isLeaf = True
    log = Logger()

    def __init__(self, tracker: NotifyTracker, on_final: Callable[[StatusRecord], object]) -> None:
        super().__init__()
        self._tracker = tracker
        self._on_final = on_final

    def render_POST(self, request: Request) -> bytes:
        token = (request.postpath or [b""])[-1].decode("ascii", "replace")
        form = {
            k.decode("utf-8", "replace"): v[0].decode("utf-8", "replace") for k, v in (request.args or {}).items() if v
        }
        outcome, record = self._tracker.callback(token, form)
        self.log.info("url_notify for job {jobid}: {outcome}", jobid=form.get("jobid", "?"), outcome=outcome.value)
        if outcome is Outcome.UNKNOWN_TOKEN:
            request.setResponseCode(404)
            return b"unknown\n"
        if outcome in (Outcome.MALFORMED, Outcome.WRONG_JOB):
            request.setResponseCode(400)
            return b"rejected\n"
        if record is not None:
            self._on_final(record)
        return b"OK\n"


class StatusSource(Protocol):
    def status(self, jobids: list[int], **flags: Any) -> Deferred[tuple[StatusRecord, ...]]: ...


class StatusPoller:
    """Every ``interval`` seconds, ask ``status`` for the tracker's pending
    jobs in ``jobids[]`` batches of ``batch_size`` and deliver new finals."""

    log = Logger()

    def __init__(
        self,
        tracker: NotifyTracker,
        source: StatusSource,
        clock: IReactorTime,
        *,
        interval: float,
        batch_size: int = 100,
        on_final: Callable[[StatusRecord], object],
    ) -> None:
        if interval <= 0 or batch_size < 1:
            raise ValueError("StatusPoller needs interval > 0 and batch_size >= 1")
        self._tracker = tracker
        self._source = source
        self._batch_size = batch_size
        self._on_final = on_final
        self._loop = task.LoopingCall(self.poll_once)
        self._loop.clock = clock
        self._interval = interval

    def start(self) -> None:
        self._loop.start(self._interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def poll_once(self) -> Deferred[None]:
        """One pass over every pending batch; errors are logged, not raised."""
        return Deferred.fromCoroutine(self._poll())

    async def _poll(self) -> None:
        for batch in self._tracker.batches(self._batch_size):
            try:
                records = await self._source.status(batch, pagecount=1)
            except FaxageError as exc:
                self.log.warn("status poll of {count} jobs failed: {error}", count=len(batch), error=str(exc))
                continue
            for record in self._tracker.polled(records):
                self._on_final(record)
