"""The embedded default (``appliance/demo/``) is the only part of ``appliance``
that imports the simulator, and only the command line imports it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _modules() -> list[tuple[str, set[str]]]:
    return [(str(p.relative_to(ROOT)), _imports(p)) for p in sorted((ROOT / "appliance").rglob("*.py"))]


def test_only_the_demo_package_imports_hwsim() -> None:
    offenders = [
        path
        for path, names in _modules()
        if not path.startswith("appliance/demo/") and any(n.split(".")[0] == "hwsim" for n in names)
    ]
    assert offenders == []


def test_the_demo_package_does_import_hwsim() -> None:
    """The check above looks at the right files: the embedded default is found importing the simulator."""
    demo = {path for path, names in _modules() if any(n.split(".")[0] == "hwsim" for n in names)}
    assert "appliance/demo/embedded.py" in demo


def test_only_the_command_line_imports_the_demo_package() -> None:
    offenders = [
        path
        for path, names in _modules()
        if not path.startswith(("appliance/demo/", "appliance/cli"))
        and any(n == "appliance.demo" or n.startswith("appliance.demo.") for n in names)
    ]
    assert offenders == []
