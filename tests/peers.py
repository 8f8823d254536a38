"""Finding real peer programs for interop tests.

Locally a missing peer skips the test with a message naming the Debian
package; in CI (``CI`` set to true) a missing peer fails the test, because
``.ci/run`` installs every peer.

A test that looks a peer up must be marked ``@pytest.mark.interop`` (so ``-m "not interop"``
leaves out exactly the tests that need peers): tests/conftest.py records the test being set up
or run in :data:`current_test`, and the lookups below fail an unmarked one.
"""

from __future__ import annotations

import glob
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: the pytest item being set up or run (None outside a test, e.g. in bench/)
current_test: pytest.Item | None = None


def check_marked(item: pytest.Item | None, program: str) -> None:
    """Fail ``item`` when it runs the peer ``program`` without the ``interop`` mark."""
    if item is not None and item.get_closest_marker("interop") is None:
        pytest.fail(f"{item.nodeid} runs the peer program {program} but is not marked @pytest.mark.interop")


def require_program(program: str, package: str) -> str:
    """Path of ``program``; skip (locally) or fail (CI) when it is missing."""
    check_marked(current_test, program)
    path = shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}") if os.access(p, os.X_OK)), None
    )
    if path:
        return path
    message = f"{program} not found: install the Debian package {package}"
    if IN_CI:
        pytest.fail(message + " (.ci/run should have installed it)")
    pytest.skip(message)


def require_postgres_bin() -> str:
    """The bin directory of a PostgreSQL server installation (initdb, pg_ctl)."""
    check_marked(current_test, "PostgreSQL (initdb, pg_ctl)")
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    message = "PostgreSQL server not found: install the Debian package postgresql"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
