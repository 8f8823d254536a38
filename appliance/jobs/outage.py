"""One log line when the database becomes unreachable and one when it is
back (pure: the caller passes the time and logs what it is given)."""

from __future__ import annotations

__all__ = ["Outage"]


class Outage:
    """Tracks whether the store answers; ``failed``/``succeeded`` return the
    line to log at the start and at the end of an outage, else None."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, now: float, error: str) -> str | None:
        if self.since is not None:
            return None
        self.since = now
        return f"{self.what} unreachable: {error}"

    def succeeded(self, now: float) -> str | None:
        if self.since is None:
            return None
        took, self.since = now - self.since, None
        return f"{self.what} reachable again after {took:.1f} s"
