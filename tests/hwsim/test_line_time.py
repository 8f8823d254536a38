"""A paced page's line time against the T.30/T.4 arithmetic, worked out here independently:
minimum scan-line fill without ECM (T.4 §4.1.4), HDLC framing with ECM (T.4 Annex A, T.30
Annex A).  Simulated time on a Clock; no phase timing, so the line runs at its nominal rate."""

from __future__ import annotations

import pytest

from hwsim import _page
from hwsim.line import Caps, LineAction, PageEnd, PageStart, ToLine
from hwsim.pstn import Delivery

from .harness import lines, make_net, setup

BPS = 14400
EOL = "000000000001"
WHITE_LINE = "010011011" + "00110101"  # 1,728 white pels: make-up 1728, terminating 0 (17 bits)
PPR_SECONDS = 2.0  # ModemConfig.ppr_seconds: one PPS exchange


def wire(line_bits: str) -> bytes:
    """Line-order bits as wire-order bytes (first bit in the LSB), zero-padded to a byte."""
    line_bits += "0" * (-len(line_bits) % 8)
    msb = int(line_bits, 2).to_bytes(len(line_bits) // 8, "big")
    return _page.reverse_bits(msb)


def mh_page(rows: int) -> bytes:
    """EOL, ``rows`` white lines each ended by an EOL, then the rest of RTC (5 EOLs)."""
    return wire(EOL + (WHITE_LINE + EOL) * rows + EOL * 5)


def page_seconds(caps: str, data: bytes) -> tuple[float, Caps]:
    """One page from A to B with both ends at ``+FCC=caps``: PageStart to PageEnd, and the DCS."""
    clock, exchange, (tx, rx) = make_net()
    marks: list[float] = []
    dcs: list[Caps] = []
    handle = exchange.network.handle

    def recording(number: str, action: LineAction) -> list[Delivery]:
        if isinstance(action, ToLine) and isinstance(action.signal, (PageStart, PageEnd)):
            marks.append(clock.seconds())
            if isinstance(action.signal, PageStart):
                dcs.append(action.signal.dcs)
        return handle(number, action)

    exchange.network.handle = recording  # type: ignore[method-assign]  # observe the line
    setup(tx, "2.0", f"+FCC={caps}")
    setup(rx, "2.0", f"+FCC={caps}")
    assert rx.at("S0=1") == ["OK"]
    assert tx.at(f"D{rx.number}")[-1] == "OK"
    rx.take()
    rx.send(b"AT+FDR\r")
    tx.send(b"AT+FDT\r")
    assert lines(tx.take())[-1] == "CONNECT"
    rx.send(b"\x12")
    tx.send(_page.dle_stuff(data) + b"\x10.")
    start = clock.seconds()
    while len(marks) < 2 and clock.seconds() - start < 400:  # from timer to timer: no rounding
        clock.advance(max(0.0, min(call.getTime() for call in clock.getDelayedCalls()) - clock.seconds()))
    assert len(marks) == 2, "the page did not end"
    return marks[1] - marks[0], dcs[0]


def test_min_scan_line_fill_makes_short_lines_take_the_dcs_time() -> None:
    """DIS st 5 (20 ms at fine): each 29-bit white line (code + EOL) is filled to 288 bits."""
    rows = 600
    data = mh_page(rows)
    seconds, dcs = page_seconds("1,5,0,2,0,0,0,5", data)
    assert dcs[7] == 5
    min_bits = BPS * 20 // 1000
    line_bits = len(data) * 8 + rows * (min_bits - len(WHITE_LINE + EOL))
    assert seconds == pytest.approx(line_bits / BPS, abs=0.01)
    unfilled, _ = page_seconds("1,5,0,2,0,0,0,0", data)
    assert unfilled == pytest.approx(len(data) * 8 / BPS, abs=0.01)
    assert seconds > 5 * unfilled


def test_min_scan_line_time_halves_at_fine_where_the_dcs_says_so() -> None:
    """st 6 is 40 ms at normal, 20 ms at fine (T.32 Table 21)."""
    rows = 300
    data = mh_page(rows)
    for vr, ms in ((1, 20), (0, 40)):
        seconds, dcs = page_seconds(f"{vr},5,0,2,0,0,0,6", data)
        assert (dcs[0], dcs[7]) == (vr, 6)
        line_bits = len(data) * 8 + rows * (BPS * ms // 1000 - len(WHITE_LINE + EOL))
        assert seconds == pytest.approx(line_bits / BPS, abs=0.01)


def test_long_lines_need_no_fill() -> None:
    """A line longer than the minimum goes as it is."""
    long_line = "1000" * 200  # 800 bits without an EOL in them
    data = wire(EOL + (long_line + EOL) * 50 + EOL * 5)
    seconds, _ = page_seconds("1,5,0,2,0,0,0,5", data)
    assert seconds == pytest.approx(len(data) * 8 / BPS, abs=0.01)


# -- ECM: the framing worked out bit by bit ----------------------------------------------


def crc16_x25(octets: bytes) -> int:
    crc = 0xFFFF
    for octet in octets:
        crc ^= octet
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def stuffed_length(octets: bytes) -> int:
    """Bits of ``octets`` sent LSB first with a 0 inserted after five 1s in a row."""
    count = ones = 0
    for octet in octets:
        for bit in range(8):
            count += 1
            if octet >> bit & 1:
                ones += 1
                if ones == 5:
                    count, ones = count + 1, 0
            else:
                ones = 0
    return count


def ecm_line_bits(data: bytes, size: int) -> tuple[int, int]:
    """Line bits of a page in FCD frames of ``size`` octets, and its partial pages."""
    bits, frames = 0, [data[i : i + size] for i in range(0, len(data), size)]
    for number, payload in enumerate(frames):
        body = bytes([0xFF, 0x03, 0x06, number % 256]) + payload
        crc = crc16_x25(body)
        bits += 8 + stuffed_length(body + bytes([crc & 0xFF, crc >> 8]))  # one flag each
    blocks = -(-len(frames) // 256)
    return bits + blocks * 3 * 48, blocks  # three RCP frames end each partial page


@pytest.mark.parametrize(("ec", "size"), [(2, 256), (1, 64)])
def test_ecm_page_takes_its_frames_time(ec: int, size: int) -> None:
    """MMR+ECM: the page's frames with zero insertion, RCP, and a PPS-NULL/MCF per
    partial page but the last; nothing more (no fill: ECM has no minimum scan-line time)."""
    data = (bytes(range(256)) + b"\xff" * 40 + b"\x7e\x3f" * 20) * 260  # 2 partial pages of 256-byte frames
    seconds, dcs = page_seconds(f"1,5,0,2,3,{ec},0,5", data)
    assert (dcs[4], dcs[5]) == (3, ec)
    line_bits, blocks = ecm_line_bits(data, size)
    assert blocks == (2 if size == 256 else 6)
    assert seconds == pytest.approx(line_bits / BPS + (blocks - 1) * PPR_SECONDS, abs=0.01)
    assert line_bits > len(data) * 8 * 1.05  # the framing costs what it costs


def test_ecm_mh_page_is_not_filled() -> None:
    """With ECM even MH lines go unfilled at DIS st 5."""
    data = mh_page(600)
    seconds, dcs = page_seconds("1,5,0,2,0,2,0,5", data)
    assert dcs[5] == 2
    assert seconds == pytest.approx(ecm_line_bits(data, 256)[0] / BPS, abs=0.01)
