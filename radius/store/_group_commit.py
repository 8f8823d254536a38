"""Group commit: records submitted while a commit is running share the next one.

Each durable commit costs a disk flush; when several pool threads record
accounting at once, one of them (the leader) commits everything queued so
far in one transaction while the others wait for their results.  A record
that fails is retried alone so that it cannot fail its neighbours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["GroupCommit", "Pending"]

R = TypeVar("R")


class Pending(Generic[R]):
    """One submitted item and, once ``done``, its result or error."""

    __slots__ = ("done", "error", "payload", "result")

    def __init__(self, payload: Any) -> None:
        self.payload = payload
        self.result: R | None = None
        self.error: BaseException | None = None
        self.done = False


class GroupCommit(Generic[R]):
    """``submit(payload)`` runs ``commit(payloads) -> results`` for a batch
    (one transaction), shared with whatever other threads submitted meanwhile."""

    def __init__(self, commit: Callable[[list[Any]], list[R]]) -> None:
        self._commit = commit
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[Pending[R]] = []
        self._committing = False

    def submit(self, payload: Any) -> R:
        item: Pending[R] = Pending(payload)
        batch: list[Pending[R]] = []
        with self._cond:
            self._queue.append(item)
            while self._committing and not item.done:
                self._cond.wait()
            if not item.done:  # lead: commit everything queued so far
                self._committing = True
                batch, self._queue = self._queue, []
        if batch:
            try:
                self.run_batch(batch)
            finally:
                with self._cond:
                    self._committing = False
                    self._cond.notify_all()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]

    def run_batch(self, batch: list[Pending[R]]) -> None:
        """Commit ``batch``; on failure, each item alone (so only bad ones fail)."""
        try:
            results = self._commit([item.payload for item in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                batch[0].done = True
                return
            for item in batch:
                self.run_batch([item])
            return
        for item, result in zip(batch, results):
            item.result = result
            item.done = True
