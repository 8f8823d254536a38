"""Service assembly: config -> Twisted services.  Collaborators are injectable.

:func:`make_service` is everything ``faxappliance run`` starts; :func:`make_appliance`
builds the controller (nothing starts until its service does).
"""

from __future__ import annotations

import dataclasses
import os
import random
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from twisted.application import service
from twisted.internet.defer import Deferred
from twisted.python.threadpool import ThreadPool

from appliance.cloud.client import TwistedFaxage, client_from_config
from appliance.cloud.notify import NotifyTracker, StatusPoller
from appliance.cloud.receive_poller import CursorFile, InboundPoller
from appliance.config import Config, RoutingPolicy
from appliance.inbound.inbox import Inbox
from appliance.inbound.router import InboundRouter
from appliance.inbound.sinks import CloudInboxSink, portserver_resolver
from appliance.jobs import open_job_store
from appliance.jobs.result_spool import ResultSpool
from appliance.jobs.scheduler import JobScheduler, thread_runner
from appliance.lines import LinePool, serial_opener
from appliance.mail.service import MailParts, make_mail
from appliance.node_config import NodeConfig, default_node_id
from appliance.outbound import CloudRoute, Router
from appliance.outcomes import effective_route_filter
from appliance.portserver.role import PortServer, make_portserver
from appliance.render.runner import shared_pool
from appliance.wiring.controller import Appliance, ApplianceService, Poller, StopHook
from appliance.wiring.radius_services import load_dictionary, make_radius_services
from appliance.wiring.reactor import Reactor
from appliance.wiring.web_adapters import make_web
from radius.codec import Dictionary
from radius.store import Store

__all__ = ["ProcessServices", "make_appliance", "make_service", "node_settings"]


class ProcessServices(service.MultiService):
    """The services of one ``faxappliance run`` process, with the parts the
    command line reports on."""

    def __init__(self) -> None:
        super().__init__()
        self.appliance: Appliance | None = None  # None without lines, cloud or port-server role
        self.mail: MailParts | None = None


def node_settings(config: Config, node_id: str | None = None) -> NodeConfig:
    """``[node]`` of ``config``, its id defaulted (host name + data directory hash) or overridden."""
    node = config.node
    chosen = node_id or node.id or default_node_id(socket.gethostname(), str(Path(config.data_dir).resolve()))
    return dataclasses.replace(node, id=chosen)


def make_service(
    config: Config,
    reactor: Reactor,
    *,
    store: Store,
    devices: dict[str, str] | None = None,
    node_id: str | None = None,
    before: Sequence[service.IService] = (),
) -> ProcessServices:
    """Everything ``faxappliance run`` starts for ``config``: RADIUS (when it
    has clients), the controller (lines, queue, cloud) and the web service.
    ``before``: services the controller depends on (the embedded default's
    simulated network): started first and, as services stop in reverse order
    (:func:`appliance.startup.stop_started`), stopped last."""
    top = ProcessServices()
    for svc in before:
        svc.setServiceParent(top)
    if config.radius.clients:
        make_radius_services(config, reactor, store=store, workers=config.radius.workers or 1).setServiceParent(top)
    if config.lines or config.faxage.configured or config.portserver is not None:
        appliance = make_appliance(config, reactor, store=store, devices=devices, node_id=node_id)
        top.appliance = appliance
        ApplianceService(appliance, reactor).setServiceParent(top)
        web = make_web(appliance, reactor)
        if web is not None:
            web.setServiceParent(top)
        web_app = web.site.app if web is not None else None
        top.mail = make_mail(appliance, reactor, top)
        if web_app is not None:
            web_app.deliveries = top.mail.outbox  # the dashboard lists the deliveries
    return top


