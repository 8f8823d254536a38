"""Shared fixtures.  In CI (CI=true) a missing peer program fails, never skips:
see tests/peers.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY_DIR = ROOT / "dictionary"

# hw-sim is imported as hwsim; make that work from a plain checkout too.
if str(ROOT / "hw-sim") not in sys.path:
    sys.path.insert(0, str(ROOT / "hw-sim"))

os.environ.setdefault("PYTHONHASHSEED", "0")

import pytest  # noqa: E402

from tests import peers  # noqa: E402

# One throwaway PostgreSQL cluster per test session, shared by every package.
from tests.pg import pg_cluster  # noqa: E402,F401


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember the test whose fixtures and body run next: a peer lookup checks its interop mark."""
    peers.current_test = item


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    peers.current_test = None
