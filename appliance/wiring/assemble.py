"""Service assembly: config -> Twisted services.  Collaborators are injectable."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twisted.application import service
from twisted.internet import task
from twisted.internet.defer import Deferred, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from appliance.config import Config, ConfigError
from radius.acct_spool import AccountingSpool
from radius.codec import Dictionary
from radius.handlers import HandlerConfig
from radius.server import RadiusServer, RadiusService

__all__ = [
    "PACKAGED_DICTIONARY",
    "Appliance",
    "ApplianceService",
    "load_dictionary",
    "make_appliance",
    "make_radius_service",
    "make_radius_services",
    "make_service",
    "make_web",
]

PACKAGED_DICTIONARY = Path(__file__).resolve().parent.parent / "dictionary"


def load_dictionary(config: Config) -> Dictionary:
    """The dictionary named by ``[radius] dictionary``, else the packaged one."""
    source = config.radius.dictionary or str(PACKAGED_DICTIONARY)
    path = Path(source)
    if not path.is_absolute() and config.radius.dictionary:
        path = Path(config.source).parent / path
    if not path.exists():
        raise ConfigError(config.source, "radius.dictionary", f"{path} does not exist")
    try:
        return Dictionary(path)
    except Exception as exc:  # pyrad raises several types for bad files
        raise ConfigError(config.source, "radius.dictionary", f"cannot load {path}: {exc}") from None


def make_radius_service(
    config: Config,
    reactor: Any,
    *,
    store: Any,
    dictionary: Dictionary | None = None,
    threadpool: ThreadPool | None = None,
    reuse_port: bool = False,
) -> RadiusService:
    """The RADIUS auth + accounting service for ``config``."""
    radius = config.radius
    if not radius.clients:
        raise ConfigError(config.source, "radius.clients", "at least one client (address, secret) is required")
    pool = threadpool or ThreadPool(minthreads=2, maxthreads=8, name="radius-store")
    feed = None
    if radius.read_model:
        from radius.feed import ReadModelFeed

        feed = ReadModelFeed(reactor, store, pool, interval=radius.change_feed_seconds / 2)
    server = RadiusServer(
        reactor=reactor,
        store=store,
        read_model=feed.model if feed is not None else None,
        dictionary=dictionary or load_dictionary(config),
        clients=radius.clients,
        threadpool=pool,
        handler_config=HandlerConfig(radius.uuid_mode, radius.uuid_format, radius.max_name_bytes),
        cache_seconds=radius.duplicate_cache_seconds,
        decision_cache_seconds=radius.decision_cache_seconds,
        reject_delay=radius.reject_delay,
        acct_spool=AccountingSpool(Path(config.data_dir) / "radius-acct-spool"),
    )
    return RadiusService(
        server, reactor, radius.listen, radius.auth_port, radius.acct_port, feed=feed, reuse_port=reuse_port
    )


def make_radius_services(config: Config, reactor: Any, *, store: Any, workers: int) -> service.Service:
    """RADIUS in this process (``workers`` 1), or ``workers`` worker processes
    sharing the ports under a supervisor (radius.workers)."""
    if workers <= 1:
        return make_radius_service(config, reactor, store=store)
    if not config.radius.clients:
        raise ConfigError(config.source, "radius.clients", "at least one client (address, secret) is required")
    from radius.workers import RadiusWorkers

    load_dictionary(config)  # a bad dictionary fails here, once, not in every worker
    return RadiusWorkers(config, reactor, workers)


def node_settings(config: Config, node_id: str | None = None) -> Any:
    """``[node]`` of ``config``, its id defaulted (host name + data directory hash) or overridden."""
    import socket

    from appliance.node_config import default_node_id, parse_node

    node = parse_node(config.source, config.raw.get("node"))
    chosen = node_id or node.id or default_node_id(socket.gethostname(), str(Path(config.data_dir).resolve()))
    return dataclasses.replace(node, id=chosen)


def make_service(
    config: Config, reactor: Any, *, store: Any, devices: dict[str, str] | None = None, node_id: str | None = None
) -> service.MultiService:
    """Everything ``faxappliance run`` starts for ``config``: RADIUS (when it
    has clients), the controller (lines, queue, cloud) and the web service.
    ``top.appliance`` is the :class:`Appliance` (None without lines, cloud or port-server role)."""
    top = service.MultiService()
    top.appliance = None  # type: ignore[attr-defined]
    if config.radius.clients:
        make_radius_services(config, reactor, store=store, workers=config.radius.workers or 1).setServiceParent(top)
    if config.lines or config.faxage.configured or config.portserver is not None:
        appliance = make_appliance(config, reactor, store=store, devices=devices, node_id=node_id)
        top.appliance = appliance  # type: ignore[attr-defined]
        ApplianceService(appliance, reactor).setServiceParent(top)
        web = make_web(appliance, reactor)
        if web is not None:
            web.setServiceParent(top)
        from appliance.mail.service import make_mail

        web_app = getattr(getattr(web, "site", None), "app", None)
        top.mail = make_mail(appliance, reactor, top, web_app=web_app)  # type: ignore[attr-defined]
        if web_app is not None:
            web_app.deliveries = top.mail.outbox  # the dashboard lists the deliveries
    return top


# ---------------------------------------------------------------- the appliance


@dataclass
class Appliance:
    """The running controller's parts (the web service and tests use them)."""

    config: Config
    store: Any  # radius.store: accounts, DIDs, CDRs
    jobs: Any  # appliance.jobs.JobStore
    inbox: Any  # appliance.inbox.Inbox
    pool: Any  # appliance.lines.LinePool | None
    portserver: Any  # appliance.portserver.PortServer | None
    router: Any  # appliance.router.Router
    scheduler: Any  # appliance.jobs.scheduler.JobScheduler
    cloud: Any  # appliance.router.CloudRoute | None
    inbound: Any  # appliance.inbound.InboundRouter | None
    threadpool: ThreadPool
    run_blocking: Any
    node_id: str
    pollers: list[Any] = field(default_factory=list)
    cloud_sink: Any = None  # appliance.inbound.CloudInboxSink of the FAXAGE inbound poller

    def authenticate(self, username: str, password: str) -> Any:
        """RADIUS Account-Login (Get-Account) for an API user: Deferred[bool]."""
        from radius.model import A, Code, FbCommand, FbContext

        if self.portserver is None:
            from twisted.internet.defer import succeed

            return succeed(False)
        attrs = [
            (A.FB_COMMAND.value, int(FbCommand.GET_ACCOUNT)),
            (A.FB_CONTEXT.value, int(FbContext.ACCOUNT_LOGIN)),
            (A.USER_NAME.value, username),
        ]
        d = self.portserver.client.access(attrs, password=password)
        return d.addCallback(lambda reply: reply.code == Code.ACCESS_ACCEPT)


