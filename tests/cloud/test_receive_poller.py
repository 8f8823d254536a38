"""Inbound polling without a network: the pure cursor rules, the file-system
sink and cursor file, and the poller on a Clock against the simulated
account in memory (requests built and replies parsed by the real client
code), including crashes between store and handled."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.task import Clock

from appliance.cloud._receive_rules import (
    MAX_DONE,
    Cursor,
    InboundStateError,
    RoundProgress,
    decode_state,
    encode_state,
    listfax_params,
    to_fetch,
)
from appliance.cloud.api import Credentials, build, parse
from appliance.cloud.errors import ServiceUnavailable
from appliance.cloud.receive_poller import CursorFile, DirectorySink, InboundPoller, RoundResult
from appliance.cloud.records import FaxRecord
from appliance.config import Secret
from hwsim.faxage import FaxageSim

CREDS = Credentials("sim", "12345", Secret("simpass"))


def rec(recvid: int) -> FaxRecord:
    return FaxRecord(recvid=recvid, recvdate="2017-11-03 10:00:00", cid="(212)555-0123", dnis="(303)555-0100")


class MemorySource:
    """The simulated account answering through the real build/parse code;
    ``fail[op]`` lists exceptions to raise on the next calls of ``op``."""

    def __init__(self, sim: FaxageSim, clock: Clock) -> None:
        self.sim = sim
        self.clock = clock
        self.fail: dict[str, list[Exception]] = {}
        self.calls: list[tuple[str, Any]] = []

    def request(self, operation: str, params: Mapping[str, Any] | None = None) -> Deferred[Any]:
        self.calls.append((operation, dict(params or {}).get("faxid") or dict(params or {}).get("recvid")))
        if self.fail.get(operation):
            return fail(self.fail[operation].pop(0))
        request = build(operation, params)
        form: dict[str, list[str]] = {}
        for name, value in request.form(CREDS):
            form.setdefault(name, []).append(value)
        reply = self.sim.handle("httpsfax.php", form, self.clock.seconds())
        headers = {"content-type": reply.content_type}
        if reply.filename:
            headers["content-disposition"] = f'attachment; filename="{reply.filename}"'
        return maybeDeferred(parse, request, 200, reply.body, headers)

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]


def run_now(fn: Callable[..., Any], *args: Any) -> Deferred[Any]:
    return maybeDeferred(fn, *args)


class CrashingSink(DirectorySink):
    """Stores the ``crash_at``-th fax, then "dies": that call and every
    later one raises, as if the process had stopped right there."""

    def __init__(self, directory: Path, crash_at: int) -> None:
        super().__init__(directory)
        self.crash_at = crash_at
        self.stores = 0
        self.dead = False

    def contains(self, recvid: int) -> bool:
        if self.dead:
            raise RuntimeError("process is gone")
        return super().contains(recvid)

    def store(self, recvid: int, meta: Mapping[str, Any], data: bytes) -> None:
        if self.dead:
            raise RuntimeError("process is gone")
        self.stores += 1
        super().store(recvid, meta, data)
        if self.stores == self.crash_at:
            self.dead = True
            raise RuntimeError("process died after store")


def make(
    tmp_path: Path, sim: FaxageSim, clock: Clock, sink: DirectorySink | None = None, interval: float = 60.0
) -> tuple[InboundPoller, MemorySource, DirectorySink]:
    source = MemorySource(sim, clock)
    sink = sink or DirectorySink(tmp_path / "inbox")
    poller = InboundPoller(
        source, sink, CursorFile(tmp_path / "cursor.json"), clock, interval=interval, run_blocking=run_now
    )
    return poller, source, sink


def inject(sim: FaxageSim, clock: Clock, count: int) -> list[int]:
    return [
        sim.inject_fax(
            now=clock.seconds(), dnis="3035550100", cid="2125550123", data=b"%PDF-1.4 fax " + str(i).encode()
        )
        for i in range(count)
    ]


def poll(poller: InboundPoller) -> RoundResult:
    results: list[RoundResult] = []
    poller.poll_once().addCallback(results.append)
    assert results, "the round did not finish synchronously"
    return results[0]


# ------------------------------------------------------------ pure rules


def test_listfax_params_ask_for_unhandled_newer_oldest_first() -> None:
    """Each round lists unhandled faxes above the cursor, ascending, with every column."""
    params = listfax_params(41)
    assert params["idgt"] == 41 and params["unhandled"] == 1 and params["idasc"] == 1
    build("listfax", params)  # valid for the client


def test_to_fetch_sorts_dedupes_and_drops_old() -> None:
    """Faxes to fetch are ascending, each once, none at or below the cursor."""
    assert [r.recvid for r in to_fetch([rec(9), rec(3), rec(7), rec(9), rec(5)], 5)] == [7, 9]


def test_round_progress_waits_for_gaps() -> None:
    """The cursor passes a fax only when it and all earlier known ones are done."""
    progress = RoundProgress(Cursor(10), [11, 12, 13])
    progress.failed(11)
    assert progress.done(12) is False and progress.cursor == Cursor(10, frozenset({12}))
    progress = RoundProgress(Cursor(10), [11, 12, 13])
    assert progress.done(11) and progress.done(12) and progress.last == 12
    assert not progress.complete and progress.done(13) and progress.complete


def test_round_progress_closes_gap_from_earlier_rounds() -> None:
    """Done ids kept from earlier rounds let the cursor jump once the gap closes."""
    progress = RoundProgress(Cursor(10, frozenset({12, 13, 20})), [11])
    assert progress.done(11) and progress.cursor == Cursor(20)


def test_round_progress_keeps_done_bounded() -> None:
    """Behind a fax that keeps failing, only the highest MAX_DONE done ids are kept."""
    progress = RoundProgress(Cursor(0), range(1, MAX_DONE + 10))
    progress.failed(1)
    for recvid in range(2, MAX_DONE + 10):
        progress.done(recvid)
    kept = progress.cursor.done
    assert len(kept) == MAX_DONE and min(kept) == 10 and progress.cursor.last == 0


def test_state_round_trip_and_errors() -> None:
    """The state file carries a version, a non-negative cursor and done ids above it; anything else is refused."""
    assert decode_state(encode_state(Cursor(523, frozenset({530})))) == Cursor(523, frozenset({530}))
    for bad in (
        b"",
        b"[]",
        b'{"version": 1, "cursor": -1}',
        b'{"version": 2, "cursor": 1}',
        b'{"version": 1, "cursor": true}',
        b"\xff",
        b'{"version": 1, "cursor": 5, "done": [5]}',
    ):
        with pytest.raises(InboundStateError):
            decode_state(bad, "x.json")


def test_cursor_file_missing_corrupt_and_atomic(tmp_path: Path) -> None:
    """A missing cursor file is 0; a save replaces it whole, leaving no temp file."""
    cursor = CursorFile(tmp_path / "state" / "cursor.json")
    assert cursor.load() == Cursor()
    cursor.save(Cursor(17))
    assert cursor.load() == Cursor(17) and [p.name for p in cursor.path.parent.iterdir()] == ["cursor.json"]
    cursor.path.write_text("garbage")
    with pytest.raises(InboundStateError, match=r"cursor\.json"):
        cursor.load()


def test_directory_sink_is_idempotent(tmp_path: Path) -> None:
    """Storing a recvid twice leaves one data file and one metadata file, the first ones."""
    sink = DirectorySink(tmp_path)
    sink.store(7, {"extension": "pdf", "recvid": 7}, b"%PDF-1")
    sink.store(7, {"extension": "pdf", "recvid": 7}, b"%PDF-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fax-7.json", "fax-7.pdf"]
    assert (tmp_path / "fax-7.pdf").read_bytes() == b"%PDF-1" and sink.stored() == [7] and sink.contains(7)


# ------------------------------------------------------------ the poller on a Clock


def test_round_stores_handles_and_moves_cursor(tmp_path: Path) -> None:
    """Five faxes are listed, downloaded, stored with metadata, marked handled, and the cursor saved."""
    clock, sim = Clock(), FaxageSim()
    ids = inject(sim, clock, 5)
    poller, source, sink = make(tmp_path, sim, clock)
    result = poll(poller)
    assert result.stored == result.handled == ids and result.failed == [] and result.cursor == ids[-1]
    assert sink.stored() == ids and all(f.handled for f in sim.faxes.values())
    meta = json.loads(sink.meta_path(ids[0]).read_text())
    assert meta["recvid"] == ids[0] and meta["content_type"] == "application/pdf" and meta["size"] == 14
    assert (sink.directory / f"fax-{ids[0]}.pdf").read_bytes() == b"%PDF-1.4 fax 0"
    assert CursorFile(tmp_path / "cursor.json").load() == Cursor(ids[-1])
    assert poll(poller).listed == [] and source.ops()[-1] == "listfax"


def test_loop_runs_on_the_clock(tmp_path: Path) -> None:
    """start() polls at once and then every interval on the injected clock, not before."""
    clock, sim = Clock(), FaxageSim()
    poller, source, sink = make(tmp_path, sim, clock, interval=30.0)
    poller.start()
    assert source.ops() == ["listfax"]
    (recvid,) = inject(sim, clock, 1)
    clock.advance(29.0)
    assert sink.stored() == []
    clock.advance(1.0)
    assert sink.stored() == [recvid] and source.ops() == ["listfax", "listfax", "getfax", "handled"]
    poller.stop()
    clock.advance(300.0)
    assert source.ops().count("listfax") == 2


@pytest.mark.parametrize("crash_at", [1, 3, 5])
def test_crash_between_store_and_handled_resumes_exactly_once(tmp_path: Path, crash_at: int) -> None:
    """A process that dies after storing a fax but before marking it handled loses and repeats nothing."""
    clock, sim = Clock(), FaxageSim()
    ids = inject(sim, clock, 5)
    first, _, crashing = make(tmp_path, sim, clock, CrashingSink(tmp_path / "inbox", crash_at))
    result = poll(first)
    assert result.stored == ids[: crash_at - 1] and result.failed == [ids[crash_at - 1]]
    assert crashing.stored() == ids[:crash_at]  # the crashed fax is on disk, not handled
    assert not sim.faxes[ids[crash_at - 1]].handled
    second, source, sink = make(tmp_path, sim, clock)  # a new process
    again = poll(second)
    assert again.already_stored == [ids[crash_at - 1]] and again.stored == ids[crash_at:]
    assert sink.stored() == ids and len(list(sink.directory.iterdir())) == 10
    assert all(f.handled for f in sim.faxes.values()) and again.cursor == ids[-1]
    assert ("getfax", ids[crash_at - 1]) not in source.calls, "a stored fax is not downloaded again"


def test_crash_after_handled_before_cursor_saved(tmp_path: Path) -> None:
    """A cursor file left behind (stale) only widens the listing; nothing is stored twice."""
    clock, sim = Clock(), FaxageSim()
    ids = inject(sim, clock, 3)
    poller, _, sink = make(tmp_path, sim, clock)
    poll(poller)
    CursorFile(tmp_path / "cursor.json").save(Cursor())  # as if the save never happened
    more = inject(sim, clock, 2)
    second, source, _ = make(tmp_path, sim, clock)
    result = poll(second)
    assert result.listed == result.stored == more and sink.stored() == ids + more
    assert [c for c in source.calls if c[0] == "getfax"] == [("getfax", r) for r in more]


def test_getfax_failure_retried_next_round(tmp_path: Path) -> None:
    """A failed download leaves that fax unhandled and the cursor below it; the next round takes it."""
    clock, sim = Clock(), FaxageSim()
    ids = inject(sim, clock, 3)
    poller, source, sink = make(tmp_path, sim, clock)
    source.fail["getfax"] = [ServiceUnavailable(1, "getfax", "Database connection failed")]
    result = poll(poller)
    assert result.failed == [ids[0]] and result.stored == ids[1:] and result.cursor == 0
    assert not sim.faxes[ids[0]].handled
    assert CursorFile(tmp_path / "cursor.json").load() == Cursor(0, frozenset(ids[1:]))
    result = poll(poller)
    assert result.listed == result.stored == [ids[0]] and result.cursor == ids[-1]
    assert sink.stored() == ids


def test_listfax_failure_and_double_handle(tmp_path: Path) -> None:
    """A failed listing changes nothing; ERR39 (handled already) on handled counts as handled."""
    clock, sim = Clock(), FaxageSim()
    (recvid,) = inject(sim, clock, 1)
    poller, source, sink = make(tmp_path, sim, clock)
    source.fail["listfax"] = [ServiceUnavailable(1, "listfax", "Database connection failed")]
    assert poll(poller).error is not None and sink.stored() == [] and poller.cursor == Cursor()
    original = source.request

    def handled_twice(operation: str, params: Mapping[str, Any] | None = None) -> Deferred[Any]:
        if operation == "handled":
            sim.faxes[recvid].handled = True  # an earlier attempt got through; its reply was lost
        return original(operation, params)

    source.request = handled_twice  # type: ignore[method-assign]
    result = poll(poller)
    assert result.handled == [recvid] and result.failed == [] and result.cursor == recvid


def test_vanished_fax_is_skipped(tmp_path: Path) -> None:
    """A fax deleted between listing and download (ERR12) is skipped and the cursor passes it."""
    clock, sim = Clock(), FaxageSim()
    ids = inject(sim, clock, 2)
    poller, source, _sink = make(tmp_path, sim, clock)
    original = source.request

    def deleting(operation: str, params: Mapping[str, Any] | None = None) -> Deferred[Any]:
        if operation == "getfax" and dict(params or {})["faxid"] == ids[0]:
            sim.faxes.pop(ids[0], None)
        return original(operation, params)

    source.request = deleting  # type: ignore[method-assign]
    result = poll(poller)
    assert result.gone == [ids[0]] and result.stored == [ids[1]] and result.cursor == ids[1]


def test_rounds_do_not_overlap(tmp_path: Path) -> None:
    """A poll while a round waits on the network returns at once without a second listing."""
    clock = Clock()
    pending: Deferred[Any] = Deferred()
    calls: list[str] = []

    class Slow:
        def request(self, operation: str, params: Mapping[str, Any] | None = None) -> Deferred[Any]:
            calls.append(operation)
            return pending if len(calls) == 1 else succeed(())

    poller = InboundPoller(
        Slow(), DirectorySink(tmp_path), CursorFile(tmp_path / "c.json"), clock, interval=5.0, run_blocking=run_now
    )
    poller.poll_once()
    second = poll(poller)
    assert second.error == "a round is already running" and calls == ["listfax"]
    pending.callback(())
    assert poll(poller).listed == [] and calls == ["listfax", "listfax"]
