"""Document conversion in a small pool of bounded worker processes.

Each worker is a fresh interpreter (``python -m appliance.render.worker``,
talking over a socket pair: nothing of the parent's threads, sockets or
main module is inherited) with an address-space limit (RLIMIT_AS);
each job has a time limit, enforced inside the worker by an interval timer
and, should the worker not answer, by the parent killing it.  A worker that
dies, runs out of memory or out of time fails only the job it was running;
the next job gets a fresh process.  Workers are also replaced after
:data:`JOBS_PER_WORKER` jobs, so whatever a long run leaves in a worker's
heap is given back.

:meth:`RenderPool.call` blocks: the Twisted adapter
(:class:`appliance.render.runner.Renderer`) runs it in a thread, and a
short-lived command may call it directly.  Jobs are module-level functions
(they are pickled by name); arguments and results should be small (file
paths, bytes of a document, counts), never page bitmaps.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from appliance.render.limits import Limits

__all__ = [
    "JOBS_PER_WORKER",
    "RenderCrash",
    "RenderError",
    "RenderLimitError",
    "RenderPool",
    "WorkerDied",
    "worker_rss_bytes",
]

JOBS_PER_WORKER = 50
KILL_GRACE_SECONDS = 5.0  # the parent's deadline past the worker's own timer


class RenderError(Exception):
    """A conversion that did not finish; the message is fit for the user."""


class RenderLimitError(RenderError):
    """A conversion that needed more time or memory than ``[limits]`` allows."""


class WorkerDied(RenderError):
    """The worker process ended while converting (killed, or crashed in native code)."""


class RenderCrash(RenderError):
    """The job raised an unexpected error; ``details`` holds the worker's traceback."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class _Worker:
    """One worker process, used by one thread at a time."""

    def __init__(self, limits: Limits, kill_grace: float) -> None:
        self.limits = limits
        self.kill_grace = kill_grace
        self.process: subprocess.Popen[bytes] | None = None
        self.conn: multiprocessing.connection.Connection | None = None
        self.jobs = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def _start(self) -> None:
        parent, child = socket.socketpair()
        # OPENBLAS_NUM_THREADS: numpy (bit packing) loads OpenBLAS, whose per-thread buffers would
        # take a large share of the address-space limit; the worker does no linear algebra.
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), OPENBLAS_NUM_THREADS="1")
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "appliance.render.worker",
                    str(child.fileno()),
                    str(self.limits.worker_memory_bytes),
                    repr(self.limits.render_seconds),
                ],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        finally:
            child.close()
        self.process, self.conn, self.jobs = process, multiprocessing.connection.Connection(parent.detach()), 0

    def call(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        progress: Callable[[int], None] | None,
    ) -> Any:
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self._start()
        assert self.conn is not None
        self.jobs += 1
        try:
            self.conn.send((fn, args, kwargs, progress is not None))
        except (OSError, ValueError):
            raise self._died() from None
        try:
            kind, payload = self._answer(progress)
        except RenderError:
            raise
        except BaseException:  # a progress callback failed, or this thread was interrupted
            self.stop()  # the job may still be running: this worker is not reused
            raise
        if kind in ("timeout", "memory") or self.jobs >= JOBS_PER_WORKER:
            self.stop()  # the worker leaves by itself after a limit; a fresh one comes next time
        if kind == "ok":
            return payload[0]
        if kind == "error":
            raise payload[0]
        if kind == "timeout":
            raise RenderLimitError(_too_slow(self.limits))
        if kind == "memory":
            raise RenderLimitError(_too_big(self.limits))
        raise RenderCrash(f"conversion failed ({payload[0]})", payload[1])

    def _answer(self, progress: Callable[[int], None] | None) -> tuple[str, list[Any]]:
        """The worker's reply to the job just sent, relaying progress reports."""
        assert self.conn is not None
        deadline = time.monotonic() + self.limits.render_seconds + self.kill_grace
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.conn.poll(remaining):
                self.stop()
                raise RenderLimitError(_too_slow(self.limits))
            try:
                kind, *payload = self.conn.recv()
            except (EOFError, OSError):
                raise self._died() from None
            if kind != "progress":
                return kind, payload
            if progress is not None:
                progress(payload[0])

    def _died(self) -> WorkerDied:
        process = self.process
        self.stop()
        code = process.returncode if process is not None else None
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit status {code}"
        return WorkerDied(
            f"the conversion process stopped unexpectedly ({how}); the document may need more "
            f"memory or time than [limits] allows, or be malformed"
        )

    def stop(self) -> None:
        """End the process (politely when idle, at once otherwise) and reap it."""
        process, conn = self.process, self.conn
        self.process = self.conn = None
        if conn is not None:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
            conn.close()
        if process is not None:
            try:
                process.wait(0.5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _too_slow(limits: Limits) -> str:
    return (
        f"the document took longer to convert than the limit of {limits.render_seconds:g} seconds "
        f"([limits] render_seconds)"
    )


def _too_big(limits: Limits) -> str:
    return (
        f"the document needs more memory to convert than the limit of {limits.worker_memory_mb} MB "
        f"([limits] worker_memory_mb)"
    )


class RenderPool:
    """Up to ``limits.workers`` worker processes, started when first needed.

    A worker that has not answered ``kill_grace`` seconds after its own
    timer should have stopped the job (stuck in native code) is killed.
    """

    def __init__(self, limits: Limits | None = None, *, kill_grace: float = KILL_GRACE_SECONDS) -> None:
        self.limits = limits or Limits()
        self._idle = [_Worker(self.limits, kill_grace) for _ in range(self.limits.workers)]
        self._busy: list[_Worker] = []
        self._lock = threading.Lock()
        self._free = threading.Semaphore(self.limits.workers)
        self._closed = False

    def call(
        self, fn: Callable[..., Any], *args: Any, progress: Callable[[int], None] | None = None, **kwargs: Any
    ) -> Any:
        """``fn(*args, **kwargs)`` in a worker (blocking); with ``progress``, ``fn`` gets a
        ``progress`` callable whose calls are relayed here.

        Raises what ``fn`` raises when it pickles (``DocumentError``), or a
        :class:`RenderError` for a worker that died or broke a limit.
        """
        with self._free:
            with self._lock:
                if self._closed:
                    raise RenderError("document conversion is shut down")
                worker = self._idle.pop()
                self._busy.append(worker)
            try:
                return worker.call(fn, args, kwargs, progress)
            finally:
                with self._lock:
                    self._busy.remove(worker)
                    self._idle.append(worker)
                    if self._closed:
                        worker.stop()

    def worker_pids(self, busy_only: bool = False) -> list[int]:
        """Process ids of the running workers (those converting, with ``busy_only``)."""
        with self._lock:
            workers = list(self._busy) if busy_only else self._busy + self._idle
        return [pid for pid in (w.pid for w in workers) if pid is not None]

    def close(self) -> None:
        """Stop idle workers now and busy ones as their jobs end (or at once: their jobs fail)."""
        with self._lock:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
        for worker in idle:
            worker.stop()
        for worker in busy:
            process = worker.process
            if process is not None and process.poll() is None:
                process.kill()

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def worker_rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux /proc), for status and tests."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
