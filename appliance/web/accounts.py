"""Where FFWS ``<password>`` goes: the RADIUS account store (blocking)."""

from __future__ import annotations

import secrets
from typing import Any, Callable

from radius.passwords import hash_password
from radius.store.api import Account

__all__ = ["StoreAccountWriter"]


class StoreAccountWriter:
    """An ``AccountWriter`` over a ``radius.store`` Store: creates the account
    or replaces its password hash.  The password itself is never stored."""

    def __init__(self, store: Any, token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self._store = store
        self._token_bytes = token_bytes

    def set_password(self, username: str, password: str) -> None:
        hashed = hash_password(password, self._token_bytes(16))
        if self._store.get_account(username) is None:
            self._store.add_account(Account(name=username, password_hash=hashed))
        else:
            self._store.update_account(username, password_hash=hashed)
