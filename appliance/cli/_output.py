"""Printing rows for people (table) and for scripts (csv, json)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

__all__ = ["FORMATS", "cell", "print_record", "print_rows"]

FORMATS = ("table", "csv", "json")


def cell(value: Any) -> str:
    """A value as table/csv text: booleans as yes/no, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    raise TypeError(f"cannot print a {type(value).__name__}")


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str,
    out: TextIO,
    *,
    table_columns: Sequence[str] | None = None,
) -> None:
    """Print ``rows``: ``columns`` for csv, the whole rows for json, and
    ``table_columns`` (default ``columns``) for the table."""
    if fmt == "json":
        json.dump(list(rows), out, indent=2, ensure_ascii=False, default=_json_default)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row.get(c)) for c in columns])
    elif fmt == "table":
        _print_table(rows, table_columns or columns, out)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def _print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    texts = [[cell(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    widths = [max([len(c)] + [len(t[i]) for t in texts]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    print(line([c.upper() for c in columns]), file=out)
    for values in texts:
        print(line(values), file=out)
    if not rows:
        print("(none)", file=out)


def print_record(record: Mapping[str, Any], fmt: str, out: TextIO) -> None:
    """One record: ``key: value`` lines, or a JSON object."""
    if fmt == "json":
        json.dump(dict(record), out, indent=2, ensure_ascii=False, default=_json_default)
        out.write("\n")
        return
    width = max((len(k) for k in record), default=0)
    for key, value in record.items():
        print(f"{key + ':':<{width + 1}} {cell(value)}".rstrip(), file=out)
