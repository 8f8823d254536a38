"""Layering rules, checked by parsing the source with ``ast`` so they cannot quietly drift:

* sans-I/O cores import no I/O, clock or randomness modules (style guide A1), and the list of
  cores is the list of modules mypy checks strictly (pyproject.toml);
* only ``radius/codec.py`` imports pyrad;
* nothing outside ``tests/``, ``bench/`` and the embedded default imports the simulator ``hwsim``;
* ``radius/`` and ``modem/`` never import ``appliance/`` (module-level or inside functions);
* no import circle among the modules of radius, modem, appliance and hwsim;
* no module over 500 lines outside ``bench/``.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORES = [
    "radius/model.py",
    "radius/codec/__init__.py",
    "radius/codec/wire.py",
    "radius/codec/dictionary.py",
    "radius/codec/decode.py",
    "radius/codec/encode.py",
    "radius/fit.py",
    "radius/handlers.py",
    "radius/read_model.py",
    "radius/server_core.py",
    "radius/decision_cache.py",
    "radius/clients.py",
    "radius/passwords.py",
    "radius/store/api.py",
    "radius/store/_records.py",
    "radius/store/_sql.py",
    "radius/store/urls.py",
    "modem/at.py",
    "modem/class2.py",
    "appliance/config_reader.py",
    "appliance/config/__init__.py",
    "appliance/config/core.py",
    "appliance/config/lines.py",
    "appliance/config/web.py",
    "appliance/config/file.py",
    "appliance/config/check.py",
    "appliance/node_config.py",
    "appliance/render/limits.py",
    "appliance/dialplan.py",
    "appliance/logsafe.py",
    "appliance/heartbeat_state.py",
    "appliance/progress.py",
    "appliance/cli/_progress_view.py",
    "appliance/retention.py",
    "appliance/jobs/model.py",
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
    "modem/_fastbits.py",
    "appliance/mail/routing.py",
    "appliance/mail/t37.py",
    "appliance/mail/message.py",
    "appliance/mail/submission.py",
    "appliance/mail/config.py",
    "appliance/outcomes.py",
    "appliance/cloud/_receive_rules.py",
    "appliance/portserver/model.py",
    "appliance/portserver/planner.py",
    "appliance/jobs/choices.py",
    "appliance/jobs/outage.py",
    "appliance/jobs/lease.py",
    "appliance/web/model.py",
    "appliance/web/ffws_status.py",
    "appliance/web/browser.py",
    "appliance/web/ffws.py",
    "appliance/web/throttle.py",
    "appliance/web/uapi.py",
    "appliance/web/bodies.py",
    "appliance/web/console/views.py",
    "appliance/render/limits.py",
    "appliance/fetch_policy.py",
    "appliance/cloud/_parsers.py",
    "appliance/cloud/_retry.py",
    "appliance/cloud/api.py",
    "appliance/cloud/_ops.py",
    "hw-sim/hwsim/modem.py",
    "hw-sim/hwsim/_context.py",
    "hw-sim/hwsim/_table.py",
    "hw-sim/hwsim/_commands.py",
    "hw-sim/hwsim/_session.py",
    "hw-sim/hwsim/_txpage.py",
    "hw-sim/hwsim/_rxpage.py",
    "hw-sim/hwsim/_at.py",
    "hw-sim/hwsim/_page.py",
    "hw-sim/hwsim/_ecm.py",
    "hw-sim/hwsim/_scanline.py",
    "hw-sim/hwsim/_t30.py",
    "hw-sim/hwsim/line.py",
    "hw-sim/hwsim/pstn.py",
]
#: typed strictly although they are adapters, not cores (radius/client.py holds ClientCore and its
#: Twisted protocol in one module)
STRICT_ADAPTERS = {"radius.client", "appliance.config.load"}
#: the Python packages of the product and where their source lives
PACKAGES = {
    "radius": ROOT / "radius",
    "modem": ROOT / "modem",
    "appliance": ROOT / "appliance",
    "hwsim": ROOT / "hw-sim" / "hwsim",
}
#: the embedded default (its simulated network and remote machines) is the one place that imports the simulator
HWSIM_ALLOWED = ("appliance/demo/",)
MAX_LINES = 500
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
    """pyrad stays behind radius/codec/dictionary.py (its dictionary parser)."""
    offenders = []
    for path in ROOT.glob("radius/**/*.py"):
        if path.relative_to(ROOT).as_posix() != "radius/codec/dictionary.py" and "pyrad" in path.read_text():
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _imported_names(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(dotted absolute name, level) of every import in ``tree``, also those inside functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                yield (f"{module}.{alias.name}" if module else alias.name), node.level


def _python_files(*, exclude: tuple[str, ...] = ()) -> Iterator[Path]:
    """The project's Python files (not .venv, .ci or build output), minus the ``exclude`` prefixes."""
    for top in sorted(ROOT.iterdir()):
        if not top.is_dir() or top.name.startswith(".") or top.name in ("build", "dist"):
            continue
        for path in sorted(top.rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/." not in rel and not rel.startswith(exclude):
                yield path


def _top_level_imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name, level in _imported_names(ast.parse(path.read_text())) if level == 0}


