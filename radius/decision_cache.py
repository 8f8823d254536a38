"""A short-lived cache of handler decisions, so repeated lookups are answered
on the reactor thread without a store round trip.

Pure: time comes in as ``now``.  Only decisions that depend on nothing but
the request attributes in the key and the store's contents are cached (never
Account-Login / Account-Validate, which check a password).  A store change
is visible after at most ``ttl`` seconds; ``ttl = 0`` disables the cache.
"""

from __future__ import annotations

from collections.abc import Hashable

from radius.model import A, Decision, FbContext, Request

__all__ = ["DecisionCache", "decision_key"]

# Every request attribute a handler reads, besides FB-Command/FB-Context.
_KEY_ATTRIBUTES = (
    A.USER_NAME.value,
    A.FB_ACCOUNT_UUID.value,
    A.FB_TRANSFER_TYPE.value,
    A.FB_DIAL_NUMBER.value,
    A.FB_SND_EMAIL.value,
    A.FB_FAX_ATA_TYPE.value,
)
_PASSWORD_CONTEXTS = (FbContext.ACCOUNT_LOGIN, FbContext.ACCOUNT_VALIDATE)


def decision_key(req: Request) -> Hashable | None:
    """The cache key of an Access-Request, or None when it must not be cached."""
    attrs = req.attributes
    command = attrs.get(A.FB_COMMAND.value)
    context = attrs.get(A.FB_CONTEXT.value)
    if not command or not context or context[0] in _PASSWORD_CONTEXTS or req.password is not None:
        return None
    values = tuple(attrs.get(name) for name in _KEY_ATTRIBUTES)
    return (command, context, values)


class DecisionCache:
    def __init__(self, ttl: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Decision]] = {}

    def get(self, key: Hashable, now: float) -> Decision | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= now:
            del self._entries[key]
            return None
        return hit[1]

    def put(self, key: Hashable, decision: Decision, now: float) -> None:
        if self.ttl <= 0:
            return
        entries = self._entries
        if len(entries) >= self.max_entries:
            # Drop the oldest tenth (dicts keep insertion order).
            for old in list(entries)[: max(1, self.max_entries // 10)]:
                del entries[old]
        entries.pop(key, None)
        entries[key] = (now + self.ttl, decision)

    def __len__(self) -> int:
        return len(self._entries)
