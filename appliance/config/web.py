"""The ``[web]`` section: TOML table -> a frozen :class:`WebConfig`.

Pure: no file or socket side effects.  Errors are
:class:`appliance.config.ConfigError` naming the file, the key and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.config import ConfigError
from appliance.fetch_policy import parse_allow

__all__ = ["WebConfig", "parse_web"]

MB = 1024 * 1024


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
    page_size: str = "letter"  # letter | a4
    hsts: bool = False  # with HTTPS: send Strict-Transport-Security
    hsts_max_age: int = 31536000  # seconds browsers remember to use HTTPS only
    trusted_origins: tuple[str, ...] = ()  # more origins browsers may post from (a reverse proxy's name)
    accounts: str = "auto"  # auto | local | external: may the users API write passwords? (README)
    login_delay: float = 1.0  # seconds after a failed login; doubles with each further failure
    login_max_delay: float = 300.0
    login_user_limit: int = 5  # failures of a user name after which early attempts get 429
    login_source_limit: int = 20  # the same per source address

    @property
    def https(self) -> bool:
        return bool(self.certificate and self.key)


_KEYS = {f for f in WebConfig.__dataclass_fields__}


def _fail(source: str, key: str, problem: str) -> ConfigError:
    return ConfigError(source, f"web.{key}", problem)


def _get(source: str, table: dict[str, Any], key: str, kinds: type | tuple[type, ...], default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise _fail(source, key, f"must be {_kind_name(kinds)}, not a boolean")
    if not isinstance(value, kinds):
        raise _fail(source, key, f"must be {_kind_name(kinds)}, not {type(value).__name__}")
    return value


def _kind_name(kinds: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list"}
    seq = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(names.get(k, k.__name__) for k in seq)


def _names(source: str, table: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = _get(source, table, key, list, list(default))
    if not all(isinstance(v, str) and v for v in value):
        raise _fail(source, key, "must be a list of non-empty strings")
    return tuple(value)


def _networks(source: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = _get(source, table, key, list, [])
    if not all(isinstance(v, str) for v in value):
        raise _fail(source, key, 'must be a list of IP networks (strings such as "10.1.2.0/24")')
    try:
        parse_allow(value)
    except ValueError as exc:
        raise _fail(source, key, str(exc)) from None
    return tuple(value)


def _positive_int(source: str, table: dict[str, Any], key: str, default: int) -> int:
    value = _get(source, table, key, int, default)
    if value < 1:
        raise _fail(source, key, f"must be at least 1, not {value}")
    return int(value)


def _seconds(source: str, table: dict[str, Any], key: str, default: float) -> float:
    value = float(_get(source, table, key, (int, float), default))
    if value < 0:
        raise _fail(source, key, f"must not be negative, not {value}")
    return value


HSTS_MAX_AGE_LIMIT = 10 * 366 * 86400  # ten years


def _hsts_max_age(source: str, table: dict[str, Any]) -> int:
    value = _positive_int(source, table, "hsts_max_age", 31536000)
    if value > HSTS_MAX_AGE_LIMIT:
        raise _fail(source, "hsts_max_age", f"must be at most {HSTS_MAX_AGE_LIMIT} seconds (ten years), not {value}")
    return value


def parse_web(source: str, table: Any) -> WebConfig:
    """Parse the ``[web]`` table (``Config.raw.get("web", {})``) from ``source``."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(source, "web", "must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")
    port = _get(source, table, "port", int, 8080)
    if not 0 <= port <= 65535:
        raise _fail(source, "port", f"must be 0..65535, not {port}")
    certificate = _get(source, table, "certificate", str, "")
    key = _get(source, table, "key", str, "")
    if bool(certificate) != bool(key):
        raise _fail(
            source, "key" if certificate else "certificate", "HTTPS needs both certificate and key (or neither)"
        )
    hsts = _get(source, table, "hsts", bool, False)
    if hsts and not (certificate and key):
        raise _fail(source, "hsts", "needs HTTPS (certificate and key): the header is only sent over HTTPS")
    page_size = _get(source, table, "page_size", str, "letter")
    if page_size not in ("letter", "a4"):
        raise _fail(source, "page_size", f"must be letter or a4, not {page_size!r}")
    timezone = _get(source, table, "timezone", str, "UTC")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:
        raise _fail(source, "timezone", f"unknown time zone {timezone!r}") from None
    return WebConfig(
        listen=_get(source, table, "listen", str, "127.0.0.1"),
        port=port,
        certificate=certificate,
        key=key,
        admins=_names(source, table, "admins", ("admin",)),
        admin_groups=_names(source, table, "admin_groups", ()),
        max_request_bytes=_positive_int(source, table, "max_request_bytes", 36 * MB),
        max_recipients=_positive_int(source, table, "max_recipients", 400),
        max_files=_positive_int(source, table, "max_files", 10),
        token_store=_get(source, table, "token_store", str, ""),
        spool_dir=_get(source, table, "spool_dir", str, ""),
        timezone=timezone,
        auth_cache_seconds=_seconds(source, table, "auth_cache_seconds", 30.0),
        auth_negative_cache_seconds=_seconds(source, table, "auth_negative_cache_seconds", 5.0),
        external_fetch_timeout=_seconds(source, table, "external_fetch_timeout", 30.0),
        fetch_allow=_networks(source, table, "fetch_allow"),
        users_add_global_contacts=_get(source, table, "users_add_global_contacts", bool, False),
        page_size=page_size,
        hsts=hsts,
        hsts_max_age=_hsts_max_age(source, table),
        **_login(source, table),
    )


def _login(source: str, table: dict[str, Any]) -> dict[str, Any]:
    """The browser-safety and login-throttling keys."""
    from appliance.web.browser import origin_of

    origins = _names(source, table, "trusted_origins", ())
    for value in origins:
        if origin_of(value) != value.rstrip("/").lower():
            raise _fail(source, "trusted_origins", f"{value!r} is not an origin such as https://fax.example.com")
    accounts = _get(source, table, "accounts", str, "auto")
    if accounts not in ("auto", "local", "external"):
        raise _fail(source, "accounts", f"must be auto, local or external, not {accounts!r}")
    delay = _seconds(source, table, "login_delay", 1.0)
    max_delay = _seconds(source, table, "login_max_delay", 300.0)
    if max_delay < delay:
        raise _fail(source, "login_max_delay", f"must be at least login_delay ({delay})")
    return {
        "trusted_origins": tuple(o.rstrip("/").lower() for o in origins),
        "accounts": accounts,
        "login_delay": delay,
        "login_max_delay": max_delay,
        "login_user_limit": _positive_int(source, table, "login_user_limit", 5),
        "login_source_limit": _positive_int(source, table, "login_source_limit", 20),
    }
