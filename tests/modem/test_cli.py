"""``faxappliance modem …``: usage errors are clear; probe prints what it found on a simulated line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from appliance.cli import CliIO, main

from .interop import SimLines, cli, run

pytestmark = [pytest.mark.interop]


def call(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), CliIO(stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def test_send_missing_file(tmp_path: Path) -> None:
    """send with a file that does not exist is a usage error naming it."""
    code, _, err = call("modem", "send", "/dev/null", "--to", "123", str(tmp_path / "nope.pdf"))
    assert code == 2 and "no such file" in err and "nope.pdf" in err


def test_receive_bad_rings(tmp_path: Path) -> None:
    """receive --rings 0 is a usage error."""
    code, _, err = call("modem", "receive", "/dev/null", "--out", str(tmp_path), "--rings", "0")
    assert code == 2 and "--rings must be at least 1" in err


def test_bad_speed(tmp_path: Path) -> None:
    """A fax line rate that does not exist is a usage error."""
    code, _, err = call("modem", "probe", "/dev/null", "--max-bps", "10000")
    assert code == 2 and "10000" in err


def test_probe_missing_device() -> None:
    """A device that does not exist: exit 1 and the device named."""
    res = run(cli("modem", "probe", "/dev/ttyNOSUCHFAX"), timeout=60)
    assert res.returncode == 1 and "cannot open /dev/ttyNOSUCHFAX" in res.stderr


def test_probe_simulated_line(tmp_path: Path) -> None:
    """probe on a simulated pty modem reports class 2.0, identification and capabilities."""
    with SimLines(str(tmp_path / "ttyFAXP"), "2.0", count=1) as lines:
        res = run(cli("modem", "probe", lines.devices[0]), timeout=60)
    assert res.returncode == 0, res.stderr
    assert "class: 2.0 (offered: 0,2,2.0)" in res.stdout
    assert "manufacturer: HWSIM" in res.stdout and "capabilities: (0,1)" in res.stdout


def test_probe_class2_forced(tmp_path: Path) -> None:
    """--class 2 on a 2.0-capable modem uses Class 2 and its identification queries."""
    with SimLines(str(tmp_path / "ttyFAXQ"), "2.0", count=1) as lines:
        res = run(cli("modem", "probe", lines.devices[0], "--class", "2"), timeout=60)
    assert res.returncode == 0, res.stderr
    assert "class: 2 (offered" in res.stdout and "model: SIMFAX" in res.stdout


def test_send_to_unknown_number_fails_clearly(tmp_path: Path) -> None:
    """send to a number nobody has: exit 1, outcome 'no carrier' and the last exchange on stderr."""
    page = tmp_path / "page.g3"
    page.write_bytes(bytes([0x00, 0x10, 0x01]) * 4)
    with SimLines(str(tmp_path / "ttyFAXU"), "2.0", count=1) as lines:
        res = run(cli("modem", "send", lines.devices[0], "--to", "5559999", str(page)), timeout=60)
    assert res.returncode == 1
    assert "outcome: no carrier" in res.stdout
    assert "last exchange:" in res.stderr and "ATDT5559999" in res.stderr
