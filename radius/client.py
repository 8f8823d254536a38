"""RADIUS client: an ordered server list with retransmission and failover.

Two layers, as everywhere in the product:

* :class:`ClientCore` is pure.  It takes requests, datagrams and timer
  expiries (each with ``now``) and returns actions: :class:`Send`,
  :class:`Arm` (start or restart the timer of a request), :class:`Answered`,
  :class:`Failed` and :class:`Dropped` (a reply that did not verify, for the
  log).  Randomness comes in as a ``token_bytes(n)`` callable.
* :class:`RadiusClient` is the Twisted adapter: one UDP socket, the reactor's
  clock, Deferreds for callers.

Behaviour:

* servers are tried in the listed order; a server that does not answer a
  request after ``1 + retries`` transmissions (``timeout`` seconds apart) is
  marked down for ``dead_time`` seconds and the request moves on to the next
  server.  Down servers are skipped while down, and tried last when every
  server is down;
* a retransmission to the same server repeats the same bytes (same id and
  authenticator), so the server's duplicate cache recognises it; a failover
  builds a new packet for the next server;
* every request carries Message-Authenticator; every reply's Response
  Authenticator is verified, and its Message-Authenticator when present.
  Access replies without one are dropped unless the server is configured as
  legacy (``require_message_authenticator_in_replies = False``);
* ids are allocated per destination (server and port), never reused while a
  request with that id is in flight there.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime, IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from radius.codec import Dictionary, MalformedPacket, decode_reply, encode_request, verify_reply
from radius.model import A, Code, Value

__all__ = [
    "Answered",
    "Arm",
    "ClientCore",
    "ClientError",
    "Dropped",
    "Failed",
    "NoServerAnswered",
    "RadiusClient",
    "Reply",
    "Send",
    "ServerSpec",
    "TooManyInFlight",
]

Attr = tuple[str, Value]
Address = tuple[str, int]
_MA_TYPE = 80
_REPLY_CODES = {
    Code.ACCESS_REQUEST: (Code.ACCESS_ACCEPT, Code.ACCESS_REJECT),
    Code.ACCOUNTING_REQUEST: (Code.ACCOUNTING_RESPONSE,),
    Code.STATUS_SERVER: (Code.ACCESS_ACCEPT, Code.ACCOUNTING_RESPONSE),
}


class ClientError(Exception):
    """Base class of RADIUS client errors."""


class NoServerAnswered(ClientError):
    """Every server in the list was tried and none answered."""

    def __init__(self, tried: Sequence[str]) -> None:
        self.tried = tuple(tried)
        super().__init__(f"no RADIUS server answered (tried {', '.join(self.tried) or 'none'})")


class TooManyInFlight(ClientError):
    """All 256 ids towards a server are in use by requests in flight."""


@dataclass(frozen=True)
class ServerSpec:
    """One RADIUS server of the ordered list.  The secret never shows in reprs."""

    host: str
    auth_port: int = 1812
    acct_port: int = 1813
    secret: bytes = field(default=b"", repr=False)
    require_message_authenticator_in_replies: bool = True
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.host

    def port_for(self, code: Code) -> int:
        return self.acct_port if code == Code.ACCOUNTING_REQUEST else self.auth_port


@dataclass(frozen=True)
class Reply:
    """A verified reply: its code, its attributes in order, and who sent it."""

    code: Code
    attributes: tuple[Attr, ...]
    server: str

    def get(self, name: A | str, default: Value | None = None) -> Value | None:
        """The first value of attribute ``name`` (an :class:`~radius.model.A` member or its wire name)."""
        key = _name(name)
        for attr, value in self.attributes:
            if attr == key:
                return value
        return default

    def get_all(self, name: A | str) -> list[Value]:
        key = _name(name)
        return [value for attr, value in self.attributes if attr == key]

    def get_int(self, name: A | str) -> int | None:
        value = self.get(name)
        return value if isinstance(value, int) else None

    def get_str(self, name: A | str) -> str | None:
        value = self.get(name)
        if value is None:
            return None
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _name(name: A | str) -> str:
    return name.value if isinstance(name, A) else name


# ------------------------------------------------------------------ actions


@dataclass(frozen=True)
class Send:
    data: bytes
    addr: Address


@dataclass(frozen=True)
class Arm:
    """(Re)start the timer of request ``handle``: call ``timer(handle)`` after ``delay``."""

    handle: int
    delay: float


@dataclass(frozen=True)
class Answered:
    handle: int
    reply: Reply


@dataclass(frozen=True)
class Failed:
    handle: int
    error: ClientError


@dataclass(frozen=True)
class Dropped:
    """A datagram was not accepted as a reply; ``reason`` says why (no secrets)."""

    addr: Address
    reason: str


Action = Send | Arm | Answered | Failed | Dropped


@dataclass
class _Pending:
    code: Code
    attributes: tuple[Attr, ...]
    password: str | None
    candidates: list[int]  # server indexes still to try, in order
    tried: list[str] = field(default_factory=list)
    server: int = -1
    dest: Address = ("", 0)
    ident: int = -1
    authenticator: bytes = b""
    packet: bytes = b""
    sends: int = 0


# --------------------------------------------------------------------- core


class ClientCore:
    """Pure RADIUS client state: ids, retransmissions, failover, verification."""

    def __init__(
        self,
        servers: Sequence[ServerSpec],
        dictionary: Dictionary,
        token_bytes: Callable[[int], bytes],
        *,
        timeout: float = 3.0,
        retries: int = 3,
        dead_time: float = 30.0,
    ) -> None:
        if not servers:
            raise ValueError("a RADIUS client needs at least one server")
        if timeout <= 0 or retries < 0 or dead_time < 0:
            raise ValueError("timeout must be > 0, retries and dead_time >= 0")
        self.servers = tuple(servers)
        self.dictionary = dictionary
        self.token_bytes = token_bytes
        self.timeout = timeout
        self.retries = retries
        self.dead_time = dead_time
        self.down_until: list[float] = [0.0] * len(self.servers)
        self._pending: dict[int, _Pending] = {}
        self._in_flight: dict[tuple[Address, int], int] = {}  # (dest, id) -> handle
        self._next_id: dict[Address, int] = {}
        self._handles = 0

    # ------------------------------------------------------------- queries
    def is_down(self, index: int, now: float) -> bool:
        return self.down_until[index] > now

    def in_flight(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------- inputs
    def request(
        self, code: Code, attributes: Sequence[Attr], now: float, password: str | None = None
    ) -> tuple[int, list[Action]]:
        """Start a request; returns its handle and the first actions."""
        self._handles += 1
        handle = self._handles
        order = range(len(self.servers))
        up = [i for i in order if not self.is_down(i, now)]
        down = [i for i in order if self.is_down(i, now)]
        self._pending[handle] = _Pending(code, tuple(attributes), password, up + down)
        return handle, self._next_server(handle, now)

    def timer(self, handle: int, now: float) -> list[Action]:
        """The timer of ``handle`` expired: retransmit, or fail over."""
        p = self._pending.get(handle)
        if p is None:
            return []
        if p.sends <= self.retries:
            p.sends += 1
            return [Send(p.packet, p.dest), Arm(handle, self.timeout)]
        self.down_until[p.server] = now + self.dead_time
        self._release(p)
        return self._next_server(handle, now)

    def cancel(self, handle: int) -> None:
        p = self._pending.pop(handle, None)
        if p is not None:
            self._release(p)

    def datagram(self, data: bytes, addr: Address, now: float) -> list[Action]:
        """A datagram arrived from ``addr``: match, verify, and complete its request."""
        if len(data) < 20:
            return [Dropped(addr, f"datagram of {len(data)} bytes is shorter than a RADIUS header")]
        handle = self._in_flight.get((addr, data[1]))
        if handle is None:
            return [Dropped(addr, f"no request with id {data[1]} in flight to this address")]
        p = self._pending[handle]
        server = self.servers[p.server]
        problem = self._verify(data, p, server)
        if problem:
            return [Dropped(addr, problem)]
        try:
            code, _, attrs = decode_reply(data, self.dictionary)
        except (MalformedPacket, ValueError) as exc:
            return [Dropped(addr, f"malformed reply: {exc}")]
        del self._pending[handle]
        self._release(p)
        self.down_until[p.server] = 0.0
        attrs = [(k, v) for k, v in attrs if k != "Message-Authenticator"]
        return [Answered(handle, Reply(code, tuple(attrs), server.label))]

    # ------------------------------------------------------------- helpers
    def _next_server(self, handle: int, now: float) -> list[Action]:
        p = self._pending[handle]
        while p.candidates:
            index = p.candidates.pop(0)
            server = self.servers[index]
            dest = (server.host, server.port_for(p.code))
            ident = self._allocate(dest)
            if ident is None:
                p.tried.append(server.label)
                continue
            authenticator = self.token_bytes(16)
            p.server, p.dest, p.ident, p.sends = index, dest, ident, 1
            p.packet = encode_request(
                p.code,
                ident,
                p.attributes,
                server.secret,
                self.dictionary,
                authenticator=authenticator,
                password=p.password,
                message_authenticator=True,
            )
            p.authenticator = p.packet[4:20]
            p.tried.append(server.label)
            self._in_flight[(dest, ident)] = handle
            return [Send(p.packet, dest), Arm(handle, self.timeout)]
        del self._pending[handle]
        if p.tried and all(self._ids_exhausted(i, p.code) for i in range(len(self.servers))):
            return [Failed(handle, TooManyInFlight("all 256 RADIUS ids are in flight to every server"))]
        return [Failed(handle, NoServerAnswered(p.tried))]

    def _ids_exhausted(self, index: int, code: Code) -> bool:
        s = self.servers[index]
        dest = (s.host, s.port_for(code))
        return sum(1 for d, _ in self._in_flight if d == dest) >= 256

    def _allocate(self, dest: Address) -> int | None:
        start = self._next_id.get(dest)
        if start is None:
            start = self.token_bytes(1)[0]
        for step in range(256):
            ident = (start + step) % 256
            if (dest, ident) not in self._in_flight:
                self._next_id[dest] = (ident + 1) % 256
                return ident
        return None

    def _release(self, p: _Pending) -> None:
        if p.ident >= 0 and self._in_flight.get((p.dest, p.ident)) is not None:
            del self._in_flight[(p.dest, p.ident)]
        p.ident = -1

    def _verify(self, data: bytes, p: _Pending, server: ServerSpec) -> str:
        length = int.from_bytes(data[2:4], "big")
        if length < 20 or length > len(data):
            return f"reply length {length} is invalid for a datagram of {len(data)} bytes"
        data = data[:length]
        if data[0] not in _REPLY_CODES.get(p.code, ()):
            return f"reply code {data[0]} does not answer request code {int(p.code)}"
        if not verify_reply(data, p.authenticator, server.secret):
            return "Response Authenticator does not verify (wrong secret?)"
        offset = _find_ma(data)
        if offset == -2:
            return "malformed attributes in reply"
        if offset < 0:
            if p.code == Code.ACCESS_REQUEST and server.require_message_authenticator_in_replies:
                return "reply without Message-Authenticator"
            return ""
        packet = bytearray(data)
        packet[4:20] = p.authenticator
        packet[offset : offset + 16] = bytes(16)
        expected = hmac.new(server.secret, bytes(packet), hashlib.md5).digest()
        if not hmac.compare_digest(expected, data[offset : offset + 16]):
            return "Message-Authenticator does not verify"
        return ""


def _find_ma(data: bytes) -> int:
    """Offset of the Message-Authenticator value, -1 when absent, -2 when malformed."""
    i = 20
    while i < len(data):
        if len(data) - i < 2 or data[i + 1] < 2 or i + data[i + 1] > len(data):
            return -2
        if data[i] == _MA_TYPE:
            return i + 2 if data[i + 1] == 18 else -2
        i += data[i + 1]
    return -1


# ------------------------------------------------------------------ adapter


class RadiusClient(DatagramProtocol):
    """Twisted adapter around :class:`ClientCore`: one UDP socket, Deferreds."""

    log = Logger()

    def __init__(
        self,
        reactor: IReactorTime,
        servers: Sequence[ServerSpec],
        dictionary: Dictionary,
        token_bytes: Callable[[int], bytes],
        *,
        timeout: float = 3.0,
        retries: int = 3,
        dead_time: float = 30.0,
    ) -> None:
        self.reactor = reactor
        self.core = ClientCore(servers, dictionary, token_bytes, timeout=timeout, retries=retries, dead_time=dead_time)
        self._waiting: dict[int, Deferred[Reply]] = {}
        self._timers: dict[int, object] = {}
        self._port: object | None = None

    def listen(self, interface: str = "") -> None:
        """Bind the client's UDP socket on an ephemeral port."""
        udp: IReactorUDP = self.reactor  # type: ignore[assignment]
        # IReactorUDP declares maxPacketSize without the default every reactor has
        self._port = udp.listenUDP(0, self, interface=interface)  # type: ignore[call-arg]

    def close(self) -> Deferred[None]:
        """Stop listening; requests in flight fail with :class:`ClientError`."""
        for handle in list(self._waiting):
            self.core.cancel(handle)
            self._cancel_timer(handle)
            self._waiting.pop(handle).errback(ClientError("RADIUS client closed"))
        port, self._port = self._port, None
        if port is None:
            d: Deferred[None] = Deferred()
            d.callback(None)
            return d
        result = port.stopListening()  # type: ignore[attr-defined]
        if isinstance(result, Deferred):
            return result
        d = Deferred()
        d.callback(None)
        return d

    # ---------------------------------------------------------------- API
    def access(self, attributes: Sequence[Attr], password: str | None = None) -> Deferred[Reply]:
        """Send an Access-Request; fires with the verified :class:`Reply` (Accept or Reject)."""
        return self._request(Code.ACCESS_REQUEST, attributes, password)

    def accounting(self, attributes: Sequence[Attr]) -> Deferred[Reply]:
        """Send an Accounting-Request; fires with the Accounting-Response."""
        return self._request(Code.ACCOUNTING_REQUEST, attributes, None)

    def _request(self, code: Code, attributes: Sequence[Attr], password: str | None) -> Deferred[Reply]:
        d: Deferred[Reply] = Deferred()
        handle, actions = self.core.request(code, attributes, self.reactor.seconds(), password)
        self._waiting[handle] = d
        self._run(actions)
        return d

    # ----------------------------------------------------------- plumbing
    def datagramReceived(self, datagram: bytes, addr: Address) -> None:
        try:
            actions = self.core.datagram(datagram, (addr[0], addr[1]), self.reactor.seconds())
        except Exception:
            self.log.failure("RADIUS reply from {peer} dropped after an internal error", peer=addr)
            return
        self._run(actions)

    def _expired(self, handle: int) -> None:
        self._timers.pop(handle, None)
        self._run(self.core.timer(handle, self.reactor.seconds()))

    def _cancel_timer(self, handle: int) -> None:
        call = self._timers.pop(handle, None)
        if call is not None and call.active():  # type: ignore[attr-defined]
            call.cancel()  # type: ignore[attr-defined]

    def _run(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._send(action)
            elif isinstance(action, Arm):
                self._cancel_timer(action.handle)
                self._timers[action.handle] = self.reactor.callLater(action.delay, self._expired, action.handle)
            elif isinstance(action, Answered):
                self._cancel_timer(action.handle)
                d = self._waiting.pop(action.handle, None)
                if d is not None:
                    d.callback(action.reply)
            elif isinstance(action, Failed):
                self._cancel_timer(action.handle)
                self.log.warn("RADIUS request failed: {error}", error=str(action.error))
                d = self._waiting.pop(action.handle, None)
                if d is not None:
                    d.errback(action.error)
            elif isinstance(action, Dropped):
                self.log.warn("RADIUS reply from {peer} dropped: {reason}", peer=action.addr, reason=action.reason)

    def _send(self, action: Send) -> None:
        if self.transport is None:
            self.log.warn("RADIUS request to {peer} not sent: the client is not listening", peer=action.addr)
            return
        try:
            self.transport.write(action.data, action.addr)
        except OSError as exc:  # unreachable network etc.: the timer decides
            self.log.warn("RADIUS request to {peer} not sent: {error}", peer=action.addr, error=str(exc))
