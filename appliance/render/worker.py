"""A render worker process: ``python -m appliance.render.worker FD MEMORY SECONDS``.

Started by :class:`appliance.render.pool.RenderPool` with one end of a
socket pair as file descriptor FD.  It limits its own address space to
MEMORY bytes (RLIMIT_AS), then runs the jobs it receives, each under a
SECONDS interval timer, and sends back the result, the job's
``DocumentError``, or the kind of failure.  After a time or memory failure
it exits, so no half-finished state is ever reused.
"""

from __future__ import annotations

import multiprocessing.connection
import signal
import sys
from collections.abc import Callable
from typing import Any

_PRELOAD = ("modem.document", "modem._render", "modem.fax_files", "appliance.render.convert", "appliance.render.jobs")


class _Timeout(BaseException):
    """Raised by the interval timer (BaseException: no ``except Exception`` in a job swallows it)."""


def _worker_main(conn: multiprocessing.connection.Connection, memory_bytes: int, seconds: float) -> None:
    """A worker's life: apply the limits, then run jobs until told to stop."""
    import importlib
    import resource
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    for name in _PRELOAD:
        importlib.import_module(name)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGALRM, _alarm)
    trim = _malloc_trim()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn, args, kwargs, wants_progress = job
        if wants_progress:
            kwargs["progress"] = lambda n: _send_whole(conn, ("progress", n))
        reply: tuple[Any, ...]
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                reply = ("ok", fn(*args, **kwargs))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Timeout:
            reply = ("timeout",)
        except MemoryError:
            reply = ("memory",)
        except Exception as exc:
            reply = _error_reply(exc, traceback.format_exc())
        del job, fn, args, kwargs
        try:
            conn.send(reply)
        except MemoryError:
            return
        if reply[0] in ("timeout", "memory"):
            return  # state after an interrupted job is not trusted: a fresh process takes over
        del reply
        trim()


def _send_whole(conn: multiprocessing.connection.Connection, message: Any) -> None:
    """Send with the timer's signal held, so a time-out never cuts a message in half."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        conn.send(message)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})  # a due time-out is raised here


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def _error_reply(exc: Exception, details: str) -> tuple[Any, ...]:
    import pickle

    from modem.document import DocumentError

    if isinstance(exc, DocumentError):
        try:
            pickle.dumps(exc)
            return ("error", exc)
        except Exception:
            pass
    return ("crash", f"{type(exc).__name__}: {exc}", details)


def _malloc_trim() -> Callable[[], None]:
    """glibc's malloc_trim: hands freed heap back to the system after each job (no-op elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return lambda: libc.malloc_trim(0) and None
    except (OSError, AttributeError):
        return lambda: None


if __name__ == "__main__":
    _worker_main(multiprocessing.connection.Connection(int(sys.argv[1])), int(sys.argv[2]), float(sys.argv[3]))
