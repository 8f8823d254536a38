"""Browser safety over HTTP: a cross-site form post shaped as XML, foreign
Origin/Referer, the console's anti-CSRF token, security headers, and 429
with Retry-After after repeated wrong passwords."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred

from appliance.config.web import WebConfig
from appliance.web.guard import Guard
from tests.web.harness import ADMIN, ALICE, WebHarness, schedule_xml

FORM_FILE = {"file": ("note.txt", b"hello fax", "text/plain")}


def stored(h: WebHarness) -> int:
    return sum(h.jobs.count_by_state().values())


@pytest_twisted.ensureDeferred
async def test_cross_site_plain_text_is_415(h: WebHarness) -> None:
    """A text/plain body shaped as XML (what a cross-site form can send) is 415 with a message; nothing stored."""
    response = await h.request("POST", "/ffws/v1/ofax", content=schedule_xml(1), headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/xml" in (ET.fromstring(response.content).findtext("message") or "")
    assert stored(h) == 0
    response = await h.request(
        "POST", "/ffws/v1/ofax", content=schedule_xml(1), headers={"content-type": "application/xml; charset=utf-8"}
    )
    assert response.status_code == 201


@pytest_twisted.ensureDeferred
async def test_foreign_origin_is_403(h: WebHarness) -> None:
    """POST/PUT/DELETE with a foreign Origin or Referer are 403 before anything runs; our own origin passes."""
    for headers in (
        {"origin": "https://evil.example"},
        {"referer": "https://evil.example/form.html"},
        {"origin": "null"},
    ):
        response = await h.request(
            "POST",
            "/ffws/v1/ofax",
            content=schedule_xml(1),
            auth=ALICE,
            headers={"content-type": "application/xml", **headers},
        )
        assert response.status_code == 403, headers
        assert "cross-site" in (ET.fromstring(response.content).findtext("message") or "")
    response = await h.request(
        "DELETE", "/ffws/v1/contacts/alice/1", auth=ALICE, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert stored(h) == 0
    response = await h.request(
        "POST",
        "/ffws/v1/ofax",
        content=schedule_xml(1),
        auth=ALICE,
        headers={"content-type": "application/xml", "origin": h.base},
    )
    assert response.status_code == 201
    response = await h.request("GET", "/ffws/v1/ofax", auth=ALICE, headers={"origin": "https://evil.example"})
    assert response.status_code == 200  # reads are not state changes


@pytest_twisted.ensureDeferred
async def test_uapi_only_multipart(h: WebHarness) -> None:
    """The send endpoint takes multipart/form-data only: JSON or text bodies are 415 with a JSON error."""
    token = (await h.app.run(h.directory.add_token, "alice", "t", 0.0))[1]
    for content_type in ("application/json", "text/plain"):
        response = await h.request(
            "POST",
            "/uapi/faxes/@me/100",
            auth=None,
            content=b'{"recipients":["1"]}',
            headers={"authorization": f"Bearer {token}", "content-type": content_type},
        )
        assert response.status_code == 415
        assert response.json()["error"]["code"] == "unsupported_media_type"
    assert stored(h) == 0


@pytest_twisted.ensureDeferred
async def test_console_csrf_token_and_headers(h: WebHarness) -> None:
    """The send form carries a per-credential token; a post without it or with another's is 403; the page has
    CSP, X-Frame-Options, nosniff and a referrer policy."""
    page = await h.request("GET", "/console/send")
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "same-origin"
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)  # type: ignore[union-attr]
    carol = await h.request("GET", "/console/send", auth=("carol", "carol-pw"))
    assert token not in carol.text  # another admin's credentials, another token
    for fields in ({"numbers": "5551234"}, {"numbers": "5551234", "csrf_token": "0" * 64}):
        response = await h.request("POST", "/console/send", data=fields, files=FORM_FILE)
        assert response.status_code == 403 and "anti-CSRF" in response.text
    response = await h.request(
        "POST",
        "/console/send",
        content=b"numbers=5551234",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert stored(h) == 0
    response = await h.request(
        "POST",
        "/console/send",
        data={"numbers": "5551234", "csrf_token": token},
        files=FORM_FILE,
        follow_redirects=False,
    )
    assert response.status_code == 303 and stored(h) == 1
    xml = await h.request("GET", "/ffws/v1/status")
    assert xml.headers["x-content-type-options"] == "nosniff" and "x-frame-options" not in xml.headers


@pytest.fixture
def fast(tmp_path: Path, radius_server: Any) -> Iterator[WebHarness]:
    """A web service whose login delays are short (50 ms, doubling) and whose user limit is 3."""
    web = WebConfig(admin_groups=("fax-admins",), login_delay=0.05, login_max_delay=30.0, login_user_limit=3)
    harness = WebHarness(tmp_path, radius_server, web=web)
    yield harness
    pytest_twisted.blockon(Deferred.fromCoroutine(harness.close()).addTimeout(30, reactor))


@pytest_twisted.ensureDeferred
async def test_repeated_failures_get_429(fast: WebHarness) -> None:
    """After repeated wrong admin passwords: 429 with Retry-After, even for the right password; each failure
    leaves an audit line naming user and source (never the password); other users are unaffected."""
    events: list[dict[str, Any]] = []
    root = fast.site.resource
    root.guard.log = Guard.log.__class__(namespace="test", observer=events.append)
    statuses = []
    for n in range(3):
        statuses.append((await fast.request("GET", "/ffws/v1/status", auth=("admin", f"guess-{n}"))).status_code)
    assert statuses == [401, 401, 401]
    response = await fast.request("GET", "/ffws/v1/status", auth=("admin", "guess-3"))
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert "too many failed logins" in (ET.fromstring(response.content).findtext("message") or "")
    assert (await fast.request("GET", "/ffws/v1/status", auth=ADMIN)).status_code == 429
    assert (await fast.request("GET", "/ffws/v1/status", auth=ALICE)).status_code == 200
    failed = [e for e in events if "failed" in e["log_format"]]
    assert [(e["user"], e["source"]) for e in failed] == [("admin", "127.0.0.1")] * 3
    assert not any("guess" in repr(e) for e in events)
