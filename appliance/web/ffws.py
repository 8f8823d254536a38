"""FaxFinder Web Service (FFWS) XML: parse and validate requests, render
responses.  Pure: bytes and records in, records and bytes out.

Requests are parsed only with ``defusedxml`` and any DTD is refused, so
entity expansion ("billion laughs") and external entities never run;
every problem is a :class:`WebError` (400) with a message for the client.
Parsing is lenient as FaxFinder clients expect: any element order, any
subset of children, unknown elements ignored, ``true``/``false`` in any case.
"""

from __future__ import annotations

import calendar
import enum
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from appliance.jobs.choices import Receipt, ReceiptAttachment
from appliance.jobs.model import Attempt, Entry, Fax, FaxSpec, Recipient
from appliance.web.bodies import b64decode, parse_document
from appliance.web.model import (
    CONTACT_FIELDS,
    GROUP_FIELDS,
    USER_INT_FIELDS,
    USER_TEXT_FIELDS,
    Contact,
    ContactGroup,
    UserProfile,
    WebError,
)

__all__ = [
    "CONTENT_TYPES",
    "Attachment",
    "Location",
    "ScheduleRequest",
    "check_content",
    "contact_element",
    "contact_ref",
    "fax_entry_element",
    "format_time",
    "group_element",
    "parse_contact",
    "parse_group",
    "parse_schedule_fax",
    "parse_time",
    "parse_user",
    "parse_xml",
    "render",
    "text_element",
    "user_element",
]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
#: content type -> what the content must start with (None: any text)
CONTENT_TYPES: Mapping[str, tuple[bytes, ...] | None] = {
    "application/pdf": (b"%PDF",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/tif": (b"II*\x00", b"MM\x00*"),
    "image/png": (b"\x89PNG",),
    "image/jpeg": (b"\xff\xd8",),
    "image/jpg": (b"\xff\xd8",),
    "image/gif": (b"GIF8",),
    "image/bmp": (b"BM",),
    "image/x-ms-bmp": (b"BM",),
    "text/plain": None,
}
RECEIPTS = tuple(r.value for r in Receipt)
RECEIPT_ATTACHMENTS = tuple(a.value for a in ReceiptAttachment)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


# ------------------------------------------------------------------ parsing


def parse_xml(body: bytes, root: str) -> Element:
    """The document element of ``body``, which must be ``<root>``; WebError 400 otherwise.
    Large bodies are parsed in steps (:mod:`bodies`): call this from a thread pool."""
    if not body or body.isspace():
        raise WebError(400, f"the request has no XML body (expected <{root}>)")
    element = parse_document(body)
    if element.tag != root:
        raise WebError(400, f"expected a <{root}> element, not <{element.tag}>")
    return element


def _text(parent: Element, path: str, default: str = "") -> str:
    found = parent.find(path)
    if found is None:
        return default
    return (found.text or "").strip()


def _bool(parent: Element, path: str, default: bool) -> bool:
    value = _text(parent, path, "")
    if not value:
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise WebError(400, f"<{path}> must be true or false, not {value!r}")


def _int(parent: Element, path: str, default: int | None, low: int, high: int) -> int | None:
    value = _text(parent, path, "")
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise WebError(400, f"<{path}> must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise WebError(400, f"<{path}> must be {low}..{high}, not {number}")
    return number


def _choice(parent: Element, path: str, default: str, choices: Sequence[str]) -> str:
    value = _text(parent, path, "").lower()
    if not value:
        return default
    if value not in choices:
        raise WebError(400, f"<{path}> must be one of {', '.join(choices)}, not {value!r}")
    return value


def parse_time(value: str, what: str) -> float:
    """Unix time of a UTC ``YYYY-MM-DDTHH:MM:SS`` (a space instead of ``T`` is accepted)."""
    try:
        parsed = datetime.strptime(value.strip().replace(" ", "T"), TIME_FORMAT)
    except ValueError:
        raise WebError(400, f"{what} must be YYYY-MM-DDTHH:MM:SS (UTC), not {value!r}") from None
    return float(calendar.timegm(parsed.timetuple()))


def format_time(when: float | None, tz: tzinfo) -> str:
    """A unix time as FaxFinder shows it (local ``%FT%T``); "" for None."""
    if when is None:
        return ""
    return datetime.fromtimestamp(when, UTC).astimezone(tz).strftime(TIME_FORMAT)


@dataclass(frozen=True)
class Attachment:
    """One ``<attachment>``: inline bytes or an external URL to fetch."""

    name: str
    content_type: str
    data: bytes | None = None
    url: str | None = None


@dataclass(frozen=True)
class ScheduleRequest:
    spec: FaxSpec
    recipients: tuple[Recipient, ...]
    attachments: tuple[Attachment, ...]


def check_content(name: str, content_type: str, data: bytes) -> None:
    """WebError 400 unless ``content_type`` is convertible and ``data`` is of that type."""
    magic = CONTENT_TYPES.get(content_type)
    if content_type not in CONTENT_TYPES:
        raise WebError(
            400,
            f"attachment {name!r}: content type {content_type!r} cannot be converted to fax pages"
            f" (supported: {', '.join(CONTENT_TYPES)})",
        )
    if not data:
        raise WebError(400, f"attachment {name!r} is empty")
    if magic is not None and not any(
        data.lstrip(b"\r\n\t ")[:1024].startswith(m) or (content_type == "application/pdf" and m in data[:1024])
        for m in magic
    ):
        raise WebError(400, f"attachment {name!r}: the content is not {content_type}")


class Location(enum.StrEnum):
    """Where an attachment's content is (FFWS ``<location>``)."""

    INLINE = "inline"
    EXTERNAL = "external"


def _attachment(element: Element, number: int) -> Attachment:
    name = _text(element, "name") or f"attachment {number}"
    content_type = _text(element, "content_type").split(";")[0].strip().lower()
    location_text = _text(element, "location", Location.INLINE).lower() or Location.INLINE
    if location_text not in tuple(Location):
        raise WebError(400, f"attachment {name!r}: <location> must be inline or external, not {location_text!r}")
    location = Location(location_text)
    if location is Location.EXTERNAL:
        url = _text(element, "url")
        if not re.match(r"^https?://", url, re.IGNORECASE):
            raise WebError(400, f"attachment {name!r}: an external attachment needs an http(s) <url>")
        if content_type and content_type not in CONTENT_TYPES:
            raise WebError(400, f"attachment {name!r}: content type {content_type!r} cannot be converted")
        return Attachment(name, content_type, url=url)
    encoding = _text(element, "content_transfer_encoding", "base64").lower() or "base64"
    if encoding != "base64":
        raise WebError(400, f"attachment {name!r}: <content_transfer_encoding> must be base64")
    content = element.find("content")
    try:
        data = b64decode((content.text or "") if content is not None else "")
    except ValueError:
        raise WebError(400, f"attachment {name!r}: <content> is not valid base64") from None
    if not content_type:
        raise WebError(400, f"attachment {name!r} has no <content_type>")
    check_content(name, content_type, data)
    return Attachment(name, content_type, data=data)


def parse_recipient(element: Element, number: int) -> Recipient:
    fax_number = _text(element, "fax_number")  # checked by the dial plan when the fax is submitted
    return Recipient(
        fax_number=fax_number,
        name=_text(element, "name"),
        organization=_text(element, "organization"),
        phone_number=_text(element, "phone_number"),
    )


def parse_schedule_fax(
    body: bytes, *, owner: str, defaults: UserProfile, max_recipients: int, agent: str = "FFWS"
) -> ScheduleRequest:
    """A ``<schedule_fax>`` as a fax spec (entries start in preprocessing), its recipients and attachments."""
    root = parse_xml(body, "schedule_fax")
    recipient_elements = root.findall("recipient")
    if not recipient_elements:
        raise WebError(400, "the fax has no <recipient>")
    if len(recipient_elements) > max_recipients:
        raise WebError(400, f"too many recipients: {len(recipient_elements)} (at most {max_recipients} per fax)")
    recipients = tuple(parse_recipient(e, i) for i, e in enumerate(recipient_elements, start=1))
    attachments = tuple(_attachment(e, i) for i, e in enumerate(root.findall("attachment"), start=1))
    cover_enabled = _bool(root, "cover_page/enabled", True)
    if not attachments and not cover_enabled:
        raise WebError(400, "the fax has no <attachment> and no cover page: nothing to send")
    schedule = _text(root, "schedule_all_at")
    spec = FaxSpec(
        owner=owner,
        account=owner,
        agent=agent,
        preprocessing=True,
        cover_url=_text(root, "cover_page/url"),
        cover_enabled=cover_enabled,
        cover_subject=_text(root, "cover_page/subject"),
        cover_comments=_text(root, "cover_page/comments"),
        sender_name=_text(root, "sender/name", defaults.name),
        sender_organization=_text(root, "sender/organization", defaults.organization),
        sender_phone_number=_text(root, "sender/phone_number", defaults.phone_number),
        sender_fax_number=_text(root, "sender/fax_number", defaults.fax_number),
        sender_email_address=_text(root, "sender/email_address", defaults.email_address),
        max_tries=_int(root, "max_tries", defaults.max_attempts, 1, 99),
        priority=_int(root, "priority", defaults.priority, 0, 5) or 0,
        try_interval=_int(root, "try_interval", defaults.interval, 0, 86400),
        receipt=Receipt(_choice(root, "receipt", defaults.receipt, RECEIPTS)),
        receipt_attachment=ReceiptAttachment(
            _choice(root, "receipt_attachment", defaults.receipt_attachment, RECEIPT_ATTACHMENTS)
        ),
        schedule_at=parse_time(schedule, "<schedule_all_at>") if schedule else None,
    )
    return ScheduleRequest(spec, recipients, attachments)


def parse_user(body: bytes) -> tuple[dict[str, Any], str | None, str | None]:
    """A ``<user>``: (profile fields present, username or None, password or None)."""
    root = parse_xml(body, "user")
    fields: dict[str, Any] = {}
    for name in USER_TEXT_FIELDS:
        if root.find(name) is not None:
            fields[name] = _text(root, name)
    for name in USER_INT_FIELDS:
        value = _int(root, name, None, 0, 86400)
        if value is not None:
            fields[name] = value
    if "priority" in fields and fields["priority"] > 5:
        raise WebError(400, f"<priority> must be 0..5, not {fields['priority']}")
    if "receipt" in fields:
        fields["receipt"] = _choice(root, "receipt", "failure", RECEIPTS)
    if "receipt_attachment" in fields:
        fields["receipt_attachment"] = _choice(root, "receipt_attachment", "none", RECEIPT_ATTACHMENTS)
    username = _text(root, "username") if root.find("username") is not None else None
    password = (root.findtext("password") or "") if root.find("password") is not None else None
    if username is not None and not re.fullmatch(r"[A-Za-z0-9._@-]{1,64}", username):
        raise WebError(400, f"<username> must be 1-64 letters, digits or . _ @ -, not {username!r}")
    return fields, username, password


def parse_contact(body: bytes) -> dict[str, str]:
    """The fields of a ``<contact>`` that are present."""
    root = parse_xml(body, "contact")
    return {name: _text(root, name) for name in CONTACT_FIELDS if root.find(name) is not None}


_CONTACT_URL = re.compile(r"/contacts/([^/?#]+)/([0-9]+)/?$")


def contact_ref(url: str) -> tuple[str, int]:
    """(owner, id) of a contact URL (absolute or a path)."""
    match = _CONTACT_URL.search(url.strip())
    if not match:
        raise WebError(400, f"<contact> must be a contact URL (…/ffws/v1/contacts/USER/ID), not {url!r}")
    return match.group(1), int(match.group(2))


def parse_group(body: bytes) -> tuple[dict[str, str], tuple[tuple[str, int], ...] | None]:
    """A ``<contact_group>``: (fields present, member refs or None when no <contact> is given)."""
    root = parse_xml(body, "contact_group")
    fields = {name: _text(root, name) for name in GROUP_FIELDS if root.find(name) is not None}
    members = root.findall("contact")
    return fields, (tuple(contact_ref(m.text or "") for m in members) if members else None)


# ---------------------------------------------------------------- rendering


def text_element(parent: Element, tag: str, value: object = "") -> Element:
    element = SubElement(parent, tag)
    element.text = "" if value is None else str(value)
    return element


def render(message: str, children: Iterable[Element] = ()) -> bytes:
    """``<response><message>…</message>children…</response>`` with the XML declaration."""
    root = Element("response")
    text_element(root, "message", message)
    root.extend(children)
    ET.indent(root, "  ")
    body: bytes = ET.tostring(root, encoding="utf-8", short_empty_elements=False, xml_declaration=False)
    return XML_DECLARATION + body + b"\n"


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def fax_entry_element(
    entry: Entry, fax: Fax, base: str, tz: tzinfo, attempts: Sequence[Attempt] | None = None
) -> Element:
    """One ``<fax_entry>`` (§9.2), with modem info when ``attempts`` is given."""
    faxkey, entrykey = f"{fax.id:08X}", f"{entry.index:04X}"
    e = Element("fax_entry")
    text_element(e, "fax_entry_url", f"{base}/ffws/v1/ofax/{faxkey}/{entrykey}")
    text_element(e, "fax_url", f"{base}/ffws/v1/ofax/{faxkey}")
    text_element(e, "state", entry.state.value)
    text_element(e, "schedule_message", entry.schedule_message)
    text_element(e, "created", format_time(entry.created, tz))
    text_element(e, "stime", format_time(entry.stime, tz))
    text_element(e, "try_number", entry.try_number)
    text_element(e, "agent", fax.agent)
    text_element(e, "preview", f"{base}/ffws/v1/data/preview/{faxkey}-{entrykey}.pdf")
    cover = SubElement(e, "cover_page")
    text_element(cover, "url", fax.cover_url or f"{base}/ffws/v1/data/cover_pages/default.pdf")
    text_element(cover, "enabled", _bool_text(fax.cover_enabled))
    text_element(cover, "subject", fax.cover_subject)
    text_element(cover, "comments", fax.cover_comments)
    sender = SubElement(e, "sender")
    text_element(sender, "username", fax.owner)
    for name in ("name", "organization", "phone_number", "fax_number", "email_address"):
        text_element(sender, name, getattr(fax, f"sender_{name}"))
    recipient = SubElement(e, "recipient")
    for name in ("name", "organization", "fax_number", "phone_number"):
        text_element(recipient, name, getattr(entry.recipient, name))
    text_element(e, "max_tries", entry.max_tries)
    text_element(e, "priority", entry.priority)
    text_element(e, "try_interval", fax.try_interval if fax.try_interval is not None else "")
    text_element(e, "receipt", fax.receipt.value)
    text_element(e, "receipt_attachment", fax.receipt_attachment.value)
    text_element(e, "pages", fax.pages)
    text_element(e, "approver", "")  # FaxFinder's approval step: this appliance has none
    text_element(e, "approval_time", "")
    if attempts:
        _modem_info(e, attempts[-1], tz)
    return e


def _modem_info(e: Element, attempt: Attempt, tz: tzinfo) -> None:
    """Modem-level data of the last attempt ([INFERRED] names, see README)."""
    details = attempt.details
    text_element(e, "init_time", format_time(attempt.started_at, tz))
    connect = details.get("connect_time")
    text_element(e, "connect_time", format_time(float(connect), tz) if isinstance(connect, (int, float)) else "")
    text_element(e, "hangup_time", format_time(attempt.ended_at, tz))
    text_element(e, "elapsed_time", round(attempt.duration))
    text_element(e, "modem", attempt.route)
    text_element(e, "remote_id", attempt.remote_csid)
    text_element(e, "pages_sent", attempt.pages)
    for key in ("baud_rate", "resolution", "width", "height", "compression", "ecm"):
        text_element(e, key, details.get(key, ""))
    text_element(e, "hangup_code", attempt.hangup_code or details.get("hangup_code", ""))
    text_element(e, "hangup_text", attempt.hangup_text or details.get("hangup_text", ""))


def user_element(profile: UserProfile, base: str) -> Element:
    e = Element("user")
    text_element(e, "user_url", f"{base}/ffws/v1/users/{profile.username}")
    text_element(e, "name", profile.name)
    text_element(e, "username", profile.username)
    for name in (
        "email_address",
        "phone_number",
        "fax_number",
        "organization",
        "priority",
        "max_attempts",
        "interval",
        "receipt",
        "receipt_attachment",
    ):
        text_element(e, name, getattr(profile, name))
    return e


def contact_element(contact: Contact, base: str) -> Element:
    e = Element("contact")
    text_element(e, "contact_url", f"{base}/ffws/v1/contacts/{contact.owner}/{contact.id}")
    for name in CONTACT_FIELDS:
        text_element(e, name, getattr(contact, name))
    return e


def group_element(group: ContactGroup, base: str) -> Element:
    e = Element("contact_group")
    text_element(e, "contact_group_url", f"{base}/ffws/v1/contact_groups/{group.owner}/{group.id}")
    text_element(e, "name", group.name)
    text_element(e, "description", group.description)
    for owner, contact_id in group.members:
        text_element(e, "contact", f"{base}/ffws/v1/contacts/{owner}/{contact_id}")
    return e
