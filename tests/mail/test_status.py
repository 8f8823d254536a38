"""Deliveries as the web console and ``faxappliance status`` show them."""

from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path

from appliance.mail.outbox import NewDelivery, open_mail_outbox
from appliance.mail.status import mail_lines, mail_snapshot
from appliance.web.console import views
from appliance.web.console.pages import render


def _box(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/store.db"
    box = open_mail_outbox(url)
    box.enqueue(
        [
            NewDelivery("a", "email", "<b>evil</b>@example.com", "f@e.com", b"x", "", "inbox fax 1"),
            NewDelivery("b", "printer", "office", "", None, "/f.pdf", "inbox fax 1"),
        ],
        time.time(),
    )
    (a, b) = box.claim_due(time.time() + 1, 300)
    box.mark_sent(b.id, time.time())
    box.retry_later(a.id, "Connection was refused\r\nby other side", time.time() + 60, time.time())
    box.close()
    return url


def test_status_lists_counts_and_unsent(tmp_path: Path) -> None:
    """Counts by state and each unsent delivery with its last error on one line."""
    lines = mail_lines(mail_snapshot(_box(tmp_path)))
    assert lines[0] == "MAIL  queued=1  sent=1  failed=0"
    assert len(lines) == 2 and "inbox fax 1" in lines[1] and "refused\\r\\nby other side" in lines[1]


def test_console_shows_deliveries_escaped(tmp_path: Path) -> None:
    """The console overview's Deliveries table lists them, HTML-escaped."""
    box = open_mail_outbox(_box(tmp_path))
    try:
        deliveries = box.list()
    finally:
        box.close()
    user = type("User", (), {"username": "admin", "admin": True})()
    page = render(
        "overview.html",
        UTC,
        title="Overview",
        nav=views.NAV,
        user=user,
        current="/console/",
        now=time.time(),
        csrf="",
        notice="",
        lines=[],
        queue=[],
        deliveries=deliveries,
        counts={"sent": 0, "failed": 0, "received": 0},
    ).decode()
    assert '<table id="deliveries">' in page and "&lt;b&gt;evil&lt;/b&gt;@example.com" in page
    assert "<b>evil" not in page and "office" in page
