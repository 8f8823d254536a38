"""Login throttling: exponential delay per user name and per source address.

Pure: time comes in as ``now``.  After ``n`` failed logins for a key (a user
name, or a source address; IPv6 sources count per /64), the next attempt for
that key is not considered before ``base_delay * 2**(n-1)`` seconds (at most
``max_delay``) have passed since the last one.  An early attempt waits out
the rest, or, once the key has failed ``refuse_after`` times, is refused
at once (the web service answers 429 with ``Retry-After``) without checking
the password, so a lock-out never tells a guess right from wrong.

An attempt let through for a user name that has failures takes that name's
slot: a concurrent attempt waits another full delay, so parallel
connections buy no extra guesses at one account.  A source's delay counts
from its last failure only, so the other users behind a shared address wait
at most once per failure, not before every request.  A successful login
clears the user name's record (not the source's).  A key with no failure for ``forget_after`` seconds is forgotten;
each table keeps at most ``max_keys`` keys (the stalest go first), so
memory stays bounded whatever names and addresses callers invent.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["LoginThrottle", "ThrottlePolicy", "Verdict", "printable", "source_key"]


@dataclass(frozen=True)
class ThrottlePolicy:
    base_delay: float = 1.0  # seconds after the first failure; doubles with each further one
    max_delay: float = 300.0
    user_refuse_after: int = 5  # failures of a user name from which early attempts are refused (429)
    source_refuse_after: int = 20  # the same for a source address (many users may share one)
    forget_after: float = 3600.0  # a key without failures for this long starts afresh
    max_keys: int = 10_000  # per table (user names, source addresses)


@dataclass(frozen=True)
class Verdict:
    """What to do with a login attempt now: go ahead (``wait == 0``), wait
    ``wait`` seconds and ask again, or refuse (429, retry after ``wait``)."""

    wait: float = 0.0
    refuse: bool = False

    @property
    def go(self) -> bool:
        return self.wait <= 0 and not self.refuse


@dataclass
class _Record:
    failures: int
    last: float  # when the last attempt on this key failed (user names: or was let through)


def _user_key(user: str) -> str:
    if len(user) <= 128:
        return user
    return "sha256:" + hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()


def source_key(address: str) -> str:
    """The key of a source address: the address, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


def printable(text: str, limit: int = 100) -> str:
    """``text`` safe for one log line: backslash and non-printable characters
    escaped (``\\n``, ``\\x1b``, ``\\u2028``), cut to ``limit`` characters."""
    out = []
    for ch in text[:limit]:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out) + ("…" if len(text) > limit else "")


class _Table:
    def __init__(self, policy: ThrottlePolicy, refuse_after: int) -> None:
        self.policy = policy
        self.refuse_after = refuse_after
        self.records: OrderedDict[str, _Record] = OrderedDict()

    def _delay(self, failures: int) -> float:
        p = self.policy
        return min(p.max_delay, p.base_delay * 2.0 ** min(failures - 1, 62))

    def get(self, key: str, now: float) -> _Record | None:
        record = self.records.get(key)
        if record is not None and now - record.last > self.policy.forget_after:
            del self.records[key]
            return None
        return record

    def remaining(self, key: str, now: float) -> tuple[float, bool]:
        """(seconds until the key's next attempt may go, whether an early one is refused)."""
        record = self.get(key, now)
        if record is None:
            return 0.0, False
        left = record.last + self._delay(record.failures) - now
        return max(0.0, left), left > 0 and record.failures >= self.refuse_after

    def claim(self, key: str, now: float) -> None:
        record = self.get(key, now)
        if record is not None:
            record.last = now
            self.records.move_to_end(key)

    def fail(self, key: str, now: float) -> None:
        record = self.get(key, now)
        if record is None:
            self._make_room(now)
            self.records[key] = _Record(1, now)
            return
        record.failures += 1
        record.last = now
        self.records.move_to_end(key)

    def clear(self, key: str) -> None:
        self.records.pop(key, None)

    def _make_room(self, now: float) -> None:
        while self.records:
            key, oldest = next(iter(self.records.items()))
            if len(self.records) < self.policy.max_keys and now - oldest.last <= self.policy.forget_after:
                return
            del self.records[key]


class LoginThrottle:
    """Failure records per user name and per source address."""

    def __init__(self, policy: ThrottlePolicy | None = None) -> None:
        self.policy = policy or ThrottlePolicy()
        self._users = _Table(self.policy, self.policy.user_refuse_after)
        self._sources = _Table(self.policy, self.policy.source_refuse_after)

    def verdict(self, user: str, source: str, now: float) -> Verdict:
        """Whether an attempt for ``user`` from ``source`` may be checked now.
        A go on a user name with failures takes its slot (see the module text)."""
        ukey, skey = _user_key(user), source_key(source)
        user_wait, user_refused = self._users.remaining(ukey, now)
        source_wait, source_refused = self._sources.remaining(skey, now)
        wait = max(user_wait, source_wait)
        if wait > 0:
            return Verdict(wait, user_refused or source_refused)
        self._users.claim(ukey, now)
        return Verdict()

    def failed(self, user: str, source: str, now: float) -> None:
        self._users.fail(_user_key(user), now)
        self._sources.fail(source_key(source), now)

    def succeeded(self, user: str) -> None:
        self._users.clear(_user_key(user))

    def failures(self, user: str | None = None, source: str | None = None, *, now: float) -> int:
        """The failures on record for a user name or a source address (for tests and status)."""
        if user is not None:
            record = self._users.get(_user_key(user), now)
        else:
            record = self._sources.get(source_key(source or ""), now)
        return record.failures if record is not None else 0

    def tracked(self) -> int:
        """How many keys are tracked in all (bounded by 2 × ``max_keys``)."""
        return len(self._users.records) + len(self._sources.records)