def test_imports_inside_functions_are_seen(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import os\n\ndef f():\n    from hwsim.pstn import Pstn\n    import appliance.config\n")
    assert _top_level_imports(source) == {"os", "hwsim", "appliance"}


def test_only_the_embedded_default_imports_hwsim():
    """Outside tests/, bench/ and the simulator itself, only the embedded default imports hwsim."""
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in _python_files(exclude=("tests/", "bench/", "hw-sim/", *HWSIM_ALLOWED))
        if "hwsim" in _top_level_imports(path)
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["radius", "modem"])
def test_protocol_packages_do_not_import_appliance(package):
    """radius/ and modem/ are below appliance/: they never import it, not even inside a function."""
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in sorted(PACKAGES[package].rglob("*.py"))
        if "appliance" in _top_level_imports(path)
    ]
    assert offenders == []


def _modules() -> dict[str, Path]:
    """Every module of the product packages by dotted name (a package by its own name)."""
    found = {}
    for package, base in PACKAGES.items():
        for path in base.rglob("*.py"):
            parts = path.relative_to(base).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the product modules it imports (anywhere in its body, relative imports resolved;
    ``from package import name`` counts as importing ``package.name`` when that is a module; the
    packages whose ``__init__`` such an import runs count too)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for imported, level in _imported_names(ast.parse(path.read_text())):
            if level:
                base = here.split(".")[: len(here.split(".")) - (level - 1)]
                imported = ".".join([*base, imported])
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
                # importing a.b.c first runs a/__init__ and a/b/__init__: edges to them too,
                # except to the importer's own packages (already initialising when it runs)
                parent = imported.rpartition(".")[0]
                while parent:
                    if parent in modules and not (name == parent or name.startswith(parent + ".")):
                        targets.add(parent)
                    parent = parent.rpartition(".")[0]
        graph[name] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_cycle_finder_finds_a_circle_and_nothing_else():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    """No import circle among the modules of radius, modem, appliance and hwsim (function-level imports count)."""
    graph = import_graph()
    report = [
        " <-> ".join(cycle)
        + "  ["
        + "; ".join(f"{m} -> {', '.join(sorted(graph[m] & set(cycle)))}" for m in cycle)
        + "]"
        for cycle in import_cycles(graph)
    ]
    assert report == [], "import circles:\n" + "\n".join(report)


def test_no_module_over_500_lines():
    """No module over 500 lines outside bench/."""
    too_long = {}
    for path in _python_files(exclude=("bench/",)):
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            too_long[path.relative_to(ROOT).as_posix()] = lines
    assert too_long == {}


def test_cores_are_the_strictly_typed_modules():
    """Every core is in pyproject's strict mypy override list, and every module there is a core
    (or one of the few strictly typed adapters named above)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    strict = set()
    for override in config["tool"]["mypy"].get("overrides", []):
        if override.get("disallow_untyped_defs"):
            modules = override["module"]
            strict |= {modules} if isinstance(modules, str) else set(modules)
    cores = {
        path.removeprefix("hw-sim/").removesuffix(".py").removesuffix("/__init__").replace("/", ".") for path in CORES
    }
    patterns = {name.removesuffix(".*") for name in strict if name.endswith(".*")}

    def covered(module: str) -> bool:
        return module in strict or any(module.startswith(prefix + ".") for prefix in patterns)

    assert sorted(m for m in cores if not covered(m)) == [], "cores missing from the strict mypy list"
    listed = {name for name in strict if not name.endswith(".*")}
    assert sorted(listed - cores - STRICT_ADAPTERS) == [], "strictly typed modules missing from CORES"
    assert all(any(m.startswith(prefix + ".") for m in cores) for prefix in patterns), "a pattern matches no core"
    assert all((ROOT / path).is_file() for path in CORES)
