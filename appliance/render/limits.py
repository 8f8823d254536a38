"""The ``[limits]`` section: how much work one fax may cause (pure).

```toml
[limits]
max_pages = 200            # pages per fax (cover page included), counted before rendering
workers = 2                # document conversion worker processes
worker_memory_mb = 1024    # address-space limit of each worker (RLIMIT_AS)
render_seconds = 120       # time limit of one conversion
```
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config_reader import Section

__all__ = ["Limits", "parse_limits"]


@dataclass(frozen=True)
class Limits:
    """Bounds on document conversion; the defaults suit a small appliance."""

    max_pages: int = 200
    workers: int = 2
    worker_memory_mb: int = 1024
    render_seconds: float = 120.0

    @property
    def worker_memory_bytes(self) -> int:
        return self.worker_memory_mb * 1024 * 1024


def parse_limits(source: str, table: object) -> Limits:
    """Parse the ``[limits]`` table (None: the defaults); errors name the file and the key."""
    sec = Section(source, "limits", table)
    limits = Limits(
        max_pages=sec.integer("max_pages", 200, 1, 10_000),
        workers=sec.integer("workers", 2, 1, 32),
        worker_memory_mb=sec.integer("worker_memory_mb", 1024, 64, 1_048_576),
        render_seconds=sec.number("render_seconds", 120.0, 0.01, 86_400, "seconds"),
    )
    sec.check_unknown()
    return limits
