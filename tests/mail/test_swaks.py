"""E-mail to fax with a real SMTP client (swaks) against the embedded default's T.37 listener."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import RunningAppliance, wait_for
from tests.peers import require_program

pytestmark = [pytest.mark.slow, pytest.mark.interop]


def _swaks(swaks: str, app: RunningAppliance, sender: str, to: str, *args: str) -> str:
    res = subprocess.run(
        [swaks, "--server", f"127.0.0.1:{app.smtp_port}", "--from", sender, "--to", to, "--timeout", "20", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return res.stdout + res.stderr


def _faxes(app: RunningAppliance) -> list[dict[str, object]]:
    from appliance.jobs import open_job_store

    store = open_job_store(app.url, init=False)
    try:
        return [
            {"agent": store.get_fax(e.fax_id).agent, "owner": store.get_fax(e.fax_id).owner, "state": e.state.value}
            for e in store.list_entries()
        ]
    finally:
        store.close()


def _remote(app: RunningAppliance) -> list[dict[str, object]]:
    d = app.data_dir / "remote" / "5550101"
    return [json.loads(p.read_text()) for p in sorted(d.glob("fax-*.json"))] if d.exists() else []


def test_swaks_pdf_and_png_become_pages_and_refusals_store_nothing(tmp_path: Path) -> None:
    """A PDF (2 pages) and a PNG arrive at the remote fax as 3 pages and the RECEIPT=always receipt lands
    in the Maildir; unknown/disabled senders, a bad number or option and an unsupported attachment get
    550/550/553/554 and queue nothing."""
    swaks = require_program("swaks", "swaks")
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (850, 1100), "white")
    ImageDraw.Draw(page).text((100, 100), "e-mail to fax", fill="black")
    page.save(tmp_path / "page.png")
    page.save(tmp_path / "report.pdf", save_all=True, append_images=[page])
    (tmp_path / "doc.bin").write_bytes(b"PK\x03\x04 not a fax")
    with RunningAppliance(tmp_path) as app:
        out = _swaks(swaks, app, "nobody@localhost", "FAX=5550101@localhost")
        assert "<** 550 5.7.1 sender nobody@localhost is not allowed to send faxes" in out, out
        out = _swaks(swaks, app, "demo@localhost", "FAX=55ab@localhost")
        assert "<** 553 5.1.3 fax number '55ab' is not valid" in out, out
        out = _swaks(swaks, app, "demo@localhost", "FAX=5550101/COLOR=red@localhost")
        assert "<** 553 5.1.3 unknown option 'COLOR'" in out, out
        out = _swaks(
            swaks,
            app,
            "demo@localhost",
            "FAX=5550101@localhost",
            "--attach-type",
            "application/msword",
            "--attach",
            f"@{tmp_path / 'doc.bin'}",
        )
        assert "<** 554 5.6.0 attachment 'doc.bin' (application/msword) cannot be faxed; supported: PDF" in out, out
        from radius.store import open_store

        store = open_store(app.url)
        try:
            store.update_account("demo", send_enabled=False)
        finally:
            store.close()
        out = wait_for(
            lambda: (lambda o: o if "<** 550" in o else None)(
                _swaks(swaks, app, "demo@localhost", "FAX=5550101@localhost", "--quit-after", "RCPT")
            ),
            10,
            "disabled sender refused",
        )
        assert "sending is disabled" in out, out
        assert _faxes(app) == []
        store = open_store(app.url)
        try:
            store.update_account("demo", send_enabled=True)
        finally:
            store.close()
        out = wait_for(
            lambda: (lambda o: o if "<-  250 2.0.0 queued: fax" in o else None)(
                _swaks(
                    swaks,
                    app,
                    "demo@localhost",
                    "FAX=5550101/ATTN=Bob/RECEIPT=always@localhost",
                    "--attach",
                    f"@{tmp_path / 'report.pdf'}",
                    "--attach",
                    f"@{tmp_path / 'page.png'}",
                )
            ),
            15,
            "accepted",
        )
        assert _faxes(app) and _faxes(app)[0]["agent"] == "T.37" and _faxes(app)[0]["owner"] == "demo"
        received = wait_for(lambda: _remote(app), 30, "fax at the remote machine")
        assert received[0]["pages"] == 3, received
        wait_for(lambda: _faxes(app)[0]["state"] == "sent", 10, "entry sent")
        from email import policy
        from email.parser import BytesParser

        new = app.data_dir / "mail" / "new"
        (receipt,) = wait_for(lambda: list(new.iterdir()) if new.exists() else [], 10, "receipt in var/mail/new")
        msg = BytesParser(policy=policy.default).parsebytes(receipt.read_bytes())
        assert msg["To"] == "demo@localhost" and str(msg["Subject"]).startswith("Fax to Bob: sent")
