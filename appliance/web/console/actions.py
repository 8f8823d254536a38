"""The console's forms: send (with previews), abort/retry/reschedule, add an
account or a DID, add a contact or a group.  Every form is
``multipart/form-data`` and carries the anti-CSRF token; a post without it
is 403 and changes nothing.  After a change the browser is sent back (303)
with a notice.
"""

from __future__ import annotations

import enum
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from appliance.jobs.model import FaxSpec, IllegalTransition, JobError, NotFound, Recipient
from appliance.web import browser, ffws, uapi
from appliance.web.app import Reply, parse_entry_key
from appliance.web.console import files, uploads, views
from appliance.web.console.page import Page
from appliance.web.deps import AccountDirectory
from appliance.web.model import Contact, ContactGroup, WebError
from modem.document import DocumentError, Resolution
from radius.store.api import Did, DuplicateError

__all__ = ["post", "send_form"]

CSRF_FIELD = "csrf_token"
_EXTENSION_TYPES = {**uapi.ALLOWED_EXTENSIONS, "png": "image/png", "gif": "image/gif", "bmp": "image/bmp"}
#: the longest text each send-form field takes (a longer one is refused, 400)
TEXT_LIMITS = {"name": 100, "sender_name": 100, "sender_organization": 100, "subject": 200, "comments": 2000}
_FORM_FIELDS = (
    "numbers",
    "name",
    "sender_name",
    "sender_organization",
    "subject",
    "comments",
    "schedule_at",
    "priority",
    "cover",
)


def _back(location: str, notice: str) -> Reply:
    separator = "&" if "?" in location else "?"
    return Reply(303, b"", "text/plain; charset=utf-8", {"Location": f"{location}{separator}notice={quote(notice)}"})


async def _form(page: Page, body: bytes) -> tuple[dict[str, list[str]], list[tuple[str, str, bytes]]]:
    """(fields, files) of a posted form, after the body type and anti-CSRF checks."""
    content_type = (page.request.getHeader(b"content-type") or b"").decode("latin-1")
    browser.check_body_type(content_type, bool(body), browser.FORM, "a console form")
    try:
        parts = await page.app.run(uapi.form_parts, content_type, body)  # a large body: off the reactor
    except uapi.UapiError as exc:
        raise WebError(400, exc.message) from None
    fields: dict[str, list[str]] = {}
    uploaded = []
    for name, filename, ctype, payload in parts:
        if filename is None:
            fields.setdefault(name, []).append(payload.decode("utf-8", "replace").strip())
        elif name == "file" and filename and payload:
            uploaded.append((filename.replace("\\", "/").rsplit("/", 1)[-1], ctype, payload))
    token = (fields.get(CSRF_FIELD) or [""])[-1]
    if not page.csrf or not browser.csrf_valid(page.csrf, token):
        raise WebError(403, "the form's anti-CSRF token is missing or wrong: reload the page and try again")
    return fields, uploaded


def _one(fields: dict[str, list[str]], name: str, limit: int | None = None) -> str:
    """The field's (last) value; 400 when it is longer than ``limit`` characters."""
    value = (fields.get(name) or [""])[-1]
    if limit is not None and len(value) > limit:
        raise WebError(400, f"the {name.replace('_', ' ')} field takes at most {limit} characters")
    return value


class FaxAction(enum.StrEnum):
    """The buttons of a fax entry (``POST /console/fax/KEY/INDEX/<action>``)."""

    ABORT = "abort"
    RETRY = "retry"
    RESCHEDULE = "reschedule"


_FAX_ACTIONS = frozenset(FaxAction)


async def post(page: Page, parts: list[str], body: bytes) -> Reply:
    fields, uploaded = await _form(page, body)
    if parts == ["send"]:
        return await _send(page, fields, uploaded)
    if len(parts) == 3 and parts[0] == "fax" and parts[2] == "delete":
        return await _delete(page, parts[1])
    if len(parts) == 4 and parts[0] == "fax" and parts[3] in _FAX_ACTIONS:
        return await _change(page, parts[1], parts[2], FaxAction(parts[3]), fields)
    if parts == ["accounts", "add"]:
        return await _add_account(page, fields)
    if parts == ["accounts", "did"]:
        return await _add_did(page, fields)
    if parts == ["contacts", "add"]:
        return await _add_contact(page, fields)
    if parts == ["contacts", "group"]:
        return await _add_group(page, fields)
    raise WebError(404, "no such console form")


