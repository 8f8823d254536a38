"""Housekeeping decisions (pure): which finished faxes, received faxes,
spool files and CDRs are old enough to go under ``[retention]``, and
whether the data directory is short of space.

Nothing here touches files or reads a clock: :func:`plan` takes what exists
(with its times) and ``now`` and returns a :class:`Plan`;
:mod:`appliance.housekeeping` carries it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from appliance.config_reader import Section

__all__ = ["DAY", "Plan", "Retention", "disk_warning", "parse_retention", "plan"]

DAY = 86400.0
KEYS = ("sent", "failed", "received", "spool", "cdrs")
MAX_DAYS = 36500
MAX_FREE_MB = 10**7


@dataclass(frozen=True)
class Retention:
    """Days to keep each kind (0 = for ever) and the free-space warning threshold."""

    sent: int = 30
    failed: int = 90
    received: int = 90
    spool: int = 7
    cdrs: int = 365
    min_free_mb: int = 500

    def cutoff(self, kind: str, now: float) -> float | None:
        """Items of ``kind`` older than this (unix time) go; None = keep for ever."""
        days = int(getattr(self, kind))
        return now - days * DAY if days > 0 else None


def parse_retention(source: str, table: object) -> Retention:
    """``[retention]`` of ``source`` (None: the defaults) -> :class:`Retention`."""
    sec = Section(source, "retention", table)
    values = {key: sec.integer(key, getattr(Retention, key), 0, MAX_DAYS) for key in KEYS}
    retention = Retention(**values, min_free_mb=sec.integer("min_free_mb", Retention.min_free_mb, 0, MAX_FREE_MB))
    sec.check_unknown()
    return retention


@dataclass(frozen=True)
class FinishedFax:
    fax_id: int
    finished_at: float
    all_sent: bool
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpoolFile:
    path: str
    modified: float
    referenced: bool  # a fax still in the job store uses it


@dataclass(frozen=True)
class Plan:
    faxes: tuple[FinishedFax, ...] = ()
    inbox: tuple[int, ...] = ()
    files: tuple[str, ...] = ()
    cdrs_before: float | None = None
    cdrs: int = 0  # how many CDRs that cutoff removes (filled in by the executor)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        return {
            "faxes": [f"{f.fax_id:08X}" for f in self.faxes],
            "inbox": list(self.inbox),
            "files": list(self.files),
            "cdrs": self.cdrs,
        }


def plan(
    retention: Retention,
    now: float,
    *,
    faxes: Sequence[FinishedFax],
    inbox: Sequence[tuple[int, float]],
    spool: Sequence[SpoolFile],
) -> Plan:
    """What goes: finished faxes past ``sent``/``failed`` days (with their
    documents), inbox items past ``received`` days, spool files past
    ``spool`` days that no remaining fax refers to, CDRs before the ``cdrs`` cutoff."""
    sent_cut, failed_cut = retention.cutoff("sent", now), retention.cutoff("failed", now)
    gone = []
    for fax in faxes:
        cut = sent_cut if fax.all_sent else failed_cut
        if cut is not None and fax.finished_at < cut:
            gone.append(fax)
    received_cut = retention.cutoff("received", now)
    items = tuple(i for i, at in inbox if received_cut is not None and at < received_cut)
    spool_cut = retention.cutoff("spool", now)
    leaving = {d for f in gone for d in f.documents}
    files = tuple(
        f.path
        for f in spool
        if f.path not in leaving and not f.referenced and spool_cut is not None and f.modified < spool_cut
    )
    return Plan(tuple(gone), items, files, retention.cutoff("cdrs", now))


def disk_warning(free_bytes: int, retention: Retention) -> str | None:
    """A warning when the data directory has less than ``min_free_mb`` free."""
    free_mb = free_bytes // (1024 * 1024)
    if retention.min_free_mb and free_mb < retention.min_free_mb:
        return (
            f"only {free_mb} MB free in the data directory (warning below {retention.min_free_mb} MB): "
            f"run `faxappliance purge` or lower the [retention] days"
        )
    return None
