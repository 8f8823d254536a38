"""The admin dashboard: one server-rendered HTML page (no scripts, no build
step) with the lines, the queue, recent sent and received faxes with page
thumbnails (the PNG previews), recent CDRs and a form to send a fax.

``render_page`` is pure; ``handle`` gathers the data (blocking reads in the
thread pool) and serves thumbnails and the send form.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import dataclasses
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, Sequence

from appliance.jobs.model import TERMINAL, Entry, FaxSpec, Recipient
from appliance.web import browser, ffws, uapi
from appliance.web.app import ACTIVE, Reply, WebApp
from appliance.web.auth import Identity
from appliance.web.deps import InboxRecord, LineStatus
from appliance.web.model import WebError

__all__ = ["STYLE_HASHES", "DashboardData", "handle", "render_page"]

HTML = "text/html; charset=utf-8"
_EXTENSION_TYPES = {**uapi.ALLOWED_EXTENSIONS, "png": "image/png", "gif": "image/gif", "bmp": "image/bmp"}
_STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}img.thumb{width:108px;border:1px solid #999}
h2{margin-top:1.2em}form label{display:block;margin:.3em 0}"""
#: the page's only inline content, allowed by the Content-Security-Policy by its hash
STYLE_HASHES = (base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode("ascii"),)
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class DashboardData:
    lines: Sequence[LineStatus]
    queue: Sequence[Entry]
    sent: Sequence[tuple[Entry, int]]  # (entry, pages)
    received: Sequence[InboxRecord]
    cdrs: Sequence[Any]
    now: float
    message: str = ""
    csrf: str = ""  # the anti-CSRF token the send form carries
    deliveries: Sequence[Any] = ()  # e-mail / print / share deliveries (appliance.mail.outbox.Delivery)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str, table_id: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    if not rows:
        return f'<p id="{table_id}-empty">{_e(empty)}</p>'
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><tr>{head}</tr>{body}</table>'


def _thumbs(urls: Sequence[str], alt: str) -> str:
    return "".join(f'<img class="thumb" src="{_e(u)}" alt="{_e(alt)} page {i}">' for i, u in enumerate(urls, 1))


def render_page(data: DashboardData, tz: tzinfo) -> bytes:
    """The dashboard HTML."""
    t = lambda when: _e(ffws.format_time(when, tz))  # noqa: E731
    lines = _table(["#", "line", "state", "number", "remote id", "page"],
                   [[_e(l.number), _e(l.line_id), _e(l.state), _e(l.fax_number), _e(l.remote_id),
                     _e(l.page or "")] for l in data.lines], "No lines configured.", "lines")
    queue = _table(["fax", "state", "to", "owner", "try", "next/started"],
                   [[_e(e.key), _e(e.state.value), _e(e.recipient.fax_number), "", _e(e.try_number), t(e.stime)]
                    for e in data.queue], "The queue is empty.", "queue")
    sent = _table(["fax", "state", "to", "pages", "finished", "message", "pages"],
                  [[_e(e.key), _e(e.state.value), _e(e.recipient.fax_number), _e(pages), t(e.completed_at),
                    _e(e.schedule_message),
                    _thumbs([f"/dashboard/fax/{e.fax_id:08X}/{n}.png" for n in range(1, min(pages, 4) + 1)],
                            e.key)]
                   for e, pages in data.sent], "No faxes sent yet.", "sent")
    received = _table(["id", "account", "from", "number called", "pages", "received", "pages"],
                      [[_e(r.id), _e(r.account), _e(r.remote_id), _e(r.did), _e(r.pages), t(r.received_at),
                        _thumbs([f"/dashboard/inbox/{r.id}/{n}.png" for n in range(1, min(len(r.previews), 4) + 1)],
                                f"received {r.id}")]
                       for r in data.received], "No faxes received yet.", "received")
    cdrs = _table(["time", "account", "session", "type", "details"],
                  [[t(c.received_at), _e(c.user_name), _e(c.session_id), _e(c.status_type),
                    _e(", ".join(f"{k}={v}" for k, v in list(c.attributes.items())[:6]))]
                   for c in data.cdrs], "No CDRs yet.", "cdrs")
    deliveries = _table(["#", "kind", "to", "state", "tries", "what", "last error", "updated"],
                        [[_e(d.id), _e(d.kind), _e(d.target), _e(d.state), _e(d.tries), _e(d.source),
                          _e(d.last_error), t(d.updated)] for d in data.deliveries],
                        "No e-mail, print or share deliveries yet.", "deliveries")
    notice = f'<p id="notice">{_e(data.message)}</p>' if data.message else ""
    form = ('<form id="send" method="post" action="/dashboard/send" enctype="multipart/form-data">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{_e(data.csrf)}">'
            '<label>Fax number <input name="fax_number" id="fax_number" required></label>'
            '<label>Recipient name <input name="name" id="name"></label>'
            '<label>Document (PDF, TIFF, PNG, JPEG, GIF, text) <input type="file" name="file" id="file" required>'
            '</label><button type="submit" id="submit">Send fax</button></form>')
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Fax appliance</title>'
            f'<style>{_STYLE}</style></head><body><h1>Fax appliance</h1>'
            f'<p>{t(data.now)}</p>{notice}'
            f'<h2>Lines</h2>{lines}<h2>Queue</h2>{queue}<h2>Sent</h2>{sent}<h2>Received</h2>{received}'
            f'<h2>Deliveries</h2>{deliveries}<h2>CDRs</h2>{cdrs}<h2>Send a fax</h2>{form}</body></html>')
    return page.encode("utf-8")


