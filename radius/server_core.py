"""The RADIUS server's policy, sans I/O: a datagram, its source and ``now`` in,
a decision out.

:class:`ServerCore` mirrors :class:`radius.client.ClientCore`.  It checks the
source against the client table *before* decoding, keeps the RFC 5080
duplicate cache (keyed by peer, code and id; a retransmission with the same
Request Authenticator is answered from the cache, or ignored while its
request is still being worked on), applies the Message-Authenticator rules
(BlastRADIUS), answers Status-Server (RFC 5997), sheds load beyond
``max_pending`` requests in the pool, and answers repeated lookups from the
decision cache.  Everything it decides is counted in :attr:`ServerCore.counters`.

Its decisions (:data:`ServerDecision`):

* :class:`Drop`: nothing is sent; ``reason`` is the counter, ``fields`` the
  details for the log (never a secret);
* :class:`Ignore`: a retransmission of a request still in progress;
* :class:`SendNow`: bytes to send at once (a cached reply, a Status-Server answer);
* :class:`Answer`: a reply from the decision cache, to go out like any other
  (a reject after the reject delay), then :meth:`ServerCore.sent`;
* :class:`Handle`: the request needs handler or store work (``ticket.where``
  says on this thread, from the read model, or in the pool); its result comes
  back through :meth:`ServerCore.finished` (then :meth:`ServerCore.sent`) or
  :meth:`ServerCore.failed`.

Time comes in as ``now``; the core reads no clock, opens no socket and starts
no thread.  Replies are encoded with :func:`encode_decision` (pure, also safe
in a pool thread).
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from radius.clients import ClientTable, RadiusClientConfig
from radius.codec import CodecError, Dictionary, decode_request, encode_reply, peek_header
from radius.decision_cache import DecisionCache, decision_key
from radius.fit import Fitted, fit_reply
from radius.model import A, Code, Decision, Request, Verdict

__all__ = [
    "ACCT",
    "AUTH",
    "Answer",
    "Drop",
    "DropReason",
    "Handle",
    "Ignore",
    "Port",
    "Reply",
    "SendNow",
    "ServerCore",
    "ServerDecision",
    "Ticket",
    "Where",
    "encode_decision",
]

Address = tuple[str, int]
STATUS_MESSAGE = "faxappliance RADIUS server is alive"


class Port(enum.StrEnum):
    """Which listener a datagram arrived on."""

    AUTH = "auth"
    ACCT = "acct"


AUTH, ACCT = Port.AUTH, Port.ACCT
_ANSWERS = {
    Port.AUTH: frozenset((Code.ACCESS_REQUEST, Code.STATUS_SERVER)),
    Port.ACCT: frozenset((Code.ACCOUNTING_REQUEST, Code.STATUS_SERVER)),
}


class DropReason(enum.StrEnum):
    """Why a datagram got no reply; the value is also its counter's name."""

    UNKNOWN_CLIENT = "unknown_client"
    MALFORMED = "malformed"
    BAD_AUTHENTICATOR = "bad_authenticator"
    WRONG_CODE = "wrong_code"
    NO_MESSAGE_AUTHENTICATOR = "no_message_authenticator"
    OVERLOAD = "overload"


class Where(enum.Enum):
    """Where a request's handler work runs."""

    HERE = "here"  # on the caller's thread, from the in-memory read model
    POOL = "pool"  # in the thread pool, against the store


@dataclass(frozen=True)
class Reply:
    """An encoded reply; ``fitted`` says what was trimmed to make it fit."""

    data: bytes
    reject: bool = False
    fitted: Fitted | None = None


@dataclass
class _Pending:
    authenticator: bytes
    reply: bytes | None
    expires: float


@dataclass(eq=False)
class Ticket:
    """One request accepted for work, until its reply is sent or it failed."""

    request: Request
    secret: bytes = field(repr=False)
    addr: Address
    kind: Port
    now: float
    where: Where
    cache_key: Hashable | None
    key: tuple[str, int, int, int]
    entry: _Pending = field(repr=False)


