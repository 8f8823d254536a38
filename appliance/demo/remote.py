"""A remote fax machine on a simulated line, for the embedded default.

It auto-answers every call and stores what it receives under
``<directory>/fax-NNNN.tif`` (+ ``.pdf`` and PNG previews); complete faxes
only.  Each page received good is also noted in ``<directory>/printed.jsonl``
before it is confirmed to the sender, as a fax machine prints it.  Told to
send (a request file ``<directory>/outbox/*.json``: ``{"to": NUMBER,
"files": [PATH, …]}``, written by ``faxappliance remote-send``), it stops
waiting for calls, sends, and waits again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.application import service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from appliance.pending import PendingWork
from modem import class2 as c2
from modem import t4
from modem.document import PageSize, Resolution, render
from modem.driver import ModemProtocol
from modem.params import PageFormat
from modem.supervisor import LineState, LineSupervisor, open_serial
from modem.tiff import received_to_files

__all__ = ["RemoteMachine", "RunBlocking", "request_send"]

#: runs a blocking call in a thread (the demo passes a plain function over ``deferToThreadPool``)
RunBlocking = Callable[..., Deferred[Any]]


def request_send(directory: Path, to: str, files: list[str]) -> Path:
    """Queue a send request for the remote machine whose directory is ``directory``."""
    outbox = directory / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{os.getpid()}-{len(list(outbox.iterdir()))}-{os.urandom(3).hex()}.json"
    tmp = outbox / (name + ".tmp")
    tmp.write_text(json.dumps({"to": to, "files": [str(Path(f).resolve()) for f in files]}), encoding="utf-8")
    os.replace(tmp, outbox / name)
    return outbox / name


def _store(directory: Path, result: c2.SessionResult) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    taken = {p.stem for p in directory.glob("fax-*.tif")}
    n = len(taken) + 1
    while f"fax-{n:04d}" in taken:
        n += 1
    fine = result.params.fine if result.params else True
    files = received_to_files(
        [p.data for p in result.received],
        Resolution.FINE if fine else Resolution.NORMAL,
        directory,
        f"fax-{n:04d}",
        codings=[p.coding for p in result.received],
    )
    (directory / f"fax-{n:04d}.json").write_text(
        json.dumps(
            {
                "caller_id": result.caller_id or "",
                "remote_id": (result.remote_id or "").strip(),
                "pages": len(result.received),
            }
        ),
        encoding="utf-8",
    )
    return files.tiff


def _pages(files: list[str]) -> list[bytes]:
    return [t4.encode_page(page) for page in render(files, Resolution.FINE, PageSize.A4)]


class RemoteMachine(service.Service):
    """See the module docstring."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        reactor: IReactorTime,
        number: str,
        device: str,
        directory: Path,
        run_blocking: RunBlocking,
    ) -> None:
        self.clock = clock
        self.number = number
        self.directory = directory
        self.run = run_blocking
        self.supervisor = LineSupervisor(
            clock, device, c2.SessionConfig(local_id=number), open_serial(reactor), backoff_initial=0.5, backoff_max=5.0
        )
        self.received = 0
        self.sent = 0
        self._sending = False
        self._outbox = LoopingCall(self._check_outbox)
        self._outbox.clock = clock
        self.pending = PendingWork(clock, f"remote {number}")

    def startService(self) -> None:
        super().startService()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.supervisor.watch(self._state)
        self.supervisor.start()
        self._outbox.start(0.5, now=False)

    def stopService(self) -> Deferred[None]:
        """Stop waiting for calls (a call under way is cancelled); fires once
        what it received is stored."""
        super().stopService()
        if self._outbox.running:
            self._outbox.stop()
        proto = self.supervisor.protocol
        if proto is not None and proto.busy:
            proto.cancel("stopping")
        self.supervisor.stop()
        return self.pending.drain(timeout=10.0)

    def _state(self, state: LineState) -> None:
        if state is LineState.ONLINE:
            self._wait_call()

    def _wait_call(self) -> None:
        proto = self.supervisor.protocol
        if not self.running or self._sending or proto is None or proto.busy:
            return
        self.pending.run(self._answer(proto), "receiving")

    async def _answer(self, proto: ModemProtocol) -> None:
        try:
            result = await proto.receive(1, lambda n: self._page_printed(proto, n))
        except Exception:  # the modem went away: the supervisor's next ONLINE waits again
            self._failed(Failure())
            return
        if result.ok and result.received:
            self.received += 1
            try:
                path = await self.run(_store, self.directory, result)
                self.log.info("remote {number} received {path}", number=self.number, path=str(path))
            except Exception:
                self._failed(Failure())
        self._wait_call()

    def _page_printed(self, proto: ModemProtocol, count: int) -> None:
        """Like a fax machine printing each page as it is confirmed: one line in
        ``printed.jsonl`` per good page, written before the sender sees the MCF
        (``last``: the sender said it was the last page)."""
        session = proto.session
        record = {
            "remote_id": (getattr(session, "remote_id", None) or "").strip(),
            "page": count,
            "last": getattr(session, "ppm", None) == 2,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "printed.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()

    def _failed(self, failure: Failure) -> None:
        self.log.warn("remote {number}: {error}", number=self.number, error=failure.getErrorMessage())

    def _check_outbox(self) -> None:
        if self._sending:
            return
        outbox = self.directory / "outbox"
        requests = sorted(p for p in outbox.glob("*.json")) if outbox.is_dir() else []
        if not requests:
            return
        path = requests[0]
        try:
            request = json.loads(path.read_text(encoding="utf-8"))
        finally:
            path.unlink(missing_ok=True)
        self._sending = True
        proto = self.supervisor.protocol
        if proto is not None and proto.busy:
            proto.cancel("sending a fax")
        self.pending.run(self._send_request(str(request["to"]), list(request["files"])), "sending")

    async def _send_request(self, to: str, files: list[str]) -> None:
        try:
            pages: list[bytes] = await self.run(_pages, files)
            await self._send(to, pages)
        except Exception:
            self._failed(Failure())
        self._sending = False
        self._wait_call()

    async def _send(self, to: str, pages: list[bytes]) -> None:
        proto = self.supervisor.protocol
        if proto is None:
            raise RuntimeError(f"remote {self.number} is offline")
        await self._when_idle(proto)
        result = await proto.send(to, pages, PageFormat(fine=True))
        if result.ok:
            self.sent += 1
        self.log.info(
            "remote {number} sent to {to}: {outcome} ({detail})",
            number=self.number,
            to=to,
            outcome=result.outcome.value,
            detail=result.detail,
        )

    def _when_idle(self, proto: ModemProtocol) -> Deferred[None]:
        d: Deferred[None] = Deferred()

        def check() -> None:
            if proto.busy:
                self.clock.callLater(0.1, check)
            else:
                d.callback(None)

        check()
        return d
