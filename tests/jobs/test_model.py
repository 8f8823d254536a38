"""The job queue's pure core: the entry transition table, the retry policy and route assignment."""

from __future__ import annotations

import pytest

from appliance.jobs.model import (
    CLOUD,
    TERMINAL,
    TRANSITIONS,
    Cause,
    EntryState,
    IllegalTransition,
    Result,
    RetryPolicy,
    assign_routes,
    check_transition,
    number_key,
)

S = EntryState
ALLOWED = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}


def test_states_are_the_faxfinder_states() -> None:
    """The entry states are exactly the eight FaxFinder fax entry states."""
    assert [s.value for s in S] == [
        "preprocessing",
        "approval_pending",
        "pending",
        "sending",
        "sent",
        "aborted",
        "failed",
        "dead",
    ]
    assert {S.SENT, S.ABORTED, S.FAILED, S.DEAD} == TERMINAL


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table(current: EntryState, target: EntryState) -> None:
    """Every pair is either allowed by the table or raises IllegalTransition naming both states."""
    if (current, target) in ALLOWED:
        assert check_transition(current, target) is target
    else:
        with pytest.raises(IllegalTransition) as info:
            check_transition(current, target, entry_id=7, action="move")
        assert info.value.current is current and info.value.target is target
        assert f"{current.value} -> {target.value}" in str(info.value)


def test_spec_paths_are_allowed() -> None:
    """The §8 paths: conversion, approval, claim, requeue, success, exhaustion, abort, reschedule."""
    for pair in [
        (S.PREPROCESSING, S.APPROVAL_PENDING),
        (S.PREPROCESSING, S.PENDING),
        (S.APPROVAL_PENDING, S.PENDING),
        (S.PENDING, S.SENDING),
        (S.SENDING, S.PENDING),
        (S.SENDING, S.SENT),
        (S.SENDING, S.FAILED),
        (S.PREPROCESSING, S.DEAD),
        (S.PENDING, S.ABORTED),
        (S.SENDING, S.ABORTED),
    ]:
        assert pair in ALLOWED
    for terminal in TERMINAL:
        assert TRANSITIONS[terminal] == {S.PENDING}
    assert (S.PENDING, S.SENT) not in ALLOWED and (S.SENT, S.SENDING) not in ALLOWED


@pytest.mark.parametrize(
    "cause,interval",
    [(Cause.BUSY, 180), (Cause.NO_ANSWER, 300), (Cause.PROTOCOL, 60), (Cause.OTHER, 300), (Cause.INTERRUPTED, 0)],
)
def test_default_intervals(cause: Cause, interval: float) -> None:
    """HylaFAX defaults: busy 180 s, no answer and other 300 s, protocol 60 s; a crash retries at once."""
    decision = RetryPolicy().decide(cause, 1, 1000.0)
    assert decision.state is S.PENDING and decision.due_at == 1000.0 + interval


@pytest.mark.parametrize("cause", [Cause.BUSY, Cause.NO_ANSWER, Cause.PROTOCOL, Cause.OTHER, Cause.INTERRUPTED])
def test_tries_exhausted_fail(cause: Cause) -> None:
    """The third failed try of three leaves the entry failed, with no next try."""
    policy = RetryPolicy()
    assert policy.decide(cause, 2, 0.0).state is S.PENDING
    decision = policy.decide(cause, 3, 0.0)
    assert decision.state is S.FAILED and decision.due_at is None and cause.value in decision.message


def test_rejected_is_dead_at_once() -> None:
    """An authorization reject or dialing rule makes the entry dead on the first try."""
    assert RetryPolicy().decide(Cause.REJECTED, 1, 0.0).state is S.DEAD


def test_abort_requested_wins() -> None:
    """A failed call of an entry whose abort was requested ends aborted, not requeued."""
    assert RetryPolicy().decide(Cause.BUSY, 1, 0.0, abort_requested=True).state is S.ABORTED


def test_configured_policy_and_fax_overrides() -> None:
    """Intervals and max tries are configurable; a fax's try_interval and max_tries override them."""
    policy = RetryPolicy(max_tries=5, intervals={Cause.BUSY: 10.0, Cause.OTHER: 20.0})
    assert policy.decide(Cause.BUSY, 4, 0.0).due_at == 10.0
    assert policy.decide(Cause.NO_ANSWER, 1, 0.0).due_at == 20.0  # unlisted cause: the "other" interval
    assert policy.decide(Cause.BUSY, 1, 0.0, try_interval=33).due_at == 33.0
    assert policy.decide(Cause.BUSY, 2, 0.0, max_tries=2).state is S.FAILED
    with pytest.raises(ValueError, match="max_tries"):
        RetryPolicy(max_tries=0)
    with pytest.raises(ValueError, match="busy"):
        RetryPolicy(intervals={Cause.BUSY: -1.0})


def test_result_needs_consistent_cause() -> None:
    """A failure needs a cause, a success has none."""
    assert Result.failure("busy").cause is Cause.BUSY
    with pytest.raises(ValueError):
        Result(sent=False)
    with pytest.raises(ValueError):
        Result(sent=True, cause=Cause.BUSY)
    with pytest.raises(ValueError):
        Result.failure("weather")


def test_number_key() -> None:
    """Dial strings differing only in punctuation are the same destination."""
    assert number_key("(218) 555-3335") == number_key("2185553335") == "2185553335"
    assert number_key("+1 218 555 3335") == "+12185553335"


def test_assign_routes() -> None:
    """Lines go in queue order, one entry each; pins are honoured; one call per number; the cloud takes the rest."""
    candidates = [(1, "a", None), (2, "a", None), (3, "b", "L2"), (4, "c", CLOUD), (5, "d", None), (6, "e", "L9")]
    assert assign_routes(candidates, ["L1", "L2"], True, 10) == [(1, "L1"), (3, "L2"), (4, CLOUD), (5, CLOUD)]
    assert assign_routes(candidates, ["L1", "L2"], False, 10) == [(1, "L1"), (3, "L2")]
    assert assign_routes(candidates, [], True, 2) == [(1, CLOUD), (4, CLOUD)]
    assert assign_routes(candidates, ["L2"], False, 10) == [(1, "L2")]


def test_model_is_pure() -> None:
    """The model imports nothing that does I/O or reads clocks or randomness (style guide A1)."""
    import ast
    from pathlib import Path

    import appliance.jobs.model as model

    tree = ast.parse(Path(model.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"twisted", "socket", "time", "random", "os", "logging", "threading", "sqlite3", "psycopg"}
