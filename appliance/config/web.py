"""The ``[web]`` section: TOML table -> a frozen :class:`WebConfig`.

Pure: no file or socket side effects; read through
:class:`appliance.config_reader.Section` (errors name the file, the key and
the problem).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.config_reader import Section
from appliance.fetch_policy import parse_allow

__all__ = ["Accounts", "WebConfig", "origin_of", "parse_web"]

MB = 1024 * 1024
HSTS_MAX_AGE_LIMIT = 10 * 366 * 86400  # ten years
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Accounts(enum.StrEnum):
    """May the users API write passwords (``[web] accounts``; README)?"""

    AUTO = "auto"
    LOCAL = "local"
    EXTERNAL = "external"


class PageSize(enum.StrEnum):
    LETTER = "letter"
    A4 = "a4"


@dataclass(frozen=True)
class WebConfig:
    """Where the web service listens and the limits it enforces."""

    listen: str = "127.0.0.1"  # set an address (or 0.0.0.0) to serve the network
    port: int = 8080
    certificate: str = ""  # PEM certificate; with ``key``: HTTPS
    key: str = ""
    admins: tuple[str, ...] = ("admin",)  # user names with the admin role
    admin_groups: tuple[str, ...] = ()  # FB-Account-Login-Group values with the admin role
    max_request_bytes: int = 36 * MB
    max_recipients: int = 400
    max_files: int = 10  # UAPI files per fax (fx_max_files_reached)
    token_store: str = ""  # URL of the directory/token store; "" = [storage] url
    spool_dir: str = ""  # converted pages and previews; "" = <data_dir>/web
    timezone: str = "UTC"  # the "local time" of created/stime
    auth_cache_seconds: float = 30.0
    auth_negative_cache_seconds: float = 5.0
    external_fetch_timeout: float = 30.0
    fetch_allow: tuple[str, ...] = ()  # networks external attachments may come from although not public
    users_add_global_contacts: bool = False
    page_size: PageSize = PageSize.LETTER
    hsts: bool = False  # with HTTPS: send Strict-Transport-Security
    hsts_max_age: int = 31536000  # seconds browsers remember to use HTTPS only
    trusted_origins: tuple[str, ...] = ()  # more origins browsers may post from (a reverse proxy's name)
    accounts: Accounts = Accounts.AUTO
    login_delay: float = 1.0  # seconds after a failed login; doubles with each further failure
    login_max_delay: float = 300.0
    login_user_limit: int = 5  # failures of a user name after which early attempts get 429
    login_source_limit: int = 20  # the same per source address

    @property
    def https(self) -> bool:
        return bool(self.certificate and self.key)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL (default port dropped, lower case), or None when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_web(source: str, table: object) -> WebConfig:
    """Parse the ``[web]`` table of ``source`` (None: the defaults)."""
    sec = Section(source, "web", table)
    port = sec.port("port", 8080)
    certificate = sec.text("certificate", "")
    key = sec.text("key", "")
    if bool(certificate) != bool(key):
        raise sec.fail("key" if certificate else "certificate", "HTTPS needs both certificate and key (or neither)")
    hsts = sec.flag("hsts", False)
    if hsts and not (certificate and key):
        raise sec.fail("hsts", "needs HTTPS (certificate and key): the header is only sent over HTTPS")
    hsts_max_age = sec.integer("hsts_max_age", 31536000, low=1)
    if hsts_max_age > HSTS_MAX_AGE_LIMIT:
        raise sec.fail("hsts_max_age", f"must be at most {HSTS_MAX_AGE_LIMIT} seconds (ten years), got {hsts_max_age}")
    timezone = sec.text("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise sec.fail("timezone", f"unknown time zone {timezone!r}") from None
    fetch_allow = sec.strings("fetch_allow", (), 'IP networks (strings such as "10.1.2.0/24")')
    try:
        parse_allow(fetch_allow)
    except ValueError as exc:
        raise sec.fail("fetch_allow", str(exc)) from None
    origins = sec.strings("trusted_origins", ())
    for value in origins:
        if origin_of(value) != value.rstrip("/").lower():
            raise sec.fail("trusted_origins", f"{value!r} is not an origin such as https://fax.example.com")
    delay = sec.number("login_delay", 1.0, low=0)
    max_delay = sec.number("login_max_delay", 300.0, low=0)
    if max_delay < delay:
        raise sec.fail("login_max_delay", f"must be at least login_delay ({delay})")
    web = WebConfig(
        listen=sec.text("listen", "127.0.0.1"),
        port=port,
        certificate=certificate,
        key=key,
        admins=sec.strings("admins", ("admin",)),
        admin_groups=sec.strings("admin_groups", ()),
        max_request_bytes=sec.integer("max_request_bytes", 36 * MB, low=1),
        max_recipients=sec.integer("max_recipients", 400, low=1),
        max_files=sec.integer("max_files", 10, low=1),
        token_store=sec.text("token_store", ""),
        spool_dir=sec.text("spool_dir", ""),
        timezone=timezone,
        auth_cache_seconds=sec.number("auth_cache_seconds", 30.0, low=0),
        auth_negative_cache_seconds=sec.number("auth_negative_cache_seconds", 5.0, low=0),
        external_fetch_timeout=sec.number("external_fetch_timeout", 30.0, low=0),
        fetch_allow=fetch_allow,
        users_add_global_contacts=sec.flag("users_add_global_contacts", False),
        page_size=sec.choice("page_size", PageSize, PageSize.LETTER),
        hsts=hsts,
        hsts_max_age=hsts_max_age,
        trusted_origins=tuple(o.rstrip("/").lower() for o in origins),
        accounts=sec.choice("accounts", Accounts, Accounts.AUTO),
        login_delay=delay,
        login_max_delay=max_delay,
        login_user_limit=sec.integer("login_user_limit", 5, low=1),
        login_source_limit=sec.integer("login_source_limit", 20, low=1),
    )
    sec.check_unknown()
    return web
