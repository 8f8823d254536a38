"""Every operation of httpsfax.php, getcdr.php and provision.php through
the client against the simulated service over real HTTP on loopback, with
valid variables: the parsed typed result and the simulator's state agree.
Also the debugging URL, timeouts on slow replies and dropped connections
for operations that are safe to repeat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from appliance.cloud._ops import OPERATIONS
from appliance.cloud.client import make_http_client
from appliance.cloud.errors import FaxageTransportError
from hwsim.faxage import Fault
from tests.cloud.operation_cases import CASES, FAXNO, LINE, faxes
from tests.cloud.simharness import Harness, reactor


def test_every_operation_has_a_case() -> None:
    """The table of cases (tests/cloud/operation_cases.py) exercises every operation of the three URLs."""
    assert {name.split(":")[0] for name in CASES} == set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest_twisted.inlineCallbacks
def test_operation_against_simulator(h: Harness, name: str) -> Iterator[Deferred[Any]]:
    """The operation succeeds over loopback and its typed result matches the simulator's state."""
    case = CASES[name]
    ctx = case.setup(h.sim, reactor.seconds())
    result = yield h.faxage.request(name.split(":")[0], case.params(ctx))
    case.check(result, ctx, h.sim)
    assert h.simulator.requests == 1, "one HTTP request, no retries"


@pytest_twisted.inlineCallbacks
def test_debug_url_parses_the_same(h: Harness) -> Iterator[Deferred[Any]]:
    """With the debugging URL the echoed POST is stripped and the result is the same."""
    h.client.debug = True
    job = yield h.faxage.sendfax(FAXNO, "Dbg", [("a.txt", b"x")])
    (record,) = yield h.faxage.status([job.jobid])
    lines = yield h.faxage.request("listlines")
    assert record.destname == "Dbg" and lines == (LINE, "3035550101")
    assert {row[3] for row in h.sim.audit} == {"sendfax", "status", "listlines"}


@pytest_twisted.inlineCallbacks
def test_slow_reply_times_out_and_is_retried(h: Harness) -> Iterator[Deferred[Any]]:
    """A reply slower than the client's timeout is retried for a safe operation and then succeeds."""
    h.client._http = make_http_client(timeout=httpx.Timeout(0.3))
    h.simulator.faults.add(Fault("slow", "listusers", seconds=2.0))
    users = yield h.faxage.request("listusers")
    assert users == () and h.simulator.requests == 2


@pytest_twisted.inlineCallbacks
def test_dropped_connection_retried_for_safe_operation(h: Harness) -> Iterator[Deferred[Any]]:
    """A dropped connection on a safe operation (getcdr.php) is retried and then succeeds."""
    faxes(h.sim, reactor.seconds())
    h.simulator.faults.add(Fault("drop", "getcdr"))
    rows = yield h.faxage.request("getcdr", {"nuidgt": 0})
    assert len(rows) == 2 and h.simulator.requests == 2


@pytest_twisted.inlineCallbacks
def test_slow_unsafe_operation_not_repeated(h: Harness) -> Iterator[Deferred[Any]]:
    """A timed-out provdid (not safe to repeat) is reported as possibly applied, and sent once."""
    h.client._http = make_http_client(timeout=httpx.Timeout(0.3))
    h.simulator.faults.add(Fault("slow", "provdid", seconds=2.0))
    with pytest.raises(FaxageTransportError, match="may or may not have been applied"):
        yield h.faxage.request("provdid", {"didnumber": "4155550199"})
    assert h.simulator.requests == 1 and "4155550199" in h.sim.dids


@pytest_twisted.inlineCallbacks
def test_persistent_err01_gives_up_after_retries(h: Harness) -> Iterator[Deferred[Any]]:
    """ERR01 on every try ends in ServiceUnavailable after the policy's attempts."""
    from appliance.cloud.errors import ServiceUnavailable

    h.simulator.faults.add(Fault("err01", "pendcount", count=5))
    with pytest.raises(ServiceUnavailable):
        yield h.faxage.request("pendcount")
    assert h.simulator.requests == 3
