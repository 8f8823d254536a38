"""The e-mail gateway's cores import no I/O, clock or randomness modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORES = ["appliance/mail/routing.py", "appliance/mail/t37.py", "appliance/mail/message.py",
         "appliance/mail/submission.py", "appliance/mail/config.py"]
FORBIDDEN = {"twisted", "socket", "time", "random", "os", "logging", "threading", "asyncio", "subprocess", "smtplib"}


@pytest.mark.parametrize("path", CORES)
def test_core_is_pure(path):
    """A mail core imports nothing that does I/O or reads clocks or randomness."""
    tree = ast.parse((ROOT / path).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{path} imports {sorted(imported & FORBIDDEN)}"
