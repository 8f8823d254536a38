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
from typing import Any

from appliance.config import ConfigError, _Section

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


_RANGES: dict[str, tuple[float, float]] = {
    "max_pages": (1, 10_000),
    "workers": (1, 32),
    "worker_memory_mb": (64, 1_048_576),
    "render_seconds": (0.01, 86_400),
}


def parse_limits(source: str, table: Any) -> Limits:
    """Parse the ``[limits]`` table; errors name the file and the key."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(source, "limits", "must be a table")
    sec = _Section(source, "limits", table)
    defaults = Limits()
    values: dict[str, Any] = {}
    for name, (low, high) in _RANGES.items():
        kind = float if name == "render_seconds" else int
        value = sec.get(name, kind, getattr(defaults, name))
        if not low <= value <= high:
            unit = " seconds" if kind is float else ""
            raise sec.fail(name, f"must be between {low:g} and {high:g}{unit}, got {value:g}")
        values[name] = value
    sec.check_unknown()
    return Limits(**values)
