"""``faxappliance cdrs list``: the accounting records (CDRs) of the account
store, oldest first, as a table, ``--format csv`` or ``--format json``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from appliance.cli import CliIO, UsageError
from appliance.cli._output import print_rows
from appliance.cli.admin import format_arg, with_store
from radius.store import AccountingRecord, Store

__all__ = ["cdr_dict", "parse_time", "register"]

STATUS_NAMES = {1: "Start", 2: "Stop", 3: "Interim-Update", 7: "Accounting-On", 8: "Accounting-Off"}


CDR_TABLE_COLUMNS = (
    "id",
    "time",
    "status",
    "user_name",
    "session_id",
    "client",
    "dial_number",
    "pages",
    "duration",
    "result",
)
CDR_CSV_COLUMNS = (
    "id", "time", "received_at", "status_type", "status", "user_name", "session_id", "client",
    "dial_number", "pages", "duration", "result", "dedupe_key", "attributes", "raw_attributes",
)  # fmt: skip


def _first(attributes: Any, name: str) -> Any:
    value = attributes.get(name)
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _result(attributes: Any) -> str:
    """A Stop's outcome from FB-Fax-Error-Code: ok, error N, or empty (Start, no code)."""
    code = _first(attributes, "FB-Fax-Error-Code")
    if code is None or code == "":
        return ""
    return "ok" if str(code) == "0" else f"error {code}"


def parse_time(text: str) -> float:
    """A unix time or an ISO-8601 time (UTC unless it names a zone)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r} is neither an ISO-8601 time nor a unix time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def cdr_dict(record: AccountingRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "time": datetime.fromtimestamp(record.received_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "received_at": record.received_at,
        "status_type": record.status_type,
        "status": STATUS_NAMES.get(record.status_type, str(record.status_type)),
        "user_name": record.user_name,
        "session_id": record.session_id,
        "client": record.client,
        "dial_number": record.attributes.get("FB-Dial-Number", ""),
        "pages": _first(record.attributes, "FB-Page-Count"),
        "duration": _first(record.attributes, "FB-Total-Seconds") or _first(record.attributes, "Acct-Session-Time"),
        "result": _result(record.attributes),
        "dedupe_key": record.dedupe_key,
        "attributes": record.attributes,
        "raw_attributes": [list(r) for r in record.raw_attributes],
    }


@with_store
def cdrs_list(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    since = parse_time(args.since) if args.since is not None else None
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must not be negative")
    until = parse_time(args.until) if getattr(args, "until", None) is not None else None
    records = store.list_cdrs(since=since, limit=None if until is not None else args.limit, stops_only=args.stops_only)
    if until is not None:
        records = [r for r in records if r.received_at < until][: args.limit]
    rows = [cdr_dict(r) for r in records]
    print_rows(rows, CDR_CSV_COLUMNS, args.format, io.stdout, table_columns=CDR_TABLE_COLUMNS)
    return 0


def register(sub: Any) -> None:
    """Add ``cdrs`` to the ``faxappliance`` parser."""
    parser = sub.add_parser("cdrs", help="accounting records (CDRs)")
    cmds = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = cmds.add_parser("list", help="list accounting records, oldest first")
    format_arg(p)
    p.add_argument("--since", metavar="TIME", help="only records received at or after TIME (ISO-8601 or unix time)")
    p.add_argument(
        "--until", metavar="TIME", help="only records received before TIME (e.g. to keep them before a purge)"
    )
    p.add_argument("--limit", metavar="N", type=int, help="at most N records")
    p.add_argument("--stops-only", action="store_true", help="only Stop records")
    p.set_defaults(func=cdrs_list)
