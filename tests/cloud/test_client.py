"""FaxageClient against httpx.MockTransport: retries with backoff, ERR01,
sendfax reconciliation (never sending twice), the debugging URL, and
credentials kept out of exceptions and logs."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from twisted.logger import capturedLogs

from appliance.cloud.api import Credentials
from appliance.cloud.client import FaxageClient, RetryPolicy, make_http_client
from appliance.cloud.errors import (
    FaxageTransportError,
    LoginIncorrect,
    SendOutcomeUnknown,
    ServiceUnavailable,
)
from appliance.cloud.records import Ack, JobSubmitted
from appliance.config import Secret

PASSWORD = "s3cr3t-Pa55"
POLICY = RetryPolicy(attempts=3, base_delay=1.0, multiplier=2.0, jitter=0.0, reconcile_checks=2, reconcile_delay=5.0)
STATUS = "{jobid}\t1\t{name}\t{faxno}\tpending\tIn Queue\t2017-11-03 10:00:00\t0000-00-00 00:00:00\t00:00:00"

Reply = Callable[[str, dict[str, list[str]]], httpx.Response | Exception]


class Server:
    """A scripted FAXAGE: ``replies[operation]`` is a list consumed in order."""

    def __init__(self, **replies: list[Any]) -> None:
        self.replies = replies
        self.seen: list[tuple[str, str, dict[str, list[str]]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode(), keep_blank_values=True)
        op = form.get("operation", ["getcdr"])[0]
        self.seen.append((request.url.path, op, form))
        reply = self.replies[op].pop(0) if len(self.replies[op]) > 1 else self.replies[op][0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, int):
            return httpx.Response(reply, content=b"oops")
        return httpx.Response(200, content=reply.encode() if isinstance(reply, str) else reply)

    def ops(self) -> list[str]:
        return [op for _, op, _ in self.seen]


def make(server: Server, *, debug: bool = False) -> tuple[FaxageClient, list[float], list[dict[str, Any]]]:
    sleeps: list[float] = []
    events: list[dict[str, Any]] = []
    client = FaxageClient(
        make_http_client(transport=httpx.MockTransport(server)),
        "https://api.faxage.com",
        Credentials("acme", "12345", Secret(PASSWORD)),
        sleep=sleeps.append,
        rng=random.Random(7),
        retry=POLICY,
        debug=debug,
        events=lambda event, **f: events.append({"event": event, **f}),
    )
    return client, sleeps, events


def timeout(request_text: str = "read") -> httpx.ReadTimeout:
    return httpx.ReadTimeout(f"{request_text} timed out")


def test_err01_retried_with_backoff() -> None:
    """ERR01 is retried with exponential backoff until the service answers."""
    server = Server(
        listlines=["ERR01: Database connection failed", "ERR01: Database connection failed", "3035550100\n"]
    )
    client, sleeps, events = make(server)
    assert client.request("listlines") == ("3035550100",)
    assert sleeps == [1.0, 2.0]
    assert [e["reason"] for e in events] == ["ServiceUnavailable", "ServiceUnavailable"]


def test_err01_gives_up_after_attempts() -> None:
    """After the last attempt the typed ERR01 exception is raised."""
    client, sleeps, _ = make(Server(pendcount=["ERR01: Database connection failed"]))
    with pytest.raises(ServiceUnavailable):
        client.request("pendcount")
    assert len(sleeps) == POLICY.attempts - 1


def test_backoff_jitter_uses_injected_rng() -> None:
    """Jitter comes from the injected random generator and stays within bounds."""
    policy = RetryPolicy(base_delay=1.0, jitter=0.5)
    assert policy.delay(1, 0.0) == 1.0 and policy.delay(2, 1.0) == 3.0
    assert RetryPolicy(max_delay=3.0).delay(10, 0.0) == 3.0


def test_safe_operation_retried_after_timeout_and_5xx() -> None:
    """Read timeouts and 5xx replies are retried for operations safe to repeat."""
    server = Server(status=[timeout(), 503, STATUS.format(jobid=5, name="Bob", faxno="3035550123")])
    client, _sleeps, _ = make(server)
    (record,) = client.status([5])
    assert record.jobid == 5 and server.ops() == ["status"] * 3


def test_unsafe_operation_not_repeated_after_ambiguous_failure() -> None:
    """A clear that timed out is not repeated; the error says it may have been applied."""
    server = Server(clear=[timeout(), "5 cleared"])
    client, sleeps, _ = make(server)
    with pytest.raises(FaxageTransportError, match="may or may not have been applied"):
        client.request("clear", {"jobid": 5})
    assert server.ops() == ["clear"] and sleeps == []


def test_connect_error_retried_for_any_operation() -> None:
    """A failed connection never reached the service, so even delfax is retried."""
    server = Server(delfax=[httpx.ConnectError("refused"), "9 Deleted"])
    client, _, _ = make(server)
    assert client.request("delfax", {"faxid": 9}).subject == "9"


def test_client_error_status_not_retried() -> None:
    """An HTTP 4xx is raised at once with its status."""
    server = Server(listlines=[404])
    client, sleeps, _ = make(server)
    with pytest.raises(FaxageTransportError) as info:
        client.request("listlines")
    assert info.value.status == 404 and sleeps == []


def test_repeated_handled_counts_as_success() -> None:
    """A handled repeated after a timeout that answers ERR39 (double handle) is a success."""
    server = Server(handled=[timeout(), "ERR39: Attempt to double handle 9"])
    client, _, _ = make(server)
    ack = client.request("handled", {"recvid": 9, "handled": 1})
    assert isinstance(ack, Ack) and ack.subject == "9"


def test_sendfax_timeout_after_acceptance_is_reconciled() -> None:
    """A sendfax that timed out after the service created the job is found via status, not resent."""
    server = Server(sendfax=[timeout(), "JOBID: 99"], status=[STATUS.format(jobid=41, name="Bob", faxno="3035550123")])
    client, sleeps, _events = make(server)
    result = client.sendfax("3035550123", "Bob", [("a.pdf", b"%PDF")])
    assert result == JobSubmitted(jobid=41, reconciled=True)
    assert server.ops() == ["sendfax", "status"]
    assert server.seen[1][2]["useronly"] == ["1"]
    assert sleeps == [POLICY.reconcile_delay]


def test_sendfax_not_accepted_is_resent_once() -> None:
    """When status shows no such job after the checks, the fax is sent again."""
    other = STATUS.format(jobid=7, name="Alice", faxno="3035550123")
    server = Server(
        sendfax=[httpx.RemoteProtocolError("dropped"), "JOBID: 100"],
        status=["ERR06: No jobs to display or job id specified not found", other],
    )
    client, sleeps, _ = make(server)
    assert client.sendfax("3035550123", "Bob", [("a.pdf", b"%PDF")]) == JobSubmitted(jobid=100)
    assert server.ops() == ["sendfax", "status", "status", "sendfax"]
    assert sleeps == [5.0, 5.0, 1.0]


def test_sendfax_reconcile_skips_known_jobs() -> None:
    """A job this client already returned is never adopted by a later reconciliation."""
    server = Server(
        sendfax=["JOBID: 41", timeout(), "JOBID: 42"], status=[STATUS.format(jobid=41, name="Bob", faxno="3035550123")]
    )
    client, _, _ = make(server)
    assert client.sendfax("3035550123", "Bob", [("a.pdf", b"%PDF")]).jobid == 41
    assert client.sendfax("3035550123", "Bob", [("a.pdf", b"%PDF")]) == JobSubmitted(jobid=42)


def test_sendfax_ambiguous_candidates_not_resent() -> None:
    """Two unclaimed matching jobs: the outcome is unknown and nothing is resent."""
    lines = "\n".join(STATUS.format(jobid=j, name="Bob", faxno="3035550123") for j in (50, 51))
    server = Server(sendfax=[httpx.ReadError("reset"), "JOBID: 1"], status=[lines])
    client, _, _ = make(server)
    with pytest.raises(SendOutcomeUnknown) as info:
        client.sendfax("3035550123", "Bob", [("a.pdf", b"%PDF")])
    assert info.value.candidates == (50, 51) and server.ops() == ["sendfax", "status"]


def test_sendfax_status_unavailable_not_resent() -> None:
    """If status cannot be checked after an ambiguous sendfax, nothing is resent."""
    server = Server(sendfax=[503, "JOBID: 1"], status=["ERR02: Login incorrect"])
    client, _, _ = make(server)
    with pytest.raises(SendOutcomeUnknown, match="not resent"):
        client.sendfax("3035550123", "Bob", [("a.pdf", b"%PDF")])
    assert server.ops().count("sendfax") == 1


def test_sendfax_err01_retried() -> None:
    """ERR01 on sendfax means no job was made; the fax is retried."""
    server = Server(sendfax=["ERR01: Database connection failed", "JOBID: 3"])
    client, _, _ = make(server)
    assert client.sendfax("3035550123", "Bob", [("a.pdf", b"%PDF")]).jobid == 3


def test_debug_url() -> None:
    """With debug on, httpsfax operations go to httpsfax-debug.php and the echo is stripped."""
    echo = f"Array\n(\n    [username] => acme\n    [password] => {PASSWORD}\n)\n\n3035550100\n"
    server = Server(listlines=[echo], listac=["303\n"])
    client, _, _ = make(server, debug=True)
    assert client.request("listlines") == ("3035550100",)
    assert client.request("listac") == ("303",)
    assert [p for p, _, _ in server.seen] == ["/httpsfax-debug.php", "/provision.php"]


def test_credentials_sent_in_body_only() -> None:
    """Credentials travel in the POST body, never in the URL."""
    server = Server(listlines=["3035550100\n"])
    client, _, _ = make(server)
    client.request("listlines")
    path, _, form = server.seen[0]
    assert form["password"] == [PASSWORD] and PASSWORD not in path


def test_no_secret_in_exceptions_or_logs() -> None:
    """Errors that echo the POST, transport failures and log events never contain the password."""
    echoed = f"ERR08: Unknown operation specified or bad POST username=acme&password={PASSWORD}"
    server = Server(
        listlines=[echoed],
        status=[httpx.ReadTimeout(f"timeout password={PASSWORD}")],
        listusers=["ERR02: Login incorrect"],
    )
    sleeps: list[float] = []
    client = FaxageClient(
        make_http_client(transport=httpx.MockTransport(server)),
        "https://api.faxage.com",
        Credentials("acme", "12345", Secret(PASSWORD)),
        sleep=sleeps.append,
        rng=random.Random(1),
        retry=POLICY,
    )
    texts = [repr(client)]
    with capturedLogs() as events:
        for op in ("listlines", "status", "listusers"):
            with pytest.raises(Exception) as info:
                client.request(op)
            texts += [str(info.value), repr(info.value)]
            assert info.value.__cause__ is None or PASSWORD not in str(info.value.__cause__)
    assert isinstance(info.value, LoginIncorrect)
    texts += [repr(e) for e in events]
    assert events, "retries are logged"
    assert all(PASSWORD not in t for t in texts)
