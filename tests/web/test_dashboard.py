"""The admin dashboard: server-side rendering, access rules, and a real
headless Chromium (via chromedriver) loading it, showing a sent fax's
thumbnail and sending a fax with the form."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet import threads

from appliance.jobs.model import Result
from tests.peers import require_program
from tests.web.harness import ADMIN, ALICE, WebHarness, schedule_xml
from tests.web.webdriver import Browser


async def sent_fax(h: WebHarness) -> str:
    """Schedule a fax over FFWS, convert it and mark it sent; its FAXKEY/ENTRYKEY."""
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(1), auth=ALICE)
    assert response.status_code == 201
    await h.app.idle()

    def send() -> str:
        (claim,) = h.jobs.claim("n1", time.time() + 1, "line", ["line1"], 1)
        h.jobs.complete(claim.entry.id, Result.ok(1, 5.0, "FAR END"), time.time())
        return claim.entry.key

    return await threads.deferToThread(send)


@pytest_twisted.ensureDeferred
async def test_dashboard_access(h: WebHarness) -> None:
    """The dashboard asks for credentials (401), refuses non-admins (403) and serves admins HTML."""
    assert (await h.request("GET", "/", auth=None)).status_code == 401
    assert (await h.request("GET", "/", auth=ALICE)).status_code == 403
    response = await h.request("GET", "/", auth=ADMIN)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    for section in ("Lines", "Queue", "Sent", "Received", "CDRs", 'id="send"'):
        assert section in response.text


@pytest_twisted.ensureDeferred
async def test_dashboard_content_and_thumbnails(h: WebHarness) -> None:
    """Sent and received faxes are listed with PNG thumbnails; lines show their state."""
    key = await sent_fax(h)
    preview = Path(h.app.spool_dir) / key.split("/")[0] / "p001.png"
    from tests.web.harness import ReceivedFax

    h.inbox.records.append(ReceivedFax(id="in-1", account="alice", received_at=time.time(), pages=1,
                                       remote_id="TSI-IN", did="5551000", previews=[str(preview)]))
    page = (await h.request("GET", "/")).text
    assert key in page and "TSI-IN" in page and "Waiting for Ring" in page
    thumb = await h.request("GET", f"/dashboard/fax/{key.split('/')[0]}/1.png")
    assert thumb.status_code == 200 and thumb.content.startswith(b"\x89PNG")
    assert (await h.request("GET", "/dashboard/inbox/in-1/1.png")).content.startswith(b"\x89PNG")
    assert (await h.request("GET", "/dashboard/inbox/nope/1.png")).status_code == 404


def drive(base: str, profile: Path, document: Path, sent_key: str) -> dict[str, Any]:
    """(in a thread) Load the dashboard in Chromium, check the thumbnail, send a fax with the form."""
    browser = Browser(require_program("chromedriver", "chromium-driver"), require_program("chromium", "chromium"),
                      profile)
    try:
        browser.cdp("Network.enable", {})
        token = base64.b64encode(b"admin:admin").decode()
        browser.cdp("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})
        browser.get(base + "/")
        result: dict[str, Any] = {"title": browser.script("return document.title")}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            widths = browser.script(
                "return Array.from(document.querySelectorAll('#sent img.thumb'))"
                ".map(i => i.complete ? i.naturalWidth : -1)")
            if widths and all(w >= 0 for w in widths):
                break
            time.sleep(0.1)
        result["widths"] = widths
        result["sent_text"] = browser.script("return document.getElementById('sent').innerText")
        browser.type("#fax_number", "218-555-7777")
        browser.type("#name", "Form Recipient")
        browser.type("#file", str(document))
        browser.click("#submit")
        while time.monotonic() < deadline + 20:
            if "sent=" in browser.script("return location.href") and browser.script(
                    "return document.readyState") == "complete":
                break
            time.sleep(0.1)
        result["url"] = browser.script("return location.href")
        result["notice"] = browser.script("var n = document.getElementById('notice'); return n ? n.innerText : ''")
        result["queue"] = browser.script("var q = document.getElementById('queue'); return q ? q.innerText : ''")
        return result
    finally:
        browser.close()


@pytest_twisted.ensureDeferred
async def test_dashboard_in_chromium(h: WebHarness, tmp_path: Path) -> None:
    """Chromium shows the sent fax with a loaded thumbnail, and the send form queues a new fax."""
    require_program("chromium", "chromium")
    require_program("chromedriver", "chromium-driver")
    key = await sent_fax(h)
    document = tmp_path / "letter.txt"
    document.write_text("Dear recipient,\nthis fax was sent from the dashboard form.\n")
    result = await threads.deferToThread(drive, h.base, tmp_path / "profile", document, key)
    assert result["title"] == "Fax appliance"
    assert key in result["sent_text"]
    assert result["widths"] and all(w > 0 for w in result["widths"]), result["widths"]
    faxkey = result["url"].rsplit("sent=", 1)[-1]
    assert f"Fax {faxkey} queued." in result["notice"]
    assert f"{faxkey}/0000" in result["queue"] and "2185557777" in result["queue"]  # stored as dialled
    await h.app.idle()
    (entry,) = h.jobs.list_entries(fax_id=int(faxkey, 16))
    fax = h.jobs.get_fax(entry.fax_id)
    assert (fax.owner, fax.agent, entry.recipient.name, entry.state.value) == (
        "admin", "WebClient", "Form Recipient", "pending")
