"""Database URLs shared by every store of the product (accounts, jobs, web).

``sqlite:///PATH`` (relative to the working directory; ``sqlite:////abs``),
``sqlite:///:memory:``, with an optional ``?synchronous=…``; ``postgresql://…``
or ``postgres://…`` (any libpq URI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

from radius.store.api import Dialect

__all__ = ["open_by_url", "split_store_url"]

T = TypeVar("T")
_SQLITE = "sqlite:///"


def split_store_url(
    url: str, options: dict[str, Any], error: Callable[[str], Exception], what: str = "store"
) -> tuple[Dialect, str]:
    """``(Dialect.SQLITE, path)`` or ``(Dialect.POSTGRESQL, url)``; SQLite URL options go into ``options``."""
    if url.startswith(_SQLITE):
        path, _, query = url[len(_SQLITE) :].partition("?")
        if not path:
            raise error(f"{url!r}: the SQLite URL names no file (sqlite:///PATH)")
        for key, values in parse_qs(query, keep_blank_values=True).items():
            if key != "synchronous":
                raise error(f"{url!r}: unknown SQLite URL option {key!r} (known: synchronous)")
            options.setdefault("synchronous", values[-1])
        return Dialect.SQLITE, path
    if url.startswith(("postgresql://", "postgres://")):
        return Dialect.POSTGRESQL, url
    raise error(f"unsupported {what} URL {url.split(':', 1)[0]!r}: use sqlite:///PATH or postgresql://…")


def open_by_url(
    url: str,
    *,
    sqlite: Callable[..., T],
    postgresql: Callable[..., T],
    error: Callable[[str], Exception],
    what: str = "store",
    init: bool = True,
    **options: Any,
) -> T:
    """Build the store for ``url`` with ``sqlite(path, **options)`` or
    ``postgresql(url, **options)``; create its schema unless ``init=False``
    (closing it again if that fails)."""
    kind, target = split_store_url(url, options, error, what)
    made = (sqlite if kind is Dialect.SQLITE else postgresql)(target, **options)
    if init:
        store: Any = made  # any store: it has init_schema() and close()
        try:
            store.init_schema()
        except BaseException:
            store.close()
            raise
    return made
