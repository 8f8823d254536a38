"""The inbound poller: ``listfax`` (``idgt`` + ``unhandled``) → ``getfax``
→ store → ``handled``, every ``interval`` seconds on an injected clock.

The rules (what to list, when the cursor moves, the file formats) are the
pure :mod:`appliance.cloud._receive_rules`; this module is the Twisted adapter plus
the file-system pieces.  Every blocking step (HTTP through the
:class:`~appliance.cloud.client.TwistedFaxage` bridge, file writes) runs in a
thread pool, never on the reactor thread.

Exactly once, across restarts:

* a fax is marked ``handled`` only after the sink has stored it durably;
* a fax stored but not handled when the process died is listed again (it is
  still unhandled), found in the sink, and then handled; the sink's
  ``store`` is idempotent by recvid in any case;
* the cursor file (written atomically) only narrows the listing; a stale
  cursor costs nothing, because handled faxes are not listed again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.cloud._receive_rules import (
    Cursor,
    InboundStateError,
    RoundProgress,
    decode_state,
    encode_state,
    fax_metadata,
    listfax_params,
    to_fetch,
)
from appliance.cloud.errors import AlreadyExists, FaxageError, NotFound
from appliance.cloud.records import Document, FaxRecord
from appliance.config import FaxageConfig
from appliance.durable import write_atomically
from appliance.jobs.scheduler import RunBlocking

if TYPE_CHECKING:
    from appliance.cloud.client import TwistedFaxage

__all__ = [
    "Cursor",
    "CursorFile",
    "CursorStore",
    "DirectorySink",
    "FaxSink",
    "InboundPoller",
    "InboundSource",
    "InboundStateError",
    "RoundResult",
    "make_inbound_poller",
]

T = TypeVar("T")


class InboundSource(Protocol):
    """What the poller needs of :class:`~appliance.cloud.client.TwistedFaxage`."""

    def request(self, operation: str, params: Mapping[str, Any] | None = None) -> Deferred[Any]: ...


class FaxSink(Protocol):
    """Where received faxes go.  Both methods block (they run in a thread
    pool).  ``store`` must be durable when it returns and idempotent by
    recvid: storing a recvid again leaves one copy."""

    def contains(self, recvid: int) -> bool: ...

    def store(self, recvid: int, meta: Mapping[str, Any], data: bytes) -> None: ...


class CursorStore(Protocol):
    """Durable home of the cursor (blocking; run in a thread pool)."""

    def load(self) -> Cursor: ...

    def save(self, cursor: Cursor) -> None: ...


# ------------------------------------------------------------ file system


class DirectorySink:
    """Faxes as ``fax-<recvid>.<ext>`` plus ``fax-<recvid>.json`` in one
    directory.  The data file is written first and the metadata file last,
    each atomically, so the metadata file marks a complete fax."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"DirectorySink({str(self.directory)!r})"

    def meta_path(self, recvid: int) -> Path:
        return self.directory / f"fax-{recvid}.json"

    def contains(self, recvid: int) -> bool:
        return self.meta_path(recvid).exists()

    def store(self, recvid: int, meta: Mapping[str, Any], data: bytes) -> None:
        if self.contains(recvid):
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        extension = str(meta.get("extension", "bin"))
        write_atomically(self.directory / f"fax-{recvid}.{extension}", data)
        body = json.dumps(dict(meta), indent=1, sort_keys=True).encode("utf-8") + b"\n"
        write_atomically(self.meta_path(recvid), body)

    def stored(self) -> list[int]:
        """The recvids stored so far, ascending."""
        if not self.directory.exists():
            return []
        return sorted(int(p.name[4:-5]) for p in self.directory.glob("fax-*.json") if p.name[4:-5].isdigit())


