"""The durable spool of attempt results the job store could not record yet
(the database was unreachable when the call ended).

One JSON file per result under a directory of the node's data directory,
written atomically (temporary file, fsync, rename, fsync of the directory),
so after a crash a result is either wholly there or not at all.  A file is
removed only once the result is in the database (or can never be: the claim
was taken over).  The scheduler writes each spooled result as soon as the
database answers again, and before anything else after a restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.durable import remove_durably, write_atomically
from appliance.jobs.model import Cause, Result

__all__ = ["ResultSpool", "ResultSpoolError", "SpooledResult"]

_SUFFIX = ".result.json"


class ResultSpoolError(Exception):
    """The spool directory or one of its files cannot be used."""


@dataclass(frozen=True)
class SpooledResult:
    entry_id: int
    node: str
    claimed_at: float | None
    ended_at: float
    result: Result


def _result_json(result: Result) -> dict[str, object]:
    return {
        "sent": result.sent,
        "cause": result.cause.value if result.cause else None,
        "pages": result.pages,
        "duration": result.duration,
        "remote_csid": result.remote_csid,
        "hangup_code": result.hangup_code,
        "hangup_text": result.hangup_text,
        "details": dict(result.details),
    }


def _result_from(data: Mapping[str, Any]) -> Result:
    """The Result of a spooled JSON object (as :func:`_result_data` wrote it)."""
    cause = data.get("cause")
    return Result(
        sent=bool(data["sent"]),
        cause=Cause(str(cause)) if cause else None,
        pages=int(data["pages"]),
        duration=float(data["duration"]),
        remote_csid=str(data["remote_csid"]),
        hangup_code=str(data["hangup_code"]),
        hangup_text=str(data["hangup_text"]),
        details=dict(data.get("details") or {}),
    )


class ResultSpool:
    """One JSON file per unrecorded result under ``directory``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResultSpoolError(f"cannot create the result spool {self.directory}: {exc.strerror}") from None

    def _path(self, entry_id: int) -> Path:
        return self.directory / f"{int(entry_id):012d}{_SUFFIX}"

    def put(self, item: SpooledResult) -> None:
        """Keep one result durably (a later result of the same entry replaces it)."""
        body = json.dumps(
            {
                "entry_id": item.entry_id,
                "node": item.node,
                "claimed_at": item.claimed_at,
                "ended_at": item.ended_at,
                "result": _result_json(item.result),
            },
            default=str,
        )
        final = self._path(item.entry_id)
        try:
            write_atomically(final, body.encode("utf-8"))
        except OSError as exc:
            raise ResultSpoolError(f"cannot write {final}: {exc.strerror}") from None

    def remove(self, entry_id: int) -> None:
        try:
            remove_durably(self._path(entry_id))
        except OSError as exc:
            raise ResultSpoolError(f"cannot remove {self._path(entry_id)}: {exc.strerror}") from None

    def pending(self) -> list[SpooledResult]:
        """Every spooled result, oldest first; an unreadable file is an error, never skipped."""
        out = []
        for path in self.directory.glob(f"*{_SUFFIX}"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                claimed = data["claimed_at"]
                out.append(
                    SpooledResult(
                        int(data["entry_id"]),
                        str(data["node"]),
                        None if claimed is None else float(claimed),
                        float(data["ended_at"]),
                        _result_from(data["result"]),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ResultSpoolError(f"spooled result {path} is unreadable: {exc}") from None
        return sorted(out, key=lambda item: (item.ended_at, item.entry_id))

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob(f"*{_SUFFIX}"))
