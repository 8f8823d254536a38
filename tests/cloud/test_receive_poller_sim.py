"""The inbound poller against the simulated service over real HTTP on
loopback: faxes stored once and marked handled, a crash between store and
handled resumed by a new poller, and download faults retried next round."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred

from appliance.cloud.receive_poller import Cursor, CursorFile, DirectorySink, InboundPoller, make_inbound_poller
from appliance.config import FaxageConfig
from hwsim.faxage import Fault
from tests.cloud.simharness import Harness, reactor, until
from tests.cloud.test_receive_poller import CrashingSink


def poller(h: Harness, tmp_path: Path, sink: DirectorySink | None = None) -> InboundPoller:
    return InboundPoller(
        h.faxage,
        sink or DirectorySink(tmp_path / "inbox"),
        CursorFile(tmp_path / "cursor.json"),
        reactor,
        interval=0.2,
        run_blocking=h.faxage.run_in_pool,
    )


def inject(h: Harness, count: int) -> list[int]:
    return [
        h.sim.inject_fax(
            now=reactor.seconds(),
            dnis="3035550100",
            cid="2125550123",
            tsid="REMOTE",
            data=b"%PDF-1.4 inbound " + str(i).encode(),
        )
        for i in range(count)
    ]


def operations(h: Harness) -> list[str]:
    return [row[3] for row in h.sim.audit]


@pytest_twisted.inlineCallbacks
def test_five_faxes_stored_once_and_handled(h: Harness, tmp_path: Path) -> Iterator[Deferred[Any]]:
    """Five injected faxes are listed, downloaded, stored once with metadata and marked handled."""
    ids = inject(h, 5)
    p = poller(h, tmp_path)
    result = yield p.poll_once()
    assert result.stored == result.handled == ids and result.cursor == ids[-1]
    sink = DirectorySink(tmp_path / "inbox")
    assert sink.stored() == ids and len(list(sink.directory.iterdir())) == 10
    assert all(fax.handled for fax in h.sim.faxes.values())
    meta = json.loads(sink.meta_path(ids[2]).read_text())
    assert (meta["tsid"], meta["dnis"], meta["service_filename"]) == ("REMOTE", "(303)555-0100", f"fax{ids[2]}.pdf")
    assert (sink.directory / f"fax-{ids[2]}.pdf").read_bytes() == b"%PDF-1.4 inbound 2"
    again = yield p.poll_once()
    assert again.listed == [] and operations(h).count("getfax") == 5
    assert CursorFile(tmp_path / "cursor.json").load() == Cursor(ids[-1])


@pytest_twisted.inlineCallbacks
def test_crash_after_store_resumed_exactly_once(h: Harness, tmp_path: Path) -> Iterator[Deferred[Any]]:
    """A poller that dies after storing the third fax, before handled, is resumed by a new one: each fax once."""
    ids = inject(h, 5)
    first = poller(h, tmp_path, CrashingSink(tmp_path / "inbox", crash_at=3))
    result = yield first.poll_once()
    first.stop()
    assert result.handled == ids[:2] and result.failed == [ids[2]]
    assert [f.recvid for f in h.sim.faxes.values() if f.handled] == ids[:2]
    second = poller(h, tmp_path)  # a new process: new poller, same inbox and cursor file
    result = yield second.poll_once()
    assert result.already_stored == [ids[2]] and result.stored == ids[3:] and result.cursor == ids[-1]
    assert DirectorySink(tmp_path / "inbox").stored() == ids
    assert len(list((tmp_path / "inbox").iterdir())) == 10
    assert all(fax.handled for fax in h.sim.faxes.values())
    assert operations(h).count("handled") == 5 and operations(h).count("getfax") == 5


@pytest_twisted.inlineCallbacks
def test_getfax_fault_retried_next_round(h: Harness, tmp_path: Path) -> Iterator[Deferred[Any]]:
    """getfax failing through every client retry (5xx, ERR01) leaves the fax for the next round; none lost."""
    ids = inject(h, 3)
    h.simulator.faults.add(Fault("http5xx", "getfax", count=2))
    h.simulator.faults.add(Fault("err01", "getfax", count=1))
    p = poller(h, tmp_path)
    result = yield p.poll_once()
    assert result.failed == [ids[0]] and result.stored == ids[1:] and result.cursor == 0
    assert not h.sim.faxes[ids[0]].handled
    result = yield p.poll_once()
    assert result.stored == [ids[0]] and result.cursor == ids[-1]
    assert DirectorySink(tmp_path / "inbox").stored() == ids and all(f.handled for f in h.sim.faxes.values())


@pytest_twisted.inlineCallbacks
def test_handled_reply_dropped_is_not_a_failure(h: Harness, tmp_path: Path) -> Iterator[Deferred[Any]]:
    """A connection dropped after handled took effect is retried; the ERR39 answer counts as handled."""
    (recvid,) = inject(h, 1)
    h.simulator.faults.add(Fault("drop", "handled", apply=True))
    result = yield poller(h, tmp_path).poll_once()
    assert result.handled == [recvid] and result.failed == [] and h.sim.faxes[recvid].handled


@pytest_twisted.inlineCallbacks
def test_loop_on_the_reactor_picks_up_new_faxes(h: Harness, tmp_path: Path) -> Iterator[Deferred[Any]]:
    """Made from the [faxage] config and started on the reactor clock, the poller stores faxes arriving later."""
    p = make_inbound_poller(
        h.faxage,
        FaxageConfig(poll_interval=0.1),
        reactor,
        inbox=tmp_path / "inbox",
        state_file=tmp_path / "cursor.json",
    )
    sink = DirectorySink(tmp_path / "inbox")
    p.start()
    try:
        yield until(lambda: p.last is not None)
        ids = inject(h, 2)
        yield until(lambda: sink.stored() == ids and all(f.handled for f in h.sim.faxes.values()))
    finally:
        p.stop()