class CursorFile:
    """The cursor in a small JSON file, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"CursorFile({str(self.path)!r})"

    def load(self) -> Cursor:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Cursor()
        except OSError as exc:
            raise InboundStateError(f"{self.path}: cannot read ({exc.strerror})") from None
        return decode_state(data, str(self.path))

    def save(self, cursor: Cursor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, encode_state(cursor))


# ------------------------------------------------------------ the poller


class _SinkFailed(Exception):
    """Internal: storing locally failed; the round stops."""


@dataclass
class RoundResult:
    """What one round did (recvids)."""

    listed: list[int] = field(default_factory=list)
    stored: list[int] = field(default_factory=list)
    already_stored: list[int] = field(default_factory=list)
    handled: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cursor: int = 0
    error: str | None = None


class InboundPoller:
    """Polls for received faxes every ``interval`` seconds on ``clock``.

    ``run_blocking(fn, *args)`` runs a blocking call off the reactor thread
    and returns a Deferred (e.g. :meth:`TwistedFaxage.run_in_pool`)."""

    log = Logger()

    def __init__(
        self,
        source: InboundSource,
        sink: FaxSink,
        cursor_store: CursorStore,
        clock: IReactorTime,
        *,
        interval: float,
        run_blocking: RunBlocking,
        on_stored: Callable[[int, Mapping[str, Any]], object] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("InboundPoller needs interval > 0")
        self._source = source
        self._sink = sink
        self._cursors = cursor_store
        self._run = run_blocking
        self._on_stored = on_stored
        self._interval = interval
        self._loop = task.LoopingCall(self._tick)
        self._loop.clock = clock
        self._busy = False
        self.cursor: Cursor | None = None
        self.last: RoundResult | None = None

    def start(self) -> None:
        """Poll now and then every ``interval`` seconds."""
        self._loop.start(self._interval, now=True)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def _tick(self) -> Deferred[None]:
        return self.poll_once().addCallback(lambda _: None)

    def poll_once(self) -> Deferred[RoundResult]:
        """One round; never fails (problems are logged and in the result).
        A call while a round is running returns an empty result."""
        return Deferred.fromCoroutine(self._poll_once())

    async def _poll_once(self) -> RoundResult:
        if self._busy:
            return RoundResult(error="a round is already running")
        self._busy = True
        try:
            result = await self._round()
        finally:
            self._busy = False
        self.last = result
        return result

    async def _round(self) -> RoundResult:
        result = RoundResult()
        if self.cursor is None:
            try:
                self.cursor = await self._run(self._cursors.load)
            except Exception as exc:
                self.log.failure("inbound cursor could not be loaded")
                result.error = f"cursor: {exc}"
                return result
        start = self.cursor
        assert start is not None  # loaded above
        result.cursor = start.last
        try:
            records = await self._source.request("listfax", listfax_params(start.last))
        except FaxageError as exc:
            self.log.warn("inbound listfax failed: {error}", error=str(exc))
            result.error = str(exc)
            return result
        faxes = to_fetch(records, start.last)
        result.listed = [f.recvid for f in faxes]
        progress = RoundProgress(start, result.listed)
        for fax in faxes:
            try:
                await self._take(fax, result)
            except _SinkFailed as exc:
                progress.failed(fax.recvid)
                result.failed.append(fax.recvid)
                result.error = str(exc)
                break
            except FaxageError as exc:
                self.log.warn("inbound fax {recvid} not taken this round: {error}", recvid=fax.recvid, error=str(exc))
                progress.failed(fax.recvid)
                result.failed.append(fax.recvid)
                continue
            progress.done(fax.recvid)
        await self._save(progress.cursor, start, result)
        return result

    async def _save(self, cursor: Cursor, start: Cursor, result: RoundResult) -> None:
        result.cursor = cursor.last
        if cursor == start:
            return
        try:
            await self._run(self._cursors.save, cursor)
        except Exception:
            # a stale cursor only widens the next listing; handled faxes are not listed again
            self.log.failure("inbound cursor {cursor} not saved", cursor=cursor.last)
        self.cursor = cursor

    async def _blocking(self, what: str, fn: Callable[..., T], *args: object) -> T:
        try:
            value = await self._run(fn, *args)
        except Exception as exc:
            self.log.failure("inbound sink {what} failed for fax {recvid}", what=what, recvid=args[0])
            raise _SinkFailed(f"sink {what} failed for fax {args[0]}: {type(exc).__name__}: {exc}") from None
        return value

    async def _take(self, fax: FaxRecord, result: RoundResult) -> None:
        recvid = fax.recvid
        present = await self._blocking("contains", self._sink.contains, recvid)
        if present:
            result.already_stored.append(recvid)
        else:
            try:
                document: Document = await self._source.request("getfax", {"faxid": recvid})
            except NotFound as exc:
                self.log.warn("inbound fax {recvid} vanished before download: {error}", recvid=recvid, error=str(exc))
                result.gone.append(recvid)
                return
            meta = fax_metadata(fax, document)
            await self._blocking("store", self._sink.store, recvid, meta, document.data)
            result.stored.append(recvid)
            self.log.info("inbound fax {recvid} stored ({size} bytes)", recvid=recvid, size=meta["size"])
            if self._on_stored is not None:
                self._on_stored(recvid, meta)
        try:
            await self._source.request("handled", {"recvid": recvid, "handled": 1})
        except AlreadyExists:
            pass  # ERR39: handled already (by an earlier attempt whose reply was lost)
        except NotFound as exc:
            self.log.warn("inbound fax {recvid} vanished before handled: {error}", recvid=recvid, error=str(exc))
            result.gone.append(recvid)
            return
        result.handled.append(recvid)


def make_inbound_poller(
    faxage: TwistedFaxage, config: FaxageConfig, clock: IReactorTime, *, inbox: Path, state_file: Path
) -> InboundPoller:
    """The poller for the ``[faxage]`` section: faxes into ``inbox``, the
    cursor in ``state_file``, every ``poll_interval`` seconds, blocking work
    in the bridge's thread pool."""
    return InboundPoller(
        faxage,
        DirectorySink(inbox),
        CursorFile(state_file),
        clock,
        interval=config.poll_interval,
        run_blocking=faxage.run_in_pool,
    )
