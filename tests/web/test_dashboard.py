"""The web console in a real headless Chromium (via chromedriver): log in,
preview and send a 2-page fax with a cover page to two recipients, watch
the outbox go from queued to sent, open the fax and download its PDF, open
a received fax, add an account and a DID.  On every page each image must
have loaded; a screenshot of each page is saved under the test's temporary
directory (the paths are printed)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import threads

from appliance.jobs.model import Result
from appliance.web.console import views
from appliance.web.deps import ReceivedFax
from radius.store.api import AccountingRecord
from tests.peers import require_program
from tests.web.harness import WebHarness
from tests.web.webdriver import Browser

IMAGES_LOADED = "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete ? i.naturalWidth : -1])"
FETCH_PDF = """const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => {
  let s = ''; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); done(btoa(s)); });"""


def wait(browser: Browser, condition: str, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = browser.script(condition)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def check_page(browser: Browser, name: str, shots: Path, report: dict[str, Any]) -> None:
    """Wait until the page's images have finished loading, record any that failed, save a screenshot."""
    wait(browser, "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)")
    images = browser.script(IMAGES_LOADED)
    report.setdefault("broken", []).extend(f"{name}: {src}" for src, width in images if width <= 0)
    report.setdefault("images", 0)
    report["images"] += len(images)
    path = browser.screenshot(shots / f"{len(report.get('shots', [])) + 1:02d}-{name}.png")
    report.setdefault("shots", []).append(str(path))


