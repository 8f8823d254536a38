"""Test doubles for our own seams: a Clock reactor that runs thread-pool work
inline (or holds it), so adapters are tested without threads or sleeping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.task import Clock
from twisted.python.failure import Failure


class ClockReactor(Clock):
    """A task.Clock that also offers callFromThread (run at once)."""

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        f(*args, **kwargs)


class InlineThreadPool:
    """Runs submitted work immediately, or holds it while ``hold`` is set."""

    def __init__(self) -> None:
        self.hold = False
        self.held: list[Callable[[], None]] = []
        self.started = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def callInThreadWithCallback(
        self,
        on_result: Callable[[bool, Any], None],
        f: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        def run() -> None:
            try:
                result = f(*args, **kwargs)
            except BaseException:
                on_result(False, Failure())
            else:
                on_result(True, result)

        if self.hold:
            self.held.append(run)
        else:
            run()

    def release(self) -> None:
        held, self.held = self.held, []
        for run in held:
            run()
