"""Fixtures for the web tests: one real RADIUS server per session and a
fresh web service per test (``h``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred

from tests.radius.server_process import RunningServer, running
from tests.web.harness import DATASET, WebHarness


@pytest.fixture(scope="session")
def radius_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Our RADIUS server process with the web test accounts."""
    yield from running(tmp_path_factory.mktemp("radius"), DATASET)


@pytest.fixture
def h(tmp_path: Path, radius_server: RunningServer) -> Iterator[WebHarness]:
    """The web service on loopback, torn down after the test."""
    harness = WebHarness(tmp_path, radius_server)
    yield harness
    pytest_twisted.blockon(Deferred.fromCoroutine(harness.close()).addTimeout(30, reactor))
