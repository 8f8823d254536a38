"""Inbound polling rules (pure): what to ask ``listfax`` for, which faxes
to fetch, how far the cursor may move, and the durable formats of the
cursor state and the per-fax metadata.

The cursor is the highest recvid up to which every listed fax is known to
be stored *and* marked handled (plus the handled recvids above a gap left
by a fax that failed).  ``listfax`` is asked for ``idgt=cursor``
together with ``unhandled=1``, so a fax handled beyond a stuck cursor is not
listed again, and a fax stored but not yet handled (the process died in
between) is listed again and stored idempotently before it is handled.
recvids are unique and ascending (FAXAGE document, listfax ``idgt``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeGuard

from appliance.cloud.errors import FaxageError
from appliance.cloud.records import Document, FaxRecord

__all__ = [
    "Cursor",
    "InboundStateError",
    "RoundProgress",
    "decode_state",
    "encode_state",
    "fax_metadata",
    "file_extension",
    "listfax_params",
    "to_fetch",
]

STATE_VERSION = 1
MAX_DONE = 1000


class InboundStateError(FaxageError):
    """The inbound cursor state file is unreadable or not ours."""


def listfax_params(cursor: int) -> dict[str, int]:
    """``listfax`` variables for one round: unhandled faxes newer than
    ``cursor``, oldest first, with every optional column."""
    return {"unhandled": 1, "idgt": cursor, "idasc": 1, "starttime": 1, "filename": 1, "pagecount": 1, "showtsid": 1}


def to_fetch(records: Iterable[FaxRecord], cursor: int) -> list[FaxRecord]:
    """The listed faxes to fetch, ascending by recvid, each once, none at or
    below ``cursor`` (a defence should the service ignore ``idgt``)."""
    seen: dict[int, FaxRecord] = {}
    for record in records:
        if record.recvid > cursor:
            seen.setdefault(record.recvid, record)
    return [seen[recvid] for recvid in sorted(seen)]


@dataclass(frozen=True)
class Cursor:
    """``last``: every fax up to this recvid is stored and handled.
    ``done``: recvids above ``last`` already stored and handled (a fax below
    them failed); when the gap closes, ``last`` moves past them."""

    last: int = 0
    done: frozenset[int] = frozenset()


class RoundProgress:
    """The cursor during one round over ``recvids``: ``last`` moves to a
    recvid only when that fax and every earlier one known is done."""

    def __init__(self, cursor: Cursor, recvids: Iterable[int]) -> None:
        self.last = cursor.last
        self._order = sorted(set(recvids))
        self._done: set[int] = {r for r in cursor.done if r > cursor.last}
        self._failed: set[int] = set()

    def done(self, recvid: int) -> bool:
        """Record ``recvid`` stored and handled (or gone); True when
        ``last`` moved."""
        self._done.add(recvid)
        before = self.last
        for candidate in sorted(set(self._order) | self._done):
            if candidate <= self.last:
                continue
            if candidate not in self._done:
                break
            self.last = candidate
        return self.last != before

    def failed(self, recvid: int) -> None:
        """``recvid`` failed this round; ``last`` stays below it."""
        self._failed.add(recvid)

    @property
    def cursor(self) -> Cursor:
        """The cursor to keep; of the done ids above a gap only the highest
        ``MAX_DONE`` are kept (forgetting one is safe: a handled fax is not
        listed again, and an unknown id does not hold ``last`` back)."""
        above = sorted(r for r in self._done if r > self.last)
        return Cursor(self.last, frozenset(above[-MAX_DONE:]))

    @property
    def complete(self) -> bool:
        return not self._failed and all(r in self._done for r in self._order)


def file_extension(document: Document) -> str:
    """``pdf``, ``tif`` or ``bin`` for a downloaded fax."""
    if document.content_type == "application/pdf":
        return "pdf"
    if document.content_type == "image/tiff":
        return "tif"
    return "bin"


def fax_metadata(record: FaxRecord, document: Document) -> dict[str, object]:
    """JSON-ready metadata stored beside a received fax."""
    return {
        "recvid": record.recvid,
        "recvdate": record.recvdate,
        "starttime": record.starttime,
        "cid": record.cid,
        "dnis": record.dnis,
        "pagecount": record.pagecount,
        "tsid": record.tsid,
        "service_filename": document.filename or record.filename,
        "content_type": document.content_type,
        "extension": file_extension(document),
        "size": len(document.data),
        "sha256": hashlib.sha256(document.data).hexdigest(),
    }


def encode_state(cursor: Cursor) -> bytes:
    """The cursor state file contents."""
    if cursor.last < 0 or any(r <= cursor.last for r in cursor.done):
        raise ValueError("the inbound cursor must be non-negative, with done ids above it")
    return (
        json.dumps({"version": STATE_VERSION, "cursor": cursor.last, "done": sorted(cursor.done)}).encode("utf-8")
        + b"\n"
    )


def _recvid(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def decode_state(data: bytes, source: str = "state file") -> Cursor:
    """The cursor from a state file's contents, or :class:`InboundStateError`."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InboundStateError(f"{source}: not JSON ({exc})") from None
    if not isinstance(value, dict) or value.get("version") != STATE_VERSION:
        raise InboundStateError(f"{source}: not an inbound cursor state of version {STATE_VERSION}")
    last, done = value.get("cursor"), value.get("done", [])
    if not _recvid(last):
        raise InboundStateError(f"{source}: cursor must be a non-negative integer, got {last!r}")
    if not isinstance(done, list) or not all(_recvid(r) and r > last for r in done):
        raise InboundStateError(f"{source}: done must be a list of recvids above the cursor")
    return Cursor(last, frozenset(done))
