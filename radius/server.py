"""Twisted adapter: RADIUS auth and accounting over UDP.

Moves datagrams, time and thread-pool work between the sockets, the reactor
and the pure policy of :class:`radius.server_core.ServerCore` (client table,
RFC 5080 duplicate cache, Status-Server, Message-Authenticator rules,
overload shedding, decision cache).  Store work runs in a thread pool
(:mod:`radius.server_pool`), never on the reactor thread; lookups answered
from an in-memory read model run here.  This module adds the reject delay,
the batching of pool work, and logging.  Nothing a peer sends can raise out
of ``datagramReceived``: every error is counted, logged (rate-limited, so a
flood cannot flood the log) and the packet dropped.

Access-Rejects go out ``reject_delay`` seconds after the decision (as
FreeRADIUS's ``reject_delay``), scheduled on the reactor, holding no thread.
Until then the request counts as in progress (RFC 5080 §2.2.2): a
retransmission is ignored, and gets the cached reject once it has been sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.application import service
from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorFromThreads, IReactorTime, IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from radius.acct_spool import AccountingSpool
from radius.clients import RadiusClientConfig
from radius.codec import Dictionary
from radius.fit import Fitted
from radius.handlers import HandlerConfig, handle_access
from radius.read_model import ReadModel, StoreFirst
from radius.reuseport import listen_reuseport
from radius.server_core import (
    ACCT,
    AUTH,
    Answer,
    Drop,
    DropReason,
    Handle,
    Port,
    Reply,
    SendNow,
    ServerCore,
    ServerDecision,
    Ticket,
    Where,
    encode_decision,
)
from radius.server_pool import Job, PoolWork, Result
from radius.store.api import Store, StoreError

__all__ = ["ACCT", "AUTH", "REPLAY_SECONDS", "Port", "RadiusServer", "RadiusService"]

#: how often a running service tries to write its accounting spool to the store
REPLAY_SECONDS = 2.0
_DEFAULT_HANDLER_CONFIG = HandlerConfig()
Send = Callable[[bytes, tuple[str, int]], None]
_DROP_MESSAGES = {
    DropReason.UNKNOWN_CLIENT: "packet from unknown client {peer} dropped",
    DropReason.MALFORMED: "malformed packet from {peer} dropped: {reason}",
    DropReason.BAD_AUTHENTICATOR: "packet from {peer} dropped: {reason}",
    DropReason.WRONG_CODE: "{code} on the {kind} port from {peer} dropped",
    DropReason.NO_MESSAGE_AUTHENTICATOR: "packet without Message-Authenticator from {peer} dropped ({rule})",
    DropReason.OVERLOAD: "server busy: packet from {peer} dropped",
}


class RadiusServer:
    """The shared adapter of the auth and accounting listeners."""

    log = Logger()

    def __init__(
        self,
        *,
        reactor: IReactorTime,
        store: Store,
        dictionary: Dictionary,
        clients: Sequence[RadiusClientConfig],
        threadpool: ThreadPool,
        handler_config: HandlerConfig = _DEFAULT_HANDLER_CONFIG,
        cache_seconds: float = 5.0,
        decision_cache_seconds: float = 1.0,
        max_pending: int = 4096,
        reject_delay: float = 1.0,
        read_model: ReadModel | None = None,
        acct_spool: AccountingSpool | None = None,
    ) -> None:
        self.reactor = reactor
        self.core = ServerCore(
            dictionary=dictionary,
            clients=clients,
            cache_seconds=cache_seconds,
            decision_cache_seconds=decision_cache_seconds,
            max_pending=max_pending,
            answers_here=read_model is not None,
        )
        self.counters = self.core.counters
        # Lookups: from the in-memory read model when there is one (answered on
        # the reactor thread, except password checks), else from the store.
        self.read_model = read_model
        self.lookups: Any = read_model if read_model is not None else store
        # Password checks (in the pool) read the account from the store, so that
        # a new account or a changed password counts at once; scrypt costs far
        # more than the query.  While the store cannot answer, the read model does.
        # Accounting records that arrive while the store is unreachable are kept
        # in the spool (durably) and acknowledged; replay_accounting() writes them later.
        self.work = PoolWork(
            store=store,
            lookups=self.lookups,
            login_lookups=StoreFirst(store, read_model) if read_model is not None else store,
            dictionary=dictionary,
            handler_config=handler_config,
            acct_spool=acct_spool,
            counters=self.counters,
            count=self._count,
        )
        self.dictionary = dictionary
        self.threadpool = threadpool
        self.handler_config = handler_config
        self.reject_delay = reject_delay
        self._store_down_since: float | None = None  # one log line per store outage
        self._batch: list[Job] = []
        # Accounting: one commit in flight at a time; records arriving while it
        # runs (over any number of reactor turns) share the next one.
        self._acct_batch: list[Job] = []
        self._acct_committing = False
        self.max_acct_batch = 2000
        self._delayed: set[IDelayedCall] = set()

    @property
    def store(self) -> Store:
        return self.work.store

    @store.setter
    def store(self, store: Store) -> None:
        self.work.store = store

    @property
    def acct_spool(self) -> AccountingSpool | None:
        return self.work.acct_spool

    @acct_spool.setter
    def acct_spool(self, spool: AccountingSpool | None) -> None:
        self.work.acct_spool = spool

    @property
    def _pool_reactor(self) -> IReactorFromThreads:
        return self.reactor  # type: ignore[return-value]  # the reactor provides both

    # ------------------------------------------------------------ entry

    def datagram_received(self, kind: Port, data: bytes, addr: tuple[str, int], send: Send) -> None:
        try:
            self._act(self.core.datagram(kind, data, addr, self.reactor.seconds()), addr, send)
        except Exception:
            n = self._count("internal_error")
            if n:
                self.log.failure(
                    "dropping a packet from {peer}: internal error ({errors_so_far} so far)",
                    peer=addr[0],
                    errors_so_far=n,
                )

    def _act(self, decision: ServerDecision, addr: tuple[str, int], send: Send) -> None:
        if isinstance(decision, SendNow):
            send(decision.data, addr)
        elif isinstance(decision, Drop):
            n = self.counters[decision.reason.value]
            if self._loggable(n):
                self.log.warn(
                    _DROP_MESSAGES[decision.reason], peer=addr[0], port=addr[1], dropped_so_far=n, **decision.fields
                )
        elif isinstance(decision, Answer):
            self._reply(decision.reply, decision.ticket, send)
        elif isinstance(decision, Handle):
            if decision.kept_raw:
                self._note_kept_raw(decision.kept_raw, addr)
            self._handle(Job(decision.ticket, send))
        # Ignore: a retransmission of a request in progress; its reply goes out once

    def _handle(self, job: Job) -> None:
        ticket = job.ticket
        if ticket.where is Where.HERE:
            self._answer_here(job)
        elif ticket.kind is Port.ACCT:
            self._acct_batch.append(job)
            if len(self._acct_batch) == 1 and not self._acct_committing:
                self.reactor.callLater(0, self._flush_acct)
        else:
            self._batch.append(job)
            if len(self._batch) == 1:
                # Requests read in the same reactor turn go to the pool as one job:
                # one thread hand-off each way per batch instead of per request.
                self.reactor.callLater(0, self._flush)

    def _answer_here(self, job: Job) -> None:
        """An Access-Request without a password, answered from the read model on this thread."""
        ticket = job.ticket
        try:
            decision = handle_access(ticket.request, self.lookups, self.handler_config)
            reply = encode_decision(decision, ticket.request, ticket.secret, self.dictionary)
        except Exception:
            self._failed(Failure(), ticket)
            return
        self.core.finished(ticket, decision)
        self._reply(reply, ticket, job.send)

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        d: Deferred[list[Result]] = deferToThreadPool(self._pool_reactor, self.threadpool, self._run_batch, batch)
        d.addCallback(self._batch_done, batch)
        d.addErrback(self._batch_failed, batch)

    def _run_batch(self, batch: list[Job]) -> list[Result]:
        """(pool thread) See :meth:`radius.server_pool.PoolWork.run_batch`."""
        return self.work.run_batch(batch)

    def _flush_acct(self) -> None:
        """Commit the waiting accounting records (group commit: one transaction,
        one disk flush); the next batch starts when this one is durable."""
        if self._acct_committing or not self._acct_batch:
            return
        batch = self._acct_batch[: self.max_acct_batch]
        del self._acct_batch[: self.max_acct_batch]
        self._acct_committing = True
        self.counters["acct_commits"] += 1
        d: Deferred[list[Result]] = deferToThreadPool(self._pool_reactor, self.threadpool, self._run_batch, batch)
        d.addCallback(self._batch_done, batch)
        d.addErrback(self._batch_failed, batch)
        d.addBoth(self._acct_committed)

    def _acct_committed(self, _: object) -> None:
        self._acct_committing = False
        if self._acct_batch:
            self._flush_acct()

    def _batch_failed(self, failure: Failure, batch: list[Job]) -> None:
        for job in batch:
            self.core.failed(job.ticket)  # let the clients' retransmissions try again
        n = self._count("internal_error")
        if n:
            self.log.failure(
                "a batch of {size} requests failed; no replies sent ({errors_so_far} so far)",
                failure,
                size=len(batch),
                errors_so_far=n,
            )

    def _batch_done(self, results: list[Result], batch: list[Job]) -> None:
        for job, (ok, result) in zip(batch, results):
            ticket = job.ticket
            try:
                if ok:
                    self.core.finished(ticket, job.decision)
                    if job.called is not None and self.read_model is not None:
                        self.read_model.note_called_number(job.called[0], job.called[1], ticket.now)
                    self._reply(result, ticket, job.send)
                else:
                    self._failed(result, ticket)
            except Exception:
                n = self._count("internal_error")
                if n:
                    self.log.failure(
                        "cannot answer {peer}: internal error ({errors_so_far} so far)",
                        peer=ticket.addr[0],
                        errors_so_far=n,
                    )

    def _note_kept_raw(self, names: tuple[str, ...], addr: tuple[str, int]) -> None:
        """Known attributes whose value did not fit their type were kept raw: say so (rate-limited)."""
        n = self.counters["acct_value_kept_raw"]
        if self._loggable(n):
            self.log.warn(
                "Accounting-Request from {peer}: {names} of the wrong size, stored raw ({kept_so_far} so far)",
                peer=addr[0],
                names=", ".join(names),
                kept_so_far=n,
            )

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

        d: Deferred[int] = deferToThreadPool(self._pool_reactor, self.threadpool, spool.replay, self.store)
        return d.addCallbacks(written, failed)

    # ------------------------------------------------ reactor thread

    def _reply(self, reply: Reply, ticket: Ticket, send: Send) -> None:
        if reply.fitted is not None and reply.fitted.changed:
            self._trimmed(reply.fitted, ticket.addr)
        if reply.reject and self.reject_delay > 0:
            if len(self._delayed) < self.core.max_pending:
                self.counters["reject_delayed"] += 1
                call: IDelayedCall | None = None

                def release() -> None:
                    if call is not None:
                        self._delayed.discard(call)
                    self._send_reply(reply.data, ticket, send)

                call = self.reactor.callLater(self.reject_delay, release)
                self._delayed.add(call)
                return
            self.counters["reject_not_delayed"] += 1  # bounded: a flood of rejects is answered at once
        self._send_reply(reply.data, ticket, send)

    def _send_reply(self, data: bytes, ticket: Ticket, send: Send) -> None:
        now = self.reactor.seconds()
        self.core.sent(ticket, data, now)  # kept for retransmissions from now on
        if self._store_down_since is not None:
            took, self._store_down_since = now - self._store_down_since, None
            self.log.info("the account store answers again after {seconds:.1f} s", seconds=took)
        send(data, ticket.addr)

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

    def _failed(self, failure: Failure, ticket: Ticket) -> None:
        self.core.failed(ticket)  # let the client's retransmission try again
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
                kind=str(ticket.kind),
                peer=ticket.addr[0],
                errors_so_far=n,
            )

    def _count(self, counter: str) -> int:
        """Count one event; its running total when it should be logged, else 0."""
        self.counters[counter] += 1
        n = self.counters[counter]
        return n if self._loggable(n) else 0

    @staticmethod
    def _loggable(n: int) -> bool:
        """Rate limit: the first ten of each kind, then every thousandth, so a
        flood of bad packets or failing requests cannot flood the log."""
        return n <= 10 or n % 1000 == 0


class _Listener(DatagramProtocol):
    def __init__(self, server: RadiusServer, kind: Port) -> None:
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
            elif self.transport is not None:
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
        self.bound: dict[Port, int] = {}
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
                # IReactorUDP declares maxPacketSize without the default every reactor has
                listening = self.reactor.listenUDP(  # type: ignore[call-arg]
                    port, _Listener(self.server, kind), interface=self.listen
                )
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
        return gatherResults([d for d in ds if d is not None]).addCallback(lambda _: None)
