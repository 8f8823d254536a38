"""Received faxes and receipts through a real Postfix relay into a Maildir; relay outages and kill -9."""

from __future__ import annotations

import base64
import json
import socket
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import RunningAppliance, faxappliance, free_port, make_pdf, wait_for
from tests.mail.postfix import Postfix

pytestmark = [pytest.mark.slow, pytest.mark.interop]


def _set_rcv_email(app: RunningAppliance, address: str) -> None:
    from radius.store import open_store

    store = open_store(app.url)
    try:
        store.update_account("demo", rcv_email=address)
    finally:
        store.close()


def _parse(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def _fax_mails(pf: Postfix) -> list:
    return [m for m in (_parse(p) for p in pf.mails()) if str(m["Subject"]).startswith("Fax from")]


def _send_to_appliance(app: RunningAppliance, pdf: Path) -> None:
    from appliance.demo.remote import request_send

    request_send(app.data_dir / "remote" / "5550101", "5550001", [str(pdf)])


def _inbox(app: RunningAppliance) -> list:
    path = app.data_dir / "inbox" / "index.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_received_fax_and_receipt_through_postfix(tmp_path: Path) -> None:
    """A fax received on the simulated line reaches the Maildir through Postfix with its PDF intact;
    an FFWS fax with receipt=always gets its receipt (with the sent PDF) the same way."""
    import pypdfium2

    pf = Postfix(tmp_path / "postfix", free_port(socket.SOCK_STREAM)).start()
    try:
        with RunningAppliance(tmp_path, "--smtp-relay", f"127.0.0.1:{pf.port}") as app:
            _set_rcv_email(app, "demo@example.test")
            time.sleep(1.2)  # the RADIUS decision cache
            _send_to_appliance(app, make_pdf(tmp_path / "two.pdf", 2))
            item = wait_for(lambda: _inbox(app), 40, "fax in the inbox")[0]
            mail = wait_for(lambda: _fax_mails(pf), 20, f"mail in the Maildir; log {pf.log()[-800:]}")[0]
            latency = max(p.stat().st_mtime for p in pf.mails()) - item["received_at"]
            print(f"delivery latency (fax stored -> mail in the Maildir): {latency:.2f} s")
            assert mail["From"] == "fax@localhost" and mail["To"] == "demo@example.test"
            assert "5550001" in mail["Subject"] and "2 pages" in mail["Subject"]
            (att,) = list(mail.iter_attachments())
            assert att.get_content_type() == "application/pdf"
            assert len(pypdfium2.PdfDocument(att.get_content())) == 2
            pdf = make_pdf(tmp_path / "one.pdf", 1)
            body = (
                "<?xml version='1.0' encoding='UTF-8'?><schedule_fax><cover_page><enabled>false</enabled>"
                "</cover_page><sender><email_address>demo@localhost</email_address></sender>"
                "<recipient><name>Bob</name><fax_number>5550101</fax_number></recipient>"
                "<attachment><location>inline</location><name>one.pdf</name><content_type>application/pdf"
                "</content_type><content_transfer_encoding>base64</content_transfer_encoding><content>"
                f"{base64.b64encode(pdf.read_bytes()).decode()}</content></attachment>"
                "<receipt>always</receipt><receipt_attachment>pdf</receipt_attachment></schedule_fax>"
            )
            password = (app.data_dir / "demo-password").read_text().strip()
            r = httpx.post(
                f"http://127.0.0.1:{app.web_port}/ffws/v1/ofax",
                content=body.encode(),
                auth=("demo", password),
                headers={"Content-Type": "application/xml"},
                timeout=30,
            )
            assert r.status_code == 201, r.text
            receipt = wait_for(
                lambda: [m for m in (_parse(p) for p in pf.mails()) if str(m["Subject"]).startswith("Fax to")],
                40,
                "receipt",
            )[0]
            assert receipt["To"] == "demo@localhost" and receipt["Subject"] == "Fax to Bob: sent"
            assert "State:      sent" in receipt.get_body(("plain",)).get_content()
            (doc,) = list(receipt.iter_attachments())
            assert len(pypdfium2.PdfDocument(doc.get_content())) == 1
    finally:
        pf.remove()


def test_relay_down_and_kill9_deliver_exactly_once(tmp_path: Path) -> None:
    """With the relay down the mail waits; the appliance is killed with -9; once the relay and the
    appliance are back, the mail arrives exactly once."""
    pf = Postfix(tmp_path / "postfix", free_port(socket.SOCK_STREAM))
    app = RunningAppliance(tmp_path, "--smtp-relay", f"127.0.0.1:{pf.port}")
    try:
        app.start()
        _set_rcv_email(app, "demo@example.test")
        time.sleep(1.2)
        _send_to_appliance(app, make_pdf(tmp_path / "one.pdf", 1))
        wait_for(lambda: _inbox(app), 40, "fax in the inbox")
        wait_for(lambda: "will be retried" in app.log(), 20, "delivery retried while the relay is down")
        status = faxappliance("status", "--data-dir", str(app.data_dir), cwd=tmp_path).stdout
        mail_line = next(ln for ln in status.splitlines() if ln.startswith("MAIL"))
        assert "queued=1" in mail_line and "sent=0" in mail_line, status
        assert "inbox fax 1" in status and "Connection" in status, status
        app.kill9()
        pf.start()
        app.start()
        wait_for(lambda: _fax_mails(pf), 30, "mail delivered after restart")
        time.sleep(3)
        assert len(_fax_mails(pf)) == 1
    finally:
        app.stop()
        pf.remove()