async def send_form(
    page: Page, form: dict[str, Any], upload: uploads.Upload | None, status: int = 200, error: str = ""
) -> Reply:
    app, user = page.app, page.identity.username
    contacts, groups = await app.run(lambda: (app.directory.list_contacts(user), app.directory.list_groups(user)))
    shown = {name: form.get(name, "") for name in _FORM_FIELDS}
    shown["contact"], shown["group"] = form.get("contact", []), form.get("group", [])
    tzname = getattr(app.tz, "key", str(app.tz))
    return page.html(
        "send.html",
        "Send a fax",
        status,
        form=shown,
        contacts=contacts,
        groups=groups,
        upload=upload,
        tzname=tzname,
        error=error,
    )


async def _recipients(page: Page, fields: dict[str, list[str]]) -> list[Recipient]:
    app, user = page.app, page.identity.username
    limit = app.config.max_recipients
    numbers = views.parse_numbers(_one(fields, "numbers"), limit)
    name = _one(fields, "name")
    out = [Recipient(fax_number=n, name=name) for n in numbers]
    contact_ids = {int(v) for v in fields.get("contact", []) if v.isdigit()}
    group_ids = [int(v) for v in fields.get("group", []) if v.isdigit()]

    def load() -> list[Contact]:
        for group_id in group_ids:
            group = app.directory.get_group(user, group_id)
            if group is None:
                raise WebError(400, f"no group {group_id}")
            contact_ids.update(cid for owner, cid in group.members if owner == user)
        found = []
        for contact_id in sorted(contact_ids):
            contact = app.directory.get_contact(user, contact_id)
            if contact is None:
                raise WebError(400, f"no contact {contact_id}")
            found.append(contact)
        return found

    for contact in await app.run(load):
        out.append(
            Recipient(
                fax_number=contact.fax_number,
                name=contact.name,
                organization=contact.organization,
                phone_number=contact.phone_number,
            )
        )
    if not out:
        raise WebError(400, "enter a fax number or choose a contact or group")
    if len(out) > limit:
        raise WebError(400, f"a fax may have at most {limit} recipients, not {len(out)}")
    return out


def _attachments(uploaded: list[tuple[str, str, bytes]]) -> list[ffws.Attachment]:
    out = []
    for filename, part_type, data in uploaded:
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        kind = _EXTENSION_TYPES.get(extension) or part_type
        ffws.check_content(filename, kind, data)
        out.append(ffws.Attachment(filename, kind, data=data))
    return out


async def _send(page: Page, fields: dict[str, list[str]], uploaded: list[tuple[str, str, bytes]]) -> Reply:
    app, identity = page.app, page.identity
    form: dict[str, Any] = {name: _one(fields, name) for name in _FORM_FIELDS}
    form["contact"], form["group"] = fields.get("contact", []), fields.get("group", [])
    token = _one(fields, "upload")
    if uploaded:
        attachments = _attachments(uploaded)
        token = ""
    elif token:
        stored = await app.run(uploads.load_upload, app.spool_dir, token, identity.username)
        attachments = _attachments([(name, "", data) for name, data in stored])
    else:
        raise WebError(400, "choose a document to send")
    for name, limit in TEXT_LIMITS.items():
        if len(form[name]) > limit:
            raise WebError(400, f"the {name.replace('_', ' ')} field takes at most {limit} characters")
    if _one(fields, "action") == "preview":
        return await _preview(page, form, attachments)
    recipients = await _recipients(page, fields)
    schedule_at = views.parse_when(form["schedule_at"], app.tz)
    priority = views.parse_priority(form["priority"])
    profile = await app.run(app.directory.ensure_user, identity.username)
    spec = FaxSpec(
        owner=identity.username,
        account=identity.username,
        agent="WebClient",
        preprocessing=True,
        cover_enabled=bool(form["cover"]),
        cover_subject=form["subject"],
        cover_comments=form["comments"],
        sender_name=form["sender_name"] or profile.name,
        sender_organization=form["sender_organization"] or profile.organization,
        sender_fax_number=profile.fax_number,
        sender_phone_number=profile.phone_number,
        sender_email_address=profile.email_address,
        max_tries=profile.max_attempts,
        priority=profile.priority if priority is None else priority,
        try_interval=profile.interval,
        schedule_at=schedule_at,
    )
    fax, entries = await app.submit(spec, recipients, attachments)
    if token:
        await app.run(uploads.discard, app.spool_dir, token)
    return _back(f"/console/fax/{fax.id:08X}", f"Fax {fax.id:08X} queued for {len(entries)} recipient(s).")


async def _preview(page: Page, form: dict[str, Any], attachments: list[ffws.Attachment]) -> Reply:
    app, user = page.app, page.identity.username
    documents = [(a.name, a.data or b"") for a in attachments]
    token = await app.run(uploads.save_upload, app.spool_dir, user, documents)

    try:
        pages = await app.render(
            uploads.draw_previews,
            app.spool_dir,
            token,
            documents,
            Resolution.FINE,
            app.page_size,
            app.render.limits.max_pages,
        )
    except DocumentError as exc:
        await app.run(uploads.discard, app.spool_dir, token)
        raise WebError(400, str(exc)) from None
    upload = uploads.Upload(
        token,
        tuple(n for n, _ in documents),
        pages,
        tuple(f"/console/upload/{token}/{n}.png" for n in range(1, pages + 1)),
    )
    return await send_form(page, form, upload)


