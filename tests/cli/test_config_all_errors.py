"""`faxappliance config check` reports an error of every bad section, one
line each, exit status 2; a good file is OK."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run

BAD = """
[storage]
url = 42
[radius]
auth_port = "x"
[web]
port = -1
[retention]
sent = "a"
[[lines]]
name = 5
[routing]
policy = "nope"
"""


def test_every_bad_section_is_reported(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    result = run("config", "check", str(path))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    for key in ("storage.url", "radius.auth_port", "web.port", "retention.sent", "lines[0].name", "routing.policy"):
        assert sum(key in line for line in lines) == 1, (key, lines)
    assert lines[-1].endswith("6 error(s)")
    assert "Traceback" not in result.err


def test_a_good_file_with_retention_is_ok(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "good.toml"
    path.write_text(f'data_dir = "{tmp_path}/var"\n[retention]\nsent = 10\ncdrs = 0\nmin_free_mb = 100\n')
    result = run("config", "check", str(path))
    assert result.code == 0 and "OK" in result.out, result.err


FEATURE_SECTIONS = """
[smtp]
starttls = "maybe"
[node]
lease_seconds = 0
[limits]
workers = 0
[portserver]
retries = -1
[dialplan]
unmatched = "drop"
[email_gateway]
port = 0
"""


def test_every_feature_section_is_checked_by_the_same_reader(run: Run, tmp_path: Path) -> None:
    """The sections owned by features are checked too, each on its own (the mail sections together)."""
    path = tmp_path / "bad.toml"
    path.write_text(FEATURE_SECTIONS)
    result = run("config", "check", str(path))
    lines = result.err.strip().splitlines()
    assert result.code == 2 and lines[-1].endswith("5 error(s)"), lines
    for key in ("node.lease_seconds", "limits.workers", "portserver.retries", "dialplan.unmatched"):
        assert sum(f"{path}: {key}: " in line for line in lines) == 1, (key, lines)
    assert sum(": smtp.starttls: " in line or ": email_gateway.port: " in line for line in lines) == 1, lines
