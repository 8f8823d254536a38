"""HTTP limits seen from a raw socket (413 before the body, 401 before
``100 Continue``), external attachments through the outbound fetcher (a
loopback canary is never reached), and paged ``GET /ofax``."""

from __future__ import annotations

import base64
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor, threads
from twisted.internet.defer import Deferred

from appliance.config.web import WebConfig
from appliance.fetch_policy import REFUSED
from tests.radius.server_process import RunningServer
from tests.web.harness import ALICE, BOB, WebHarness, schedule_xml

LIMIT = 64 * 1024


@pytest.fixture
def small(tmp_path: Path, radius_server: RunningServer) -> Iterator[WebHarness]:
    """The web service with a 64 KiB body limit and 127.0.0.2 allowed for fetches."""
    harness = WebHarness(
        tmp_path,
        radius_server,
        web=WebConfig(
            admin_groups=("fax-admins",),
            max_request_bytes=LIMIT,
            fetch_allow=("127.0.0.2/32",),
            external_fetch_timeout=5.0,
        ),
    )
    yield harness
    pytest_twisted.blockon(Deferred.fromCoroutine(harness.close()).addTimeout(30, reactor))


def _basic(user: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()


def exchange(port: int, head: str, body: bytes = b"", *, wait_continue: bool = False, timeout: float = 5.0) -> bytes:
    """Everything the server sent for one raw request, read until the server closed the
    connection (a server that keeps it open fails the test with a timeout).

    With ``wait_continue`` the body is sent only after ``100 Continue``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        received = b""
        if wait_continue:
            while b"\r\n\r\n" not in received:
                chunk = s.recv(65536)
                if not chunk:
                    return received
                received += chunk
            if not received.startswith(b"HTTP/1.1 100 "):
                return received + _rest(s)
            s.sendall(body)
        elif body:
            s.sendall(body)
        return received + _rest(s)


def _rest(s: socket.socket) -> bytes:
    """Read until the server closes (socket.timeout fails the test)."""
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def head(length: str, *, auth: str | None = _basic(ALICE), expect: bool = False, path: str = "/ffws/v1/ofax") -> str:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/xml",
        f"Content-Length: {length}",
        "Connection: close",
    ]
    if auth is not None:
        lines.append(f"Authorization: {auth}")
    if expect:
        lines.append("Expect: 100-continue")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------ 413


@pytest.mark.parametrize("length", ["100000000000000000000", "1e20", "-5", "abc", str(LIMIT + 1)])
@pytest_twisted.ensureDeferred
async def test_absurd_content_length_413(small: WebHarness, length: str) -> None:
    """An absurd or oversized Content-Length gets 413 at once and the connection is closed."""
    port = small.port.getHost().port
    started = time.monotonic()
    answer = await threads.deferToThread(exchange, port, head(length))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"Connection: close" in answer  # and exchange() saw the server close
    assert time.monotonic() - started < 3.0
    assert small.jobs.list_entries() == []


@pytest_twisted.ensureDeferred
async def test_chunked_body_over_limit_413(small: WebHarness) -> None:
    """A chunked body is refused with 413 as soon as it grows past the limit."""
    port = small.port.getHost().port
    request = "\n".join(
        ["POST /ffws/v1/ofax HTTP/1.1", "Host: x", f"Authorization: {_basic(ALICE)}", "Transfer-Encoding: chunked", ""]
    )
    chunk = b"%x\r\n%s\r\n" % (LIMIT // 2, b"A" * (LIMIT // 2))
    answer = await threads.deferToThread(exchange, port, request, chunk * 3)
    assert answer.startswith(b"HTTP/1.1 413 ")


@pytest_twisted.ensureDeferred
async def test_body_within_limit_accepted(small: WebHarness) -> None:
    """A body under the limit (Content-Length given) is processed normally."""
    body = schedule_xml(1)
    answer = await threads.deferToThread(exchange, small.port.getHost().port, head(str(len(body))), body)
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]


# ------------------------------------------------------- 100-continue


@pytest.mark.parametrize("auth", [None, _basic(("alice", "wrong")), "Basic !!!"])
@pytest_twisted.ensureDeferred
async def test_expect_continue_bad_credentials_401(small: WebHarness, auth: str | None) -> None:
    """Missing or wrong credentials with Expect: 100-continue get 401, never 100 Continue."""
    answer = await threads.deferToThread(
        exchange, small.port.getHost().port, head("50000", auth=auth, expect=True), b"A" * 50000, wait_continue=True
    )
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert b"100 Continue" not in answer and b"WWW-Authenticate: Basic" in answer
    assert small.jobs.list_entries() == []


@pytest_twisted.ensureDeferred
async def test_expect_continue_good_credentials(small: WebHarness) -> None:
    """Good credentials get 100 Continue, then the fax is scheduled."""
    body = schedule_xml(1)
    answer = await threads.deferToThread(
        exchange, small.port.getHost().port, head(str(len(body)), expect=True), body, wait_continue=True
    )
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 "), answer[:300]


@pytest_twisted.ensureDeferred
async def test_expect_continue_uapi_bad_token(small: WebHarness) -> None:
    """A UAPI upload with a bad bearer token gets a JSON 401 before the body."""
    request = head("50000", auth="Bearer not-a-token", expect=True, path="/uapi/faxes/@me/100")
    answer = await threads.deferToThread(exchange, small.port.getHost().port, request, b"A" * 50000, wait_continue=True)
    assert answer.startswith(b"HTTP/1.1 401 ") and b'"unauthorized"' in answer


# ----------------------------------------------------- external fetch


class Canary:
    """A real HTTP server that records every request it gets."""

    def __init__(self, host: str, redirect_to: str = "", delay: float = 0.0) -> None:
        self.paths: list[str] = []
        self.active = self.peak = 0
        lock = threading.Lock()
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with lock:
                    canary.paths.append(self.path)
                    canary.active += 1
                    canary.peak = max(canary.peak, canary.active)
                time.sleep(delay)
                with lock:
                    canary.active -= 1
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b"internal secret document"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}/doc.txt"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def external(url: str) -> str:
    return (
        f"<attachment><location>external</location><name>doc.txt</name>"
        f"<content_type>text/plain</content_type><url>{url}</url></attachment>"
    )


async def converted(h: WebHarness, url: str) -> Any:
    """Schedule a fax (as alice) with one external attachment; its entry after conversion."""
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(1, external(url)), auth=ALICE)
    assert response.status_code == 201, response.text
    await h.app.idle()
    fax_id = int(fax_keys(response.content)[0].split("/")[0], 16)
    (entry,) = await threads.deferToThread(lambda: h.jobs.list_entries(fax_id=fax_id))
    return entry


@pytest_twisted.ensureDeferred
async def test_external_attachment_on_loopback_refused(small: WebHarness) -> None:
    """A non-admin's external URL on loopback (direct, by name, via a redirect) is never fetched."""
    canary = Canary("127.0.0.1")
    try:
        allowed = Canary("127.0.0.2", redirect_to=canary.url)
    except OSError:
        canary.close()
        pytest.skip("cannot bind 127.0.0.2")
    try:
        for url in (canary.url, canary.url.replace("127.0.0.1", "localhost"), allowed.url):
            entry = await converted(small, url)
            assert entry.state.value == "dead" and entry.schedule_message.endswith(REFUSED)
        assert canary.paths == [] and allowed.paths == ["/doc.txt"]
    finally:
        canary.close()
        allowed.close()


@pytest_twisted.ensureDeferred
async def test_external_attachment_allowed(small: WebHarness) -> None:
    """An address listed in fetch_allow is fetched and converted."""
    try:
        allowed = Canary("127.0.0.2")
    except OSError:
        pytest.skip("cannot bind 127.0.0.2")
    try:
        entry = await converted(small, allowed.url)
        assert entry.state.value == "pending" and allowed.paths == ["/doc.txt"]
    finally:
        allowed.close()


@pytest_twisted.ensureDeferred
async def test_at_most_four_fetches_at_once(small: WebHarness) -> None:
    """Six faxes with slow external attachments: at most four fetches run at the same time."""
    try:
        slow = Canary("127.0.0.2", delay=1.0)
    except OSError:
        pytest.skip("cannot bind 127.0.0.2")
    try:
        for _ in range(6):
            response = await small.xml("POST", "/ffws/v1/ofax", schedule_xml(1, external(slow.url)), auth=ALICE)
            assert response.status_code == 201
        await small.app.idle()
        assert len(slow.paths) == 6 and slow.peak == 4
    finally:
        slow.close()


# ------------------------------------------------------------- paging


def fax_keys(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    return [e.findtext("fax_entry_url").rsplit("/ofax/", 1)[1] for e in root.findall("fax_entry")]  # type: ignore


@pytest_twisted.ensureDeferred
async def test_ofax_listing_is_paged(h: WebHarness) -> None:
    """GET /ofax pages with limit/offset; pages are disjoint and cover the list in order."""
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(7), auth=ALICE)
    assert response.status_code == 201
    await h.xml("POST", "/ffws/v1/ofax", schedule_xml(2), auth=BOB)
    full = await h.request("GET", "/ffws/v1/ofax", auth=ALICE)
    everything = fax_keys(full.content)
    assert len(everything) == 7 and "x-next-offset" not in full.headers
    first = await h.request("GET", "/ffws/v1/ofax", params={"limit": "3"}, auth=ALICE)
    assert fax_keys(first.content) == everything[:3] and first.headers["x-next-offset"] == "3"
    second = await h.request("GET", "/ffws/v1/ofax", params={"limit": "3", "offset": "3"}, auth=ALICE)
    last = await h.request("GET", "/ffws/v1/ofax", params={"limit": "3", "offset": "6"}, auth=ALICE)
    assert fax_keys(second.content) == everything[3:6] and fax_keys(last.content) == everything[6:]
    assert "x-next-offset" not in last.headers
    admin = await h.request("GET", "/ffws/v1/ofax", params={"all_users": "true", "limit": "1000"})
    assert len(fax_keys(admin.content)) == 9


@pytest.mark.parametrize(
    "params, problem",
    [({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"), ({"limit": "x"}, "limit"), ({"offset": "-1"}, "offset")],
)
@pytest_twisted.ensureDeferred
async def test_ofax_paging_bounds(h: WebHarness, params: dict[str, str], problem: str) -> None:
    """limit must be 1..1000 and offset a whole number: 400 naming the parameter."""
    response = await h.request("GET", "/ffws/v1/ofax", params=params, auth=ALICE)
    assert response.status_code == 400 and problem in (ET.fromstring(response.content).findtext("message") or "")


@pytest_twisted.ensureDeferred
async def test_address_book_bodies_are_small(h: WebHarness) -> None:
    """A contact larger than 1 MB is refused with 413 (such bodies are parsed on the reactor)."""
    big = b"<contact><name>" + b"N" * (1024 * 1024) + b"</name></contact>"
    response = await h.xml("POST", "/ffws/v1/contacts", big, auth=ALICE)
    assert response.status_code == 413 and b"at most 1048576 bytes" in response.content
