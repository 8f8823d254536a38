"""Jobs for the pool tests (module-level: the worker imports them by name)."""

from __future__ import annotations

import os
import signal
import time


def pid() -> int:
    return os.getpid()


def deaf_sleep(seconds: float) -> str:
    """Sleep with the time-limit signal blocked, like native code that never returns to Python."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(seconds)
    return "woke up"


def broken() -> None:
    raise KeyError("a bug")
