"""A real pty modem that vanishes: the supervised line goes offline, and comes back
online (re-probed through twisted's SerialPort) once the device is there again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater

from modem import class2 as c2
from modem.supervisor import LineState, LineSupervisor, open_serial

from .interop import SimLines

pytestmark = [pytest.mark.interop, pytest.mark.slow]


@pytest_twisted.inlineCallbacks
def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> Any:
    waited = 0.0
    while not predicate():
        assert waited < timeout, "condition not reached in time"
        yield deferLater(reactor, 0.1, lambda: None)
        waited += 0.1


@pytest.mark.parametrize("fax_class", ["2.0", "2"])
@pytest_twisted.inlineCallbacks
def test_vanished_device_goes_offline_and_comes_back(fax_class: str, tmp_path: Path) -> Any:
    """Killing the lines makes the line offline (EIO); recreating them brings it online again."""
    lines = SimLines(str(tmp_path / "ttyFAXV"), fax_class, count=1).start()
    sup = LineSupervisor(
        reactor, lines.devices[0], c2.SessionConfig(), open_serial(reactor), backoff_initial=0.2, backoff_max=1.0
    )
    states: list[LineState] = []
    sup.watch(states.append)
    try:
        sup.start()
        yield wait_for(lambda: sup.state is LineState.ONLINE)
        assert sup.protocol is not None and sup.protocol.probe_result is not None
        assert sup.protocol.probe_result.fax_class.value == fax_class
        lines.stop()  # the device disappears
        yield wait_for(lambda: sup.state is not LineState.ONLINE)
        assert "device lost" in sup.last_error or "cannot open" in sup.last_error
        lines.start()  # plugged in again, same link name
        yield wait_for(lambda: sup.state is LineState.ONLINE)
        assert states.count(LineState.ONLINE) == 2 and LineState.OFFLINE in states
    finally:
        sup.stop()
        lines.stop()
