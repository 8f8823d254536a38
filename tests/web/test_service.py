"""make_web_service: the service from a config's [web] table listens and
serves, and settles faxes a restart left in preprocessing."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest_twisted
from twisted.internet import reactor, task, threads

from appliance.config import parse
from appliance.jobs.model import EntryState, FaxSpec, Recipient
from appliance.web import make_web_service
from tests.e2e.harness import free_port
from tests.web.harness import ADMIN, WebHarness


@pytest_twisted.ensureDeferred
async def test_make_web_service_serves_and_settles(h: WebHarness, tmp_path: Path) -> None:
    """The service listens where [web] says, answers FFWS, and marks half-converted faxes dead on start."""
    h.jobs.submit(FaxSpec(owner="alice", preprocessing=True), [Recipient(fax_number="5551234")], 1.0)
    config = parse(
        f'data_dir = "{tmp_path}"\n[storage]\nurl = "sqlite:///{tmp_path}/store.db"\n'
        f'[web]\nlisten = "127.0.0.1"\nport = {free_port(socket.SOCK_STREAM)}\n',
        str(tmp_path / "f.toml"),
    )
    service = make_web_service(
        config, reactor, jobs=h.jobs, scheduler=None, lines=h.lines, inbox=h.inbox, authenticator=h.authenticator
    )
    service.startService()
    try:
        port = await service._waitingForPort  # type: ignore[attr-defined]
        url = f"http://127.0.0.1:{port.getHost().port}/ffws/v1/status"
        response = await threads.deferToThread(httpx.get, url, auth=ADMIN, timeout=20)
        assert response.status_code == 200
        await service.site.app.idle()
        for _ in range(50):
            entries = await threads.deferToThread(h.jobs.list_entries)
            if entries[0].state is EntryState.DEAD:
                break
            await task.deferLater(reactor, 0.05, lambda: None)
        assert entries[0].state is EntryState.DEAD
    finally:
        await service.stopService()
        await threads.deferToThread(service.site.app.directory.close)


def test_stop_waits_for_the_settling_started_at_start() -> None:
    """stopService fires only once the start's settling of half-converted faxes has ended
    (it runs in the thread pool and uses the job store, which is closed after the stop)."""
    from types import SimpleNamespace

    from twisted.internet import defer
    from twisted.internet.endpoints import TCP4ServerEndpoint
    from twisted.internet.testing import MemoryReactor

    from appliance.web import WebService

    settling: defer.Deferred[int] = defer.Deferred()
    app = SimpleNamespace(run=lambda f: settling)
    service = WebService(TCP4ServerEndpoint(MemoryReactor(), 0), SimpleNamespace(app=app))  # type: ignore[arg-type]
    service.startService()
    stopped = service.stopService()
    assert not stopped.called
    settling.callback(0)
    assert stopped.called
