"""Twisted adapter: RADIUS auth and accounting over UDP.

Moves datagrams between sockets and the pure core (:mod:`radius.codec`,
:mod:`radius.handlers`), and adds what belongs to a server: the client table
(checked before decoding), the RFC 5080 duplicate cache, Status-Server
(RFC 5997), the Message-Authenticator policy (BlastRADIUS), a bound on work in
progress, the reject delay, counters, and logging.  Store work runs in a
thread pool, never on the reactor thread.  Nothing a peer sends can raise out
of ``datagramReceived``: every error is counted, logged (rate-limited, so a
flood cannot flood the log) and the packet dropped.

Access-Rejects go out ``reject_delay`` seconds after the decision (as
FreeRADIUS's ``reject_delay``), scheduled on the reactor, holding no thread.
Until then the request counts as in progress (RFC 5080 §2.2.2): a
retransmission is ignored, and gets the cached reject once it has been sent.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.application import service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime, IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from radius.acct_spool import AccountingSpool, AccountingSpoolError
from radius.clients import ClientTable, RadiusClientConfig
from radius.codec import CodecError, Dictionary, decode_request, encode_reply, peek_header
from radius.decision_cache import DecisionCache, decision_key
from radius.fit import Fitted, fit_reply
from radius.handlers import HandlerConfig, accounting_record, handle_access
from radius.model import A, Code, Decision, Request, Verdict
from radius.read_model import ReadModel, StoreFirst
from radius.reuseport import listen_reuseport
from radius.store.api import Store, StoreError

__all__ = ["ClientTable", "RadiusServer", "RadiusService"]

AUTH, ACCT = "auth", "acct"
#: how often a running service tries to write its accounting spool to the store
REPLAY_SECONDS = 2.0
_ANSWERS = {AUTH: {Code.ACCESS_REQUEST, Code.STATUS_SERVER}, ACCT: {Code.ACCOUNTING_REQUEST, Code.STATUS_SERVER}}


@dataclass
class _Pending:
    authenticator: bytes
    reply: bytes | None
    expires: float


@dataclass(frozen=True)
class _Reply:
    data: bytes
    reject: bool = False
    fitted: Fitted | None = None


@dataclass
class _Work:
    request: Request
    secret: bytes
    addr: tuple[str, int]
    now: float
    key: tuple[str, int, int, int]
    entry: _Pending
    send: Callable[[bytes, tuple[str, int]], None]
    kind: str
    cache_key: Hashable | None = None
    decision: Decision | None = None  # set by the worker for Access-Requests
    called: tuple[str, int] | None = None  # set by the worker: a stored Stop's Called Numbers update


class RadiusServer:
    """The shared core of the auth and accounting listeners."""

    log = Logger()

    def __init__(
        self,
        *,
        reactor: IReactorTime,
        store: Store,
        dictionary: Dictionary,
        clients: Sequence[RadiusClientConfig],
        threadpool: ThreadPool,
        handler_config: HandlerConfig = HandlerConfig(),
        cache_seconds: float = 5.0,
        decision_cache_seconds: float = 1.0,
        max_pending: int = 4096,
        reject_delay: float = 1.0,
        read_model: ReadModel | None = None,
        acct_spool: AccountingSpool | None = None,
    ) -> None:
        self.reactor = reactor
        self.store = store
        # Accounting records that arrive while the store is unreachable are kept
        # here (durably) and acknowledged; replay_accounting() writes them later.
        self.acct_spool = acct_spool
        # Lookups: from the in-memory read model when there is one (answered on
        # the reactor thread, except password checks), else from the store.
        self.read_model = read_model
        self.lookups: Any = read_model if read_model is not None else store
        # Password checks (in the pool) read the account from the store, so that
        # a new account or a changed password counts at once; scrypt costs far
        # more than the query.  While the store cannot answer, the read model does.
        self._login_lookups: Any = StoreFirst(store, read_model) if read_model is not None else store
        self.dictionary = dictionary
        self.clients = ClientTable(clients)
        self.threadpool = threadpool
        self.handler_config = handler_config
        self.cache_seconds = cache_seconds
        self.max_pending = max_pending
        self.reject_delay = reject_delay
        self.counters: collections.Counter[str] = collections.Counter()
        self._cache: dict[tuple[str, int, int, int], _Pending] = {}
        self._expiry: collections.deque[tuple[float, tuple[str, int, int, int]]] = collections.deque()
        self._in_flight = 0
        self._store_down_since: float | None = None  # one log line per store outage
        self._batch: list[_Work] = []
        # Accounting: one commit in flight at a time; records arriving while it
        # runs (over any number of reactor turns) share the next one.
        self._acct_batch: list[_Work] = []
        self._acct_committing = False
        self.max_acct_batch = 2000
        self.decisions = DecisionCache(decision_cache_seconds)
        self._delayed: set[IDelayedCall] = set()

    # ------------------------------------------------------------ entry

    def datagram_received(
        self, kind: str, data: bytes, addr: tuple[str, int], send: Callable[[bytes, tuple[str, int]], None]
    ) -> None:
        try:
            self._datagram(kind, data, addr, send)
        except Exception:
            n = self._count("internal_error")
            if n:
                self.log.failure(
                    "dropping a packet from {peer}: internal error ({errors_so_far} so far)",
                    peer=addr[0],
                    errors_so_far=n,
                )

    def _datagram(
        self, kind: str, data: bytes, addr: tuple[str, int], send: Callable[[bytes, tuple[str, int]], None]
    ) -> None:
        self.counters[f"{kind}_received"] += 1
        client = self.clients.lookup(addr[0])
        if client is None:
            self._drop("unknown_client", "packet from unknown client {peer} dropped", addr)
            return
        now = self.reactor.seconds()
        self._expire(now)
        try:
            code, ident, authenticator = peek_header(data)
        except CodecError as exc:
            self._drop("malformed", "malformed packet from {peer} dropped: {reason}", addr, reason=str(exc))
            return
        key = (addr[0], addr[1], code, ident)
        cached = self._cache.get(key)
        if cached is not None and cached.authenticator == authenticator:
            self.counters["duplicate"] += 1
            if cached.reply is not None:
                cached.expires = now + self.cache_seconds
                self._expiry.append((cached.expires, key))
                send(cached.reply, addr)
            return  # still being processed: the reply will go out once
        secret = client.secret.reveal()
        try:
            request = decode_request(data, secret, self.dictionary)
        except CodecError as exc:
            self._drop(exc.counter, "packet from {peer} dropped: {reason}", addr, reason=str(exc))
            return
        if request.code not in _ANSWERS[kind]:
            self._drop(
                "wrong_code", "{code} on the {kind} port from {peer} dropped", addr, code=request.code.name, kind=kind
            )
            return
        if not self._authenticator_policy(request, client, addr):
            return
        if request.unknown and request.code == Code.ACCOUNTING_REQUEST:
            self._note_kept_raw(request, addr)
        if request.code == Code.STATUS_SERVER:
            self._answer_status(kind, request, secret, addr, send)
            return
        if self._in_flight >= self.max_pending:
            self._drop("overload", "server busy: packet from {peer} dropped", addr)
            return
        entry = _Pending(authenticator, None, now + self.cache_seconds)
        self._cache[key] = entry
        self._expiry.append((entry.expires, key))
        cache_key = decision_key(request) if kind == AUTH else None
        if cache_key is not None:
            decision = self.decisions.get(cache_key, now)
            if decision is not None:  # answered here, without a store round trip
                self.counters["decision_cache_hit"] += 1
                self._reply(self._encode_decision(decision, request, secret), key, entry, addr, send)
                return
        if self.read_model is not None and kind == AUTH and request.password is None:
            self._answer_here(request, secret, addr, now, key, entry, send, cache_key)
            return
        self._in_flight += 1
        work = _Work(request, secret, addr, now, key, entry, send, kind, cache_key)
        if kind == ACCT:
            self._acct_batch.append(work)
            if len(self._acct_batch) == 1 and not self._acct_committing:
                self.reactor.callLater(0, self._flush_acct)
            return
        self._batch.append(work)
        if len(self._batch) == 1:
            # Requests read in the same reactor turn go to the pool as one job:
            # one thread hand-off each way per batch instead of per request.
            self.reactor.callLater(0, self._flush)

    def _answer_here(
        self,
        request: Request,
        secret: bytes,
        addr: tuple[str, int],
        now: float,
        key: tuple[str, int, int, int],
        entry: _Pending,
        send: Callable[[bytes, tuple[str, int]], None],
        cache_key: Hashable | None,
    ) -> None:
        """An Access-Request without a password, answered from the read model on this thread."""
        try:
            decision = handle_access(request, self.lookups, self.handler_config)
            reply = self._encode_decision(decision, request, secret)
        except Exception:
            self._in_flight += 1  # _failed counts it out again
            self._failed(Failure(), key, entry, addr, AUTH)
            return
        if cache_key is not None:
            self.decisions.put(cache_key, decision, now)
        self._reply(reply, key, entry, addr, send)

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        d: Deferred[list[tuple[bool, Any]]] = deferToThreadPool(self.reactor, self.threadpool, self._run_batch, batch)
        d.addCallback(self._batch_done, batch)
        d.addErrback(self._batch_failed, batch)

    def _flush_acct(self) -> None:
        """Commit the waiting accounting records (group commit: one transaction,
        one disk flush); the next batch starts when this one is durable."""
        if self._acct_committing or not self._acct_batch:
            return
        batch = self._acct_batch[: self.max_acct_batch]
        del self._acct_batch[: self.max_acct_batch]
        self._acct_committing = True
        self.counters["acct_commits"] += 1
        d: Deferred[list[tuple[bool, Any]]] = deferToThreadPool(self.reactor, self.threadpool, self._run_batch, batch)
        d.addCallback(self._batch_done, batch)
        d.addErrback(self._batch_failed, batch)
        d.addBoth(self._acct_committed)

    def _acct_committed(self, _: Any) -> None:
        self._acct_committing = False
        if self._acct_batch:
            self._flush_acct()

    def _batch_failed(self, failure: Failure, batch: list[_Work]) -> None:
        for item in batch:
            self._in_flight -= 1
            if self._cache.get(item.key) is item.entry:
                del self._cache[item.key]  # let the clients' retransmissions try again
        n = self._count("internal_error")
        if n:
            self.log.failure(
                "a batch of {size} requests failed; no replies sent ({errors_so_far} so far)",
                failure,
                size=len(batch),
                errors_so_far=n,
            )

    def _batch_done(self, results: list[tuple[bool, Any]], batch: list[_Work]) -> None:
        for item, (ok, result) in zip(batch, results):
            try:
                if ok:
                    if item.cache_key is not None and item.decision is not None:
                        self.decisions.put(item.cache_key, item.decision, item.now)
                    if item.called is not None and self.read_model is not None:
                        self.read_model.note_called_number(item.called[0], item.called[1], item.now)
                    self._finished(result, item.key, item.entry, item.addr, item.send)
                else:
                    self._failed(result, item.key, item.entry, item.addr, item.kind)
            except Exception:
                n = self._count("internal_error")
                if n:
                    self.log.failure(
                        "cannot answer {peer}: internal error ({errors_so_far} so far)",
                        peer=item.addr[0],
                        errors_so_far=n,
                    )

    # ------------------------------------------------------ policy

    def _authenticator_policy(self, request: Request, client: RadiusClientConfig, addr: tuple[str, int]) -> bool:
        if request.code == Code.STATUS_SERVER and not request.has_message_authenticator:
            self._drop(
                "no_message_authenticator", "Status-Server without Message-Authenticator from {peer} dropped", addr
            )
            return False
        if request.code != Code.ACCESS_REQUEST or request.has_message_authenticator:
            return True
        if client.require_message_authenticator:
            self._drop(
                "no_message_authenticator",
                "BlastRADIUS check: Access-Request without Message-Authenticator from {peer} dropped"
                " (client {client} requires it)",
                addr,
                client=client.name,
            )
            return False
        if request.proxy_states:
            self._drop(
                "no_message_authenticator",
                "Access-Request with Proxy-State but without Message-Authenticator from {peer} dropped",
                addr,
            )
            return False
        return True

    def _note_kept_raw(self, request: Request, addr: tuple[str, int]) -> None:
        """Known attributes whose value did not fit their type were kept raw: say so (rate-limited)."""
        names = [d.name for v, t, _ in request.unknown if (d := self.dictionary.by_code.get((v, t))) is not None]
        if names:
            n = self._count("acct_value_kept_raw")
            if n:
                self.log.warn(
                    "Accounting-Request from {peer}: {names} of the wrong size, stored raw ({kept_so_far} so far)",
                    peer=addr[0],
                    names=", ".join(names),
                    kept_so_far=n,
                )

    def _answer_status(
        self,
        kind: str,
        request: Request,
        secret: bytes,
        addr: tuple[str, int],
        send: Callable[[bytes, tuple[str, int]], None],
    ) -> None:
        self.counters["status_server"] += 1
        code = Code.ACCESS_ACCEPT if kind == AUTH else Code.ACCOUNTING_RESPONSE
        attrs = [(A.REPLY_MESSAGE.value, "faxappliance RADIUS server is alive")]
        send(encode_reply(code, request, attrs, secret, self.dictionary), addr)

    # ------------------------------------------------- worker threads

    def _run_batch(self, batch: list[_Work]) -> list[tuple[bool, Any]]:
        """In a pool thread: answer every item; failures are kept per item.
        Accounting items of one batch are committed in one transaction."""
        results: list[tuple[bool, Any]] = [(False, None)] * len(batch)
        accounting: list[int] = []
        for i, item in enumerate(batch):
            if item.kind == ACCT:
                accounting.append(i)
                continue
            try:
                lookups = self.lookups if item.request.password is None else self._login_lookups
                item.decision = handle_access(item.request, lookups, self.handler_config)
                results[i] = (True, self._encode_decision(item.decision, item.request, item.secret))
            except Exception:
                results[i] = (False, Failure())
        if accounting:
            self._record_accounting([batch[i] for i in accounting], accounting, results)
        return results

    def _record_accounting(self, items: list[_Work], positions: list[int], results: list[tuple[bool, Any]]) -> None:
        try:
            prepared = [accounting_record(w.request, w.addr[0], w.now) for w in items]
            stored = self.store.record_accounting_many(prepared)  # committed before any reply exists
        except StoreError:
            if not self._spool_accounting(items, prepared):
                for pos in positions:
                    results[pos] = (False, Failure())
                return
            stored = [True] * len(items)
        except Exception:
            if len(items) == 1:
                results[positions[0]] = (False, Failure())
                return
            for item, pos in zip(items, positions):  # isolate the failing record(s)
                self._record_accounting([item], [pos], results)
            return
        for item, pos, new, (_, called) in zip(items, positions, stored, prepared):
            if not new:
                self.counters["duplicate_cdr"] += 1
            elif called is not None:
                item.called = called
            reply = encode_reply(
                Code.ACCOUNTING_RESPONSE, item.request, (), item.secret, self.dictionary, message_authenticator=False
            )
            results[pos] = (True, _Reply(reply))

    def _spool_accounting(self, items: list[_Work], prepared: list[Any]) -> bool:
        """(pool thread) The store is unreachable: keep the records in the spool; True when they are
        durable there (then they are acknowledged), False when there is no spool or it failed."""
        if self.acct_spool is None:
            return False
        try:
            self.acct_spool.put(prepared, items[0].now)
        except AccountingSpoolError as exc:
            self.log.error("accounting not spooled: {error}", error=str(exc))
            return False
        self.counters["acct_spooled"] += len(items)
        n = self._count("acct_spool_batches")
        if n:
            self.log.warn(
                "the account store is unreachable: {records} accounting record(s) spooled and "
                "acknowledged, written when it is back ({batches_so_far} batches so far)",
                records=len(items),
                batches_so_far=n,
            )
        return True

    def replay_accounting(self) -> Deferred[int]:
        """Write spooled accounting records to the store (in the pool); fires with how many
        were written (0 when there were none or the store is still unreachable)."""
        spool = self.acct_spool
        if spool is None or not spool.files():
            return succeed(0)

        def written(n: int) -> int:
            if n:
                self.counters["acct_replayed"] += n
                self.log.info("{records} spooled accounting record(s) written to the store", records=n)
            return n

        def failed(failure: Failure) -> int:
            if not failure.check(StoreError):
                n = self._count("acct_replay_error")
                if n:
                    self.log.failure(
                        "writing spooled accounting failed ({errors_so_far} so far)", failure, errors_so_far=n
                    )
            return 0

        d: Deferred[int] = deferToThreadPool(self.reactor, self.threadpool, spool.replay, self.store)
        return d.addCallbacks(written, failed)

    def _encode_decision(self, decision: Decision, request: Request, secret: bytes) -> _Reply:
        """The reply to a decision, its texts cut and its attributes trimmed to fit (radius.fit)."""
        if decision.verdict is Verdict.ACCEPT:
            code, attrs = Code.ACCESS_ACCEPT, list(decision.attributes)
        else:
            code = Code.ACCESS_REJECT
            attrs = [(A.REPLY_MESSAGE.value, decision.reason)] if decision.reason else []
        fitted = fit_reply(request, attrs, self.dictionary)
        data = encode_reply(code, request, fitted.attributes, secret, self.dictionary, encoded=fitted.encoded)
        return _Reply(data, code == Code.ACCESS_REJECT, fitted)

    # ------------------------------------------------ reactor thread

    def _finished(
        self,
        reply: _Reply,
        key: tuple[str, int, int, int],
        entry: _Pending,
        addr: tuple[str, int],
        send: Callable[[bytes, tuple[str, int]], None],
    ) -> None:
        self._in_flight -= 1
        self._reply(reply, key, entry, addr, send)

    def _reply(
        self,
        reply: _Reply,
        key: tuple[str, int, int, int],
        entry: _Pending,
        addr: tuple[str, int],
        send: Callable[[bytes, tuple[str, int]], None],
    ) -> None:
        if reply.fitted is not None and reply.fitted.changed:
            self._trimmed(reply.fitted, addr)
        if reply.reject and self.reject_delay > 0:
            if len(self._delayed) < self.max_pending:
                self.counters["reject_delayed"] += 1
                call: IDelayedCall | None = None

                def release() -> None:
                    self._delayed.discard(call)  # type: ignore[arg-type]
                    self._send_reply(reply.data, key, entry, addr, send)

                call = self.reactor.callLater(self.reject_delay, release)
                self._delayed.add(call)
                return
            self.counters["reject_not_delayed"] += 1  # bounded: a flood of rejects is answered at once
        self._send_reply(reply.data, key, entry, addr, send)

    def _send_reply(
        self,
        data: bytes,
        key: tuple[str, int, int, int],
        entry: _Pending,
        addr: tuple[str, int],
        send: Callable[[bytes, tuple[str, int]], None],
    ) -> None:
        entry.reply = data
        entry.expires = self.reactor.seconds() + self.cache_seconds  # kept for retransmissions from now on
        self._expiry.append((entry.expires, key))
        self.counters["replied"] += 1
        if self._store_down_since is not None:
            took, self._store_down_since = self.reactor.seconds() - self._store_down_since, None
            self.log.info("the account store answers again after {seconds:.1f} s", seconds=took)
        send(data, addr)

    def _trimmed(self, fitted: Fitted, addr: tuple[str, int]) -> None:
        if fitted.truncated:
            self.counters["reply_text_truncated"] += len(fitted.truncated)
        if fitted.dropped:
            self.counters["reply_attribute_dropped"] += len(fitted.dropped)
        n = self._count("reply_trimmed")
        if n:
            self.log.warn(
                "reply to {peer} trimmed to fit: cut {truncated}, left out {dropped} ({trimmed_so_far} so far)",
                peer=addr[0],
                truncated=", ".join(fitted.truncated) or "-",
                dropped=", ".join(fitted.dropped) or "-",
                trimmed_so_far=n,
            )

    def cancel_delayed(self) -> None:
        """Forget the rejects still waiting for their delay (on shutdown)."""
        for call in list(self._delayed):
            if call.active():
                call.cancel()
        self._delayed.clear()

    def _failed(
        self, failure: Any, key: tuple[str, int, int, int], entry: _Pending, addr: tuple[str, int], kind: str
    ) -> None:
        self._in_flight -= 1
        if self._cache.get(key) is entry:
            del self._cache[key]  # let the client's retransmission try again
        if failure.check(StoreError):  # the database is unreachable: no reply, the client retries
            self.counters["store_unreachable"] += 1
            if self._store_down_since is None:
                self._store_down_since = self.reactor.seconds()
                self.log.warn(
                    "the account store is unreachable ({error}); requests get no reply until it is back",
                    error=failure.getErrorMessage(),
                )
            return
        n = self._count("handler_error")
        if n:
            self.log.failure(
                "{kind} request from {peer} failed; no reply sent ({errors_so_far} so far)",
                failure,
                kind=kind,
                peer=addr[0],
                errors_so_far=n,
            )

    def _count(self, counter: str) -> int:
        """Count one event; its running total when it should be logged, else 0.

        Rate-limited: the first ten of each kind, then every thousandth, so a
        flood of bad packets or failing requests cannot flood the log."""
        self.counters[counter] += 1
        n = self.counters[counter]
        return n if n <= 10 or n % 1000 == 0 else 0

    def _drop(self, counter: str, message: str, addr: tuple[str, int], **fields: Any) -> None:
        self.counters["dropped"] += 1
        n = self._count(counter)
        if n:
            self.log.warn(message, peer=addr[0], port=addr[1], dropped_so_far=n, **fields)

    def _expire(self, now: float) -> None:
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            _, key = expiry.popleft()
            entry = self._cache.get(key)
            if entry is not None and entry.expires <= now and entry.reply is not None:
                del self._cache[key]


class _Listener(DatagramProtocol):
    def __init__(self, server: RadiusServer, kind: str) -> None:
        self.server = server
        self.kind = kind

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self.server.datagram_received(self.kind, datagram, addr, self._send)

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            # Straight to the socket: the address came from recvfrom, so
            # Twisted's per-write address checks would only cost time.
            sock = getattr(self.transport, "socket", None)
            if sock is not None:
                sock.sendto(data, addr)
            else:
                self.transport.write(data, addr)
        except OSError as exc:
            n = self.server._count("send_error")
            if n:
                self.server.log.warn(
                    "cannot send reply to {peer}: {error} ({errors_so_far} so far)",
                    peer=addr[0],
                    error=str(exc),
                    errors_so_far=n,
                )


class RadiusService(service.Service):
    """Listens for auth and accounting on the configured address and ports."""

    log = Logger()

    def __init__(
        self,
        server: RadiusServer,
        reactor: IReactorUDP,
        listen: str,
        auth_port: int,
        acct_port: int,
        *,
        feed: Any = None,
        reuse_port: bool = False,
    ) -> None:
        self.server = server
        self.feed = feed  # radius.feed.ReadModelFeed of server.read_model, or None
        self.reuse_port = reuse_port  # SO_REUSEPORT: one of several worker processes on the same ports
        self.reactor = reactor
        self.listen = listen
        self.ports = {AUTH: auth_port, ACCT: acct_port}
        self.bound: dict[str, int] = {}
        self._listening: list[Any] = []
        self._replay: LoopingCall | None = None  # writes the accounting spool once the store answers

    def startService(self) -> None:
        if self.feed is not None:
            self.feed.load()  # before answering: every lookup is answered from it
        self.server.threadpool.start()
        if self.feed is not None:
            self.feed.startService()
        for kind, port in self.ports.items():
            if self.reuse_port:
                listening = listen_reuseport(self.reactor, port, _Listener(self.server, kind), self.listen)
            else:
                listening = self.reactor.listenUDP(port, _Listener(self.server, kind), interface=self.listen)
            self._listening.append(listening)
            self.bound[kind] = listening.getHost().port
            self.log.info(
                "RADIUS {kind} listening on {address}:{port}", kind=kind, address=self.listen, port=self.bound[kind]
            )
        if self.server.acct_spool is not None:
            self._replay = LoopingCall(self.server.replay_accounting)
            self._replay.clock = self.reactor  # type: ignore[assignment]
            self._replay.start(REPLAY_SECONDS, now=True)
        super().startService()

    def stopService(self) -> Deferred[None] | None:
        super().stopService()
        ds = [p.stopListening() for p in self._listening]
        if self._replay is not None and self._replay.running:
            self._replay.stop()
        if self.feed is not None and self.feed.running:
            ds.append(self.feed.stopService())
        self._listening.clear()
        self.server.cancel_delayed()
        self.server.threadpool.stop()
        from twisted.internet.defer import gatherResults

        return gatherResults([d for d in ds if d is not None]).addCallback(lambda _: None)
