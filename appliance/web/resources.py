"""twisted.web adapter: routing, authentication, body limits, replies.

* ``/ffws/v1/…`` — FFWS, HTTP Basic checked through RADIUS (:mod:`auth`);
* ``/uapi/faxes/{userId}/{extension}`` — VoipNow-style send, bearer token;
* ``/console/…`` — the web console, HTTP Basic (throttled); users see their
  own faxes, admins everything; ``/console/static/…`` needs no login;
* ``/`` and ``/dashboard/…`` — redirects to the console (old addresses).

Bodies larger than ``[web] max_request_bytes`` are refused with 413 before
they are read, and ``Expect: 100-continue`` waits for the credentials check
(:mod:`http_guard`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import resource, server
from twisted.web.http import Request as HttpRequest

from appliance.render.convert import cover_pdf
from appliance.web import api_v1, book, browser, console, dashboard, status, uapi, uapi_handler
from appliance.web.app import Call, Reply, WebApp
from appliance.web.auth import Authenticator, Identity, bearer_token
from appliance.web.console.pages import STATIC, static_file
from appliance.web.console.views import ADMIN_PAGES
from appliance.web.ffws import render as render_xml
from appliance.web.guard import Guard
from appliance.web.http_guard import GuardedSite, Refusal
from appliance.web.model import WebError
from radius.store.api import StoreError

__all__ = ["WebRoot", "WebSite"]

Handler = Callable[[WebApp, Call], Awaitable[Reply]]
FFWS: dict[str, Handler] = {
    "ofax": lambda app, call: app.ofax(call),
    "users": book.users,
    "contacts": book.contacts,
    "contact_groups": book.contact_groups,
    "status": status.status,
    "modem_status": status.modem_status,
    "channel_status": status.channel_status,
    "inbound_status": status.inbound_status,
    "outbound_status": status.outbound_status,
}
#: address-book requests are small: their XML is parsed on the reactor thread
_SMALL_BODIES = ("users", "contacts", "contact_groups")
SMALL_BODY_BYTES = 1024 * 1024


class WebSite(GuardedSite):
    """The Site: body limit, credentials checked before ``100 Continue``, refusals rendered like replies."""

    def __init__(self, root: WebRoot, max_request_bytes: int, **kw: Any) -> None:
        super().__init__(root, max_request_bytes, precheck=root.precheck, render_refusal=root.render_refusal, **kw)
        self.app: WebApp = root.app


def _base(request: HttpRequest) -> str:
    scheme = "https" if request.isSecure() else "http"
    host = (request.getHeader("host") or "").strip()
    if not host:
        address = request.getHost()
        host = f"{getattr(address, 'host', 'localhost')}:{getattr(address, 'port', 80)}"
    return f"{scheme}://{host}"


def _has_body(request: HttpRequest) -> bool:
    length = (request.getHeader(b"content-length") or b"").strip()
    return length not in (b"", b"0") or request.getHeader(b"transfer-encoding") is not None


def _query(request: HttpRequest) -> dict[str, str]:
    return {k.decode("utf-8", "replace"): v[-1].decode("utf-8", "replace") for k, v in (request.args or {}).items()}


#: seconds a client is asked to wait (Retry-After) while the store is unreachable
STORE_RETRY_AFTER = 5


class WebRoot(resource.Resource):
    """The single resource behind every path."""

    isLeaf = True
    log = Logger()

    def __init__(self, app: WebApp, authenticator: Authenticator, csrf_secret: bytes | None = None) -> None:
        super().__init__()
        self.app = app
        self.authenticator = authenticator
        self.guard = Guard(app.config, app.clock, csrf_secret or secrets.token_bytes(32))
        self._store_down_since: float | None = None

    def render(self, request: HttpRequest) -> int:
        d = defer.Deferred.fromCoroutine(self._serve(request))
        finished = [False]
        request.notifyFinish().addBoth(lambda _: finished.__setitem__(0, True))
        d.addErrback(self._crashed, request)
        d.addCallback(self._write, request, finished)
        return server.NOT_DONE_YET

    def _crashed(self, failure: Failure, request: HttpRequest) -> Reply:
        if failure.check(StoreError):  # the database is unreachable: come back later
            if self._store_down_since is None:  # one line per outage
                self._store_down_since = time.monotonic()
                self.log.warn("the store is unreachable ({error}); answering 503", error=failure.getErrorMessage())
            return Reply(
                503,
                render_xml("The store is unreachable; try again later"),
                headers={"Retry-After": str(STORE_RETRY_AFTER)},
            )
        self.log.failure("{method} {path} failed", failure, method=request.method, path=request.path)
        return Reply(500, render_xml("Internal error"))

    def _write(self, reply: Reply, request: HttpRequest, finished: list[bool]) -> None:
        if self._store_down_since is not None and reply.status != 503:
            took, self._store_down_since = time.monotonic() - self._store_down_since, None
            self.log.info("the store answers again after {seconds:.1f} s", seconds=took)
        if finished[0]:
            return
        request.setResponseCode(reply.status)
        if reply.body or reply.status not in (202, 204):
            request.setHeader(b"content-type", reply.content_type.encode())
        headers = {"Cache-Control": "no-store", **browser.security_headers(reply.content_type), **reply.headers}
        for name, value in headers.items():
            request.setHeader(name.encode(), value.encode())
        request.write(reply.body)
        request.finish()

    async def _serve(self, request: HttpRequest) -> Reply:
        path = unquote(request.path.decode("utf-8", "replace"))
        parts = [p for p in path.split("/") if p]
        method = request.method.decode("ascii", "replace").upper()
        ffws = parts[:2] == ["ffws", "v1"]
        try:
            self.guard.check_origin(request, method)
            if ffws and len(parts) >= 3 and (parts[2] in FFWS or parts[2] == "data"):
                return await self._ffws(request, method, parts[2], parts[3:])
            if parts[:2] == ["api", "v1"]:
                return await self._api(request, method, parts[2:])
            if parts[:2] == ["uapi", "faxes"]:
                if len(parts) != 4 or method != "POST":
                    raise WebError(404, "no such resource")
                return await uapi_handler.send(self.app, request, parts[2], parts[3], await self._body(request))
            if not parts or parts[0] == "dashboard":
                return dashboard.redirect(parts[1:])
            if parts[0] == "console":
                if parts[1:2] == ["static"] and len(parts) == 3 and method == "GET":
                    return await self._static(parts[2])
                identity = await self._basic(request)
                body = await self._body(request) if method == "POST" else b""
                return await console.handle(
                    self.app, request, method, parts[1:], body, identity, csrf=self.guard.csrf_token(request)
                )
            raise WebError(404, f"no resource at {path}")
        except WebError as exc:
            if parts[:2] == ["api", "v1"]:
                return api_v1.error_reply(exc.status, exc.message, self._error(exc, False).headers)
            return self._error(exc, ffws)

    async def _api(self, request: HttpRequest, method: str, rest: list[str]) -> Reply:
        """``/api/v1/…``: JSON; a POST body, when there is one, must be application/json."""
        if method in ("POST", "PUT", "PATCH"):
            browser.check_body_type(
                (request.getHeader(b"content-type") or b"").decode("latin-1"),
                _has_body(request),
                (api_v1.JSON,),
                "the operator API",
            )
        identity = await self._basic(request)
        body = await self._body(request) if method in ("POST", "PUT", "PATCH") else b""
        call = Call(method, rest, _query(request), body, identity, _base(request))
        return await api_v1.handle(self.app, call)

    def precheck(self, request: HttpRequest, path: bytes) -> defer.Deferred[Refusal | None]:
        """Before the body of an ``Expect: 100-continue`` request to ``path`` (headers only):
        None when its credentials may send the body, else (status, message)."""
        return defer.Deferred.fromCoroutine(self._precheck(request, path))

    async def _precheck(self, request: HttpRequest, path: bytes) -> Refusal | None:
        parts = [p for p in unquote(path.decode("utf-8", "replace")).split("/") if p]
        try:
            if parts[:2] == ["uapi", "faxes"]:
                token = bearer_token(request.getHeader(b"authorization"))
                if not token or await self.app.run(self.app.directory.verify_token, token) is None:
                    return 401, "a valid bearer token is required"
            elif parts[:2] in (["ffws", "v1"], ["api", "v1"]) or parts[:1] == ["console"]:
                identity = await self._basic(request)
                if parts[:1] == ["console"] and len(parts) > 1 and parts[1] in ADMIN_PAGES and not identity.admin:
                    return 403, f"the {parts[1]} page is for admins"
        except WebError as exc:
            return exc.status, exc.message
        return None

    def render_refusal(self, path: bytes, status: int, message: str) -> tuple[str, bytes, dict[str, str]]:
        """(content type, body, headers) of a request refused before its body (see :mod:`http_guard`)."""
        parts = [p for p in unquote(path.decode("utf-8", "replace")).split("/") if p]
        if parts[:2] == ["uapi", "faxes"]:
            code = "unauthorized" if status == 401 else "request_too_large" if status == 413 else "refused"
            return "application/json", uapi.error_body(uapi.UapiError(code, message, status)), {}
        if parts[:2] == ["api", "v1"]:
            headers = {"WWW-Authenticate": 'Basic realm="FaxFinder"'} if status == 401 else {}
            reply = api_v1.error_reply(status, message, headers)
            return reply.content_type, reply.body, reply.headers
        reply = self._error(WebError(status, message), parts[:2] == ["ffws", "v1"])
        return reply.content_type, reply.body, reply.headers

    def _error(self, exc: WebError, ffws: bool) -> Reply:
        headers = {"WWW-Authenticate": 'Basic realm="FaxFinder"'} if exc.status == 401 else {}
        headers.update(getattr(exc, "headers", {}))
        if ffws or exc.status in (401, 403):
            return Reply(exc.status, render_xml(exc.message), headers=headers)
        return Reply(exc.status, exc.message.encode("utf-8") + b"\n", "text/plain; charset=utf-8", headers)

    async def _static(self, name: str) -> Reply:
        """A console style sheet or script (no login: they hold nothing private)."""
        data = await self.app.run(static_file, name)
        if data is None:
            raise WebError(404, "no such file")
        return Reply(200, data, STATIC[name], {"Cache-Control": "max-age=300"})

    async def _body(self, request: HttpRequest) -> bytes:
        content = request.content
        if content is None:
            return b""
        content.seek(0)
        if getattr(content, "getvalue", None) is not None:
            return content.read()
        return await self.app.run(content.read)

    async def _basic(self, request: HttpRequest) -> Identity:
        identity = await self.guard.login(request, self.authenticator.authenticate)
        await self.app.run(self.app.directory.ensure_user, identity.username)
        return identity

    async def _ffws(self, request: HttpRequest, method: str, name: str, rest: list[str]) -> Reply:
        if method in ("POST", "PUT"):
            browser.check_body_type(
                (request.getHeader(b"content-type") or b"").decode("latin-1"),
                _has_body(request),
                browser.XML_TYPES,
                "FFWS",
            )
        identity = await self._basic(request)
        body = await self._body(request) if method in ("POST", "PUT") else b""
        if name in _SMALL_BODIES and len(body) > SMALL_BODY_BYTES:
            raise WebError(413, f"a {name} request must be at most {SMALL_BODY_BYTES} bytes")
        call = Call(
            method,
            rest,
            _query(request),
            body,
            identity,
            _base(request),
            (request.getHeader(b"content-type") or b"").decode("latin-1"),
        )
        if name == "data":
            return await self._data(call)
        return await FFWS[name](self.app, call)

    async def _data(self, call: Call) -> Reply:
        if call.method != "GET" or len(call.segments) != 2:
            raise WebError(404, "no such resource")
        kind, name = call.segments
        if kind == "preview":
            return await self.app.preview(call, name)
        if kind == "cover_pages" and name == "default.pdf":
            return Reply(200, await self.app.render(cover_pdf), "application/pdf")
        raise WebError(404, f"no data file {kind}/{name}")
