"""Sans-I/O cores import no I/O, clock or randomness modules (style guide A1),
checked by parsing the imports, so the rule cannot quietly drift."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORES = [
    "radius/model.py",
    "radius/codec.py",
    "radius/fit.py",
    "radius/handlers.py",
    "radius/read_model.py",
    "modem/at.py",
    "modem/class2.py",
    "appliance/config.py",
    "appliance/dialplan.py",
    "appliance/logsafe.py",
    "appliance/heartbeat_state.py",
    "appliance/progress.py",
    "appliance/_progress_view.py",
    "appliance/retention.py",
    "modem/progress.py",
    "modem/events.py",
    "modem/_session_types.py",
    "modem/_session.py",
    "modem/dialect.py",
    "modem/probe.py",
    "modem/receive.py",
    "modem/rxpages.py",
    "modem/params.py",
    "modem/hangup.py",
    "modem/pagedata.py",
    "appliance/mail/routing.py",
    "appliance/mail/t37.py",
    "appliance/mail/message.py",
    "appliance/mail/submission.py",
    "appliance/mail/config.py",
]
FORBIDDEN = {
    "twisted",
    "serial",
    "socket",
    "httpx",
    "time",
    "random",
    "os",
    "logging",
    "threading",
    "asyncio",
    "subprocess",
    "smtplib",
}


@pytest.mark.parametrize("path", CORES)
def test_core_has_no_io_imports(path):
    """A core module imports nothing that does I/O or reads clocks or randomness."""
    tree = ast.parse((ROOT / path).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{path} imports {sorted(imported & FORBIDDEN)}"


def test_only_codec_imports_pyrad():
    """pyrad stays behind radius/codec.py."""
    offenders = []
    for path in ROOT.glob("radius/**/*.py"):
        if path.name != "codec.py" and "pyrad" in path.read_text():
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_products_do_not_import_hwsim():
    """radius/, modem/ and appliance/ never import the simulator (only wiring and tests do)."""
    offenders = []
    for pkg in ("radius", "modem"):
        for path in (ROOT / pkg).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                )
                if any(n.split(".")[0] == "hwsim" for n in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
