"""Private files: the faxappliance program creates owner-only files and
directories whatever the caller's umask, and tightens an existing install."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from appliance.private import sqlite_files, tighten
from tests.e2e.harness import ENV, free_port

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def old_install(data: Path) -> None:
    """A data directory as an old version left it under umask 022."""
    (data / "inbox" / "demo" / "000001").mkdir(parents=True)
    (data / "inbox" / "demo" / "000001" / "fax.pdf").write_bytes(b"%PDF-")
    (data / "faxappliance.db").write_bytes(b"")
    for d in (data, data / "inbox", data / "inbox" / "demo", data / "inbox" / "demo" / "000001"):
        d.chmod(0o755)
    for f in (data / "inbox" / "demo" / "000001" / "fax.pdf", data / "faxappliance.db"):
        f.chmod(0o644)


def test_tighten_removes_group_and_other_bits_without_following_links(tmp_path: Path):
    """Every directory and file under the roots becomes owner-only; a symlinked file outside stays as it was."""
    data = tmp_path / "var"
    old_install(data)
    outside = tmp_path / "shared.txt"
    outside.write_text("x")
    outside.chmod(0o644)
    (data / "link").symlink_to(outside)
    (data / "already").write_text("x")
    (data / "already").chmod(0o600)
    report = tighten([data, data / "faxappliance.db"])
    assert report.count == 6 and report.failed == []
    assert mode(data) == 0o700 and mode(data / "inbox" / "demo" / "000001") == 0o700
    assert mode(data / "inbox" / "demo" / "000001" / "fax.pdf") == 0o600 and mode(data / "faxappliance.db") == 0o600
    assert mode(outside) == 0o644
    assert tighten([data]).count == 0, "a second pass finds nothing to do"


def test_tighten_ignores_missing_roots(tmp_path: Path):
    """A root that does not exist (no spool directory yet) is skipped."""
    assert tighten([tmp_path / "absent"]).count == 0


def test_sqlite_files_of_a_url():
    """The database file and its journals for sqlite URLs; nothing for other databases."""
    assert sqlite_files("sqlite:///var/x.db?timeout=5")[:2] == [Path("var/x.db"), Path("var/x.db-wal")]
    assert sqlite_files("sqlite:///:memory:") == [] and sqlite_files("postgresql://h/db") == []


def test_program_under_umask_022_keeps_data_private(tmp_path: Path):
    """`faxappliance radius` started with umask 022 tightens the old install (one log line) and
    creates its database and heartbeat 0600; `send` writes its outbox file 0600."""
    data = tmp_path / "var"
    old_install(data)
    (data / "faxappliance.db").unlink()
    config = tmp_path / "f.toml"
    config.write_text(
        f'data_dir = "{data}"\n[radius]\nlisten = "127.0.0.1"\nauth_port = {free_port()}\n'
        f'acct_port = {free_port()}\n[[radius.clients]]\naddress = "127.0.0.1"\nsecret = "s3cret-1-long-enough-x"\n'
    )
    umask_022 = lambda: os.umask(0o022)  # noqa: E731
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "--config", str(config), "radius"],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=umask_022,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("RADIUS auth on")
        assert mode(data) == 0o700 and mode(data / "inbox" / "demo" / "000001" / "fax.pdf") == 0o600
        assert mode(data / "faxappliance.db") == 0o600 and mode(data / "heartbeat.json") == 0o600
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    tightened = [ln for ln in err.splitlines() if "tightened" in ln]
    assert len(tightened) == 1 and "tightened the permissions of 5 path(s)" in tightened[0], err
    document = tmp_path / "note.txt"
    document.write_text("hello\n")
    sent = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "--config", str(config), "send", "--to", "5551234", str(document)],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=umask_022,
    )
    assert sent.returncode == 0, sent.stderr
    (outbox_file,) = (data / "outbox").iterdir()
    assert mode(data / "outbox") == 0o700 and mode(outbox_file) == 0o600
