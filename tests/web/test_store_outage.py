"""The web API while the job store's PostgreSQL server is down: 503 with
Retry-After (never 500), and normal answers once it is back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import threads

from appliance.jobs import open_job_store
from appliance.web.resources import STORE_RETRY_AFTER
from tests.peers import require_postgres_bin
from tests.pg import PostgresCluster
from tests.web.harness import ALICE, WebHarness

pytestmark = [pytest.mark.interop]


@pytest_twisted.ensureDeferred
async def test_store_unreachable_is_503_with_retry_after(tmp_path: Path, radius_server: Any) -> None:
    cluster = PostgresCluster(require_postgres_bin(), durable=True)  # a crash keeps what was committed
    cluster.start()
    harness = None
    try:
        jobs = open_job_store(cluster.create_database("web_outage"))
        harness = WebHarness(tmp_path, radius_server, jobs=jobs)
        assert (await harness.request("GET", "/ffws/v1/ofax", auth=ALICE)).status_code == 200
        await threads.deferToThread(cluster.halt)
        down = await harness.request("GET", "/ffws/v1/ofax", auth=ALICE)
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"] == str(STORE_RETRY_AFTER)
        assert "unreachable" in down.text and "postgresql://" not in down.text.lower()
        await threads.deferToThread(cluster.resume)
        assert (await harness.request("GET", "/ffws/v1/ofax", auth=ALICE)).status_code == 200  # reconnected
    finally:
        if harness is not None:
            await harness.close()
        cluster.stop()
