"""Retry and reconciliation policy for the FAXAGE client (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.cloud.records import StatusRecord

__all__ = ["RetryPolicy", "reconcile_candidates"]


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the delay before try ``n+1`` is
    ``base_delay * multiplier**(n-1)`` capped at ``max_delay``, stretched by
    up to ``jitter`` (a fraction) using an injected random number in [0, 1).

    After an ambiguous sendfax failure the client looks for the job through
    ``status`` up to ``reconcile_checks`` times, ``reconcile_delay`` apart,
    before concluding that the fax was not accepted."""

    attempts: int = 4
    base_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 10.0
    jitter: float = 0.2
    reconcile_checks: int = 3
    reconcile_delay: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.jitter, self.reconcile_delay) < 0:
            raise ValueError("RetryPolicy delays and jitter must not be negative")
        if self.reconcile_checks < 1:
            raise ValueError("RetryPolicy.reconcile_checks must be at least 1")

    def delay(self, attempt: int, random_value: float) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        raw = min(self.max_delay, self.base_delay * self.multiplier ** (attempt - 1))
        return raw * (1.0 + self.jitter * random_value)


def reconcile_candidates(
    records: tuple[StatusRecord, ...], faxno: str, recipname: str, known: frozenset[int] | set[int]
) -> tuple[int, ...]:
    """Job ids in ``records`` that could be the job an ambiguous sendfax to
    (``faxno``, ``recipname``) created: same destination and name, and not a
    job this client already accounts for."""
    return tuple(
        sorted(r.jobid for r in records if r.destnum == faxno and r.destname == recipname and r.jobid not in known)
    )
