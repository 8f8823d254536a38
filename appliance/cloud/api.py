"""FAXAGE request builders and reply parsers (sans-I/O).

``build(operation, params)`` validates and returns a :class:`Request` (the
endpoint and the ordered form fields, *without* credentials);
``Request.form(credentials)`` gives the full POST body fields.
``parse(request, status, body, headers)`` returns a typed result or raises a
:mod:`appliance.cloud.errors` exception.  Nothing here does I/O.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from appliance.cloud._ops import CREDENTIAL_VARS, OPERATIONS, SUPPORTED_EXTENSIONS, Endpoint, OpSpec
from appliance.cloud._parsers import TEXT_PARSERS, parse_status_line, status_record_from_fields
from appliance.cloud.errors import (
    FaxageProtocolError,
    FaxageRequestError,
    FaxageTransportError,
    NoRecords,
    RemoteError,
    error_class,
)
from appliance.cloud.records import Document
from appliance.config import Secret

__all__ = [
    "OPERATIONS",
    "SAFE_TO_REPEAT",
    "SUPPORTED_EXTENSIONS",
    "Credentials",
    "Endpoint",
    "OpSpec",
    "Request",
    "build",
    "build_sendfax",
    "endpoint_url",
    "parse",
    "parse_error",
    "parse_status_line",
    "redact",
    "status_record_from_fields",
    "strip_debug_echo",
]

ParamValue = str | int | bool | Sequence[str | int]

# Operations that may be repeated after an ambiguous failure: read-only ones
# and writes whose repetition leaves the same state (a repeated ``handled``
# may answer ERR39, which the client reads as success).
SAFE_TO_REPEAT = frozenset(
    {
        "status",
        "dlstatus",
        "dltrans",
        "listfax",
        "getfax",
        "listfolder",
        "portable",
        "listlines",
        "checkline",
        "listusers",
        "handlecount",
        "pendcount",
        "qstatus",
        "incomingcalls",
        "busycalls",
        "portstatus",
        "auditlog",
        "getcdr",
        "listac",
        "listnpanxx",
        "listdids",
        "listonhold",
        "handled",
        "disabledid",
        "enabledid",
        "changepass",
        "changeemail",
        "addlineperm",
        "lowspeed",
        "mvfax",
    }
)


@dataclass(frozen=True)
class Credentials:
    """username/company/password; the password is a :class:`Secret`."""

    username: str
    company: str
    password: Secret = field(repr=False)

    def secrets(self) -> tuple[str, ...]:
        value = self.password.reveal_str()
        return (value,) if value else ()


@dataclass(frozen=True)
class Request:
    operation: str
    endpoint: Endpoint
    fields: tuple[tuple[str, str], ...]

    def values(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, value in self.fields:
            out.setdefault(name, []).append(value)
        return out

    def form(self, credentials: Credentials) -> list[tuple[str, str]]:
        """The POST fields in the document's order: credentials, operation
        (not for getcdr.php, which has none), then the variables."""
        head = [
            ("username", credentials.username),
            ("company", credentials.company),
            ("password", credentials.password.reveal_str()),
        ]
        if self.endpoint is not Endpoint.GETCDR:
            head.append(("operation", self.operation))
        return head + list(self.fields)

    def secrets(self) -> tuple[str, ...]:
        spec = OPERATIONS[self.operation]
        return tuple(v for n, v in self.fields if (var := spec.var(n)) is not None and var.secret and v)

    def __repr__(self) -> str:
        spec = OPERATIONS[self.operation]
        shown = []
        for name, value in self.fields:
            var = spec.var(name)
            if var is not None and var.secret:
                value = "***"
            elif name == "faxfiledata[]":
                value = f"<{len(value)} base64 chars>"
            shown.append(f"{name}={value!r}")
        return f"Request({self.operation}: {', '.join(shown)})"

    @property
    def safe_to_repeat(self) -> bool:
        return self.operation in SAFE_TO_REPEAT


def endpoint_url(base_url: str, endpoint: Endpoint, *, debug: bool = False) -> str:
    """The URL of ``endpoint``; ``debug`` selects ``httpsfax-debug.php``,
    which exists for httpsfax.php only and echoes the POST first."""
    path = endpoint.value
    if debug and endpoint is Endpoint.HTTPSFAX:
        path = "httpsfax-debug.php"
    return f"{base_url.rstrip('/')}/{path}"


def _text_value(op: str, name: str, value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise FaxageRequestError(op, name, f"unsupported value type {type(value).__name__}")


def build(operation: str, params: Mapping[str, ParamValue] | None = None) -> Request:
    """Validate ``params`` (POST variable names as in the document; array
    variables like ``jobids[]`` take sequences) and build the request."""
    spec = OPERATIONS.get(operation)
    if spec is None:
        raise FaxageRequestError(operation, "", "unknown operation")
    params = dict(params or {})
    values: dict[str, list[str]] = {}
    for name, raw in params.items():
        if raw is None or (raw is False and name != "handled"):
            continue
        var = spec.var(name)
        if name in CREDENTIAL_VARS or name == "operation":
            raise FaxageRequestError(operation, name, "is supplied by the client, not as a parameter")
        if var is None:
            known = ", ".join(v.name for v in spec.variables) or "none"
            raise FaxageRequestError(operation, name, f"is not a variable of this operation (known: {known})")
        items: list[str | int | bool]
        if isinstance(raw, (str, int)):
            items = [raw]
        elif isinstance(raw, (list, tuple)) and not var.array:
            raise FaxageRequestError(operation, name, "takes one value")
        elif var.array:
            items = list(raw)
        else:
            raise FaxageRequestError(operation, name, f"unsupported value type {type(raw).__name__}")
        checked = [var.check(operation, name, _text_value(operation, name, item)) for item in items]
        if checked:
            values[name] = checked
    for var in spec.variables:
        if var.required and var.name not in values:
            raise FaxageRequestError(operation, var.name, "is required")
    if spec.cross_check is not None:
        spec.cross_check(operation, values)
    ordered = tuple((var.name, v) for var in spec.variables for v in values.get(var.name, ()))
    return Request(operation, spec.endpoint, ordered)


def build_sendfax(
    faxno: str, recipname: str, files: Iterable[tuple[str, bytes]] = (), **options: ParamValue
) -> Request:
    """sendfax in standard mode from ``(filename, content)`` pairs (encoded
    here), or in URL mode when ``faxurl``/``faxurls[]`` is given in options."""
    files = list(files)
    for name, data in files:
        if not data:
            raise FaxageRequestError("sendfax", "faxfiledata[]", f"file {name!r} is empty")
    params: dict[str, ParamValue] = {"recipname": recipname, "faxno": faxno, **options}
    if files:
        params["faxfilenames[]"] = [name for name, _ in files]
        params["faxfiledata[]"] = [base64.b64encode(data).decode("ascii") for _, data in files]
    return build("sendfax", params)


# ------------------------------------------------------------ replies

_ERR_RE = re.compile(rb"\s*ERR(\d\d):\s?")
_SECRET_PATTERNS = (
    re.compile(r"(\[(?:password|upasswd)\]\s*=>\s*)([^\n]*)"),
    re.compile(r"((?:^|[&\s])(?:password|upasswd)=)([^&\s]*)"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret value and every echoed password removed."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


def strip_debug_echo(body: bytes) -> tuple[bytes, bytes]:
    """Split a httpsfax-debug.php reply into (echoed POST, real reply).  The
    echo is PHP ``print_r($_POST)`` output: ``Array\\n(\\n … \\n)\\n``."""
    if not body.startswith(b"Array\n("):
        return b"", body
    end = body.find(b"\n)\n")
    if end < 0:
        return b"", body
    rest = body[end + 3 :]
    return body[: end + 3], rest[1:] if rest.startswith(b"\n") else rest


def parse_error(operation: str, body: bytes, secrets: Iterable[str] = ()) -> RemoteError | None:
    """The exception for an ``ERRnn:`` reply, or None when ``body`` is not one."""
    match = _ERR_RE.match(body[:16])
    if not match:
        return None
    code = int(match.group(1))
    text = body[match.end() :].decode("utf-8", "replace").strip()
    return error_class(operation, code)(code, operation, redact(text, secrets))


def _filename(disposition: str) -> str | None:
    match = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition)
    return match.group(1) if match else None


def _sniff(data: bytes, declared: str) -> str:
    if data.startswith(b"%PDF"):
        return "application/pdf"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return declared or "application/octet-stream"


def parse(
    request: Request, status: int, body: bytes, headers: Mapping[str, str] | None = None, *, secrets: Iterable[str] = ()
) -> Any:
    """The typed result of ``request`` from its HTTP reply, or raise."""
    op = request.operation
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if status != 200:
        raise FaxageTransportError(op, f"HTTP status {status}", status)
    _, body = strip_debug_echo(body)
    all_secrets = (*secrets, *request.secrets())
    error = parse_error(op, body, all_secrets)
    if error is not None:
        if isinstance(error, NoRecords) and op in ("listfax", "status") and "jobid" not in request.values():
            return ()
        raise error
    if OPERATIONS[op].binary:
        if not body:
            raise FaxageProtocolError(op, "empty reply where a file was expected")
        return Document(
            data=body,
            content_type=_sniff(body, headers.get("content-type", "").split(";")[0]),
            filename=_filename(headers.get("content-disposition", "")),
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    return TEXT_PARSERS[op](op, text, request.values())
