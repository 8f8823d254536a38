"""Fault files (TOML) and the sans-I/O rule for the simulator's core modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hwsim.faults import FaultFileError, FaultPlan, Faults, load_faults, parse_faults
from hwsim.line import Dial, StationInfo
from hwsim.pstn import Network, UnknownLine

HWSIM = Path(__file__).resolve().parents[2] / "hw-sim" / "hwsim"
CORE = [
    "modem.py",
    "_session.py",
    "_commands.py",
    "_at.py",
    "_page.py",
    "line.py",
    "pstn.py",
    "_ecm.py",
    "_scanline.py",
    "_txpage.py",
    "_t30.py",
    "_context.py",
    "_table.py",
    "_rxpage.py",
]
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
    with pytest.raises(FaultFileError, match=r"faults\.toml") as info:
        parse_faults(text, "faults.toml")
    assert message in str(info.value)


def test_missing_fault_file_is_a_clear_error(tmp_path: Path) -> None:
    """A fault file that cannot be read names the path."""
    with pytest.raises(FaultFileError, match=r"nope\.toml"):
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


def _call_up(faults: Faults) -> Network:
    from hwsim.line import Answer

    net = Network(FaultPlan(lines={"5550002": faults}))
    net.add_line("5550001")
    net.add_line("5550002")
    info = StationInfo("", (1, 5, 0, 2, 0, 0, 0, 0))  # type: ignore[arg-type]
    net.handle("5550001", Dial("5550002", info))
    net.handle("5550002", Answer(info))
    return net


def _send_page(net: Network, page_no: int, ppm: int) -> list[object]:
    """One page from the caller; what reaches the callee (or the CarrierLost events)."""
    from hwsim.line import FromLine, PageData, PageEnd, PageStart, PostPage, ToLine

    out: list[object] = []
    for signal in (
        PageStart(page_no, (1, 5, 0, 2, 0, 0, 0, 0)),
        PageData(b"\x00\x01"),
        PageEnd(page_no),
        PostPage(ppm),
    ):
        for delivery in net.handle("5550001", ToLine(signal)):  # type: ignore[arg-type]
            event = delivery.event
            out.append((delivery.number, event.signal if isinstance(event, FromLine) else event))
    return out


def test_rtn_pages_damages_the_first_transmission_only() -> None:
    """rtn_pages=[1]: page 1's first PageEnd arrives damaged (receiver answers RTN), its resend intact."""
    from hwsim.line import PageEnd

    net = _call_up(Faults(rtn_pages=frozenset({1})))
    first = _send_page(net, 1, 0)
    assert ("5550002", PageEnd(1, damaged=True)) in first
    again = _send_page(net, 1, 0)
    assert ("5550002", PageEnd(1)) in again
    assert ("5550002", PageEnd(2)) in _send_page(net, 2, 2)


def test_carrier_lost_after_page_breaks_after_the_post_page_message() -> None:
    """carrier_lost_after_page=2: page 2 and its MPS reach the receiver, then both sides lose carrier."""
    from hwsim.line import CarrierLost, Hangup, PageEnd, PostPage

    net = _call_up(Faults(carrier_lost_after_page=2))
    assert not any(isinstance(e, CarrierLost) for _, e in _send_page(net, 1, 0))
    events = _send_page(net, 2, 0)
    assert events[-4:] == [
        ("5550002", PageEnd(2)),
        ("5550002", PostPage(0)),
        ("5550001", CarrierLost()),
        ("5550002", CarrierLost()),
    ]
    assert net.handle("5550001", Hangup()) == [] and net.handle("5550002", Hangup()) == []  # no call left
    assert parse_faults("[line.1]\ncarrier_lost_after_page = 2\n").for_line("1").carrier_lost_after_page == 2
    with pytest.raises(FaultFileError, match="carrier_lost_after_page"):
        parse_faults("[line.1]\ncarrier_lost_after_page = 0\n")


def test_bit_error_rate_is_parsed_and_checked() -> None:
    """bit_error_rate takes a small rate; anything else names the key."""
    plan = parse_faults("[line.5550002]\nbit_error_rate = 1e-5\n")
    assert plan.for_call("5550001", "5550002", 1).bit_error_rate == 1e-5
    for bad in ("0.5", "true", '"high"', "-1e-5"):
        with pytest.raises(FaultFileError, match="bit_error_rate"):
            parse_faults(f"[line.5550002]\nbit_error_rate = {bad}\n")


def test_ecm_resends_damaged_frames_and_stream_gets_bit_errors() -> None:
    """With ECM a page on a noisy line arrives intact after resent frames; without, bits flip."""
    from hwsim import _ecm

    page = bytes(range(256)) * 80  # 20 KiB: 80 frames of 256 bytes
    clean = _ecm.with_ecm(page, 0.0, 2)
    assert (clean.damaged, clean.frames_resent, clean.ppr_rounds) == (False, 0, 0)
    noisy = _ecm.with_ecm(page, 1e-4, 2)
    assert noisy.data == page and not noisy.damaged
    assert noisy.frames_resent >= 10 and noisy.ppr_rounds >= 2 and noisy.line_bits > clean.line_bits
    assert _ecm.with_ecm(page, 5e-3, 2).damaged  # half the frames hit every round: given up
    stream, carry = _ecm.without_ecm(page, 1e-4)
    assert stream.damaged and stream.data != page and 0 <= carry < 1
    flipped = sum(bin(a ^ b).count("1") for a, b in zip(stream.data, page))
    assert flipped == int(len(page) * 8 * 1e-4)
