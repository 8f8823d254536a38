"""Who is calling: HTTP Basic credentials checked through RADIUS.

Every FFWS request carries Basic credentials; they are checked with a
RADIUS Access-Request ``FB-Command = Get-Account``, ``FB-Context =
Account-Login`` (User-Name + User-Password), so any RADIUS account store
works (ours, FreeRADIUS, …).  Answers are cached for a short time: a
positive answer ``ttl`` seconds, a negative one ``negative_ttl`` seconds.
Cache keys are an HMAC (random per-process key) of user name and password:
the password itself is never kept, logged or compared in the clear.

The admin role: the user name is in ``[web] admins`` or the Access-Accept's
``FB-Account-Login-Group`` is in ``[web] admin_groups``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from radius.client import Attr, Reply
from radius.model import A, Code, FbCommand, FbContext

__all__ = ["AccessClient", "AuthUnavailable", "Authenticator", "Identity", "basic_credentials", "bearer_token"]


class AuthUnavailable(Exception):
    """No RADIUS server answered: credentials could not be checked."""


@dataclass(frozen=True)
class Identity:
    """An authenticated caller."""

    username: str
    admin: bool = False


class AccessClient(Protocol):
    def access(self, attributes: Sequence[Attr], password: str | None = None) -> Deferred[Reply]: ...


def basic_credentials(header: bytes | None) -> tuple[str, str] | None:
    """(user, password) of an ``Authorization: Basic …`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        return None
    return user, password


def bearer_token(header: bytes | None) -> str | None:
    """The token of ``Authorization: Bearer TOKEN`` (or ``token TOKEN``), or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(b" ")
    if scheme.lower() not in (b"bearer", b"token") or not value.strip():
        return None
    try:
        return value.strip().decode("ascii")
    except UnicodeDecodeError:
        return None


class Authenticator:
    """Checks credentials through RADIUS Account-Login, with a small cache."""

    def __init__(
        self,
        client: AccessClient,
        clock: IReactorTime,
        *,
        admins: Sequence[str] = ("admin",),
        admin_groups: Sequence[str] = (),
        ttl: float = 30.0,
        negative_ttl: float = 5.0,
        token_bytes: Callable[[int], bytes],
        max_entries: int = 1024,
    ) -> None:
        self._client = client
        self._clock = clock
        self._admins = frozenset(admins)
        self._admin_groups = frozenset(admin_groups)
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._key = token_bytes(32)
        self._max = max_entries
        self._cache: dict[bytes, tuple[float, Identity | None, str]] = {}
        self.radius_requests = 0  # how many Access-Requests were sent (for tests and metrics)

    def _cache_key(self, user: str, password: str) -> bytes:
        message = user.encode("utf-8") + b"\x00" + password.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def authenticate(self, user: str, password: str) -> Deferred[Identity | None]:
        """The caller's identity, or None for unknown user or wrong password;
        fails with :class:`AuthUnavailable` when no RADIUS server answered."""
        key = self._cache_key(user, password)
        now = self._clock.seconds()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            d: Deferred[Identity | None] = Deferred()
            d.callback(cached[1])
            return d
        self.radius_requests += 1
        attrs: list[Attr] = [
            (A.USER_NAME.value, user),
            (A.FB_COMMAND.value, int(FbCommand.GET_ACCOUNT)),
            (A.FB_CONTEXT.value, int(FbContext.ACCOUNT_LOGIN)),
        ]
        result = self._client.access(attrs, password=password)

        def answered(reply: Reply) -> Identity | None:
            identity: Identity | None = None
            if reply.code == Code.ACCESS_ACCEPT:
                group = reply.get_str(A.FB_ACCOUNT_LOGIN_GROUP.value) or ""
                identity = Identity(user, user in self._admins or (bool(group) and group in self._admin_groups))
            ttl = self._ttl if identity is not None else self._negative_ttl
            self._remember(key, self._clock.seconds() + ttl, identity, user)
            return identity

        def unavailable(failure: Failure) -> None:
            raise AuthUnavailable(f"cannot check credentials: {failure.getErrorMessage()}")

        return result.addCallbacks(answered, unavailable)

    def forget(self, user: str) -> None:
        """Drop every cached answer for ``user`` (its password changed)."""
        for k in [k for k, (_, _, name) in self._cache.items() if name == user]:
            del self._cache[k]

    def _remember(self, key: bytes, until: float, identity: Identity | None, user: str) -> None:
        if len(self._cache) >= self._max:
            now = self._clock.seconds()
            for k in [k for k, (t, _, _) in self._cache.items() if t <= now]:
                del self._cache[k]
            if len(self._cache) >= self._max:
                self._cache.clear()
        self._cache[key] = (until, identity, user)
