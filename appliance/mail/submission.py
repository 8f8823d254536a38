"""An e-mail to fax, read with Python's ``email`` package (pure).

The attachments (PDF, TIFF, PNG, JPEG, GIF, BMP, plain text) become the pages, in
order.  The first inline plain-text part is the body: it becomes the cover-page
comments (INLINE-COMMENTS).  The subject becomes the cover subject.  Anything
else attached (HTML files, archives, office documents …) makes the whole mail
unacceptable: :class:`UnsupportedAttachment` names it and the supported types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["SUPPORTED", "Submission", "SubmissionError", "UnsupportedAttachment", "parse_submission", "reply_text"]

SUPPORTED = ("PDF", "TIFF", "PNG", "JPEG", "GIF", "BMP", "plain text")
MAX_ATTACHMENTS = 20
MAX_COMMENTS = 4000
_MAGIC = (
    (b"%PDF", "pdf"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8", "jpeg"),
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
)
_TEXT_NAMES = (".txt", ".text")


class SubmissionError(ValueError):
    """The mail cannot become a fax; the text says why (it goes back in the SMTP reply)."""


class UnsupportedAttachment(SubmissionError):
    """An attachment of a type that cannot become fax pages."""


@dataclass(frozen=True)
class Submission:
    subject: str
    comments: str  # the first inline text part ("" when none)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # (name, content) in order


def _kind(data: bytes) -> str:
    head = data.lstrip(b"\r\n\t ")[:1024]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"%PDF" in head:
        return "pdf"
    return ""


def _text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def parse_submission(raw: bytes) -> Submission:
    """Read the mail ``raw``; raises :class:`SubmissionError` / :class:`UnsupportedAttachment`."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    subject = " ".join(str(msg.get("Subject", "") or "").split())[:200]
    comments = ""
    attachments: list[tuple[str, bytes]] = []
    for number, part in enumerate(msg.walk(), start=1):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        name = part.get_filename() or f"part {number}"
        name = "".join(ch for ch in name if ch.isprintable())[:100]
        if ctype == "text/plain" and disposition != "attachment" and not part.get_filename():
            if not comments:
                comments = _text(part).strip()[:MAX_COMMENTS]
            continue
        if ctype == "text/html" and disposition != "attachment" and not part.get_filename():
            continue  # the HTML alternative of the body
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            raise SubmissionError(f"attachment {name!r} is empty")
        if _kind(data):
            attachments.append((name, data))
        elif ctype == "text/plain" or name.lower().endswith(_TEXT_NAMES):
            attachments.append((name, _text(part).encode("utf-8")))
        else:
            raise UnsupportedAttachment(
                f"attachment {name!r} ({ctype}) cannot be faxed; supported: {', '.join(SUPPORTED)}"
            )
        if len(attachments) > MAX_ATTACHMENTS:
            raise SubmissionError(f"more than {MAX_ATTACHMENTS} attachments")
    if not attachments and not comments:
        raise SubmissionError("the mail has nothing to fax (no attachment and no text)")
    return Submission(subject, comments, attachments)


def reply_text(text: str, limit: int = 400) -> str:
    """SMTP reply text: printable ASCII only (a peer's bytes cannot break the reply line)."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text)[:limit]
