"""The incremental AT parser: lines, control bytes, DLE-framed data, any chunking."""

from __future__ import annotations

import pytest

from modem import at


def events(parser: at.Parser, *, data_after: str | None = None) -> list[at.Event]:
    """Drain the parser; switch to data mode right after the line ``data_after``."""
    out: list[at.Event] = []
    while True:
        ev = parser.next_event()
        if ev is at.NEED_DATA:
            return out
        out.append(ev)
        if data_after is not None and ev == at.Line(data_after):
            parser.start_data()


def run(chunks: list[bytes], *, data_after: str | None = None, dle_sub: bool = True) -> list[at.Event]:
    parser = at.Parser(dle_sub_is_two_dle=dle_sub)
    out: list[at.Event] = []
    for chunk in chunks:
        parser.feed(chunk)
        out += events(parser, data_after=data_after)
    return merge(out)


def merge(evs: list[at.Event]) -> list[at.Event]:
    """Join adjacent Data events, so chunking does not change the comparison."""
    out: list[at.Event] = []
    for ev in evs:
        if isinstance(ev, at.Data) and out and isinstance(out[-1], at.Data):
            out[-1] = at.Data(out[-1].data + ev.data)
        else:
            out.append(ev)
    return out


def three_ways(raw: bytes, **kw: object) -> list[list[at.Event]]:
    """Parse whole, byte by byte, and with trailing junk split at every point."""
    whole = run([raw], **kw)  # type: ignore[arg-type]
    bytewise = run([raw[i : i + 1] for i in range(len(raw))], **kw)  # type: ignore[arg-type]
    splits = [run([raw[:i], raw[i:]], **kw) for i in range(len(raw) + 1)]  # type: ignore[arg-type]
    return [whole, bytewise, *splits]


DIAL_20 = b'\r\n+FCO\r\n\r\n+FCI:"REMOTE ID"\r\n\r\n+FIS:1,5,0,2,0,0,0,0\r\n\r\nOK\r\n'


def test_lines_any_chunking() -> None:
    """Response lines come out the same whole, byte by byte, or split anywhere."""
    expected = [at.Line("+FCO"), at.Line('+FCI:"REMOTE ID"'), at.Line("+FIS:1,5,0,2,0,0,0,0"), at.Line("OK")]
    for got in three_ways(DIAL_20):
        assert got == expected


def test_partial_line_waits() -> None:
    """A line without its terminator is not reported, and later bytes complete it."""
    parser = at.Parser()
    parser.feed(b"\r\nO")
    assert parser.next_event() is at.NEED_DATA
    parser.feed(b"K\r\nRI")
    assert parser.next_event() == at.Line("OK")
    assert parser.next_event() is at.NEED_DATA
    assert parser.pending() == b"RI"


def test_cr_only_and_lf_only() -> None:
    """CR-only and LF-only line ends are accepted (echo lines, sloppy modems)."""
    assert run([b"ATE0\rOK\nERROR\r"]) == [at.Line("ATE0"), at.Line("OK"), at.Line("ERROR")]


def test_xon_after_connect() -> None:
    """A lone XON after a Class 2 CONNECT is a Control event, chunking aside."""
    for got in three_ways(b"\r\n+FDCS:1,5,0,2,0,0,0,0\r\n\r\nCONNECT\r\n\x11"):
        assert got == [at.Line("+FDCS:1,5,0,2,0,0,0,0"), at.Line("CONNECT"), at.Control(at.XON)]


def test_xoff_inside_lines_dropped_and_reported() -> None:
    """Flow-control bytes between lines are reported; inside a line they are removed."""
    assert run([b"\x13\r\nO\x11K\r\n"]) == [at.Control(at.XOFF), at.Line("OK")]


def test_data_mode_dle_handling() -> None:
    """In data mode DLE DLE is one DLE, DLE ETX ends the page, then lines resume."""
    raw = b"CONNECT\r\n\x00\x10\x10\x01\x10\x1a\x02\x10\x41\x03\x10\x03\r\n+FPS:1,0064,0,0,0\r\nOK\r\n"
    expected = [
        at.Line("CONNECT"),
        at.Data(b"\x00\x10\x01\x10\x10\x02\x03"),
        at.DataEnd(),
        at.Line("+FPS:1,0064,0,0,0"),
        at.Line("OK"),
    ]
    for got in three_ways(raw, data_after="CONNECT"):
        assert got == expected


def test_dle_sub_class2_discarded() -> None:
    """Without the Class 2.0 rule, DLE SUB is an unknown pair and is discarded."""
    got = run([b"CONNECT\r\n\x01\x10\x1a\x02\x10\x03"], data_after="CONNECT", dle_sub=False)
    assert got == [at.Line("CONNECT"), at.Data(b"\x01\x02"), at.DataEnd()]


def test_data_containing_crlf_and_ok() -> None:
    """Data bytes that look like CR LF OK are data, not a result line."""
    got = run([b"CONNECT\r\n\r\nOK\r\n\x10\x03OK\r\n"], data_after="CONNECT")
    assert got == [at.Line("CONNECT"), at.Data(b"\r\nOK\r\n"), at.DataEnd(), at.Line("OK")]


def test_stuff_unstuff_roundtrip() -> None:
    """stuff doubles every DLE and unstuff reverses it up to DLE ETX."""
    payload = bytes(range(256)) * 3
    stuffed = at.stuff(payload)
    assert stuffed.count(b"\x10") == 2 * payload.count(b"\x10")
    assert at.unstuff(stuffed + b"\x10\x03trailing") == (payload, True)
    assert at.unstuff(stuffed) == (payload, False)


def test_line_too_long() -> None:
    """A flood of bytes without a line end raises a clear error with an excerpt."""
    parser = at.Parser()
    parser.feed(b"\x7f" * (at.MAX_LINE + 1))
    with pytest.raises(at.LineTooLong, match="without a line end"):
        parser.next_event()