async def _change(page: Page, key: str, index_text: str, action: FaxAction, fields: dict[str, list[str]]) -> Reply:
    app = page.app
    fax = await files.load_fax(app, key, page.identity)
    index = parse_entry_key(index_text)
    now = app.now()
    try:
        if action is FaxAction.ABORT:
            await app.run(lambda: app.jobs.abort(fax.id, index, now=now))
            notice = f"Fax {fax.id:08X}/{index:04X}: abort requested."
        else:
            at = views.parse_when(_one(fields, "at"), app.tz) if action is FaxAction.RESCHEDULE else None
            if action is FaxAction.RESCHEDULE and at is None:
                raise WebError(400, "choose the new time")
            await app.run(lambda: app.jobs.reschedule(fax.id, index, at, now=now))
            notice = f"Fax {fax.id:08X}/{index:04X} {'rescheduled' if at else 'queued again'}."
    except (IllegalTransition, NotFound) as exc:
        raise WebError(409, str(exc)) from None
    except JobError as exc:
        raise WebError(400, str(exc)) from None
    app.poke()
    return _back(f"/console/fax/{fax.id:08X}", notice)


async def _delete(page: Page, key: str) -> Reply:
    """Remove a finished fax, its history and its page files (when the job store can remove faxes)."""
    app = page.app
    fax = await files.load_fax(app, key, page.identity)
    delete = getattr(app.jobs, "delete_fax", None)
    if delete is None:
        raise WebError(409, "this job store cannot remove faxes")

    def remove() -> bool:
        if not delete(fax.id):
            return False
        shutil.rmtree(Path(app.spool_dir) / f"{fax.id:08X}", ignore_errors=True)
        return True

    if not await app.run(remove):
        raise WebError(409, f"fax {fax.id:08X} is still queued or being sent: abort it first")
    return _back("/console/outbox", f"Fax {fax.id:08X} deleted.")


async def _add_account(page: Page, fields: dict[str, list[str]]) -> Reply:
    app = page.app
    if app.accounts is None:
        raise WebError(409, "the accounts live on another RADIUS server; add the account there")
    form = views.check_account(_one(fields, "name"), (fields.get("password") or [""])[-1])
    await app.run(app.accounts.add_account, form.name, form.password)
    return _back("/console/accounts", f"Account {form.name} added.")


async def _add_did(page: Page, fields: dict[str, list[str]]) -> Reply:
    app = page.app
    store = app.cdrs if app.accounts is not None else None
    if not isinstance(store, AccountDirectory):
        raise WebError(409, "the DIDs live on another RADIUS server; add the DID there")
    did, account = views.check_did(_one(fields, "did"), _one(fields, "account"))

    def add() -> None:
        if account and store.get_account(account) is None:
            raise WebError(400, f"no account {account!r}")
        try:
            store.add_did(Did(did=did, account=account))
        except DuplicateError:
            raise WebError(400, f"DID {did} exists already") from None

    await app.run(add)
    return _back("/console/accounts", f"DID {did} added{' for ' + account if account else ''}.")


async def _add_contact(page: Page, fields: dict[str, list[str]]) -> Reply:
    app, user = page.app, page.identity.username
    name, number = _one(fields, "name", 100), _one(fields, "fax_number", 40)
    if not name:
        raise WebError(400, "enter the contact's name")
    views.parse_numbers(number, 1)
    if not number:
        raise WebError(400, "enter the contact's fax number")
    contact = Contact(owner=user, name=name, fax_number=number, organization=_one(fields, "organization", 100))
    await app.run(app.directory.add_contact, contact)
    return _back("/console/contacts", f"Contact {name} added.")


async def _add_group(page: Page, fields: dict[str, list[str]]) -> Reply:
    app, user = page.app, page.identity.username
    name = _one(fields, "name", 100)
    if not name:
        raise WebError(400, "enter the group's name")
    members = tuple((user, int(v)) for v in fields.get("member", []) if v.isdigit())

    def add() -> None:
        missing = app.directory.contacts_exist(members) if members else []
        if missing:
            raise WebError(400, f"no contact {missing[0][1]}")
        app.directory.add_group(
            ContactGroup(owner=user, name=name, description=_one(fields, "description", 200), members=members)
        )

    await app.run(add)
    return _back("/console/contacts", f"Group {name} added.")