LINES_FILE_INTERVAL = 2.0
LINES_FILE_SOON = 0.2  # seconds after a call event (page started, confirmed, …) the line states are written
PURGE_INTERVAL = 86400.0  # the daily [retention] purge
PURGE_FIRST = 60.0  # … first run this long after the start


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class ApplianceService(service.Service):
    """Starts the parts in order: recovery, then the scheduler; stops them cleanly."""

    log = Logger()

    def __init__(self, appliance: Appliance, reactor: Any) -> None:
        self.appliance = appliance
        self.reactor = reactor
        self._publisher: task.LoopingCall | None = None
        self._soon: Any = None
        self._purger: task.LoopingCall | None = None
        self._purge_start: Any = None

    def _purge(self) -> Deferred[Any]:
        """The daily housekeeping (see :mod:`appliance.housekeeping`), in the pool thread."""
        from appliance.housekeeping import purge
        from appliance.retention import Retention

        a = self.appliance
        retention = a.config.retention or Retention()
        web = a.config.web
        d = deferToThreadPool(
            self.reactor,
            a.threadpool,
            lambda: purge(
                retention,
                self.reactor.seconds(),
                jobs=a.jobs,
                inbox=a.inbox,
                cdrs=a.store,
                data_dir=a.config.data_dir,
                web_spool=getattr(web, "spool_dir", "") or "",
            ),
        )

        def done(plan: Any) -> None:
            if plan.faxes or plan.inbox or plan.files or plan.cdrs:
                self.log.info(
                    "purge: {faxes} fax(es), {inbox} received fax(es), {files} spool file(s), {cdrs} CDR(s) removed",
                    faxes=len(plan.faxes),
                    inbox=len(plan.inbox),
                    files=len(plan.files),
                    cdrs=plan.cdrs,
                )

        return d.addCallbacks(done, lambda f: self.log.failure("purge failed", f))

    def _start_purger(self) -> None:
        self._purger = task.LoopingCall(self._purge)
        self._purger.clock = self.reactor
        self._purger.start(PURGE_INTERVAL, now=True).addErrback(lambda f: self.log.failure("purge loop stopped", f))

    def _publish_soon(self) -> None:
        """A call event: write the line states within a moment (at most one write pending)."""
        if self._soon is None or not self._soon.active():
            self._soon = self.reactor.callLater(LINES_FILE_SOON, self._publish_lines)

    def startService(self) -> None:
        super().startService()
        a = self.appliance
        a.threadpool.start()
        if a.portserver is not None:
            a.portserver.start_service()
        if a.pool is not None:
            a.pool.startService()
            a.pool.on_call_event = self._publish_soon
            self._publisher = task.LoopingCall(self._publish_lines)
            self._publisher.clock = self.reactor
            self._publisher.start(LINES_FILE_INTERVAL, now=True).addErrback(
                lambda f: self.log.failure("publishing line states failed", f)
            )
        for poller in a.pollers:
            poller.start()
        self._purge_start = self.reactor.callLater(PURGE_FIRST, self._start_purger)
        lookup = a.cloud.lookup if a.cloud is not None else None
        self.log.info("appliance node {node_id} starting", node_id=a.node_id)
        a.scheduler.on_recovered = self._settle
        d = a.scheduler.settle(lookup)
        d.addCallback(self._recovered)
        d.addErrback(lambda f: self.log.failure("job recovery failed", f))

    def _recovered(self, report: Any) -> None:
        if report.requeued or report.finished or report.resumed or report.unresolved:
            self.log.info(
                "recovered jobs: {requeued} requeued, {finished} finished, {resumed} still in the cloud, "
                "{unresolved} unresolved",
                requeued=len(report.requeued),
                finished=len(report.finished),
                resumed=len(report.resumed),
                unresolved=len(report.unresolved),
            )
        self._settle(report)
        self._start_when_lines_ready(self.reactor.seconds() + 15.0)

    def _settle(self, report: Any) -> None:
        """Stops of interrupted sessions; watch cloud jobs still running (their leases renewed meanwhile)."""
        a = self.appliance
        a.router.recovered_stops(report)
        for claim in report.resumed:
            a.scheduler.hold(claim.entry.id)
            d = Deferred.fromCoroutine(a.router.resume(claim))
            d.addErrback(lambda f: self.log.failure("resumed cloud job failed", f))
            d.addBoth(lambda _, i=claim.entry.id: a.scheduler.unhold(i))

    def _start_when_lines_ready(self, deadline: float) -> None:
        """Start claiming once every sending line is online (or after a deadline), so that work
        does not overflow to the cloud only because the lines are still being probed."""
        a = self.appliance
        if not self.running:
            return
        if a.pool is not None and self.reactor.seconds() < deadline:
            wanted = [n for n in a.pool.names if a.pool.config(n).sends]
            if len(a.pool.free_lines()) < len(wanted):
                self.reactor.callLater(0.2, self._start_when_lines_ready, deadline)
                return
        a.scheduler.startService()

    def _publish_lines(self) -> Deferred[None]:
        """Write the pool's live line states to ``<data_dir>/lines.json`` for
        ``faxappliance status`` (in the pool thread: file I/O)."""
        a = self.appliance
        snapshot = {
            "updated_at": self.reactor.seconds(),
            "node": a.node_id,
            "lines": [s.to_json() for s in a.pool.status()],
        }
        path = Path(a.config.data_dir) / "lines.json"
        d = deferToThreadPool(self.reactor, a.threadpool, write_json_atomic, path, snapshot)
        return d.addErrback(lambda f: self.log.failure("cannot write {path}", f, path=str(path)))

    def stopService(self) -> Any:
        super().stopService()
        a = self.appliance
        if self._publisher is not None and self._publisher.running:
            self._publisher.stop()
        if self._soon is not None and self._soon.active():
            self._soon.cancel()
        if self._purge_start is not None and self._purge_start.active():
            self._purge_start.cancel()
        if self._purger is not None and self._purger.running:
            self._purger.stop()
        stopped = a.scheduler.stopService() if a.scheduler.running else succeed(None)
        for poller in a.pollers:
            poller.stop()
        if a.pool is not None:
            a.pool.stopService()  # cancels calls in flight: their results are recorded

        def rest(_: Any) -> Any:
            if a.portserver is not None:
                a.portserver.stop_service()
                a.portserver.client.close()
            a.threadpool.stop()
            a.jobs.close()

        timeout = self.reactor.callLater(20, stopped.cancel) if hasattr(stopped, "cancel") else None

        def untime(result: Any) -> Any:
            if timeout is not None and timeout.active():
                timeout.cancel()
            return result

        return stopped.addBoth(untime).addBoth(rest)


