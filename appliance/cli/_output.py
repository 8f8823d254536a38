"""Printing rows for people (table) and for scripts (csv, json)."""

from __future__ import annotations

import csv
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO, TypeVar

__all__ = ["FORMATS", "OutputFormat", "ReportFormat", "cell", "choice", "names", "print_record", "print_rows"]

E = TypeVar("E", bound=enum.StrEnum)


class OutputFormat(enum.StrEnum):
    """``--format`` of the listing commands: a table for people, csv or json for scripts."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


class ReportFormat(enum.StrEnum):
    """``--format`` of ``send`` and ``status``: text for people, json for scripts."""

    TEXT = "text"
    JSON = "json"


FORMATS: tuple[OutputFormat, ...] = tuple(OutputFormat)


def choice(kind: type[E]) -> Callable[[str], E | str]:
    """An argparse ``type`` for the string enum ``kind``: a member, or the text
    unchanged so that argparse's ``choices`` check names the bad value."""

    def convert(text: str) -> E | str:
        try:
            return kind(text)
        except ValueError:
            return text

    return convert


def names(*members: enum.StrEnum) -> tuple[str, ...]:
    """The values of ``members`` for argparse's ``choices`` (so its errors quote plain text)."""
    return tuple(m.value for m in members)


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
    fmt: OutputFormat,
    out: TextIO,
    *,
    table_columns: Sequence[str] | None = None,
) -> None:
    """Print ``rows``: ``columns`` for csv, the whole rows for json, and
    ``table_columns`` (default ``columns``) for the table."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSON:
        json.dump(list(rows), out, indent=2, ensure_ascii=False, default=_json_default)
        out.write("\n")
    elif fmt is OutputFormat.CSV:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row.get(c)) for c in columns])
    elif fmt is OutputFormat.TABLE:
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


def print_record(record: Mapping[str, Any], fmt: OutputFormat | ReportFormat, out: TextIO) -> None:
    """One record: ``key: value`` lines, or a JSON object."""
    if fmt in (OutputFormat.JSON, ReportFormat.JSON):
        json.dump(dict(record), out, indent=2, ensure_ascii=False, default=_json_default)
        out.write("\n")
        return
    width = max((len(k) for k in record), default=0)
    for key, value in record.items():
        print(f"{key + ':':<{width + 1}} {cell(value)}".rstrip(), file=out)
