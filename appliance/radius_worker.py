"""One RADIUS worker process (started by :class:`radius.workers.RadiusWorkers`).

Reads its settings (a pickled ``WorkerSettings``) from stdin, opens the store,
loads the read model, listens on the shared ports with SO_REUSEPORT and
reports ``ready`` (or ``error: ...``) on file descriptor 3.  It stops on
SIGTERM or when stdin reaches end of file (the supervisor is gone).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable

from twisted.application import service
from twisted.internet.interfaces import IReactorCore, IReactorFromThreads
from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)

from appliance.startup import StartupError, start_all, stop_started
from appliance.wiring.radius_services import make_radius_service
from radius.store import StoreError, open_store


def _report(line: str) -> None:
    try:
        os.write(3, (line.replace("\n", " ") + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def _stopper(reactor: IReactorCore) -> Callable[[], None]:
    """A function that stops the reactor once, however often it is called."""
    stopping: list[bool] = []

    def stop() -> None:
        if not stopping:
            stopping.append(True)
            reactor.stop()

    reactor.addSystemEventTrigger("before", "shutdown", lambda: stopping.append(True))
    return stop


def _watch_stdin(reactor: IReactorFromThreads, stop: Callable[[], None]) -> None:
    """Stop when the supervisor goes away (stdin: end of file)."""

    def wait() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        reactor.callFromThread(stop)

    threading.Thread(target=wait, name="supervisor-watch", daemon=True).start()


def main() -> int:
    settings = pickle.load(sys.stdin.buffer)  # from the supervisor, our parent: trusted
    config = settings["config"]  # (and "index": this worker's number)

    from appliance.wiring.reactor import reactor  # installs the default reactor: not at import time

    observer = FilteringLogObserver(textFileLogObserver(sys.stderr), [LogLevelFilterPredicate(LogLevel.warn)])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
    try:
        store = open_store(config.storage.url, init=False)
    except StoreError as exc:
        _report(f"error: {exc}")
        return 1
    top = service.MultiService()
    make_radius_service(config, reactor, store=store, reuse_port=True).setServiceParent(top)
    status = {"code": 0}
    stop = _stopper(reactor)

    def start() -> None:
        try:
            problem = start_all(top)
        except (StartupError, StoreError) as exc:
            problem = str(exc)
        if problem is not None:
            _report(f"error: {problem}")
            status["code"] = 1
            stop()
            return
        _report("ready")

    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", stop_started, top)
    reactor.addSystemEventTrigger("after", "shutdown", store.close)
    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(stop))
    _watch_stdin(reactor, stop)
    reactor.run()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main())
