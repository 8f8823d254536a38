"""Where FFWS ``<password>`` goes: the RADIUS account store (blocking), when
the accounts are ours.

:func:`accounts_are_local` decides it from the configuration: ``[web]
accounts = "local"`` or ``"external"`` says so outright; ``"auto"`` (the
default) means local when this process answers RADIUS (``[radius]`` has
clients) and every ``[portserver]`` server is that RADIUS listener (its
address, or a loopback address when it listens on all, and its auth port).
Otherwise the accounts live on another RADIUS server, which this service
cannot change, and the users API refuses passwords (409).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable

from appliance.config import Config
from appliance.config.web import Accounts
from appliance.web.model import WebError
from radius.passwords import hash_password
from radius.store.api import Account, DuplicateError, Store

__all__ = ["StoreAccountWriter", "accounts_are_local"]


class StoreAccountWriter:
    """An ``AccountWriter`` over a ``radius.store`` Store: creates the account
    or replaces its password hash.  The password itself is never stored."""

    def __init__(self, store: Store, token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self._store = store
        self._token_bytes = token_bytes

    def has_account(self, username: str) -> bool:
        return self._store.get_account(username) is not None

    def add_account(self, username: str, password: str) -> None:
        """Create the account; WebError 400 when it exists (POST never changes a password)."""
        try:
            self._store.add_account(Account(name=username, password_hash=self._hash(password)))
        except DuplicateError:
            raise WebError(
                400,
                f"account {username!r} already exists: PUT /ffws/v1/users/{username} "
                "changes its password, a POST without <password> adds its profile",
            ) from None

    def _hash(self, password: str) -> str:
        return hash_password(password, self._token_bytes(16))

    def set_password(self, username: str, password: str) -> None:
        hashed = self._hash(password)
        if self._store.get_account(username) is None:
            self._store.add_account(Account(name=username, password_hash=hashed))
        else:
            self._store.update_account(username, password_hash=hashed)


def _ours(address: str, listen: str) -> bool:
    try:
        addr, here = ipaddress.ip_address(address), ipaddress.ip_address(listen)
    except ValueError:
        return False
    return addr == here or (here.is_unspecified and addr.is_loopback)


def accounts_are_local(config: Config, mode: Accounts = Accounts.AUTO) -> bool:
    """Whether the web users' accounts are in this appliance's own store (``mode``: ``[web] accounts``)."""
    if mode is not Accounts.AUTO:
        return mode is Accounts.LOCAL
    radius, portserver = config.radius, config.portserver
    if not radius.clients or portserver is None or not portserver.servers:
        return False
    return all(s.auth_port == radius.auth_port and _ours(s.address, radius.listen) for s in portserver.servers)
