"""Group commit: records submitted during a commit share the next one."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from radius.store._group_commit import GroupCommit, Pending

TIMEOUT = 10


class GatedCommit:
    """A commit function that records its batches and can be held open."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, batch: list[Any]) -> list[Any]:
        self.batches.append(list(batch))
        self.entered.set()
        assert self.release.wait(TIMEOUT)
        if "bad" in batch:
            raise ValueError("bad record")
        return [f"ok:{p}" for p in batch]


def _submit_in_thread(group: GroupCommit[Any], payload: Any, results: dict[Any, Any]) -> threading.Thread:
    def run() -> None:
        try:
            results[payload] = group.submit(payload)
        except ValueError as exc:
            results[payload] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_single_submit_commits_alone() -> None:
    """With no concurrency each submit is its own batch and returns its result."""
    commit = GatedCommit()
    group: GroupCommit[Any] = GroupCommit(commit)
    assert group.submit("a") == "ok:a"
    assert group.submit("b") == "ok:b"
    assert commit.batches == [["a"], ["b"]]


def test_submits_during_a_commit_share_the_next() -> None:
    """Records queued while a commit runs are committed together, each getting its own result."""
    commit = GatedCommit()
    commit.release.clear()
    group: GroupCommit[Any] = GroupCommit(commit)
    results: dict[Any, Any] = {}
    first = _submit_in_thread(group, "first", results)
    assert commit.entered.wait(TIMEOUT)
    others = [_submit_in_thread(group, f"r{i}", results) for i in range(4)]
    for _ in range(TIMEOUT * 1000):  # until all four are queued behind the running commit
        if len(group._queue) == 4:
            break
        threading.Event().wait(0.001)
    commit.release.set()
    for thread in [first, *others]:
        thread.join(TIMEOUT)
    assert commit.batches[0] == ["first"]
    assert sorted(commit.batches[1]) == ["r0", "r1", "r2", "r3"]
    assert len(commit.batches) == 2
    assert results == {p: f"ok:{p}" for p in ["first", "r0", "r1", "r2", "r3"]}


def test_a_failing_record_fails_alone() -> None:
    """When a batch fails, its records are retried one by one and only the bad one fails."""
    commit = GatedCommit()
    group: GroupCommit[Any] = GroupCommit(commit)
    items: list[Pending[Any]] = [Pending("a"), Pending("bad"), Pending("b")]
    group.run_batch(items)
    assert [i.result for i in items] == ["ok:a", None, "ok:b"]
    assert isinstance(items[1].error, ValueError)
    with pytest.raises(ValueError, match="bad record"):
        group.submit("bad")
