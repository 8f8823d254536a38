"""Fixtures for the FAXAGE tests: ``h``, the loopback harness."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_twisted

from tests.cloud.simharness import Harness


@pytest.fixture
def h() -> Iterator[Harness]:
    """The simulator and the client on loopback, torn down after the test."""
    harness = Harness()
    yield harness
    pytest_twisted.blockon(harness.close())
