"""Service assembly: config -> Twisted services.  Collaborators are injectable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.application import service
from twisted.python.threadpool import ThreadPool

from appliance.config import Config, ConfigError
from radius.codec import Dictionary
from radius.handlers import HandlerConfig
from radius.server import RadiusServer, RadiusService

__all__ = ["PACKAGED_DICTIONARY", "load_dictionary", "make_radius_service"]

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


def make_radius_service(config: Config, reactor: Any, *, store: Any, dictionary: Dictionary | None = None,
                        threadpool: ThreadPool | None = None) -> RadiusService:
    """The RADIUS auth + accounting service for ``config``."""
    radius = config.radius
    if not radius.clients:
        raise ConfigError(config.source, "radius.clients", "at least one client (address, secret) is required")
    server = RadiusServer(
        reactor=reactor,
        store=store,
        dictionary=dictionary or load_dictionary(config),
        clients=radius.clients,
        threadpool=threadpool or ThreadPool(minthreads=2, maxthreads=8, name="radius-store"),
        handler_config=HandlerConfig(radius.uuid_mode, radius.uuid_format, radius.max_name_bytes),
        cache_seconds=radius.duplicate_cache_seconds,
    )
    return RadiusService(server, reactor, radius.listen, radius.auth_port, radius.acct_port)


def make_service(config: Config, reactor: Any, *, store: Any) -> service.MultiService:
    """Everything ``faxappliance run`` starts for ``config``."""
    top = service.MultiService()
    make_radius_service(config, reactor, store=store).setServiceParent(top)
    return top
