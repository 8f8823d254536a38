"""The RADIUS server of ``[radius]``: in this process, or as worker processes
sharing the ports under a supervisor (``[radius] workers``)."""

from __future__ import annotations

from pathlib import Path

from twisted.python.threadpool import ThreadPool

from appliance.config import Config, ConfigError
from appliance.wiring.reactor import Reactor
from radius.acct_spool import AccountingSpool
from radius.codec import Dictionary
from radius.feed import ReadModelFeed
from radius.handlers import HandlerConfig
from radius.server import RadiusServer, RadiusService
from radius.store import Store
from radius.workers import RadiusWorkers

__all__ = ["PACKAGED_DICTIONARY", "load_dictionary", "make_radius_service", "make_radius_services"]

PACKAGED_DICTIONARY = Path(__file__).resolve().parents[2] / "dictionary"


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


def _require_clients(config: Config) -> None:
    if not config.radius.clients:
        raise ConfigError(config.source, "radius.clients", "at least one client (address, secret) is required")


def make_radius_service(
    config: Config,
    reactor: Reactor,
    *,
    store: Store,
    dictionary: Dictionary | None = None,
    threadpool: ThreadPool | None = None,
    reuse_port: bool = False,
) -> RadiusService:
    """The RADIUS auth + accounting service for ``config``."""
    radius = config.radius
    _require_clients(config)
    pool = threadpool or ThreadPool(minthreads=2, maxthreads=8, name="radius-store")
    feed = ReadModelFeed(reactor, store, pool, interval=radius.change_feed_seconds / 2) if radius.read_model else None
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


def make_radius_services(config: Config, reactor: Reactor, *, store: Store, workers: int) -> RadiusService:
    """RADIUS in this process (``workers`` 1), or ``workers`` worker processes
    sharing the ports under a supervisor (radius.workers)."""
    if workers <= 1:
        return make_radius_service(config, reactor, store=store)
    _require_clients(config)
    load_dictionary(config)  # a bad dictionary fails here, once, not in every worker
    return RadiusWorkers(config, reactor, workers)
