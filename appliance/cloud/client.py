"""The FAXAGE httpx adapter and its one bridge to Twisted.

:class:`FaxageClient` is synchronous: it POSTs built requests through an
``httpx.Client`` handed in from outside (tests pass ``httpx.MockTransport``),
retries with backoff where repeating is safe, and reconciles an ambiguous
sendfax through ``status`` so a fax is never sent twice.  Time (``sleep``) and
randomness (``rng``) are injected.  :class:`TwistedFaxage` runs it in a
Twisted thread pool (``deferToThreadPool``), so the reactor never blocks.

Credentials travel only in POST bodies; no log event or exception carries
them (server text is redacted before it becomes an exception).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads, IReactorThreads
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from appliance.cloud._retry import RetryPolicy, reconcile_candidates
from appliance.cloud.api import Credentials, ParamValue, Request, build, build_sendfax, endpoint_url, parse
from appliance.cloud.errors import (
    AlreadyExists,
    FaxageError,
    FaxageTransportError,
    SendOutcomeUnknown,
    ServiceUnavailable,
)
from appliance.cloud.records import Ack, JobSubmitted, StatusRecord
from appliance.config import FaxageConfig

__all__ = ["FaxageClient", "RetryPolicy", "TwistedFaxage", "client_from_config", "make_http_client"]

#: the retry policy of a client built without one (RetryPolicy is frozen, so one shared default is safe)
DEFAULT_RETRY = RetryPolicy()

T = TypeVar("T")
EventSink = Callable[..., None]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0, write=60.0)
# Failures where the request provably never reached the service.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def make_http_client(
    *, transport: httpx.BaseTransport | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT, max_connections: int = 10
) -> httpx.Client:
    """An ``httpx.Client`` with keep-alive connection reuse and timeouts."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        limits=limits,
        follow_redirects=False,
        headers={"User-Agent": "faxappliance-faxage/0.1"},
    )


