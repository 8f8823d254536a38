"""The modem cores stay sans-I/O: no twisted/serial/socket/time/random/os/logging imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODEM = Path(__file__).resolve().parents[2] / "modem"
CORES = [
    "at.py",
    "class2.py",
    "_session.py",
    "_session_types.py",
    "events.py",
    "progress.py",
    "dialect.py",
    "probe.py",
    "params.py",
    "hangup.py",
    "rxpages.py",
    "receive.py",
    "pagedata.py",
]
FORBIDDEN = {"twisted", "serial", "socket", "time", "random", "os", "logging", "httpx", "threading", "asyncio"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("name", CORES)
def test_core_imports_no_io(name: str) -> None:
    """A core module imports nothing that does I/O, reads a clock or draws randomness."""
    bad = imported_roots(MODEM / name) & FORBIDDEN
    assert not bad, f"modem/{name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", sorted(path.name for path in MODEM.glob("*.py")))
def test_module_size(name: str) -> None:
    """No modem module is over 500 lines."""
    assert len((MODEM / name).read_text().splitlines()) <= 500
