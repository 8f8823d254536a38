"""The web service: FaxFinder-compatible FFWS (``/ffws/v1/…``), the
VoipNow-style send endpoint (``/uapi/faxes/…``) and the web console (``/console/``).

``make_web_service(config, reactor, …)`` returns the Twisted service that
``faxappliance run`` starts; ``make_site(…)`` returns the twisted.web Site
alone (tests listen on it themselves).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IReactorTime, IStreamServerEndpoint
from twisted.logger import Logger

from appliance.config import Config, ConfigError
from appliance.config.web import WebConfig, parse_web
from appliance.dialplan import DialPlan
from appliance.jobs.model import EntryState
from appliance.jobs.scheduler import JobScheduler, RunBlocking, thread_runner
from appliance.jobs.store import JobStore
from appliance.private import private_file
from appliance.render import RenderPool
from appliance.render.runner import Renderer, shared_pool
from appliance.web.app import WebApp
from appliance.web.auth import AccessClient, Authenticator, Identity
from appliance.web.deps import AccountWriter, CdrSource, InboxSource, LineInfo, LineStatusSource, ReceivedFax
from appliance.web.directory import Directory, open_directory
from appliance.web.hsts import install_hsts
from appliance.web.resources import WebRoot, WebSite
from appliance.wiring.reactor import Reactor

__all__ = [
    "AccountWriter",
    "Authenticator",
    "CdrSource",
    "Identity",
    "InboxSource",
    "LineInfo",
    "LineStatusSource",
    "ReceivedFax",
    "WebConfig",
    "endpoint_description",
    "make_authenticator",
    "make_site",
    "make_web_service",
    "parse_web",
    "web_secret",
]

log = Logger(namespace="appliance.web")


def make_authenticator(
    web: WebConfig,
    reactor: IReactorTime,
    client: AccessClient,
    token_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> Authenticator:
    """An :class:`Authenticator` over a ``radius.client.RadiusClient`` (or anything with ``access``)."""
    return Authenticator(
        client,
        reactor,
        admins=web.admins,
        admin_groups=web.admin_groups,
        ttl=web.auth_cache_seconds,
        negative_ttl=web.auth_negative_cache_seconds,
        token_bytes=token_bytes,
    )


def make_site(
    web: WebConfig,
    reactor: Reactor,
    *,
    jobs: JobStore,
    scheduler: JobScheduler | None,
    lines: LineStatusSource,
    inbox: InboxSource | None,
    authenticator: Authenticator,
    directory: Directory,
    spool_dir: str,
    cdrs: CdrSource | None = None,
    accounts: AccountWriter | None = None,
    run_blocking: RunBlocking | None = None,
    dialplan: DialPlan | None = None,
    csrf_secret: bytes | None = None,
    render_pool: RenderPool | None = None,
) -> WebSite:
    """The twisted.web Site serving FFWS, UAPI and the web console.

    ``scheduler`` is the ``JobScheduler`` (poked when a fax is ready) or None;
    ``run_blocking`` defaults to the reactor's thread pool; ``accounts`` None
    means the accounts live elsewhere (the users API refuses passwords);
    ``csrf_secret`` keys the console's anti-CSRF tokens (default: random
    per process); ``render_pool`` (document conversion) defaults to the
    process's shared pool."""
    run = run_blocking or thread_runner(reactor, reactor.getThreadPool())
    render = Renderer(render_pool, run) if render_pool is not None else None
    poke: Callable[[], None] = scheduler.poke if scheduler is not None else (lambda: None)
    app = WebApp(
        web,
        clock=reactor,
        run_blocking=run,
        jobs=jobs,
        directory=directory,
        lines=lines,
        inbox=inbox,
        cdrs=cdrs,
        accounts=accounts,
        poke=poke,
        spool_dir=spool_dir,
        tz=ZoneInfo(web.timezone),
        started=reactor.seconds(),
        dialplan=dialplan,
        render=render,
    )
    app.on_password_change = authenticator.forget
    return WebSite(WebRoot(app, authenticator, csrf_secret or secrets.token_bytes(32)), web.max_request_bytes)


def web_secret(data_dir: str) -> bytes:
    """The console's anti-CSRF key: ``<data_dir>/web-secret`` (mode 0600), created on first use."""
    path = Path(data_dir) / "web-secret"
    text, _ = private_file(path, lambda: secrets.token_hex(32))
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = text.encode("utf-8")
    if len(key) < 16:
        raise ConfigError(str(path), "", "holds too short a key: delete the file and a new one is made")
    return key


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


def endpoint_description(web: WebConfig) -> str:
    """The server endpoint string: ``ssl:…`` when a certificate and key are configured."""
    if web.https:
        return (
            f"ssl:port={web.port}:interface={_escape(web.listen)}:privateKey={_escape(web.key)}"
            f":certKey={_escape(web.certificate)}"
        )
    return f"tcp:port={web.port}:interface={_escape(web.listen)}"


class WebService(StreamServerEndpointService):
    """Listens for the web service; on start, faxes a restart left half-converted are marked dead."""

    def __init__(self, endpoint: IStreamServerEndpoint, site: WebSite) -> None:
        super().__init__(endpoint, site)
        self.site = site
        self._settling: Deferred[object] | None = None

    def startService(self) -> None:
        app = self.site.app

        def settle() -> int:
            stuck = {e.fax_id for e in app.jobs.list_entries(states=[EntryState.PREPROCESSING])}
            for fax_id in stuck:
                app.jobs.kill(fax_id, "Conversion interrupted by a restart", now=app.now())
            return len(stuck)

        self._settling = app.run(settle).addErrback(lambda f: log.failure("settling half-converted faxes failed", f))
        super().startService()

    def stopService(self) -> Deferred[None]:
        """Stop listening; fires once the start's settling of half-converted faxes has ended too."""
        stopped = super().stopService()
        waits: list[Deferred[Any]] = [d for d in (stopped, self._settling) if d is not None]
        return DeferredList(waits, consumeErrors=True).addCallback(lambda _: None)


def make_web_service(
    config: Config,
    reactor: Reactor,
    *,
    jobs: JobStore,
    scheduler: JobScheduler | None,
    lines: LineStatusSource,
    inbox: InboxSource | None,
    authenticator: Authenticator,
    directory: Directory | None = None,
    cdrs: CdrSource | None = None,
    accounts: AccountWriter | None = None,
) -> WebService:
    """The web service from ``config`` (an ``appliance.config.Config``; its ``[web]`` table)."""
    web = config.web
    if directory is None:
        directory = open_directory(web.token_store or config.storage.url)
    spool = web.spool_dir or f"{config.data_dir}/web"
    limits = config.limits
    site = make_site(
        web,
        reactor,
        jobs=jobs,
        scheduler=scheduler,
        lines=lines,
        inbox=inbox,
        authenticator=authenticator,
        directory=directory,
        spool_dir=spool,
        cdrs=cdrs,
        accounts=accounts,
        dialplan=config.dialplan,
        csrf_secret=web_secret(config.data_dir),
        render_pool=shared_pool(limits),
    )
    site.app.appliance_config = config  # the console's settings and routes
    install_hsts(site, web)
    return WebService(serverFromString(reactor, endpoint_description(web)), site)
