"""``faxappliance inbox list|show|export|delete`` and ``faxappliance jobs
list|show|cancel|reschedule|retry|export``: the operator's view of received
faxes and outbound jobs (see :mod:`appliance.operator`).  The local command
line acts as an admin: it sees every account's faxes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from appliance.cli import CliIO, UsageError, storage_of
from appliance.cli._output import OutputFormat, choice, names, print_record, print_rows

__all__ = ["register"]

JOB_COLUMNS = ("id", "owner", "to", "state", "pages_sent", "pages", "tries", "created", "due_at", "message")
INBOX_COLUMNS = ("id", "account", "received_at", "pages", "did", "caller_id", "remote_id", "source")


def _common(p: Any) -> None:
    p.add_argument("--data-dir", default="var", help="data directory of the embedded default")
    p.add_argument(
        "--format",
        type=choice(OutputFormat),
        choices=names(OutputFormat.TABLE, OutputFormat.JSON),
        default=OutputFormat.TABLE,
    )


def _listing(p: Any) -> None:
    p.add_argument("--since", default="", metavar="DATE", help="YYYY-MM-DD[THH:MM:SS] (UTC)")
    p.add_argument("--until", default="", metavar="DATE")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)


def register(sub: Any) -> None:
    p = sub.add_parser("inbox", help="received faxes: list, show, export, delete")
    isub = p.add_subparsers(dest="inbox_command", metavar="ACTION", required=True)
    q = isub.add_parser("list", help="received faxes, newest first")
    _common(q)
    _listing(q)
    q.add_argument("--account", default=None)
    q.set_defaults(func=cmd_inbox, action="list")
    for name, helptext in (("show", "one received fax"), ("delete", "remove a received fax and its files")):
        q = isub.add_parser(name, help=helptext)
        _common(q)
        q.add_argument("id")
        if name == "delete":
            q.add_argument("--yes", action="store_true", help="do not ask")
        q.set_defaults(func=cmd_inbox, action=name)
    q = isub.add_parser("export", help="write a received fax as PDF or TIFF")
    _common(q)
    q.add_argument("id")
    q.add_argument("--as", dest="kind", choices=("pdf", "tiff"), default="pdf")
    q.add_argument("-o", "--output", default="", help="file to write (- for stdout); default ./fax-ID.pdf")
    q.set_defaults(func=cmd_inbox, action="export")

    p = sub.add_parser("jobs", help="outbound fax jobs: list, show, cancel, reschedule, retry, export")
    jsub = p.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    q = jsub.add_parser("list", help="jobs, newest first")
    _common(q)
    _listing(q)
    q.add_argument("--owner", default=None)
    q.add_argument(
        "--state", default="", help="pending, sending, sent, failed, dead, aborted, active, done (comma-separated)"
    )
    q.set_defaults(func=cmd_jobs, action="list")
    for name, helptext in (
        ("show", "one job with its attempts"),
        ("cancel", "abort a job"),
        ("retry", "send a failed, dead or aborted job again, now"),
    ):
        q = jsub.add_parser(name, help=helptext)
        _common(q)
        q.add_argument("job", metavar="JOB", help="FAXKEY-ENTRYKEY (or FAXKEY: every entry)")
        q.set_defaults(func=cmd_jobs, action=name)
    q = jsub.add_parser("reschedule", help="move a pending or finished job to a time")
    _common(q)
    q.add_argument("job", metavar="JOB")
    q.add_argument("--at", default="now", help="now or YYYY-MM-DDTHH:MM:SS (UTC)")
    q.set_defaults(func=cmd_jobs, action="reschedule")
    q = jsub.add_parser("export", help="write a job's document as PDF or TIFF")
    _common(q)
    q.add_argument("job", metavar="JOB")
    q.add_argument("--as", dest="kind", choices=("pdf", "tiff"), default="pdf")
    q.add_argument("-o", "--output", default="")
    q.set_defaults(func=cmd_jobs, action="export")


def _operations(args: argparse.Namespace) -> Any:
    from appliance.inbound.inbox import Inbox
    from appliance.jobs import open_job_store
    from appliance.operator import Operations

    url, data_dir = storage_of(args)
    return Operations(open_job_store(url), Inbox(Path(data_dir) / "inbox"))


def _run(args: argparse.Namespace, io: CliIO, body: Any) -> int:
    from appliance.operator import OperatorError

    ops = _operations(args)
    try:
        return int(body(ops))
    except OperatorError as exc:
        if exc.status == 400:
            raise UsageError(exc.message) from None
        print(f"faxappliance: {exc.message}", file=io.stderr)
        return 1
    finally:
        ops.jobs.close()


def _range(args: argparse.Namespace) -> tuple[float | None, float | None]:
    from appliance.operator import parse_date

    return (
        parse_date(args.since, "--since") if args.since else None,
        parse_date(args.until, "--until") if args.until else None,
    )


def _write(data: bytes, name: str, output: str, io: CliIO) -> None:
    if output == "-":
        io.stdout.flush()
        getattr(io.stdout, "buffer", sys.stdout.buffer).write(data)
        return
    target = Path(output or name)
    if target.is_dir():
        target = target / name
    target.write_bytes(data)
    print(f"wrote {target} ({len(data)} bytes)", file=io.stderr)


def cmd_inbox(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.operator import Caller

    caller = Caller()

    def body(ops: Any) -> int:
        if args.action == "list":
            since, until = _range(args)
            items, _ = ops.list_inbox(
                caller, account=args.account, since=since, until=until, limit=args.limit, offset=args.offset
            )
            print_rows(items, INBOX_COLUMNS, args.format, io.stdout)
        elif args.action == "show":
            print_record(ops.show_item(caller, args.id), args.format, io.stdout)
        elif args.action == "export":
            data, name = ops.item_file(caller, args.id, args.kind)
            _write(data, name, args.output, io)
        else:
            item = ops.show_item(caller, args.id)
            if not args.yes and not _confirm(
                f"delete received fax {item['id']} of {item['account']} ({item['pages']} page(s))?", io
            ):
                print("not deleted", file=io.stderr)
                return 1
            ops.delete_item(caller, args.id)
            print(
                json.dumps({"deleted": item["id"]}) if args.format is OutputFormat.JSON else f"deleted {item['id']}",
                file=io.stdout,
            )
        return 0

    return _run(args, io, body)


def _confirm(question: str, io: CliIO) -> bool:
    try:
        if not io.stdin.isatty():
            raise UsageError(f"{question.rstrip('?')}: pass --yes to delete without asking")
    except (AttributeError, ValueError):
        raise UsageError("pass --yes to delete without asking") from None
    print(f"{question} [y/N] ", end="", file=io.stderr, flush=True)
    return io.stdin.readline().strip().lower() in ("y", "yes")


def cmd_jobs(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.operator import Caller, parse_date, parse_states

    caller = Caller()

    def body(ops: Any) -> int:
        now = time.time()
        if args.action == "list":
            since, until = _range(args)
            jobs, _ = ops.list_jobs(
                caller,
                owner=args.owner,
                states=parse_states(args.state),
                since=since,
                until=until,
                limit=args.limit,
                offset=args.offset,
            )
            print_rows(jobs, JOB_COLUMNS, args.format, io.stdout)
            return 0
        if args.action == "export":
            data, name = ops.job_file(caller, args.job, args.kind)
            _write(data, name, args.output, io)
            return 0
        if args.action == "show":
            found = ops.show_job(caller, args.job)
        elif args.action == "cancel":
            found = ops.cancel(caller, args.job, now)
        elif args.action == "retry":
            found = ops.retry(caller, args.job, now)
        else:
            at = None if args.at in ("", "now") else parse_date(args.at, "--at")
            found = ops.reschedule(caller, args.job, at, now)
        if args.format is OutputFormat.JSON:
            print(json.dumps(found if len(found) != 1 else found[0], indent=2), file=io.stdout)
        elif args.action == "show":
            for job in found:
                attempts = job.pop("attempts", [])
                print_record(job, OutputFormat.TABLE, io.stdout)
                print_rows(
                    attempts,
                    (
                        "number",
                        "started_at",
                        "route",
                        "outcome",
                        "cause",
                        "pages",
                        "duration",
                        "remote_id",
                        "hangup_code",
                        "hangup_text",
                    ),
                    OutputFormat.TABLE,
                    io.stdout,
                )
        else:
            for job in found:
                due = f", due {job['due_at']}" if job.get("due_at") else ""
                print(f"{job['id']} to {job['to']}: {job['state']}{due} ({job['message']})", file=io.stdout)
        return 0

    return _run(args, io, body)
