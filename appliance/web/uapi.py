"""VoipNow-style fax send (``POST /uapi/faxes/{userId}/{extension}``):
parse and validate the multipart request, render JSON answers.  Pure.

The request is ``multipart/form-data`` with one or more ``files`` parts and
one ``request`` part holding JSON ``{"recipients": ["7778888", …]}``.
Errors are 400 with ``{"error": {"code": …, "message": …}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

from appliance.logsafe import safe_for_log

__all__ = ["ALLOWED_EXTENSIONS", "UapiError", "UapiFile", "UapiRequest", "error_body", "form_parts", "parse_send",
           "success_body"]

#: file name extension -> content type handed to the converter
ALLOWED_EXTENSIONS = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "tif": "image/tiff", "tiff": "image/tiff",
    "pdf": "application/pdf", "txt": "text/plain",
}
_MAGIC = {"image/jpeg": (b"\xff\xd8",), "image/tiff": (b"II*\x00", b"MM\x00*"), "application/pdf": (b"%PDF",)}


class UapiError(Exception):
    """A documented UAPI error: HTTP status, code (``fx_…``) and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class UapiFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class UapiRequest:
    recipients: tuple[str, ...]
    files: tuple[UapiFile, ...]


def _parts(content_type: str, body: bytes) -> list[Message]:
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type.lower():
        raise UapiError("fx_file_invalid", "the request must be multipart/form-data with a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise UapiError("fx_file_invalid", "the multipart body could not be read")
    return list(message.iter_parts())  # type: ignore[attr-defined]


def form_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, str, bytes]]:
    """(field name, file name, part content type, payload) of each multipart/form-data part."""
    out = []
    for part in _parts(content_type, body):
        out.append((part.get_param("name", header="content-disposition") or "", part.get_filename(),
                    part.get_content_type(), part.get_payload(decode=True) or b""))
    return out


def _check_file(filename: str, data: bytes) -> UapiFile:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    extension = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    content_type = ALLOWED_EXTENSIONS.get(extension)
    if content_type is None:
        raise UapiError("fx_file_invalid", f"file {base!r}: allowed file types are jpg, tif, pdf and txt")
    if not data:
        raise UapiError("fx_file_invalid", f"file {base!r} is empty")
    magic = _MAGIC.get(content_type)
    if magic and not any(data.startswith(m) for m in magic):
        raise UapiError("fx_file_invalid", f"file {base!r} is not a valid {extension} file")
    return UapiFile(base, content_type, data)


def _recipients(raw: bytes, max_recipients: int) -> tuple[str, ...]:
    try:
        request = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UapiError("fx_recipients_invalid", "the request part is not valid JSON") from None
    recipients = request.get("recipients") if isinstance(request, dict) else None
    if isinstance(recipients, str):
        recipients = [recipients]
    if not isinstance(recipients, list) or not recipients:
        raise UapiError("fx_recipients_invalid", "recipients is missing or empty")
    if len(recipients) > max_recipients:
        raise UapiError("fx_recipients_invalid", f"too many recipients: {len(recipients)} (at most {max_recipients})")
    out = []
    for value in recipients:  # the dial plan checks the numbers (appliance.dialplan, at submit)
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise UapiError("fx_recipients_invalid", f"recipient {safe_for_log(repr(value), 40)} is not a phone number")
        out.append(str(value))
    return tuple(out)


def parse_send(content_type: str, body: bytes, *, max_recipients: int, max_files: int) -> UapiRequest:
    """The recipients and files of a send request; raises :class:`UapiError`."""
    files: list[UapiFile] = []
    request_part: bytes | None = None
    for part in _parts(content_type, body):
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "request":
            request_part = payload
        elif name in ("files", "files[]", "file"):
            files.append(_check_file(part.get_filename() or "", payload))
            if len(files) > max_files:
                raise UapiError("fx_max_files_reached", f"at most {max_files} files can be sent in one fax")
    if request_part is None:
        raise UapiError("fx_recipients_invalid", "the request part with recipients is missing")
    recipients = _recipients(request_part, max_recipients)
    if not files:
        raise UapiError("fx_file_invalid", "no files part: nothing to send")
    return UapiRequest(recipients, tuple(files))


def error_body(error: UapiError) -> bytes:
    return json.dumps({"error": {"code": error.code, "message": error.message}}).encode("utf-8")


def success_body(fax_id: int, uid: str) -> bytes:
    return json.dumps({"id": str(fax_id), "uid": uid}).encode("utf-8")
