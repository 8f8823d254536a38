"""CLI fixtures: a config file naming a temp SQLite store, and a runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest

from appliance.cli import CliIO, main
from radius.store import Store, open_store


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "store.db"


@pytest.fixture
def config_file(tmp_path: Path, db_path: Path) -> Path:
    path = tmp_path / "faxappliance.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{db_path}"\n', encoding="utf-8")
    return path


@pytest.fixture
def run(config_file: Path) -> Run:
    """``run("accounts", "list", stdin="…")``: faxappliance --config FILE …"""

    def run_(*argv: str, stdin: str = "") -> Result:
        io = CliIO(stdout=StringIO(), stderr=StringIO(), stdin=StringIO(stdin))
        code = main(["--config", str(config_file), *argv], io=io)
        return Result(code, io.stdout.getvalue(), io.stderr.getvalue())  # type: ignore[attr-defined]

    return run_


@pytest.fixture
def store(db_path: Path, run: Run) -> Iterator[Store]:
    """The CLI's store, opened directly to check what the commands did."""
    opened = open_store(f"sqlite:///{db_path}")
    yield opened
    opened.close()
