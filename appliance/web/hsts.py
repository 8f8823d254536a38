"""``[web] hsts``: every HTTPS response carries Strict-Transport-Security."""

from __future__ import annotations

from twisted.web.server import Site

from appliance.config.web import WebConfig

__all__ = ["hsts_value", "install_hsts"]


def hsts_value(web: WebConfig) -> bytes | None:
    """The header value for ``web``; None when HSTS is off or there is no HTTPS."""
    if not (web.hsts and web.https):
        return None
    return f"max-age={web.hsts_max_age}".encode("ascii")


def install_hsts(site: Site, web: WebConfig) -> None:
    """Make ``site`` (a twisted.web Site) add the header to every secure response."""
    value = hsts_value(web)
    if value is None:
        return
    base = site.requestFactory

    class HstsRequest(base):  # type: ignore[misc, valid-type]
        def process(self) -> None:
            if self.isSecure():
                self.responseHeaders.setRawHeaders(b"strict-transport-security", [value])
            super().process()

    site.requestFactory = HstsRequest