def make_appliance(
    config: Config,
    reactor: Reactor,
    *,
    store: Store,
    devices: dict[str, str] | None = None,
    node_id: str | None = None,
    token_bytes: Callable[[int], bytes] = os.urandom,
    rng: random.Random | None = None,
    dictionary: Dictionary | None = None,
) -> Appliance:
    """Build the controller for ``config`` (nothing starts until its service does)."""
    shared_pool(config.limits)  # document conversion for web, inbox and sends, under [limits]
    rng = rng or random.Random()
    node = node_settings(config, node_id)
    threadpool = ThreadPool(minthreads=1, maxthreads=6, name="appliance")
    run_blocking = thread_runner(reactor, threadpool)
    jobs = open_job_store(config.storage.url, policy=config.retry.policy(), lease_seconds=node.lease_seconds)
    inbox = Inbox(Path(config.data_dir).resolve() / "inbox")
    portserver: PortServer | None = None
    if config.portserver is not None:
        portserver = make_portserver(
            config.portserver, reactor, dictionary or load_dictionary(config), config.data_dir, token_bytes, rng
        )
    pool: LinePool | None = None
    if config.lines:
        pool = LinePool(
            reactor,
            config.lines,
            serial_opener(reactor),
            devices=devices,
            rest_after=config.routing.overflow_after_failures,
            rest_seconds=config.routing.line_rest_seconds,
        )
    cloud: CloudRoute | None = None
    pollers: list[Poller] = []
    sink: CloudInboxSink | None = None
    if config.faxage.configured and config.routing.policy is not RoutingPolicy.LOCAL_ONLY:
        client = client_from_config(config.faxage, sleep=time.sleep, rng=rng)
        faxage = TwistedFaxage(client, reactor, TwistedFaxage.start_threadpool(reactor, 4))
        tracker = NotifyTracker(config.faxage.notify_url or "http://127.0.0.1/notify", token_bytes)
        cloud = CloudRoute(faxage, tracker, notify=bool(config.faxage.notify_url))
        interval = min(config.faxage.poll_interval, 5.0)
        pollers.append(StatusPoller(tracker, faxage, reactor, interval=interval, on_final=cloud.on_final))
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
    router = Router(reactor, jobs, run_blocking, node_id=node.id, pool=pool, portserver=portserver, cloud=cloud)
    route_filter = effective_route_filter(
        config.routing.policy, has_lines=pool is not None, has_cloud=cloud is not None
    )
    scheduler = JobScheduler(
        jobs,
        clock=reactor,
        run_blocking=run_blocking,
        node_id=node.id,
        dispatch=router.dispatch,
        lines=pool.free_lines if pool is not None else (lambda: ()),
        route_filter=route_filter,
        cloud_slots=config.routing.cloud_slots,
        interval=1.0,
        spool=ResultSpool(Path(config.data_dir) / "result-spool"),
        heartbeat=node.heartbeat_seconds,
        cloud_lookup=cloud.lookup if cloud is not None else None,
    )
    inbound: InboundRouter | None = None
    if pool is not None:
        inbound = InboundRouter(
            reactor, pool, inbox, portserver, run_blocking, node_id=node.id, token_hex=lambda: token_bytes(6).hex()
        )
        pool.on_ring = inbound.on_ring
    return Appliance(
        config=config,
        store=store,
        jobs=jobs,
        inbox=inbox,
        pool=pool,
        portserver=portserver,
        router=router,
        scheduler=scheduler,
        cloud=cloud,
        inbound=inbound,
        threadpool=threadpool,
        run_blocking=run_blocking,
        node_id=node.id,
        pollers=pollers,
        cloud_sink=sink,
        stop_hooks=_router_stop_hooks(router, inbound),
    )


def _router_stop_hooks(router: Router, inbound: InboundRouter | None) -> list[StopHook]:
    """The routers wait (bounded) for the Starts, Stops and calls they still have in flight,
    so the port-server role is still up when the last Accounting-Stop goes out."""
    hooks: list[StopHook] = [lambda: Deferred.fromCoroutine(router.stop())]
    if inbound is not None:
        hooks.append(lambda: Deferred.fromCoroutine(inbound.stop()))
    return hooks
