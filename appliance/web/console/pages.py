"""The console's templates (Jinja2, autoescaping on for every template).

``render(name, **context)`` gives UTF-8 HTML.  Values reach the page only
through template expressions, so text from users, faxes and the network is
escaped; nothing is built as HTML in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from importlib.resources import files
from typing import Any

import jinja2

__all__ = ["STATIC", "render", "shown", "static_file"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("appliance.web.console", "templates"),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
#: the console's static files: name -> content type
STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}


def _time(when: float | None, tz: tzinfo) -> str:
    if when is None or when == 0:
        return ""
    return datetime.fromtimestamp(when, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _key(fax_id: int) -> str:
    return f"{fax_id:08X}"


def shown(value: object) -> str:
    """An attribute value as text: the items of a list (as the RADIUS store keeps them) joined by commas."""
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(v) for v in value)
    return "" if value is None else str(value)


_ENV.filters["key"] = _key
_ENV.filters["shown"] = shown


def render(name: str, tz: tzinfo, **context: Any) -> bytes:
    """The page ``name`` (a template file) with ``context``; ``time(t)`` shows a unix time in ``tz``."""
    template = _ENV.get_template(name)
    return template.render(time=lambda when: _time(when, tz), **context).encode("utf-8")


def static_file(name: str) -> bytes | None:
    """A static file's bytes, or None when there is no such file (blocking: a package read)."""
    if name not in STATIC:
        return None

    return files("appliance.web.console").joinpath("static", name).read_bytes()
