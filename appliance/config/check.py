"""``faxappliance config check``: every error of a configuration file, not
only the first.  Each section's parser runs on its own (so one bad section
does not hide the others); the whole-file rules between sections run when
the sections themselves are fine."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config import ConfigError, parse

__all__ = ["all_errors"]


def _checks(source: str, data: dict[str, Any], base_dir: str) -> list[tuple[str, Callable[[], Any]]]:
    from appliance import config as c
    from appliance.config.lines import parse_lines, parse_retry, parse_routing
    from appliance.dialplan import parse_dialplan
    from appliance.node_config import parse_node
    from appliance.render.limits import parse_limits
    from appliance.retention import parse_retention
    from appliance.config.web import parse_web

    data_dir = data.get("data_dir") if isinstance(data.get("data_dir"), str) else str(Path(base_dir) / "var")
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("storage", lambda: c._parse_storage(source, data.get("storage", {}), data_dir)),
        ("radius", lambda: c._parse_radius(source, data.get("radius", {}))),
        ("faxage", lambda: c._parse_faxage(source, data.get("faxage", {}))),
        ("lines", lambda: parse_lines(source, data.get("lines", []))),
        ("routing", lambda: parse_routing(source, data.get("routing", {}))),
        ("retry", lambda: parse_retry(source, data.get("retry", {}))),
        ("web", lambda: parse_web(source, data.get("web", {}))),
        ("dialplan", lambda: parse_dialplan(source, data.get("dialplan", {}))),
        ("limits", lambda: parse_limits(source, data.get("limits", {}))),
        ("node", lambda: parse_node(source, data.get("node"))),
        (
            "retention",
            lambda: parse_retention(
                data.get("retention", {}) if isinstance(data.get("retention", {}), dict) else _not_table("retention")
            ),
        ),
    ]
    if "portserver" in data:
        from appliance.portserver_config import parse_portserver

        checks.append(("portserver", lambda: parse_portserver(source, data["portserver"])))
    if any(k in data for k in ("smtp", "email_gateway", "inbound_routes")):
        from appliance.mail.config import parse_mail

        checks.append(("smtp", lambda: parse_mail(source, data)))
    return checks


def _not_table(name: str) -> Any:
    raise ValueError(f"{name}: must be a table")


def all_errors(path: str | Path) -> list[str]:
    """Every error found in the file at ``path`` (empty when it is valid), one line each."""
    p = Path(path)
    source = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        return [f"{source}: cannot read: {exc.strerror}"]
    except UnicodeDecodeError:
        return [f"{source}: not UTF-8 text"]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [f"{source}: not valid TOML: {exc}"]
    errors: list[str] = []
    for name, check in _checks(source, data, str(p.parent)):
        try:
            check()
        except ConfigError as exc:
            errors.append(str(exc))
        except (ValueError, TypeError, AttributeError) as exc:
            text = str(exc)
            errors.append(f"{source}: {text}" if text.startswith(name) else f"{source}: {name}: {text}")
    if not errors:
        try:
            parse(text, source, base_dir=str(p.parent))  # the rules between sections, unknown top-level keys
        except ConfigError as exc:
            errors.append(str(exc))
    return list(dict.fromkeys(errors))
