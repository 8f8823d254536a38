"""The operator JSON API over HTTP (/api/v1): inbox and jobs, downloads that
decode, ownership (403 for another user's fax), cancel and reschedule, and
the browser-safety rules for state-changing requests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pypdfium2
import pytest_twisted
from PIL import Image, ImageDraw

from appliance.inbound.inbox import Inbox
from appliance.jobs import FaxSpec, Recipient
from modem.document import FAX_WIDTH, FaxPage, Resolution
from modem.t4 import encode_page
from modem.tiff import write_tiff_f
from tests.web.harness import ALICE, BOB, WebHarness


def _pages(count: int) -> list[FaxPage]:
    out = []
    for i in range(count):
        image = Image.new("1", (FAX_WIDTH, 400), 1)
        ImageDraw.Draw(image).rectangle((100 + 50 * i, 50, 200 + 50 * i, 150), fill=0)
        out.append(FaxPage(image, Resolution.NORMAL))
    return out


def _setup(h: WebHarness, tmp: Path) -> dict[str, Any]:
    inbox = Inbox(tmp / "inbox")
    h.app.store_inbox = inbox
    now = time.time()
    mine = inbox.add_received(
        "alice", [encode_page(p) for p in _pages(2)], False, received_at=now - 60, remote_csid="REMOTE 1"
    )
    theirs = inbox.add_received("bob", [encode_page(p) for p in _pages(1)], False, received_at=now)
    tif = tmp / "doc.tif"
    write_tiff_f(_pages(3), tif)
    fax, (entry,) = h.jobs.submit(
        FaxSpec(owner="alice", documents=(str(tif),), pages=3), [Recipient(fax_number="5550101")], now
    )
    bob_fax, (bob_entry,) = h.jobs.submit(
        FaxSpec(owner="bob", documents=(str(tif),), pages=3), [Recipient(fax_number="5550102")], now
    )
    return {
        "inbox": inbox,
        "mine": mine,
        "theirs": theirs,
        "job": f"{fax.id:08X}-{entry.index:04X}",
        "bob_job": f"{bob_fax.id:08X}-{bob_entry.index:04X}",
    }


def _pdf_pages(data: bytes) -> int:
    return len(pypdfium2.PdfDocument(data))


@pytest_twisted.ensureDeferred
async def test_inbox_listing_download_and_ownership(h: WebHarness, tmp_path: Path) -> None:
    s = _setup(h, tmp_path)
    r = await h.request("GET", "/api/v1/inbox", auth=ALICE)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    items = r.json()["items"]
    assert [i["id"] for i in items] == [s["mine"].id] and items[0]["remote_id"] == "REMOTE 1"
    assert items[0]["pdf_url"].endswith(f"/api/v1/inbox/{s['mine'].id}/fax.pdf")
    r = await h.request("GET", f"/api/v1/inbox/{s['mine'].id}/fax.pdf", auth=ALICE)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert _pdf_pages(r.content) == 2
    r = await h.request("GET", f"/api/v1/inbox/{s['mine'].id}/fax.tif", auth=ALICE)
    assert r.status_code == 200 and r.content[:2] in (b"II", b"MM")
    r = await h.request("GET", f"/api/v1/inbox/{s['theirs'].id}", auth=ALICE)
    assert r.status_code == 403 and "another account" in r.json()["error"]["message"]
    r = await h.request("GET", f"/api/v1/inbox/{s['theirs'].id}/fax.pdf", auth=ALICE)
    assert r.status_code == 403
    r = await h.request("GET", "/api/v1/inbox?account=bob", auth=ALICE)
    assert r.status_code == 403
    r = await h.request("GET", "/api/v1/inbox")  # admin: everything
    assert {i["id"] for i in r.json()["items"]} == {s["mine"].id, s["theirs"].id}
    r = await h.request("GET", "/api/v1/inbox?since=yesterday")
    assert r.status_code == 400 and "since" in r.json()["error"]["message"]
    r = await h.request("GET", "/api/v1/inbox/999")
    assert r.status_code == 404
    r = await h.request("GET", "/api/v1/inbox", auth=None)
    assert r.status_code == 401 and r.json()["error"]["status"] == 401


@pytest_twisted.ensureDeferred
async def test_inbox_delete(h: WebHarness, tmp_path: Path) -> None:
    s = _setup(h, tmp_path)
    folder = Path(s["mine"].pdf).parent
    r = await h.request("DELETE", f"/api/v1/inbox/{s['theirs'].id}", auth=ALICE)
    assert r.status_code == 403 and s["inbox"].get(s["theirs"].id) is not None
    r = await h.request("DELETE", f"/api/v1/inbox/{s['mine'].id}", auth=ALICE)
    assert r.status_code == 204
    assert s["inbox"].get(s["mine"].id) is None and not folder.exists()


@pytest_twisted.ensureDeferred
async def test_jobs_list_export_cancel_reschedule(h: WebHarness, tmp_path: Path) -> None:
    s = _setup(h, tmp_path)
    r = await h.request("GET", "/api/v1/jobs", auth=ALICE)
    jobs = r.json()["jobs"]
    assert [j["id"] for j in jobs] == [s["job"]] and jobs[0]["state"] == "pending" and jobs[0]["pages"] == 3
    r = await h.request("GET", f"/api/v1/jobs/{s['job']}/fax.pdf", auth=ALICE)
    assert r.status_code == 200 and _pdf_pages(r.content) == 3
    r = await h.request("GET", f"/api/v1/jobs/{s['bob_job']}", auth=ALICE)
    assert r.status_code == 403
    r = await h.request("POST", f"/api/v1/jobs/{s['bob_job']}/cancel", auth=ALICE)
    assert r.status_code == 403 and h.jobs.list_entries(owner="bob")[0].state.value == "pending"
    r = await h.request(
        "POST",
        f"/api/v1/jobs/{s['job']}/reschedule",
        auth=ALICE,
        content=json.dumps({"at": "2031-01-02T03:04:05Z"}),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200 and r.json()["due_at"] == "2031-01-02T03:04:05Z"
    r = await h.request(
        "POST",
        f"/api/v1/jobs/{s['job']}/reschedule",
        auth=ALICE,
        content='{"at": "2031-01-02T03:04:05Z"}',
        headers={"content-type": "text/plain"},
    )
    assert r.status_code == 415
    r = await h.request(
        "POST",
        f"/api/v1/jobs/{s['job']}/reschedule",
        auth=ALICE,
        content=json.dumps({"at": "now", "pad": "x" * 5000}),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    r = await h.request(
        "POST",
        f"/api/v1/jobs/{s['job']}/reschedule",
        auth=ALICE,
        content="{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]
    r = await h.request(
        "POST", f"/api/v1/jobs/{s['job']}/cancel", auth=ALICE, headers={"origin": "https://evil.example"}
    )
    assert r.status_code == 403 and h.jobs.list_entries(owner="alice")[0].state.value == "pending"
    r = await h.request("POST", f"/api/v1/jobs/{s['job']}/cancel", auth=ALICE)
    assert r.status_code == 200 and r.json()["state"] == "aborted"
    r = await h.request("POST", f"/api/v1/jobs/{s['job']}/retry", auth=ALICE)
    assert r.status_code == 200 and r.json()["state"] == "pending"
    r = await h.request("POST", f"/api/v1/jobs/{s['job']}/retry", auth=ALICE)
    assert r.status_code == 409
    r = await h.request("GET", "/api/v1/jobs?state=pending&owner=bob")  # admin filters
    assert [j["id"] for j in r.json()["jobs"]] == [s["bob_job"]]
    r = await h.request("GET", "/api/v1/jobs?state=nonsense")
    assert r.status_code == 400
    r = await h.request("GET", "/api/v1/jobs?limit=1001")
    assert r.status_code == 400 and "limit" in r.json()["error"]["message"]
    r = await h.request("GET", "/api/v1/jobs?limit=1")
    assert len(r.json()["jobs"]) == 1 and r.json()["next_offset"] == 1
    r = await h.request("GET", f"/api/v1/jobs/{s['job']}", auth=BOB)
    assert r.status_code == 403
