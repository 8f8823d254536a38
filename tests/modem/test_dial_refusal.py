"""Defence in depth: the driver writes nothing to the modem for a dial string
that is not dial characters (or too long), and says so with SendRefused."""

from __future__ import annotations

import pytest

from modem import class2 as c2
from modem.driver import ModemError, SendRefused
from modem.params import PageFormat

from .test_driver import PROBE_20, connect, settle
from .transcript import r

REFUSED = [
    "5550101\rATZ",
    "5550101\nATZ",
    "ATDT5550101",
    "555;0101",
    "",
    "5" * 41,
    "0" * 10_000,
    "５５５",
    "555\x000101",
    "555ATH",
    "5550101\x1b",
]


@pytest.mark.parametrize("number", REFUSED)
def test_send_refuses_non_dial_strings(number: str) -> None:
    """SendRefused (a ModemError naming the device and the string, escaped) and no command written."""
    clock, proto, modem, wire = connect(dict(PROBE_20))
    proto.probe()
    settle(clock, 5)
    written = wire.value()
    with pytest.raises(SendRefused) as caught:
        proto.send(number, [b"\x00\x01"], PageFormat())
    assert isinstance(caught.value, ModemError)
    message = str(caught.value)
    assert message.startswith("modem /dev/ttyTEST0: dial string ") and message.isprintable()
    assert len(message) < 200
    assert wire.value() == written and not proto.busy
    settle(clock, 5)
    assert not any(c.startswith("ATD") or c == "ATZ" for c in modem.commands)


def test_forty_dial_characters_still_dial() -> None:
    """The longest accepted dial string (40 characters, pauses included) reaches the modem as one ATD line."""
    number = "9," + "1" * 38
    clock, proto, modem, _ = connect({**PROBE_20, f"ATDT{number}": r("BUSY")})
    proto.probe()
    settle(clock, 5)
    results: list[c2.SessionResult] = []
    proto.send(number, [b"\x00\x01"], PageFormat()).addCallback(results.append)
    settle(clock, 5)
    assert f"ATDT{number}" in modem.commands
    assert results and results[0].outcome is c2.Outcome.BUSY
