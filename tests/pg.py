"""A throwaway PostgreSQL cluster for tests (initdb + pg_ctl in a temp dir).

The server listens only on a unix socket in its own temp dir
(``listen_addresses=''``), so it never collides with a system PostgreSQL.
As root, initdb and the server run as the ``postgres`` user (PostgreSQL
refuses to run as root) via ``runuser``.  Use from a session fixture::

    bindir = require_postgres_bin()
    cluster = PostgresCluster(bindir)
    cluster.start()
    url = cluster.create_database("t1")
    ...
    cluster.stop()
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.peers import require_postgres_bin

__all__ = ["PostgresCluster", "PostgresClusterError", "pg_cluster"]

TIMEOUT = 60.0


class PostgresClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    def __init__(self, bindir: str, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # False: fsync off, for fast tests
        self.port = _free_port()
        self.base: Path | None = None
        self.user = "postgres"
        self._as_postgres = os.geteuid() == 0
        if not self._as_postgres:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        self._running = False

    # ----------------------------------------------------------- process

    def _run(self, *argv: str) -> str:
        cmd = [str(Path(self.bindir) / argv[0]), *argv[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, cwd="/"
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresClusterError(f"{argv[0]} did not finish within {TIMEOUT:.0f} s") from exc
        if done.returncode != 0:
            raise PostgresClusterError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        # As root, in /tmp: the postgres user must be able to reach the directory
        # (a TMPDIR under /root would not do).
        self.base = Path(tempfile.mkdtemp(prefix="faxpg-", dir="/tmp" if self._as_postgres else None))
        if self._as_postgres:
            shutil.chown(self.base, user="postgres", group="postgres")
        data = self.base / "data"
        self._run(
            "initdb", "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"
        )
        options = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{self.base}'",
            f"-p {self.port}",
            "-c max_connections=60",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        atexit.register(self.stop)
        self._running = True
        self._options = " ".join(options)
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            self._options,
            "start",
        )

    def halt(self) -> None:
        """Stop the server at once (``-m immediate``: like a crash), keeping its data; see :meth:`resume`."""
        assert self.base is not None and self._running, "cluster not running"
        self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "-t", "30", "stop")
        self._running = False

    def resume(self) -> None:
        """Start the server again after :meth:`halt` (crash recovery from its WAL)."""
        assert self.base is not None and not self._running, "cluster not halted"
        self._running = True
        self._run(
            "pg_ctl",
            "-D",
            str(self.base / "data"),
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            self._options,
            "start",
        )

    def stop(self) -> None:
        if self.base is None:
            return
        if self._running:
            self._running = False
            try:
                self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "-t", "30", "stop")
            except PostgresClusterError:
                pass  # it may never have started; the temp dir goes anyway
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    # ---------------------------------------------------------- databases

    def url(self, database: str = "postgres") -> str:
        """A libpq URI for ``database`` over the unix socket."""
        assert self.base is not None, "cluster not started"
        return f"postgresql://{quote(self.user)}@/{quote(database)}?host={quote(str(self.base))}&port={self.port}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (dropping any old one) and return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        """The server log, for failure messages."""
        if self.base is None:
            return ""
        try:
            return (self.base / "server.log").read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A running throwaway cluster for the whole session (import this fixture
    into a conftest.py; skips locally, fails in CI, without PostgreSQL)."""
    cluster = PostgresCluster(require_postgres_bin())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
