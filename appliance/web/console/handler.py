"""The console's routes under ``/console/`` (HTTP Basic, checked and throttled
by the caller).  Every user may use the console for their own faxes; admins
see every fax and the admin pages (:data:`views.ADMIN_PAGES`).  Errors are
pages with the error's status.  Blocking reads run in the thread pool.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from twisted.web.http import Request as HttpRequest

from appliance.config import ConfigError
from appliance.jobs.model import TERMINAL, Attempt, Entry, Fax
from appliance.mail.outbox import Delivery
from appliance.mail.routing import Routes
from appliance.mail.service import load_mail_config
from appliance.web.app import ACTIVE, Reply, WebApp
from appliance.web.auth import Identity
from appliance.web.console import actions, files, uploads, views
from appliance.web.console.page import HTML, Page
from appliance.web.console.pages import render, shown
from appliance.web.deps import AccountDirectory, InboxRecord
from appliance.web.model import WebError
from radius.store.api import Account, AccountingRecord, Did

__all__ = ["HTML", "handle"]

OUTBOX_LIMIT = 300  # entries on the outbox page
INBOX_LIMIT = 200


async def handle(
    app: WebApp, request: HttpRequest, method: str, parts: list[str], body: bytes, identity: Identity, csrf: str = ""
) -> Reply:
    """One console request (``parts``: the path after ``/console``)."""
    page = Page(app, request, identity, csrf, "/console/" + "/".join(parts[:1]))
    try:
        if parts and parts[0] in views.ADMIN_PAGES and not identity.admin:
            raise WebError(403, f"the {parts[0]} page is for admins")
        if method == "POST":
            return await actions.post(page, parts, body)
        if method not in ("GET", "HEAD"):
            raise WebError(405, f"{method} is not allowed here")
        return await _get(page, parts)
    except WebError as exc:
        if exc.status == 401 or (parts and parts[-1].endswith((".png", ".pdf"))):
            raise
        return page.html("error.html", f"Error {exc.status}", exc.status, message=exc.message)


async def _get(page: Page, parts: list[str]) -> Reply:
    app, identity = page.app, page.identity
    name = parts[0] if parts else ""
    if not parts:
        return await _overview(page)
    if name == "live" and len(parts) == 2:
        return await _live(page, parts[1])
    if name == "send" and len(parts) == 1:
        return await actions.send_form(page, {}, None)
    if name == "outbox" and len(parts) == 1:
        rows, filt = await _outbox(page)
        return page.html("outbox.html", "Outbox", rows=rows, filter=filt, states=views.STATE_FILTERS)
    if name == "fax" and len(parts) == 2:
        return await _fax(page, parts[1])
    if name == "fax" and len(parts) == 3:
        return await files.fax_file(app, parts[1], parts[2], identity)
    if name == "upload" and len(parts) == 3:
        return await _upload_preview(page, parts[1], parts[2])
    if name == "inbox" and len(parts) == 1:
        return await _inbox(page)
    if name == "inbox" and len(parts) == 2:
        return await _received(page, parts[1])
    if name == "inbox" and len(parts) == 3:
        return await files.inbox_file(app, parts[1], parts[2], identity)
    if name == "accounts" and len(parts) == 1:
        return await _accounts(page)
    if name == "users" and len(parts) == 1:
        users = await app.run(app.directory.list_users)
        return page.html(
            "users.html",
            "Users",
            users=users,
            admins=", ".join(app.config.admins),
            admin_groups=", ".join(app.config.admin_groups),
        )
    if name == "contacts" and len(parts) == 1:
        return await _contacts(page)
    if name == "routes" and len(parts) == 1:
        return await _routes(page)
    if name == "settings" and len(parts) == 1:
        return _settings(page)
    raise WebError(404, "no such console page")


async def _upload_preview(page: Page, token: str, name: str) -> Reply:
    number = files.page_number(name)
    data = await page.app.run(uploads.preview_file, page.app.spool_dir, token, page.identity.username, number)
    if data is None:
        raise WebError(404, "no such preview")
    return Reply(200, data, files.PNG)


def _owner(identity: Identity) -> str | None:
    return None if identity.admin else identity.username


def _with_faxes(app: WebApp, entries: list[Entry]) -> list[tuple[Entry, Fax]]:
    """(blocking) (entry, fax) pairs."""
    faxes: dict[int, Fax] = {}
    out = []
    for entry in entries:
        fax = faxes.get(entry.fax_id) or faxes.setdefault(entry.fax_id, app.jobs.get_fax(entry.fax_id))
        out.append((entry, fax))
    return out


async def _queue(app: WebApp, owner: str | None) -> list[tuple[Entry, Fax]]:
    return await app.run(lambda: _with_faxes(app, app.jobs.list_entries(owner=owner, states=ACTIVE, limit=50)))


async def _overview(page: Page) -> Reply:
    app, owner = page.app, _owner(page.identity)
    since = views.start_of_day(app.now(), app.tz)

    def load() -> tuple[list[Entry], list[InboxRecord], list[Delivery] | None]:
        done = app.jobs.page_entries(owner=owner, done=TERMINAL, done_limit=1000, limit=1000)
        received = list(app.inbox.list(account=owner, limit=1000)) if app.inbox is not None else []
        deliveries = app.deliveries.list(limit=20) if app.deliveries is not None and page.identity.admin else None
        return done, received, deliveries

    done, received, deliveries = await app.run(load)
    queue = await _queue(app, owner)
    counts = views.today_counts(done, received, since)
    return page.html(
        "overview.html", "Overview", lines=list(app.lines.status()), queue=queue, counts=counts, deliveries=deliveries
    )


async def _live(page: Page, panel: str) -> Reply:
    """The HTML fragment of a live panel (refreshed by the console's script)."""
    app = page.app
    if panel == "lines":
        body = render("_lines.html", app.tz, lines=list(app.lines.status()))
    elif panel == "queue":
        body = render("_queue.html", app.tz, queue=await _queue(app, _owner(page.identity)))
    elif panel == "outbox":
        rows, _ = await _outbox(page)
        body = render("_outbox_rows.html", app.tz, rows=rows, csrf=page.csrf)
    else:
        raise WebError(404, "no such panel")
    return Reply(200, body, HTML)


async def _outbox(page: Page) -> tuple[list[tuple[Entry, Fax]], dict[str, str | bool]]:
    app, identity = page.app, page.identity
    state, q = page.query("state")[:30], page.query("q")[:100]
    mine = identity.admin and page.query("mine") == "1"
    owner = identity.username if mine else _owner(identity)

    def load() -> list[tuple[Entry, Fax]]:
        entries = app.jobs.page_entries(
            owner=owner, active=ACTIVE, done=TERMINAL, done_limit=OUTBOX_LIMIT, limit=OUTBOX_LIMIT + len(ACTIVE) * 100
        )
        entries.sort(key=lambda e: (e.fax_id, -e.index), reverse=True)
        return _with_faxes(app, entries)

    rows = views.filter_entries(await app.run(load), state, q)

    query = urlencode({k: v for k, v in (("state", state), ("q", q), ("mine", "1" if mine else "")) if v})
    return rows, {"state": state, "q": q, "mine": mine, "query": query}


def _rate(cdrs: list[AccountingRecord], attempt: Attempt) -> str:
    for cdr in cdrs:
        for key, value in cdr.attributes.items():
            if ("bps" in key.lower() or "baud" in key.lower() or "rate" in key.lower()) and shown(value):
                return shown(value)
    return str(attempt.details.get("bps", "") or "")


async def _fax(page: Page, key: str) -> Reply:
    app = page.app
    fax = await files.load_fax(app, key, page.identity)

    def load() -> list[tuple[Entry, list[tuple[Attempt, list[AccountingRecord], str]]]]:
        entries = app.jobs.list_entries(fax_id=fax.id)
        cdrs = list(app.cdrs.list_cdrs(since=fax.created - 60)) if app.cdrs is not None else []
        out = []
        for entry in entries:
            tries = []
            for attempt in app.jobs.attempts(entry.id):
                found = views.cdrs_for_attempt(cdrs, attempt.node, fax.id, entry.index, attempt.number)
                tries.append((attempt, found, _rate(found, attempt)))
            out.append((entry, tries))
        return out

    entries = await app.run(load)
    pages = files.page_urls(f"/console/fax/{fax.id:08X}", fax.pages)
    deletable = hasattr(app.jobs, "delete_fax") and all(e.state in TERMINAL for e, _ in entries)
    return page.html("fax.html", f"Fax {fax.id:08X}", fax=fax, entries=entries, pages=pages, deletable=deletable)


async def _inbox(page: Page) -> Reply:
    app, identity = page.app, page.identity
    q = page.query("q")[:100].strip().casefold()
    records = []
    if app.inbox is not None:
        records = list(await app.run(app.inbox.list, _owner(identity), INBOX_LIMIT))
    if q:
        records = [r for r in records if any(q in str(v).casefold() for v in (r.remote_id, r.did, r.account, r.id))]
    return page.html("inbox.html", "Inbox", records=records, filter={"q": q}, available=app.inbox is not None)


async def _received(page: Page, record_id: str) -> Reply:
    record = await files.load_received(page.app, record_id, page.identity)
    pages = files.page_urls(f"/console/inbox/{record.id}", len(record.previews))
    return page.html("received.html", f"Received fax {record.id}", record=record, pages=pages, extra=[])


def _account_store(app: WebApp) -> AccountDirectory | None:
    """The RADIUS store, when the accounts are this appliance's (None: they live elsewhere)."""
    store = app.cdrs
    if app.accounts is None or not isinstance(store, AccountDirectory):
        return None
    return store


async def _accounts(page: Page) -> Reply:
    store = _account_store(page.app)
    accounts: list[Account] = []
    dids: list[Did] = []
    if store is not None:
        accounts, dids = await page.app.run(lambda: (store.list_accounts(), store.list_dids()))
    return page.html("accounts.html", "Accounts & DIDs", accounts=accounts, dids=dids, available=store is not None)


async def _contacts(page: Page) -> Reply:
    app, user = page.app, page.identity.username
    contacts, groups = await app.run(lambda: (app.directory.list_contacts(user), app.directory.list_groups(user)))
    names = {c.id: c.name for c in contacts}
    return page.html("contacts.html", "Contacts & groups", contacts=contacts, groups=groups, names=names)


async def _routes(page: Page) -> Reply:
    config = page.app.appliance_config
    routes, problem = Routes(), ""
    if config is not None:
        try:
            routes = (await page.app.run(load_mail_config, config)).routes  # reads the recipients CSV
        except ConfigError as exc:  # e.g. the CSV changed since the start
            problem = f"the routes cannot be read: {exc}"
    return page.html("routes.html", "Inbound routes", routes=routes, problem=problem)


def _settings(page: Page) -> Reply:
    config = page.app.appliance_config
    rows = views.hidden_settings(config.raw) if config is not None else []
    web = views.hidden_settings({f.name: getattr(page.app.config, f.name) for f in dataclasses.fields(page.app.config)})
    return page.html(
        "settings.html", "Settings", rows=rows, web=web, source=config.source if config is not None else ""
    )