def drive(base: str, profile: Path, shots: Path, document: Path, send_all: Callable[[int], int]) -> dict[str, Any]:
    """(in a thread) The whole walk through the console."""
    browser = Browser(
        require_program("chromedriver", "chromium-driver"), require_program("chromium", "chromium"), profile
    )
    report: dict[str, Any] = {}
    try:
        browser.cmd("POST", "/window/rect", {"width": 1280, "height": 900})
        browser.cdp("Network.enable", {})
        token = base64.b64encode(b"admin:admin").decode()
        browser.cdp("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})
        browser.get(base + "/dashboard")  # the old address leads to the console
        report["overview_title"] = browser.script("return document.title")
        check_page(browser, "overview", shots, report)

        browser.get(base + "/console/send")
        browser.type("#numbers", "218-555-7001\n218-555-7002")
        browser.click("#cover")
        browser.type("#subject", "Quarterly <report>")
        browser.type("#comments", "Two pages follow.")
        browser.type("#file", str(document))
        browser.click("#preview")
        report["previews"] = wait(browser, "return document.querySelectorAll('#previews img').length")
        check_page(browser, "send-preview", shots, report)
        browser.click("#submit")
        wait(browser, "return location.pathname.startsWith('/console/fax/')")
        key = browser.script("return location.pathname.split('/')[3]")
        report["key"] = key
        report["notice"] = browser.script("var n = document.getElementById('notice'); return n ? n.innerText : ''")
        check_page(browser, "fax-queued", shots, report)

        browser.get(base + "/console/outbox?q=" + key)
        report["outbox_before"] = browser.script(
            "return Array.from(document.querySelectorAll('#outbox .entry-state')).map(e => e.innerText)"
        )
        report["sent_count"] = send_all(int(key, 16))
        report["outbox_live"] = wait(
            browser,
            "var s = Array.from(document.querySelectorAll('#outbox .entry-state'))"
            ".map(e => e.innerText); return s.length == 2 && "
            "s.every(x => x == 'sent') ? s : null",
            10,
        )
        browser.get(base + "/console/outbox?q=" + key)  # and after a reload
        report["outbox_after"] = browser.script(
            "return Array.from(document.querySelectorAll('#outbox .entry-state')).map(e => e.innerText)"
        )
        check_page(browser, "outbox", shots, report)

        browser.click(f"#outbox a[href='/console/fax/{key}']")
        wait(browser, f"return location.pathname == '/console/fax/{key}'")
        report["detail"] = browser.script("return document.querySelector('main').innerText")
        check_page(browser, "fax-detail", shots, report)
        href = browser.script("return document.getElementById('pdf').getAttribute('href')")
        report["pdf"] = browser.cmd("POST", "/execute/async", {"script": FETCH_PDF, "args": [href]})

        browser.get(base + "/console/inbox")
        check_page(browser, "inbox", shots, report)
        browser.click("#inbox a[href='/console/inbox/r1']")
        wait(browser, "return location.pathname == '/console/inbox/r1'")
        report["received"] = browser.script("return document.querySelector('main').innerText")
        check_page(browser, "received", shots, report)

        browser.get(base + "/console/accounts")
        browser.type("#account-name", "dora")
        browser.type("#account-password", "dora-secret")
        browser.click("#account-submit")
        wait(browser, "return location.search.includes('notice')")
        browser.type("#did-number", "218-555-4242")
        browser.click("#did-account option[value='dora']")
        browser.click("#did-submit")
        wait(browser, "return location.search.includes('DID')")
        report["accounts"] = browser.script("return document.getElementById('accounts').innerText")
        report["dids"] = browser.script("return document.getElementById('dids').innerText")
        check_page(browser, "accounts", shots, report)
        for name in ("contacts", "users", "routes", "settings"):
            browser.get(f"{base}/console/{name}")
            check_page(browser, name, shots, report)
        browser.cmd("POST", "/window/rect", {"width": 420, "height": 900})  # a phone-sized window
        browser.get(base + "/console/")
        report["narrow_overflow"] = browser.script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        check_page(browser, "overview-narrow", shots, report)
        return report
    finally:
        browser.close()


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_console_in_chromium(h: WebHarness, tmp_path: Path) -> None:
    """The console end to end in Chromium (see the module docstring)."""
    require_program("chromium", "chromium")
    require_program("chromedriver", "chromium-driver")
    import pypdfium2

    from modem.document import PageSize, Resolution, render
    from modem.fax_files import write_fax_files

    received = tmp_path / "received"
    received.mkdir()
    files = write_fax_files(
        render(b"A received fax", Resolution.FINE, PageSize.LETTER),
        received / "in.tif",
        pdf=received / "in.pdf",
        preview=lambda n: received / f"p{n}.png",
    )
    h.inbox.records.append(
        ReceivedFax(
            id="r1",
            account="admin",
            received_at=time.time(),
            pages=1,
            remote_id="SENDER <TSI>",
            did="2185550100",
            previews=tuple(str(p) for p in files.previews),
            pdf=str(received / "in.pdf"),
        )
    )
    document = tmp_path / "two-pages.txt"
    document.write_text("Page one of the report.\fPage two of the report.\n")
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def send_all(fax_id: int) -> int:
        """(blocking) The lines' part: wait for the conversion, then send every entry of the fax."""
        sent = 0
        deadline = time.monotonic() + 20
        while sent < 2 and time.monotonic() < deadline:
            claims = h.jobs.claim("browser-node", time.time() + 1, "any", ["line1", "line2"], 2)
            for claim in claims:
                h.jobs.complete(claim.entry.id, Result.ok(3, 12.0, "FAR END", line=claim.route), time.time())
                session = views.attempt_session("browser-node", fax_id, claim.entry.index, 1)
                h.cdrs.record_accounting(
                    AccountingRecord(
                        f"k-{session}-{time.time()}",
                        time.time(),
                        "127.0.0.1",
                        2,
                        session,
                        "admin",
                        {
                            "Acct-Status-Type": 2,
                            "FB-Page-Count": 3,
                            "Acct-Session-Time": 12,
                            "FB-Connect-BPS": 14400,
                            "FB-Fax-Error-Code": 0,
                        },
                    )
                )
                sent += 1
            if not claims:
                time.sleep(0.1)
        return sent

    report = await threads.deferToThread(drive, h.base, tmp_path / "profile", shots, document, send_all)
    print("\nconsole screenshots:\n" + "\n".join(report["shots"]))
    assert report["overview_title"].startswith("Overview")
    assert report["previews"] == 2  # the document's pages, before sending
    key = report["key"]
    assert f"Fax {key} queued for 2 recipient(s)." in report["notice"]
    assert all(s in ("preprocessing", "pending") for s in report["outbox_before"]) and len(report["outbox_before"]) == 2
    assert report["sent_count"] == 2
    assert report["outbox_live"] == ["sent", "sent"]  # the live panel refreshed by itself
    assert report["outbox_after"] == ["sent", "sent"]
    assert "Quarterly <report>" in report["detail"] and "FAR END" in report["detail"]
    assert "14400" in report["detail"]  # the rate, from the try's CDR
    fax = h.jobs.get_fax(int(key, 16))
    assert (fax.pages, fax.cover_enabled, fax.cover_subject) == (3, True, "Quarterly <report>")
    pdf = pypdfium2.PdfDocument(base64.b64decode(report["pdf"]))
    assert len(pdf) == 3  # cover page and the two pages
    assert "SENDER <TSI>" in report["received"] and "2185550100" in report["received"]
    assert "dora" in report["accounts"] and "2185554242" in report["dids"] and "dora" in report["dids"]
    assert h.cdrs.get_account("dora") is not None
    assert not report["broken"], report["broken"]
    assert report["images"] >= 8
    assert report["narrow_overflow"] <= 0  # the page fits a narrow window (wide tables scroll in their panel)
    assert len(report["shots"]) == 13 and all(Path(p).stat().st_size > 1000 for p in report["shots"])
