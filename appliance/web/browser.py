"""Browser safety rules of the web service.  Pure: headers in, decisions out.

* Only documented request bodies: FFWS takes XML (``application/xml`` or
  ``text/xml``), the send endpoint and the console's forms
  ``multipart/form-data``; anything else is 415.  Parameters such as
  ``charset`` are not judged.
* A state-changing request (POST, PUT, DELETE, PATCH) whose ``Origin`` (or,
  without one, ``Referer``) names another origin than the service's own is
  refused (403).  Without either header the client is not a browser
  acting for a page, and the request is allowed.
* Console forms carry an anti-CSRF token: an HMAC, under a server secret,
  of the credentials the browser presents.  It changes with the password and
  the secret, and reveals neither.
* Security headers for every response, and stricter ones for HTML.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from appliance.config.web import origin_of
from appliance.web.model import WebError

__all__ = [
    "FORM",
    "STATE_CHANGING",
    "XML_TYPES",
    "check_body_type",
    "csrf_token",
    "csrf_valid",
    "foreign_origin",
    "media_type",
    "origin_of",
    "security_headers",
]

XML_TYPES = ("application/xml", "text/xml")
FORM = ("multipart/form-data",)
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
#: the web console: its own style sheet and script only (no inline code), no frames, posts only to itself
HTML_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def media_type(header: str | None) -> str:
    """``type/subtype`` of a Content-Type header, lower case, without parameters ("" when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()


def check_body_type(header: str | None, has_body: bool, allowed: Iterable[str], what: str) -> None:
    """Raise WebError 415 unless the body's Content-Type is one of ``allowed``.

    A request without a body may omit the header; a header that is present
    must be allowed even when the body is empty."""
    kinds = tuple(allowed)
    found = media_type(header)
    if not found and not has_body:
        return
    if found in kinds:
        return
    shown = f"Content-Type {found!r}" if found else "no Content-Type"
    raise WebError(415, f"{what} takes {' or '.join(kinds)}, not {shown}")


def foreign_origin(origin: str | None, referer: str | None, own: Iterable[str]) -> str | None:
    """The foreign origin a browser request came from, or None when it is the service's own (or unknown).

    ``own`` are the service's origins (``scheme://host[:port]``); ``Origin:
    null`` (sandboxed or privacy-restricted pages) is foreign."""
    trusted = {o for o in (origin_of(u) for u in own) if o}
    if origin is not None and origin.strip():
        value = origin.strip()
        if value.lower() == "null":
            return "null"
        found = origin_of(value)
        return None if found in trusted else (found or value[:100])
    if referer is not None and referer.strip():
        found = origin_of(referer)
        if found is None:
            return None  # not an http(s) page: nothing a browser form posts from
        return None if found in trusted else found
    return None


def csrf_token(secret: bytes, username: str, password: str) -> str:
    """The console's anti-CSRF token for these credentials."""
    message = b"dashboard-csrf\x00" + username.encode("utf-8") + b"\x00" + password.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def csrf_valid(expected: str, presented: str | None) -> bool:
    """True when ``presented`` is the expected token (compared in constant time)."""
    if not presented:
        return False
    return hmac.compare_digest(expected.encode("ascii"), presented.strip().encode("utf-8", "replace"))


def security_headers(content_type: str) -> dict[str, str]:
    """Headers for a response of ``content_type``: ``nosniff`` always; for HTML a
    content security policy (style sheets and scripts from this origin only,
    nothing inline), no framing and no referrer beyond this origin."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if media_type(content_type) == "text/html":
        headers.update(
            {
                "Content-Security-Policy": HTML_CSP,
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "same-origin",
            }
        )
    return headers
