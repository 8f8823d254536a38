"""VoipNow-style fax send (``POST /uapi/faxes/{userId}/{extension}``):
parse and validate the multipart request, render JSON answers.  Pure.

The request is ``multipart/form-data`` with one or more ``files`` parts and
one ``request`` part holding JSON ``{"recipients": ["7778888", …]}``.
Errors are 400 with ``{"error": {"code": …, "message": …}}``.
"""

from __future__ import annotations

import binascii
import itertools
import json
from dataclasses import dataclass

import multipart

from appliance.logsafe import safe_for_log
from appliance.web.bodies import b64decode

__all__ = [
    "ALLOWED_EXTENSIONS",
    "FormPart",
    "UapiError",
    "UapiFile",
    "UapiRequest",
    "error_body",
    "form_parts",
    "parse_send",
    "success_body",
]

#: file name extension -> content type handed to the converter
ALLOWED_EXTENSIONS = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "pdf": "application/pdf",
    "txt": "text/plain",
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


@dataclass(frozen=True)
class FormPart:
    """One multipart/form-data part."""

    name: str
    filename: str | None
    content_type: str
    data: bytes


_CHUNK = 256 * 1024


def _payload(segment: multipart.MultipartSegment, data: bytes) -> bytes:
    encoding = (segment.header("Content-Transfer-Encoding", "") or "").strip().lower()
    try:
        if encoding == "base64":
            return b64decode(data.decode("ascii"))
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
    except (ValueError, binascii.Error):
        raise UapiError("fx_file_invalid", f"part {segment.name!r} is not valid {encoding}") from None
    return data


def _parts(content_type: str, body: bytes) -> list[FormPart]:
    """The parts of a multipart/form-data body, read in steps (a large body never holds
    the interpreter for long; see :mod:`appliance.web.bodies`)."""
    kind, options = multipart.parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if kind != "multipart/form-data" or not boundary:
        raise UapiError("fx_file_invalid", "the request must be multipart/form-data with a boundary")
    parts: list[FormPart] = []
    segment: multipart.MultipartSegment | None = None
    chunks: list[bytes] = []
    view = memoryview(body)
    try:
        with multipart.PushMultipartParser(boundary, max_header_count=16) as parser:
            pieces = (bytes(view[start : start + _CHUNK]) for start in range(0, len(body), _CHUNK))
            for piece in itertools.chain(pieces, [b""]):  # b"": the end of the body
                for event in parser.parse(piece):
                    if isinstance(event, multipart.MultipartSegment):
                        segment, chunks = event, []
                    elif event:
                        chunks.append(bytes(event))
                    elif segment is not None:
                        parts.append(
                            FormPart(
                                segment.name or "",
                                segment.filename,
                                segment.content_type or "text/plain",
                                _payload(segment, b"".join(chunks)),
                            )
                        )
                        segment = None
    except multipart.MultipartError as exc:
        raise UapiError("fx_file_invalid", f"the multipart body could not be read: {exc}") from None
    return parts


def form_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, str, bytes]]:
    """(field name, file name, part content type, payload) of each multipart/form-data part."""
    return [(part.name, part.filename, part.content_type, part.data) for part in _parts(content_type, body)]


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
        name, payload = part.name, part.data
        if name == "request":
            request_part = payload
        elif name in ("files", "files[]", "file"):
            files.append(_check_file(part.filename or "", payload))
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
