"""Several nodes on one database, and crash recovery after a real ``kill -9``
of a process that had claimed line and cloud work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.jobs import (
    CLOUD,
    Cause,
    CloudStatus,
    Entry,
    EntryState,
    FaxSpec,
    JobError,
    JobStore,
    Recipient,
    Result,
)

S = EntryState
T0 = 1_700_000_000.0
ROOT = Path(__file__).resolve().parents[2]


def test_two_nodes_never_share_an_entry_or_a_number(make_jobs: Callable[..., JobStore]) -> None:
    """Four threads on two stores claim 120 entries to 10 numbers: each entry once, one call per number at a time."""
    first = make_jobs()
    for _batch in range(4):
        first.submit(FaxSpec(owner="u"), [Recipient(fax_number=str(100 + n % 10)) for n in range(30)], T0)
    stores = [first, make_jobs()]
    claimed: list[int] = []
    active: set[str] = set()
    violations: list[str] = []
    lock = threading.Lock()

    def node(store: JobStore, name: str) -> None:
        idle = 0
        while idle < 50:
            claims = store.claim(name, T0, "any", [f"{name}-L1", f"{name}-L2"], 3)
            idle = 0 if claims else idle + 1
            for claim in claims:
                with lock:
                    claimed.append(claim.entry.id)
                    if claim.entry.recipient.fax_number in active:
                        violations.append(claim.entry.recipient.fax_number)
                    active.add(claim.entry.recipient.fax_number)
            for claim in claims:
                with lock:
                    active.discard(claim.entry.recipient.fax_number)
                store.complete(claim.entry.id, Result.ok(1, 1.0), T0)

    threads = [threading.Thread(target=node, args=(stores[i % 2], f"n{i}")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()
    assert violations == []
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 120
    assert first.count_by_state()[S.SENT] == 120


def _crashed_child(url: str) -> dict[str, int]:
    """Run the child until it has claimed its work, then ``kill -9`` it; returns route -> entry id."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_crash_child.py")), url, str(T0)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(ROOT),
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the child prints once it has committed its claims
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    pairs = [item.split(":") for item in line.split()]
    assert len(pairs) == 4, f"child output: {line!r}"
    lines = [int(i) for i, route in pairs if route != CLOUD]
    clouds = [int(i) for i, route in pairs if route == CLOUD]
    return {"line": lines[0], "submitted": clouds[0], "submitting": clouds[1], "claimed": clouds[2]}


def test_recovery_after_kill_9(make_jobs: Callable[..., JobStore]) -> None:
    """After kill -9 every entry is there; recovery retries the line call and resolves cloud jobs exactly once."""
    jobs = make_jobs()
    jobs.submit(FaxSpec(owner="u", pages=1), [Recipient(fax_number=str(n), name=f"r{n}") for n in (1, 2, 3, 4)], T0)
    ids = _crashed_child(_url_of(jobs))
    restarted = make_jobs()
    assert {e.id: e.state for e in restarted.list_entries()} == {i: S.SENDING for i in ids.values()}
    with pytest.raises(JobError, match="needs a cloud lookup"):
        restarted.recover("node-a", T0 + 5)
    assert {e.state for e in restarted.list_entries()} == {S.SENDING}  # nothing changed
    asked: list[tuple[str | None, str]] = []

    def lookup(entry: Entry) -> CloudStatus:
        asked.append((entry.cloud_job_id, entry.recipient.name))
        return CloudStatus.SENT if entry.cloud_job_id == "J1" else CloudStatus.UNKNOWN

    report = restarted.recover("node-a", T0 + 5, lookup)
    assert sorted(asked, key=str) == [("J1", "r2"), (None, "r3")]
    assert sorted(report.requeued) == sorted([ids["line"], ids["submitting"], ids["claimed"]])
    assert report.finished == (ids["submitted"],) and report.resumed == () and report.unresolved == ()
    line = restarted.get_entry(ids["line"])
    assert line.state is S.PENDING and line.tries == 1 and line.last_cause == Cause.INTERRUPTED.value
    assert [a.outcome for a in restarted.attempts(ids["line"])] == ["pending"]
    assert restarted.get_entry(ids["submitting"]).tries == 0 and restarted.attempts(ids["claimed"]) == []
    assert restarted.get_entry(ids["submitted"]).state is S.SENT
    assert restarted.recover("node-a", T0 + 6, lookup).requeued == ()
    # deliver the rest: every entry ends with exactly one sent attempt
    for claim in restarted.claim("node-b", T0 + 5, "any", ["L1"], 10):
        restarted.complete(claim.entry.id, Result.ok(1, 30.0), T0 + 40)
    assert restarted.claim("node-b", T0 + 50, "any", ["L1"], 10) == []
    for entry_id in ids.values():
        assert [a.outcome for a in restarted.attempts(entry_id)].count("sent") == 1


def test_recover_cloud_pending_failed_and_unknown(jobs: JobStore) -> None:
    """A running cloud job is resumed, a failed one is a counted attempt, an unknown submitted one is kept."""
    _, entries = jobs.submit(FaxSpec(owner="u"), [Recipient(fax_number=str(n)) for n in (1, 2, 3)], T0)
    jobs.claim("n1", T0, "cloud", limit=3)
    for entry, job in zip(entries, ("J1", "J2", "J3")):
        jobs.cloud_submitting(entry.id, now=T0)
        jobs.cloud_submitted(entry.id, job, now=T0)
    answers = {"J1": CloudStatus.PENDING, "J2": "failed", "J3": CloudStatus.UNKNOWN}
    report = jobs.recover("n1", T0 + 1, lambda e: answers[e.cloud_job_id or ""])
    assert [c.entry.id for c in report.resumed] == [entries[0].id] and report.unresolved == (entries[2].id,)
    assert report.requeued == (entries[1].id,)
    assert [jobs.get_entry(e.id).state for e in entries] == [S.SENDING, S.PENDING, S.SENDING]
    assert jobs.get_entry(entries[1].id).due_at == T0 + 1 + 300


def _url_of(store: JobStore) -> str:
    db = store._db
    return f"sqlite:///{db.path}" if hasattr(db, "path") else db._dsn