def make_appliance(
    config: Config,
    reactor: Any,
    *,
    store: Any,
    devices: dict[str, str] | None = None,
    node_id: str | None = None,
    token_bytes: Callable[[int], bytes] = os.urandom,
    rng: random.Random | None = None,
    dictionary: Dictionary | None = None,
) -> Appliance:
    """Build the controller for ``config`` (nothing starts until its service does)."""
    from appliance.inbound import CloudInboxSink, InboundRouter, portserver_resolver
    from appliance.inbox import Inbox
    from appliance.jobs import open_job_store
    from appliance.jobs.scheduler import JobScheduler, thread_runner
    from appliance.lines import LinePool, serial_opener
    from appliance.render.runner import shared_pool
    from appliance.router import CloudRoute, Router, routing_filter

    shared_pool(config.limits)  # document conversion for web, inbox and sends, under [limits]

    from appliance.jobs.result_spool import ResultSpool

    rng = rng or random.Random()
    node = node_settings(config, node_id)
    node_id = node.id
    threadpool = ThreadPool(minthreads=1, maxthreads=6, name="appliance")
    run_blocking = thread_runner(reactor, threadpool)
    jobs = open_job_store(config.storage.url, policy=config.retry.policy(), lease_seconds=node.lease_seconds)
    inbox = Inbox(Path(config.data_dir).resolve() / "inbox")
    portserver = None
    if config.portserver is not None:
        from appliance.portserver import make_portserver

        portserver = make_portserver(
            config.portserver, reactor, dictionary or load_dictionary(config), config.data_dir, token_bytes, rng
        )
    pool = None
    if config.lines:
        routing = config.routing
        pool = LinePool(
            reactor,
            config.lines,
            serial_opener(reactor),
            devices=devices,
            rest_after=routing.overflow_after_failures,
            rest_seconds=routing.line_rest_seconds,
        )
    cloud = None
    pollers: list[Any] = []
    sink: Any = None
    if config.faxage.configured and config.routing.policy != "local_only":
        from appliance.cloud.client import TwistedFaxage, client_from_config
        from appliance.cloud.inbound import CursorFile, InboundPoller
        from appliance.cloud.notify import NotifyTracker, StatusPoller

        client = client_from_config(config.faxage, sleep=time.sleep, rng=rng)
        faxage = TwistedFaxage(client, reactor, TwistedFaxage.start_threadpool(reactor, 4))
        tracker = NotifyTracker(config.faxage.notify_url or "http://127.0.0.1/notify", token_bytes)
        cloud = CloudRoute(faxage, tracker, notify=bool(config.faxage.notify_url))
        pollers.append(
            StatusPoller(
                tracker, faxage, reactor, interval=min(config.faxage.poll_interval, 5.0), on_final=cloud.on_final
            )
        )
        sink = CloudInboxSink(inbox, portserver_resolver(reactor, portserver, lambda: token_bytes(6).hex()))
        pollers.append(
            InboundPoller(
                faxage,
                sink,
                CursorFile(Path(config.data_dir) / "faxage-inbound.json"),
                reactor,
                interval=config.faxage.poll_interval,
                run_blocking=faxage.run_in_pool,
            )
        )
    router = Router(reactor, jobs, run_blocking, node_id=node_id, pool=pool, portserver=portserver, cloud=cloud)
    policy = config.routing.policy
    route_filter = routing_filter(policy)
    if cloud is None and route_filter == "any":
        route_filter = "line"
    if pool is None and route_filter == "any":
        route_filter = "cloud"
    scheduler = JobScheduler(
        jobs,
        clock=reactor,
        run_blocking=run_blocking,
        node_id=node_id,
        dispatch=router.dispatch,
        lines=pool.free_lines if pool is not None else (lambda: ()),
        route_filter=route_filter,
        cloud_slots=config.routing.cloud_slots,
        interval=1.0,
        spool=ResultSpool(Path(config.data_dir) / "result-spool"),
        heartbeat=node.heartbeat_seconds,
        cloud_lookup=cloud.lookup if cloud is not None else None,
    )
    inbound = None
    if pool is not None:
        inbound = InboundRouter(
            reactor, pool, inbox, portserver, run_blocking, node_id=node_id, token_hex=lambda: token_bytes(6).hex()
        )
        pool.on_ring = inbound.on_ring
    return Appliance(
        config,
        store,
        jobs,
        inbox,
        pool,
        portserver,
        router,
        scheduler,
        cloud,
        inbound,
        threadpool,
        run_blocking,
        node_id,
        pollers,
        sink,
    )