class _Ambiguous(Exception):
    """Internal: the request may or may not have been applied."""

    def __init__(self, problem: str, status: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.status = status


class _KeyedLocks:
    """One lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: tuple[str, str]) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class FaxageClient:
    """Synchronous FAXAGE client (run it off the reactor thread)."""

    log = Logger()

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        credentials: Credentials,
        *,
        sleep: Callable[[float], None],
        rng: random.Random,
        retry: RetryPolicy = DEFAULT_RETRY,
        debug: bool = False,
        events: EventSink | None = None,
        is_known_jobid: Callable[[int], bool] | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._sleep = sleep
        self._rng = rng
        self._rng_lock = threading.Lock()
        self.retry = retry
        self.debug = debug
        self._events: EventSink = events or self._log_event
        self._is_known = is_known_jobid or (lambda jobid: False)
        self._known: set[int] = set()
        self._known_lock = threading.Lock()
        self._send_locks = _KeyedLocks()

    def __repr__(self) -> str:
        return f"FaxageClient({self._base_url!r}, user={self._credentials.username!r})"

    def _log_event(self, event: str, **fields: Any) -> None:
        self.log.info("faxage {event} {operation}", event=event, **fields)

    # ------------------------------------------------------------ plumbing

    def _random(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def _post_once(self, request: Request) -> Any:
        url = endpoint_url(self._base_url, request.endpoint, debug=self.debug)
        try:
            response = self._http.post(url, data=_form_dict(request.form(self._credentials)))
        except _NOT_SENT as exc:
            raise FaxageTransportError(request.operation, f"could not connect: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise _Ambiguous(f"{type(exc).__name__} during the exchange") from None
        if response.status_code >= 500:
            raise _Ambiguous(f"HTTP status {response.status_code}", response.status_code)
        return parse(
            request, response.status_code, response.content, response.headers, secrets=self._credentials.secrets()
        )

    def call(self, request: Request) -> Any:
        """Send ``request``; retry transport failures and ERR01 when the
        operation is safe to repeat (ERR01 and connection failures always:
        the service did not act).  Other ambiguous failures raise
        :class:`FaxageTransportError` without a repeat."""
        ambiguous_before = False
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                return self._post_once(request)
            except (ServiceUnavailable, FaxageTransportError) as exc:
                if isinstance(exc, FaxageTransportError) and exc.status is not None:
                    raise  # a 4xx: repeating will not help
                error: FaxageError = exc
            except _Ambiguous as exc:
                if not request.safe_to_repeat:
                    raise FaxageTransportError(
                        request.operation, f"{exc.problem}; the request may or may not have been applied", exc.status
                    ) from None
                ambiguous_before = True
                error = FaxageTransportError(request.operation, exc.problem, exc.status)
            except AlreadyExists as exc:
                if ambiguous_before and request.operation == "handled":
                    return _handled_ack(request, exc)
                raise
            if last:
                raise error
            delay = self.retry.delay(attempt, self._random())
            self._events(
                "retry", operation=request.operation, attempt=attempt, delay=delay, reason=type(error).__name__
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def request(self, operation: str, params: Mapping[str, ParamValue] | None = None) -> Any:
        """Build, validate and send ``operation`` (sendfax is reconciled)."""
        request = build(operation, params)
        if operation == "sendfax":
            return self.submit(request)
        return self.call(request)

    # ------------------------------------------------------------ sending

    def sendfax(
        self, faxno: str, recipname: str, files: Iterable[tuple[str, bytes]] = (), **options: ParamValue
    ) -> JobSubmitted:
        """Send a fax; returns the job id.  Never sends twice (see :meth:`submit`)."""
        return self.submit(build_sendfax(faxno, recipname, files, **options))

    def submit(self, request: Request) -> JobSubmitted:
        """POST a built sendfax.  After an ambiguous failure (timeout, dropped
        connection, 5xx) look for the job through ``status`` before trying
        again; sends to the same (faxno, recipname) are serialised so the
        search cannot adopt a sibling's job."""
        values = request.values()
        faxno, recipname = values["faxno"][0], values["recipname"][0]
        with self._send_locks.hold((faxno, recipname)):
            for attempt in range(1, self.retry.attempts + 1):
                try:
                    result: JobSubmitted = self._post_once(request)
                except (ServiceUnavailable, FaxageTransportError) as exc:
                    if isinstance(exc, FaxageTransportError) and exc.status is not None:
                        raise
                    if attempt == self.retry.attempts:
                        raise
                except _Ambiguous as exc:
                    self._events("reconcile", operation="sendfax", attempt=attempt, reason=exc.problem)
                    found = self._reconcile(faxno, recipname)
                    if found is not None:
                        return self._remember(JobSubmitted(jobid=found, reconciled=True))
                    if attempt == self.retry.attempts:
                        raise FaxageTransportError(
                            "sendfax",
                            f"{exc.problem}; the service has no such job, giving up after retries",
                            exc.status,
                        ) from None
                else:
                    return self._remember(result)
                delay = self.retry.delay(attempt, self._random())
                self._events("retry", operation="sendfax", attempt=attempt, delay=delay, reason="not accepted")
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _remember(self, result: JobSubmitted) -> JobSubmitted:
        with self._known_lock:
            self._known.add(result.jobid)
        return result

    def _reconcile(self, faxno: str, recipname: str) -> int | None:
        for _check in range(self.retry.reconcile_checks):
            self._sleep(self.retry.reconcile_delay)
            try:
                records: tuple[StatusRecord, ...] = self.call(build("status", {"useronly": 1}))
            except FaxageError as exc:
                raise SendOutcomeUnknown(
                    "sendfax",
                    f"could not check status after an ambiguous failure ({type(exc).__name__}); the fax was not resent",
                ) from None
            with self._known_lock:
                known = {r.jobid for r in records if r.jobid in self._known or self._is_known(r.jobid)}
            candidates = reconcile_candidates(records, faxno, recipname, known)
            if len(candidates) == 1:
                return candidates[0]
            if candidates:
                raise SendOutcomeUnknown(
                    "sendfax", f"{len(candidates)} unclaimed jobs match this fax; it was not resent", candidates
                )
        return None

    # ------------------------------------------------------------ conveniences

    def status(self, jobids: Sequence[int] = (), **flags: ParamValue) -> tuple[StatusRecord, ...]:
        params: dict[str, ParamValue] = dict(flags)
        if len(jobids) == 1:
            params["jobid"] = jobids[0]
        elif jobids:
            params["jobids[]"] = list(jobids)
        result: tuple[StatusRecord, ...] = self.call(build("status", params))
        return result

    def close(self) -> None:
        self._http.close()


def _form_dict(form: list[tuple[str, str]]) -> dict[str, list[str] | str]:
    out: dict[str, list[str] | str] = {}
    for name, value in form:
        if name.endswith("[]"):
            existing = out.setdefault(name, [])
            assert isinstance(existing, list)
            existing.append(value)
        else:
            out[name] = value
    return out


def _handled_ack(request: Request, exc: AlreadyExists) -> Ack:
    recvid = request.values()["recvid"][0]
    return Ack(operation="handled", text=f"{recvid} marked handled", subject=recvid, extra=(("state", "handled"),))


def client_from_config(
    config: FaxageConfig,
    *,
    sleep: Callable[[float], None],
    rng: random.Random,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    events: EventSink | None = None,
    max_connections: int = 10,
) -> FaxageClient:
    """A client for the ``[faxage]`` config section (url, credentials, debug)."""
    credentials = Credentials(config.username, config.company, config.password)
    http = make_http_client(transport=transport, max_connections=max_connections)
    return FaxageClient(
        http, config.url, credentials, sleep=sleep, rng=rng, retry=retry, debug=config.debug, events=events
    )


class TwistedFaxage:
    """The bridge: every call runs :class:`FaxageClient` in ``threadpool``
    and returns a Deferred fired on the reactor thread."""

    log = Logger()

    def __init__(self, client: FaxageClient, reactor: IReactorFromThreads, threadpool: ThreadPool) -> None:
        self.client = client
        self._reactor = reactor
        self._pool = threadpool

    @staticmethod
    def start_threadpool(reactor: IReactorThreads, size: int = 10) -> ThreadPool:
        """A started pool of ``size`` threads, stopped at reactor shutdown."""
        pool = ThreadPool(minthreads=0, maxthreads=size, name="faxage")
        pool.start()
        reactor.addSystemEventTrigger(  # type: ignore[attr-defined]
            "during", "shutdown", lambda: None if pool.joined else pool.stop()
        )
        return pool

    def _defer(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        return deferToThreadPool(self._reactor, self._pool, fn, *args, **kwargs)

    def run_in_pool(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """Run any other blocking call (e.g. file writes) in the same pool."""
        return self._defer(fn, *args, **kwargs)

    def request(self, operation: str, params: Mapping[str, ParamValue] | None = None) -> Deferred[Any]:
        return self._defer(self.client.request, operation, params)

    def call(self, request: Request) -> Deferred[Any]:
        return self._defer(self.client.submit if request.operation == "sendfax" else self.client.call, request)

    def sendfax(
        self, faxno: str, recipname: str, files: Iterable[tuple[str, bytes]] = (), **options: ParamValue
    ) -> Deferred[JobSubmitted]:
        return self._defer(self.client.sendfax, faxno, recipname, list(files), **options)

    def status(self, jobids: Sequence[int] = (), **flags: ParamValue) -> Deferred[tuple[StatusRecord, ...]]:
        return self._defer(self.client.status, list(jobids), **flags)