@dataclass(frozen=True)
class Drop:
    reason: DropReason
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ignore:
    """A retransmission of a request still being worked on: its reply goes out once."""


@dataclass(frozen=True)
class SendNow:
    data: bytes


@dataclass(frozen=True)
class Answer:
    ticket: Ticket
    reply: Reply


@dataclass(frozen=True)
class Handle:
    ticket: Ticket
    kept_raw: tuple[str, ...] = ()  # attributes of the wrong size, stored raw (accounting)


ServerDecision = Drop | Ignore | SendNow | Answer | Handle


def encode_decision(decision: Decision, request: Request, secret: bytes, dictionary: Dictionary) -> Reply:
    """The reply to a handler's decision, its texts cut and its attributes trimmed to fit (radius.fit)."""
    if decision.verdict is Verdict.ACCEPT:
        code, attrs = Code.ACCESS_ACCEPT, list(decision.attributes)
    else:
        code = Code.ACCESS_REJECT
        attrs = [(A.REPLY_MESSAGE.value, decision.reason)] if decision.reason else []
    fitted = fit_reply(request, attrs, dictionary)
    data = encode_reply(code, request, fitted.attributes, secret, dictionary, encoded=fitted.encoded)
    return Reply(data, code == Code.ACCESS_REJECT, fitted)


