"""The account/DID/CDR store: ``open_store(url)`` and the API names.

URLs: ``sqlite:///PATH`` (relative to the working directory; an absolute
path gives ``sqlite:////abs/path``), ``sqlite:///:memory:``, optionally with
``?synchronous=normal`` (default FULL); ``postgresql://…`` or
``postgres://…`` (any libpq URI, passed to psycopg as it is).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qs

from radius.store.api import (
    ACCOUNT_FIELDS,
    DID_FIELDS,
    Account,
    AccountingRecord,
    CalledNumber,
    Device,
    Did,
    DuplicateError,
    NotFoundError,
    SenderEmail,
    Store,
    StoreError,
    normalise_did,
    normalise_mac,
    normalise_serial,
)

__all__ = [
    "ACCOUNT_FIELDS",
    "DID_FIELDS",
    "Account",
    "AccountingRecord",
    "CalledNumber",
    "Device",
    "Did",
    "DuplicateError",
    "NotFoundError",
    "SenderEmail",
    "Store",
    "StoreError",
    "normalise_did",
    "normalise_mac",
    "normalise_serial",
    "open_store",
]

_SQLITE = "sqlite:///"


def open_store(url: str, *, init: bool = True, **options: Any) -> Store:
    """Open the store named by ``url`` and (unless ``init=False``) create its
    schema if needed.  ``options`` go to the implementation's constructor
    (``token_bytes``, ``clock``; SQLite also ``synchronous``, ``busy_timeout``)."""
    store: Any
    if url.startswith(_SQLITE):
        from radius.store.sqlite import SqliteStore

        path, _, query = url[len(_SQLITE) :].partition("?")
        if not path:
            raise StoreError(f"{url!r}: the SQLite URL names no file (sqlite:///PATH)")
        for key, values in parse_qs(query, keep_blank_values=True).items():
            if key != "synchronous":
                raise StoreError(f"{url!r}: unknown SQLite URL option {key!r} (known: synchronous)")
            options.setdefault("synchronous", values[-1])
        store = SqliteStore(path, **options)
    elif url.startswith(("postgresql://", "postgres://")):
        from radius.store.postgresql import PostgresStore

        store = PostgresStore(url, **options)
    else:
        raise StoreError(f"unsupported store URL {url.split(':', 1)[0]!r}: use sqlite:///PATH or postgresql://…")
    if init:
        try:
            store.init_schema()
        except BaseException:
            store.close()
            raise
    return cast(Store, store)
