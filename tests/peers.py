"""Finding real peer programs for interop tests.

Locally a missing peer skips the test with a message naming the Debian
package; in CI (``CI`` set to true) a missing peer fails the test, because
``.ci/run`` installs every peer.
"""

from __future__ import annotations

import glob
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_program(program: str, package: str) -> str:
    """Path of ``program``; skip (locally) or fail (CI) when it is missing."""
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
