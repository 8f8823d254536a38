"""NotifyTracker (pure): per-job tokens authenticate url_notify callbacks,
and each job's final status is delivered exactly once by callback or poll."""

from __future__ import annotations

import random

from appliance.cloud.api import status_record_from_fields
from appliance.cloud.notify import NotifyTracker, Outcome

FIELDS = {
    "jobid": "7",
    "commid": "1",
    "destname": "Bob",
    "destnum": "3035550123",
    "shortstatus": "success",
    "longstatus": "Success",
    "sendtime": "2017-11-03 10:00:00",
    "completetime": "2017-11-03 10:01:00",
    "xmittime": "00:00:42",
    "pagecount": "1",
    "xmitpages": "1",
    "csid": "X",
}


def tracker() -> NotifyTracker:
    return NotifyTracker("https://app/notify", random.Random(1).randbytes)


def test_tokens_are_unguessable_and_in_url() -> None:
    """Each token is 24 random bytes in hex and ends the url_notify URL."""
    t = tracker()
    token, url = t.new_token()
    other, _ = t.new_token()
    assert len(token) == 48 and token != other and url == f"https://app/notify/{token}"


def test_callback_delivered_once() -> None:
    """A valid callback delivers; a repeat is a duplicate; a later poll adds nothing."""
    t = tracker()
    token, _ = t.new_token()
    t.bind(token, 7)
    outcome, record = t.callback(token, FIELDS)
    assert outcome is Outcome.DELIVERED and record is not None and record.jobid == 7
    assert t.callback(token, FIELDS)[0] is Outcome.DUPLICATE
    assert t.polled((status_record_from_fields("status", FIELDS),)) == []
    assert t.pending() == []


def test_rejections() -> None:
    """Unknown tokens, callbacks naming another job and malformed posts are rejected."""
    t = tracker()
    token, _ = t.new_token()
    t.bind(token, 8)
    assert t.callback("0" * 48, FIELDS)[0] is Outcome.UNKNOWN_TOKEN
    assert t.callback(token, FIELDS)[0] is Outcome.WRONG_JOB
    assert t.callback(token, {"jobid": "8"})[0] is Outcome.MALFORMED
    assert t.callback(token, {**FIELDS, "jobid": "8", "shortstatus": "pending"})[0] is Outcome.PROGRESS
    assert t.pending() == [8]


def test_poll_batches() -> None:
    """Pending jobs are polled in jobids[] batches of the configured size."""
    t = tracker()
    for jobid in range(1, 6):
        t.watch(jobid)
    assert t.batches(2) == [[1, 2], [3, 4], [5]]
    final = status_record_from_fields("status", {**FIELDS, "jobid": "3"})
    assert [r.jobid for r in t.polled((final,))] == [3] and t.batches(10) == [[1, 2, 4, 5]]