def make_web(appliance: Appliance, reactor: Any) -> service.Service | None:
    """The web service, when this build has it (``appliance.web.make_web_service``)."""
    try:
        from appliance.web import Authenticator, make_web_service
    except ImportError:
        return None
    from appliance.web.config import parse_web

    if appliance.portserver is None:
        log.warn("no [portserver]: the web service cannot check credentials and is not started")
        return None
    web = parse_web(appliance.config.source, appliance.config.raw.get("web"))
    auth = Authenticator(
        appliance.portserver.client,
        reactor,
        admins=web.admins,
        admin_groups=web.admin_groups,
        ttl=web.auth_cache_seconds,
        negative_ttl=web.auth_negative_cache_seconds,
        token_bytes=os.urandom,
    )
    from appliance.web.accounts import StoreAccountWriter, accounts_are_local

    accounts = StoreAccountWriter(appliance.store) if accounts_are_local(appliance.config, web.accounts) else None
    svc: service.Service = make_web_service(
        appliance.config,
        reactor,
        jobs=appliance.jobs,
        scheduler=appliance.scheduler,
        lines=_WebLines(appliance.pool),
        inbox=_WebInbox(appliance.inbox),
        authenticator=auth,
        cdrs=appliance.store,
        accounts=accounts,
    )
    svc.site.app.node_id = appliance.node_id
    return svc


