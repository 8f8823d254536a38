"""A fax number with CR/LF or other control characters never makes a second
log line: the scheduler and router log it escaped, and the router ends such
an entry after one try without dialling it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import formatEventAsClassicLogText, globalLogPublisher

from appliance.jobs import EntryState, FaxSpec, JobStore, Recipient, open_job_store
from appliance.jobs.scheduler import JobScheduler
from appliance.outbound import Router

T0 = 1_700_000_000.0
FORGED = [
    "5550101\r\n2026-01-01T00:00:00+0000 [appliance] job 00000001/0000 is sent",
    "5550101\rATZ",
    "555\x1b[2J0101",
    "555\u20280101",
    "555\x850101",
]


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobStore]:
    store = open_job_store(f"sqlite:///{tmp_path}/jobs.db")
    yield store
    store.close()


@pytest.fixture
def lines() -> Iterator[list[str]]:
    """Every log event as the text observer writes it."""
    out: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        out.append(formatEventAsClassicLogText(event, lambda t: "T") or "")

    globalLogPublisher.addObserver(observe)
    yield out
    globalLogPublisher.removeObserver(observe)


def test_forged_numbers_stay_on_one_log_line(jobs: JobStore, lines: list[str]) -> None:
    """Each log event of dispatching such numbers is one line; the entries end dead after one try."""
    clock = Clock()
    clock.advance(T0)
    _, entries = jobs.submit(FaxSpec(owner="u", pages=1), [Recipient(fax_number=n) for n in FORGED], T0)
    run = lambda fn, *a, **kw: defer.maybeDeferred(fn, *a, **kw)  # noqa: E731 - the store is a local file
    router = Router(clock, jobs, run, node_id="n1", pool=None, portserver=None, cloud=None)
    sched = JobScheduler(
        jobs,
        clock=clock,
        run_blocking=run,
        node_id="n1",
        dispatch=router.dispatch,
        lines=lambda: ["L1", "L2", "L3", "L4", "L5"],
        cloud_slots=0,
    )
    sched.startService()
    clock.advance(1)
    sched.stopService()
    done = [jobs.get_entry(e.id) for e in entries]
    assert [(e.state, e.tries) for e in done] == [(EntryState.DEAD, 1)] * len(FORGED)
    assert all("dial string" in e.hangup_text and e.hangup_text.isprintable() for e in done)
    mine = [text for text in lines if "job " in text]
    assert len(mine) >= 2 * len(FORGED)
    for text in lines:
        assert text.endswith("\n") and text.count("\n") == 1 and "\r" not in text, text
        assert text[:-1].isprintable(), text
    assert any("5550101\\r\\n2026-01-01T00:00:00+0000" in text for text in mine)
