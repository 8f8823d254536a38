"""twisted.web hooks that answer a request before its body is read.

* A ``Content-Length`` that is not a whole number, or is larger than
  ``[web] max_request_bytes``, gets ``413`` as soon as the header arrives;
  so does a chunked body the moment it grows past the limit.
* ``Expect: 100-continue``: the credentials are checked first (the site's
  ``precheck``); only good ones get ``100 Continue``, bad or missing ones get
  ``401`` and the client never uploads the body.

POST bodies over :data:`FORM_ARGS_BYTES` are not parsed into ``request.args``
(twisted.web would do it on the reactor thread); the handlers read such
bodies from ``request.content`` in the thread pool.

A refused request is answered at once and the connection closed: what
the client still sends is read and dropped for at most :data:`LINGER`
seconds (so the answer is not lost to a TCP reset), never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from twisted.internet import defer
from twisted.internet.base import DelayedCall
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import http, resource, server

__all__ = ["GuardedChannel", "GuardedRequest", "GuardedSite", "Refusal", "length_problem"]

LINGER = 2.0
#: POST form bodies up to this size are parsed into ``request.args`` (twisted.web's default)
FORM_ARGS_BYTES = 1024 * 1024
#: (status, message) of a refusal
Refusal = tuple[int, str]
#: (request with headers only, path) -> Deferred[Refusal | None]: may the body come?
Precheck = Callable[[server.Request, bytes], "defer.Deferred[Refusal | None]"]
#: (path, status, message) -> (content type, body, extra headers) of a refusal
Render = Callable[[bytes, int, str], tuple[str, bytes, dict[str, str]]]


def length_problem(value: bytes, limit: int) -> str | None:
    """Why a ``Content-Length`` value is refused (None when it is acceptable)."""
    text = value.strip()
    if not text or len(text) > 20 or not text.isdigit():
        return f"Content-Length must be a number of bytes (at most {limit})"
    if int(text) > limit:
        return f"the request is larger than {limit} bytes"
    return None


class _Transport(Protocol):
    """What the channel uses of its (TCP or TLS) transport."""

    disconnecting: bool

    def write(self, data: bytes) -> None: ...
    def pauseProducing(self) -> None: ...
    def resumeProducing(self) -> None: ...
    def loseConnection(self) -> None: ...


def _plain_render(path: bytes, status: int, message: str) -> tuple[str, bytes, dict[str, str]]:
    return "text/plain; charset=utf-8", message.encode("utf-8") + b"\n", {}


class GuardedRequest(server.Request):
    """A request whose body is refused (413) as soon as it exceeds the site's limit, and whose
    body twisted.web does not parse into ``args`` on the reactor thread when it is larger than
    :data:`FORM_ARGS_BYTES` (handlers parse such bodies themselves, off the reactor)."""

    _received = 0

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self.content is not None and self.content.tell() > FORM_ARGS_BYTES:
            self._parsePOSTFormSubmission = False
        super().requestReceived(command, path, version)

    def handleContentChunk(self, data: bytes) -> None:
        self._received += len(data)
        channel = cast(GuardedChannel, self.channel)
        limit = channel.site.max_request_bytes
        if self._received > limit:
            channel.refuse(self, 413, f"the request is larger than {limit} bytes")
            return
        super().handleContentChunk(data)


class GuardedChannel(http.HTTPChannel):
    """An HTTP/1.1 channel that refuses early (see the module docstring)."""

    log = Logger()
    refused = False
    site: GuardedSite
    _linger: DelayedCall | None = None

    @property
    def _tx(self) -> _Transport:
        return cast(_Transport, self.transport)

    def headerReceived(self, line: bytes) -> bool:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-length" and self.requests:
            problem = length_problem(value, self.site.max_request_bytes)
            if problem is not None:
                self.refuse(self.requests[-1], 413, problem)
                return False
        return bool(super().headerReceived(line))

    def allHeadersReceived(self) -> None:
        request = self.requests[-1]
        expect = request.requestHeaders.getRawHeaders(b"expect")
        wants_continue = bool(expect) and expect[0].strip().lower() == b"100-continue"
        if wants_continue:
            request.requestHeaders.removeHeader(b"expect")  # the 100 waits for the check below
        super().allHeadersReceived()
        if wants_continue:
            request.requestHeaders.setRawHeaders(b"expect", expect)
            if self.length != 0 and self._version == b"HTTP/1.1":
                self._check_then_continue(request)

    def _check_then_continue(self, request: server.Request) -> None:
        precheck: Precheck | None = getattr(self.site, "precheck", None)
        if precheck is None:
            self._tx.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self._tx.pauseProducing()
        d = defer.maybeDeferred(precheck, request, self._target())

        def decided(refusal: Refusal | None) -> None:
            transport = cast("_Transport | None", self.transport)
            if self.refused or transport is None or transport.disconnecting or not getattr(transport, "connected", 1):
                return
            if refusal is None:
                transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                transport.resumeProducing()
            else:
                self.refuse(request, *refusal)

        def failed(failure: Failure) -> None:
            self.log.failure("checking credentials before the body failed", failure)
            decided((500, "internal error"))

        d.addCallbacks(decided, failed)

    def _target(self) -> bytes:
        """The path of the request being received (the request line is parsed, the body not yet)."""
        target: bytes = getattr(self, "_path", b"") or b""
        return target.split(b"?", 1)[0]

    def refuse(self, request: http.Request, status: int, message: str) -> None:
        """Answer ``status`` now, close, and drop whatever the client still sends."""
        if self.refused:
            return
        self.refused = True
        render: Render = getattr(self.site, "render_refusal", None) or _plain_render
        content_type, body, headers = render(self._target(), status, message)
        lines = [
            f"HTTP/1.1 {status} {http.RESPONSES.get(status, b'Error').decode('ascii')}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
            "Connection: close",
            "Cache-Control: no-store",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self._tx.write("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
        self.log.info("refused a request before its body: {status} {message}", status=status, message=message)
        self._tx.resumeProducing()  # read (and drop) what is still coming, briefly
        half_close = None if self.isSecure() else getattr(self.transport, "loseWriteConnection", None)
        if half_close is not None:  # TCP: FIN now, then read and drop until the client closes or LINGER
            half_close()
            self._linger = self.callLater(LINGER, self._tx.loseConnection)
        else:
            self._tx.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if not self.refused:
            super().dataReceived(data)

    def rawDataReceived(self, data: bytes) -> None:
        if not self.refused:
            super().rawDataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        super().connectionLost(reason)


class GuardedSite(server.Site):
    """A Site with a body limit, a pre-body credentials check and a refusal renderer."""

    protocol = GuardedChannel  # type: ignore[assignment]

    def __init__(
        self,
        root: resource.Resource,
        max_request_bytes: int,
        *,
        precheck: Precheck | None = None,
        render_refusal: Render | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(root, requestFactory=GuardedRequest, **kw)
        self.max_request_bytes = max_request_bytes
        self.precheck = precheck
        self.render_refusal = render_refusal