class ServerCore:
    """Pure RADIUS server state: client table, duplicate cache, policy, load, decision cache."""

    def __init__(
        self,
        *,
        dictionary: Dictionary,
        clients: Sequence[RadiusClientConfig],
        cache_seconds: float = 5.0,
        decision_cache_seconds: float = 1.0,
        max_pending: int = 4096,
        answers_here: bool = False,
    ) -> None:
        self.dictionary = dictionary
        self.clients = ClientTable(clients)
        self.cache_seconds = cache_seconds
        self.max_pending = max_pending
        #: Access-Requests without a password are answered on the caller's
        #: thread (an in-memory read model serves the lookups)
        self.answers_here = answers_here
        self.decisions = DecisionCache(decision_cache_seconds)
        self.counters: collections.Counter[str] = collections.Counter()
        self._cache: dict[tuple[str, int, int, int], _Pending] = {}
        self._expiry: collections.deque[tuple[float, tuple[str, int, int, int]]] = collections.deque()
        self._in_flight = 0

    # ------------------------------------------------------------- queries

    @property
    def in_flight(self) -> int:
        """Requests handed to the pool and not yet finished or failed."""
        return self._in_flight

    def remembered(self) -> int:
        """Requests in the duplicate cache (in progress, or answered and not yet expired)."""
        return len(self._cache)

    # -------------------------------------------------------------- inputs

    def datagram(self, kind: Port, data: bytes, addr: Address, now: float) -> ServerDecision:
        """Decide what to do with one datagram that arrived on ``kind``'s port from ``addr``."""
        kind = Port(kind)
        self.counters[f"{kind}_received"] += 1
        client = self.clients.lookup(addr[0])
        if client is None:
            return self._drop(DropReason.UNKNOWN_CLIENT)
        self._expire(now)
        try:
            code, ident, authenticator = peek_header(data)
        except CodecError as exc:
            return self._drop(DropReason.MALFORMED, reason=str(exc))
        key = (addr[0], addr[1], code, ident)
        cached = self._cache.get(key)
        if cached is not None and cached.authenticator == authenticator:
            self.counters["duplicate"] += 1
            if cached.reply is None:
                return Ignore()  # still being processed: the reply will go out once
            cached.expires = now + self.cache_seconds
            self._expiry.append((cached.expires, key))
            return SendNow(cached.reply)
        secret = client.secret.reveal()
        try:
            request = decode_request(data, secret, self.dictionary)
        except CodecError as exc:
            return self._drop(DropReason(exc.counter), reason=str(exc))
        if request.code not in _ANSWERS[kind]:
            return self._drop(DropReason.WRONG_CODE, code=request.code.name, kind=str(kind))
        refused = self._authenticator_policy(request, client)
        if refused is not None:
            return refused
        kept_raw = self._kept_raw(request) if request.unknown and request.code == Code.ACCOUNTING_REQUEST else ()
        if request.code == Code.STATUS_SERVER:
            self.counters["status_server"] += 1
            return SendNow(self._status_reply(kind, request, secret))
        if self._in_flight >= self.max_pending:
            return self._drop(DropReason.OVERLOAD)
        entry = _Pending(authenticator, None, now + self.cache_seconds)
        self._cache[key] = entry
        self._expiry.append((entry.expires, key))
        cache_key = decision_key(request) if kind is Port.AUTH else None
        where = Where.HERE if self.answers_here and kind is Port.AUTH and request.password is None else Where.POOL
        ticket = Ticket(request, secret, addr, kind, now, where, cache_key, key, entry)
        if cache_key is not None:
            decision = self.decisions.get(cache_key, now)
            if decision is not None:  # answered here, without a store round trip
                self.counters["decision_cache_hit"] += 1
                return Answer(ticket, encode_decision(decision, request, secret, self.dictionary))
        if where is Where.POOL:
            self._in_flight += 1
        return Handle(ticket, kept_raw)

    def finished(self, ticket: Ticket, decision: Decision | None) -> None:
        """The handler work of ``ticket`` is done (``decision``: an Access-Request's, for the
        decision cache); its reply goes out next, then :meth:`sent`."""
        if ticket.where is Where.POOL:
            self._in_flight -= 1
        if ticket.cache_key is not None and decision is not None:
            self.decisions.put(ticket.cache_key, decision, ticket.now)

    def failed(self, ticket: Ticket) -> None:
        """The work of ``ticket`` failed: no reply; a retransmission is worked on afresh."""
        if ticket.where is Where.POOL:
            self._in_flight -= 1
        if self._cache.get(ticket.key) is ticket.entry:
            del self._cache[ticket.key]

    def sent(self, ticket: Ticket, data: bytes, now: float) -> None:
        """The reply of ``ticket`` went out at ``now``: retransmissions get it from the cache."""
        entry = ticket.entry
        entry.reply = data
        entry.expires = now + self.cache_seconds
        self._expiry.append((entry.expires, ticket.key))
        self.counters["replied"] += 1

    # ------------------------------------------------------------- policy

    def _authenticator_policy(self, request: Request, client: RadiusClientConfig) -> Drop | None:
        if request.code == Code.STATUS_SERVER and not request.has_message_authenticator:
            return self._drop(DropReason.NO_MESSAGE_AUTHENTICATOR, rule="Status-Server needs it")
        if request.code != Code.ACCESS_REQUEST or request.has_message_authenticator:
            return None
        if client.require_message_authenticator:
            return self._drop(
                DropReason.NO_MESSAGE_AUTHENTICATOR, rule=f"BlastRADIUS check: client {client.name} requires it"
            )
        if request.proxy_states:
            return self._drop(DropReason.NO_MESSAGE_AUTHENTICATOR, rule="an Access-Request with Proxy-State needs it")
        return None

    def _kept_raw(self, request: Request) -> tuple[str, ...]:
        """Known attributes whose value did not fit their type, kept raw."""
        by_code = self.dictionary.by_code
        names = tuple(d.name for v, t, _ in request.unknown if (d := by_code.get((v, t))) is not None)
        if names:
            self.counters["acct_value_kept_raw"] += 1
        return names

    def _status_reply(self, kind: Port, request: Request, secret: bytes) -> bytes:
        code = Code.ACCESS_ACCEPT if kind is Port.AUTH else Code.ACCOUNTING_RESPONSE
        return encode_reply(code, request, [(A.REPLY_MESSAGE.value, STATUS_MESSAGE)], secret, self.dictionary)

    def _drop(self, why: DropReason, /, **fields: str) -> Drop:
        self.counters["dropped"] += 1
        self.counters[why.value] += 1
        return Drop(why, fields)

    def _expire(self, now: float) -> None:
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            _, key = expiry.popleft()
            entry = self._cache.get(key)
            if entry is not None and entry.expires <= now and entry.reply is not None:
                del self._cache[key]
