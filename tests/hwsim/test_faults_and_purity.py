"""Fault files (TOML) and the sans-I/O rule for the simulator's core modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hwsim.faults import FaultFileError, FaultPlan, Faults, load_faults, parse_faults
from hwsim.line import Dial, StationInfo
from hwsim.pstn import Network, UnknownLine

HWSIM = Path(__file__).resolve().parents[2] / "hw-sim" / "hwsim"
CORE = ["modem.py", "_session.py", "_commands.py", "_at.py", "_page.py", "line.py", "pstn.py"]
FORBIDDEN = {"twisted", "socket", "time", "random", "os", "logging", "serial", "asyncio", "threading"}

GOOD = """
[line.5550002]
busy_first = 2
rtn_pages = [1, 3]

[[call]]
from = "5550001"
to = "5550002"
attempt = 3
carrier_lost_page = 2
"""


def test_fault_file_is_parsed() -> None:
    """Line and call entries become a FaultPlan; call faults add to line faults."""
    plan = parse_faults(GOOD)
    assert plan.for_line("5550002") == Faults(busy_first=2, rtn_pages=frozenset({1, 3}))
    assert plan.for_call("5550001", "5550002", 3).carrier_lost_page == 2
    assert plan.for_call("5550001", "5550002", 2).carrier_lost_page is None
    assert plan.for_line("5559999") == Faults()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[line.1]\nbusy_frist = 1\n", "line.1: unknown key(s) busy_frist"),
        ("[line.1]\nrtn_pages = 1\n", "line.1.rtn_pages"),
        ("[line.1]\nnever_answer = 1\n", "line.1.never_answer"),
        ("[[call]]\nattempt = 0\n", "call #1.attempt"),
        ("[[call]]\nto = 5550002\n", "call #1.to"),
        ("[lines.1]\n", "unknown section(s) lines"),
        ("[line.1\n", "not valid TOML"),
    ],
)
def test_bad_fault_files_name_the_key(text: str, message: str) -> None:
    """Each mistake gives a FaultFileError naming the source and the key."""
    with pytest.raises(FaultFileError, match="faults.toml") as info:
        parse_faults(text, "faults.toml")
    assert message in str(info.value)


def test_missing_fault_file_is_a_clear_error(tmp_path: Path) -> None:
    """A fault file that cannot be read names the path."""
    with pytest.raises(FaultFileError, match="nope.toml"):
        load_faults(tmp_path / "nope.toml")


def test_network_rejects_bad_numbers_and_unknown_lines() -> None:
    """Numbers must be dialable and unique; actions from unknown lines raise."""
    net = Network(FaultPlan())
    net.add_line("5550001")
    with pytest.raises(ValueError, match="already connected"):
        net.add_line("5550001")
    with pytest.raises(ValueError, match="not a phone number"):
        net.add_line("55-50")
    with pytest.raises(UnknownLine):
        net.handle("999", Dial("5550001", StationInfo("", (0,) * 8)))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", CORE)
def test_core_modules_do_no_io(name: str) -> None:
    """Core modules import nothing that does I/O, time or randomness."""
    tree = ast.parse((HWSIM / name).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, imported & FORBIDDEN