log = Logger()

_FAXFINDER_STATE = {
    "idle": ("Waiting for Ring", "idle"),
    "dialing": ("Dialing", "send"),
    "sending": ("Sending Page", "send"),
    "receiving": ("Receiving Page", "receive"),
    "offline": ("Offline", "idle"),
}


class _WebLines:
    """The line pool as the web service's LineStatusSource."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def status(self) -> list[Any]:
        from appliance.web.deps import LineInfo

        if self.pool is None:
            return []
        out = []
        for n, line in enumerate(self.pool.status(), start=1):
            text, direction = _FAXFINDER_STATE.get(line.state, ("Waiting for Ring", "idle"))
            info = LineInfo(
                line_id=line.name,
                number=n,
                state=text,
                direction=direction,
                extension=line.did if direction == "receive" else "",
                started_at=line.since if direction != "idle" else None,
            )
            call = line.call
            if call is not None and direction != "idle" and call.ended_at is None:
                page = (call.page or call.confirmed + 1) if call.phase != "dialing" else 0
                if direction == "receive":
                    page = call.pages_sent + 1
                info.remote_id, info.fax_number, info.page = call.remote_id, call.number, page
                info.baud_rate, info.resolution = call.baud_rate, call.resolution
                info.width, info.height, info.connect_time = call.width, call.height, call.connect_time
                info.started_at, info.recipient = call.started_at, call.recipient
                if direction == "send" and call.phase == "connected":
                    info.state = "Negotiating"  # connected, no page under way yet
                info.ecm = "on" if call.ecm else ("off" if call.baud_rate else "")
                info.line_encoding = call.compression
            out.append(info)
        return out


class _WebInbox:
    """The inbox as the web service's InboxSource (string ids)."""

    def __init__(self, inbox: Any) -> None:
        self.inbox = inbox

    @staticmethod
    def _record(item: Any) -> Any:
        from appliance.web.deps import ReceivedFax

        return ReceivedFax(
            id=str(item.id),
            account=item.account,
            received_at=item.received_at,
            pages=item.pages,
            remote_id=item.remote_csid,
            did=item.did,
            previews=tuple(item.previews),
            pdf=item.pdf,
            tiff=item.tiff,
        )

    def list(self, account: str | None = None, limit: int = 50) -> list[Any]:
        return [self._record(i) for i in self.inbox.list(account, limit)]

    def get(self, id: str) -> Any:
        try:
            item = self.inbox.get(int(id))
        except ValueError:
            return None
        return self._record(item) if item is not None else None
