"""The [limits] section: defaults, values, and errors naming the file and the key."""

from __future__ import annotations

import pytest

from appliance.config import ConfigError, default_config, parse
from appliance.render import Limits, parse_limits


def test_defaults() -> None:
    """Without [limits] the defaults apply: 200 pages, 2 workers, 1 GiB, 120 s."""
    config = parse("", "a.toml")
    assert config.limits == Limits(max_pages=200, workers=2, worker_memory_mb=1024, render_seconds=120.0)
    assert parse_limits("x", None) == Limits()
    assert default_config().limits == Limits()


def test_values_are_read() -> None:
    config = parse("[limits]\nmax_pages = 20\nworkers = 1\nworker_memory_mb = 256\nrender_seconds = 5\n", "a.toml")
    assert config.limits == Limits(max_pages=20, workers=1, worker_memory_mb=256, render_seconds=5.0)
    assert config.limits.worker_memory_bytes == 256 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("max_pages = 0", "limits.max_pages", "between 1 and 10000"),
        ("max_pages = 100000", "limits.max_pages", "between 1 and 10000"),
        ('max_pages = "many"', "limits.max_pages", "must be an int"),
        ("max_pages = 2.5", "limits.max_pages", "must be an int"),
        ("workers = 0", "limits.workers", "between 1 and 32"),
        ("worker_memory_mb = 10", "limits.worker_memory_mb", "between 64 and"),
        ("render_seconds = 0", "limits.render_seconds", "between 0.01 and 86400 seconds"),
        ("render_seconds = true", "limits.render_seconds", "must be a float"),
        ("max_page = 3", "limits.max_page", "unknown key"),
    ],
)
def test_bad_values_name_file_and_key(text: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(f"[limits]\n{text}\n", "/etc/fax.toml")
    assert info.value.source == "/etc/fax.toml" and info.value.key == key
    assert problem in info.value.problem
    assert str(info.value).startswith(f"/etc/fax.toml: {key}: ")


def test_limits_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match=r"a\.toml: limits: must be a table"):
        parse("limits = 3\n", "a.toml")


def test_limits_module_is_pure() -> None:
    """The [limits] parser imports no I/O, clock or process modules (style guide A1)."""
    import ast
    from pathlib import Path

    import appliance.render.limits as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"twisted", "os", "socket", "time", "subprocess", "multiprocessing", "threading"}