async def handle(app: WebApp, request: Any, method: str, parts: list[str], body: bytes,
                 identity: Identity, csrf: str = "") -> Reply:
    """``csrf``: the token this caller's forms must carry (empty: every POST is refused)."""
    if not parts and method == "GET":
        message = request.args.get(b"sent", [b""])[-1].decode("utf-8", "replace")
        data = await _gather(app, f"Fax {message} queued." if message else "")
        return Reply(200, render_page(dataclasses.replace(data, csrf=csrf), app.tz), HTML)
    if parts == ["send"] and method == "POST":
        content_type = (request.getHeader(b"content-type") or b"").decode("latin-1")
        browser.check_body_type(content_type, bool(body), browser.FORM, "the send form")
        return await _send(app, content_type, body, identity, csrf)
    if len(parts) == 3 and parts[0] in ("fax", "inbox") and method == "GET":
        return await _thumbnail(app, parts[0], parts[1], parts[2])
    raise WebError(404, "no such dashboard resource")


async def _gather(app: WebApp, message: str) -> DashboardData:
    now = app.now()

    outbox = app.deliveries  # appliance.mail.outbox.MailOutbox, when the mail service runs

    def load() -> tuple[list[Entry], list[tuple[Entry, int]], list[Any], list[Any], list[Any]]:
        queue = app.jobs.list_entries(states=ACTIVE, limit=50)
        done = app.jobs.list_entries(states=TERMINAL)
        done.sort(key=lambda e: (e.completed_at or e.updated_at, e.id), reverse=True)
        sent = [(e, app.jobs.get_fax(e.fax_id).pages) for e in done[:20]]
        received = list(app.inbox.list(limit=20)) if app.inbox is not None else []
        cdrs = list(app.cdrs.list_cdrs(since=now - 7 * 86400))[-20:][::-1] if app.cdrs is not None else []
        deliveries = outbox.list(limit=20) if outbox is not None else []
        return queue, sent, received, cdrs, deliveries

    queue, sent, received, cdrs, deliveries = await app.run(load)
    return DashboardData(list(app.lines.status()), queue, sent, received, cdrs, now, message, deliveries=deliveries)


async def _send(app: WebApp, content_type: str, body: bytes, identity: Identity, csrf: str) -> Reply:
    try:
        parts = await app.run(uapi.form_parts, content_type, body)  # a large body: off the reactor
    except uapi.UapiError as exc:
        raise WebError(400, exc.message) from None
    fields = {name: payload.decode("utf-8", "replace").strip() for name, filename, _, payload in parts
              if filename is None}
    if not csrf or not browser.csrf_valid(csrf, fields.get(CSRF_FIELD)):
        raise WebError(403, "the form's anti-CSRF token is missing or wrong: reload the dashboard and send again")
    files = [(filename, ctype, payload) for name, filename, ctype, payload in parts if name == "file" and filename]
    number = fields.get("fax_number", "")
    if not re.search(r"[0-9]", number):
        raise WebError(400, "enter a fax number")
    if not files or not files[0][2]:
        raise WebError(400, "choose a document to send")
    filename, part_type, data = files[0]
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    kind = _EXTENSION_TYPES.get(extension) or part_type
    ffws.check_content(filename, kind, data)
    profile = await app.run(app.directory.ensure_user, identity.username)
    spec = FaxSpec(owner=identity.username, account=identity.username, agent="WebClient", preprocessing=True,
                   cover_enabled=False, sender_name=profile.name, sender_fax_number=profile.fax_number,
                   max_tries=profile.max_attempts, priority=profile.priority, try_interval=profile.interval)
    fax, _ = await app.submit(spec, [Recipient(fax_number=number, name=fields.get("name", ""))],
                              [ffws.Attachment(filename, kind, data=data)])
    return Reply(303, b"", HTML, {"Location": f"/?sent={fax.id:08X}"})


async def _thumbnail(app: WebApp, kind: str, key: str, name: str) -> Reply:
    match = re.fullmatch(r"([0-9]{1,4})\.png", name)
    if not match:
        raise WebError(404, "no such thumbnail")
    number = int(match.group(1))
    path: Path | None = None
    if kind == "fax" and re.fullmatch(r"[0-9A-F]{8}", key):
        path = Path(app.spool_dir) / key / f"p{number:03d}.png"
    elif kind == "inbox" and app.inbox is not None:
        record = await app.run(app.inbox.get, key)
        if record is not None and 1 <= number <= len(record.previews):
            path = Path(record.previews[number - 1])
    data = await app.run(lambda: path.read_bytes() if path is not None and path.is_file() else None)
    if data is None:
        raise WebError(404, "no such thumbnail")
    return Reply(200, data, "image/png")
