"""The account/DID/CDR store: ``open_store(url)`` and the API names.

URLs: ``sqlite:///PATH`` (relative to the working directory; an absolute
path gives ``sqlite:////abs/path``), ``sqlite:///:memory:``, optionally with
``?synchronous=normal`` (default FULL); ``postgresql://…`` or
``postgres://…`` (any libpq URI, passed to psycopg as it is).
"""

from __future__ import annotations

from typing import Any, cast

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
from radius.store.urls import open_by_url

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


def open_store(url: str, *, init: bool = True, **options: Any) -> Store:
    """Open the store named by ``url`` and (unless ``init=False``) create its
    schema if needed.  ``options`` go to the implementation's constructor
    (``token_bytes``, ``clock``; SQLite also ``synchronous``, ``busy_timeout``)."""

    def sqlite(path: str, **kw: Any) -> Any:
        from radius.store.sqlite import SqliteStore

        return SqliteStore(path, **kw)

    def postgresql(dsn: str, **kw: Any) -> Any:
        from radius.store.postgresql import PostgresStore

        return PostgresStore(dsn, **kw)

    store = open_by_url(url, sqlite=sqlite, postgresql=postgresql, error=StoreError, init=init, **options)
    return cast(Store, store)
