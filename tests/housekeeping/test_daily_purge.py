"""The running appliance's daily purge: ApplianceService runs the
[retention] housekeeping in its thread pool and logs what went."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest_twisted
from twisted.internet import reactor
from twisted.python.threadpool import ThreadPool

from appliance.config import parse
from appliance.inbound.inbox import Inbox
from appliance.jobs import open_job_store
from appliance.wiring.controller import ApplianceService
from modem.document import FAX_WIDTH, FaxPage, Resolution
from modem.t4 import encode_page
from radius.store import open_store


@pytest_twisted.ensureDeferred
async def test_the_daily_purge_removes_old_received_faxes(tmp_path: Path) -> None:
    from PIL import Image

    config = parse(f'data_dir = "{tmp_path}/var"\n[retention]\nreceived = 10\n', "test.toml")
    page = encode_page(FaxPage(Image.new("1", (FAX_WIDTH, 20), 1), Resolution.NORMAL))
    inbox = Inbox(tmp_path / "var" / "inbox")
    old = inbox.add_received("demo", [page], False, received_at=time.time() - 11 * 86400)
    young = inbox.add_received("demo", [page], False, received_at=time.time() - 9 * 86400)
    url = f"sqlite:///{tmp_path}/db.sqlite"
    jobs, store = open_job_store(url), open_store(url)
    pool = ThreadPool(1, 1)
    pool.start()
    try:
        appliance = SimpleNamespace(config=config, threadpool=pool, jobs=jobs, inbox=inbox, store=store)
        await ApplianceService(appliance, reactor)._purge()  # type: ignore[arg-type]
        assert inbox.get(old.id) is None and inbox.get(young.id) is not None
    finally:
        pool.stop()
        jobs.close()
        store.close()
