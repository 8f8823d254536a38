"""The printer destination through real CUPS with the cups-pdf printer: the fax comes out as a PDF."""

from __future__ import annotations

import secrets
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor, task, threads

from appliance.mail.config import SmtpConfig
from appliance.mail.delivery import DeliveryService
from appliance.mail.outbox import NewDelivery, open_mail_outbox
from tests.e2e.harness import free_port, make_pdf
from tests.mail.cups import Cups

pytestmark = [pytest.mark.interop]


@pytest_twisted.ensureDeferred
async def test_fax_printed_by_cups_pdf(tmp_path: Path, monkeypatch: Any) -> None:
    """A printer delivery runs ``lp -d faxpdf``; cups-pdf writes the fax, pages intact, as a PDF."""
    import pypdfium2

    cups = await threads.deferToThread(Cups, free_port(socket.SOCK_STREAM))
    monkeypatch.setenv("CUPS_SERVER", cups.server)
    title = f"inbox fax {secrets.token_hex(4)}"
    out_dir = Path.home() / "PDF"
    fax = make_pdf(tmp_path / "fax.pdf", 2)
    outbox = open_mail_outbox(f"sqlite:///{tmp_path}/store.db")
    outbox.enqueue([NewDelivery("p", "printer", "faxpdf", "", None, str(fax), title)], time.time())
    svc = DeliveryService(
        outbox, SmtpConfig(), reactor, reactor, threads.deferToThread, maildir=tmp_path / "mail", interval=0.2
    )
    svc.startService()
    printed: list[Path] = []
    pages = 0
    try:
        for _ in range(150):
            printed = (
                [p for p in out_dir.glob("*.pdf") if title.replace(" ", "_") in p.name] if out_dir.exists() else []
            )
            if printed and outbox.counts()["sent"] == 1:
                try:  # cups-pdf may still be writing it
                    pages = len(pypdfium2.PdfDocument(printed[0].read_bytes()))
                    break
                except pypdfium2.PdfiumError:
                    pass
            await task.deferLater(reactor, 0.1, lambda: None)
        assert outbox.counts()["sent"] == 1, outbox.list()
        assert printed, cups.log()[-2000:]
        assert pages == 2
    finally:
        svc.stopService()
        outbox.close()
        for p in printed:
            p.unlink()
        await threads.deferToThread(cups.stop)
