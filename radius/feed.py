"""Twisted adapter: keeps a :class:`radius.read_model.ReadModel` current.

At start the whole model is loaded from the store (blocking: the service is
not answering yet).  Then, every ``interval`` seconds, a pool thread reads
the change feed (:mod:`radius.store.changes`) past the cursor and the
current rows of the changed keys; the reactor applies them.  One poll runs at
a time.  A change made by any process or node is therefore visible within
``interval`` plus one poll's time; with PostgreSQL a thread LISTENs for the
triggers' NOTIFY and polls at once, so changes usually show within
milliseconds.  If the reader fell behind the feed's
pruning (e.g. it could not reach the database for longer than the retention)
it reloads everything.  Entries older than ``retention`` (15 minutes) are
pruned once a minute by whichever process polls.  While the store cannot be reached, polls fail (logged,
rate-limited) and the model keeps answering with what it has.
"""

from __future__ import annotations

import enum
import threading
from typing import Any

from twisted.application import service
from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from radius.read_model import FeedCursor, ReadModel
from radius.store import changes
from radius.store.api import Dialect

__all__ = ["ReadModelFeed"]

BATCH = 20_000  # changes read per query
WINDOW = 1_000  # ids below the newest at a snapshot that may still commit late


class _Fetched(enum.Enum):
    """What one poll brought: the whole store (the feed was pruned past the cursor) or the changes."""

    ALL = "all"
    CHANGES = "changes"


class ReadModelFeed(service.Service):
    log = Logger()

    def __init__(
        self,
        reactor: Any,
        store: Any,
        threadpool: ThreadPool,
        *,
        interval: float = 0.5,
        grace: float = 30.0,
        retention: float = 900.0,
        prune_every: float = 60.0,
        model: ReadModel | None = None,
        listen: bool = True,
    ) -> None:
        self.reactor = reactor
        self.store = store
        self.threadpool = threadpool
        self.interval = interval
        self.retention = retention
        self.prune_every = prune_every
        self.model = model or ReadModel()
        self.cursor = FeedCursor(grace)
        self.polls = 0
        self.failures = 0
        self._loop: task.LoopingCall | None = None
        self._last_prune = 0.0
        self._polling: Deferred[Any] | None = None
        self.listen = listen  # PostgreSQL: LISTEN for the triggers' NOTIFY
        self.notifications = 0
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        """Load the whole model now (blocking; before the service answers)."""
        self._install(self._fetch_all())

    def _fetch_all(self) -> tuple[ReadModel, int, list[int]]:
        top = changes.latest_id(self.store)
        low = max(0, top - WINDOW)
        existing = [c[0] for c in changes.read_changes(self.store, low, WINDOW)]
        model = ReadModel()
        changes.snapshot(self.store, model.add_rows)
        return model, low, existing

    def _install(self, loaded: tuple[ReadModel, int, list[int]]) -> None:
        fresh, low, existing = loaded
        self.model.__dict__.update(fresh.__dict__)
        self.cursor.start(low, existing)

    # ------------------------------------------------------------ polling

    def startService(self) -> None:
        super().startService()
        self._loop = task.LoopingCall(self.poll)
        self._loop.clock = self.reactor
        self._loop.start(self.interval, now=False)
        if getattr(self.store, "dialect", None) == Dialect.POSTGRESQL and self.listen:
            self._listener = threading.Thread(target=self._listen, name="store-changes-listen", daemon=True)
            self._listener.start()

    def stopService(self) -> Any:
        super().stopService()
        self._stopping.set()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        return self._polling

    def _listen(self) -> None:
        """PostgreSQL: LISTEN on the feed's channel in a thread of its own and
        poll at once on a notification (the timer still polls: a notification
        lost with a connection costs at most one interval, never a change)."""
        while not self._stopping.is_set():
            conn = None
            try:
                conn = self.store._open()
                conn.execute(f"LISTEN {changes.CHANNEL}")
                while not self._stopping.is_set():
                    if any(True for _ in conn.notifies(timeout=1.0, stop_after=1)):
                        self.reactor.callFromThread(self._notified)
            except Exception:
                self._stopping.wait(self.interval)
            finally:
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass

    def _notified(self) -> None:
        self.notifications += 1
        if self.running:
            self.poll()

    def poll(self) -> Deferred[Any] | None:
        """One poll (skipped while the previous one runs)."""
        if self._polling is not None:
            return None
        now = self.reactor.seconds()
        d = deferToThreadPool(self.reactor, self.threadpool, self._fetch, now)
        d.addCallbacks(self._apply, self._poll_failed)
        d.addBoth(self._done)
        self._polling = d
        return d

    def _done(self, _: Any) -> None:
        self._polling = None
        self.polls += 1

    def _fetch(self, now: float) -> tuple[_Fetched, Any]:
        """In a pool thread: what changed since the cursor."""
        if now - self._last_prune >= self.prune_every:
            self._last_prune = now
            changes.prune(self.store, now - self.retention)
        if self.cursor.low < changes.pruned_through(self.store):
            return _Fetched.ALL, self._fetch_all()
        updates: list[tuple[str, list[str], list[tuple[Any, ...]]]] = []
        called: list[tuple[str, str | None]] = []
        while True:
            batch = changes.read_changes(self.store, self.cursor.low, BATCH)
            new = set(self.cursor.accept([c[0] for c in batch], now))
            keys: dict[str, dict[str, None]] = {}
            for ident, table, key, data in batch:
                if ident not in new:
                    continue
                if table == "called_numbers":
                    called.append((key, data))
                else:
                    keys.setdefault(table, {})[key] = None
            for table, wanted in keys.items():
                updates.append((table, list(wanted), changes.fetch_rows(self.store, table, list(wanted))))
            if len(batch) < BATCH or not new:
                return _Fetched.CHANGES, (updates, called)

    def _apply(self, result: tuple[_Fetched, Any]) -> None:
        kind, payload = result
        if kind is _Fetched.ALL:
            self._install(payload)
            self.log.info("read model reloaded: {accounts} accounts", accounts=len(self.model.accounts))
            return
        updates, called = payload
        for table, keys, rows in updates:
            self.model.apply(table, keys, rows)
        for number, data in called:
            self.model.apply_called(number, data)

    def _poll_failed(self, failure: Failure) -> None:
        self.failures += 1
        n = self.failures
        if n <= 10 or n % 1000 == 0:
            self.log.warn(
                "cannot read the store's change feed ({failures} so far); answering from the read model"
                " as it is: {error}",
                failures=n,
                error=failure.getErrorMessage(),
            )
