"""``POST /uapi/faxes/{userId}/{extension}``: bearer token, multipart parse
(:mod:`uapi`), one fax with one entry per recipient, JSON answer."""

from __future__ import annotations

from twisted.web.http import Request as HttpRequest

from appliance.jobs.model import FaxSpec, Recipient
from appliance.web import browser, ffws, uapi
from appliance.web.app import Reply, WebApp
from appliance.web.auth import bearer_token
from appliance.web.model import WebError

__all__ = ["send"]

JSON = "application/json"
_SELF = ("@me", "@viewer", "@owner")


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, uapi.error_body(uapi.UapiError(code, message, status)), JSON)


async def send(app: WebApp, request: HttpRequest, user_id: str, extension: str, body: bytes) -> Reply:
    token = bearer_token(request.getHeader(b"authorization"))
    record = await app.run(app.directory.verify_token, token) if token else None
    if record is None:
        return _error(401, "unauthorized", "a valid bearer token is required")
    admin = record.username in app.config.admins
    owner = record.username if user_id in _SELF else user_id
    if owner != record.username and not admin:
        return _error(403, "forbidden", f"this token may not send faxes for user {user_id!r}")
    if extension == "@self" or not extension:
        return _error(400, "fx_extension_invalid", "name the extension sending the fax")
    content_type = (request.getHeader(b"content-type") or b"").decode("latin-1")
    try:
        browser.check_body_type(content_type, True, browser.FORM, "the send endpoint")
    except WebError as exc:
        return _error(415, "unsupported_media_type", exc.message)
    try:
        parsed = await app.run(
            lambda: uapi.parse_send(
                content_type, body, max_recipients=app.config.max_recipients, max_files=app.config.max_files
            )
        )
    except uapi.UapiError as exc:
        return Reply(exc.status, uapi.error_body(exc), JSON)
    attachments = [ffws.Attachment(f.filename, f.content_type, data=f.data) for f in parsed.files]
    profile = await app.run(app.directory.ensure_user, owner)
    spec = FaxSpec(
        owner=owner,
        account=owner,
        agent="UAPI",
        preprocessing=True,
        cover_enabled=False,
        sender_name=profile.name,
        sender_organization=profile.organization,
        sender_phone_number=profile.phone_number,
        sender_fax_number=extension,
        sender_email_address=profile.email_address,
        max_tries=profile.max_attempts,
        priority=profile.priority,
        try_interval=profile.interval,
    )
    try:
        fax, _ = await app.submit(spec, [Recipient(fax_number=n) for n in parsed.recipients], attachments)
    except WebError as exc:
        return _error(400, "fx_recipients_invalid", exc.message)
    return Reply(200, uapi.success_body(fax.id, app.uid(fax)), JSON)
