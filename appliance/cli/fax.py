"""``faxappliance send|status|remote-send``.

``send`` converts the files to fax pages (TIFF-F, with a progress display),
and queues the fax in the job store the running appliance claims from;
``status`` shows lines, queue and recent results (``--watch``,
``--format json``).  Both find the appliance through ``--config`` or the
embedded default's ``--data-dir`` (``./var``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from appliance.cli import CliIO, UsageError, config_from_args, storage_of
from appliance.cli._output import ReportFormat, choice, names
from appliance.config.web import PageSize

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("send", help="queue a fax: faxappliance send --to NUMBER FILE…")
    p.add_argument("--to", required=True, action="append", metavar="NUMBER", help="recipient (repeatable)")
    p.add_argument("--account", default="demo", help="the RADIUS account sending (default demo)")
    p.add_argument("--owner", default="", help="the API user who owns the fax (default: the account)")
    p.add_argument("--normal", action="store_true", help="normal resolution instead of fine")
    p.add_argument(
        "--page-size",
        type=choice(PageSize),
        choices=names(*PageSize),
        default=None,
        help="default: [web] page_size of --config (letter)",
    )
    p.add_argument("--priority", type=int, default=3)
    p.add_argument("--max-tries", type=int)
    p.add_argument("--data-dir", default="var", help="data directory of the embedded default")
    p.add_argument("--wait", action="store_true", help="wait until every recipient is done")
    p.add_argument("--timeout", type=float, default=600.0, help="with --wait: give up after SECONDS")
    p.add_argument("--format", type=choice(ReportFormat), choices=names(*ReportFormat), default=ReportFormat.TEXT)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("status", help="lines, queue and recent results")
    p.add_argument("--data-dir", default="var")
    p.add_argument("--watch", action="store_true", help="refresh every --interval seconds")
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--limit", type=int, default=10, help="recent entries shown")
    p.add_argument("--format", type=choice(ReportFormat), choices=names(*ReportFormat), default=ReportFormat.TEXT)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("remote-send", help="embedded default: a remote fax machine sends a fax")
    p.add_argument("--from", dest="sender", required=True, metavar="NUMBER", help="remote machine (5550101, 5550102)")
    p.add_argument("--to", required=True, metavar="NUMBER")
    p.add_argument("--data-dir", default="var")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_remote_send)


def _limits(args: argparse.Namespace) -> Any:
    from appliance.render import Limits

    config = config_from_args(args)
    return config.limits if config is not None and config.limits is not None else Limits()


def _page_size(args: argparse.Namespace) -> PageSize:
    """``--page-size``, else the one page size of every conversion: ``[web] page_size`` (default letter)."""
    if args.page_size:
        return PageSize(args.page_size)
    config = config_from_args(args)
    return config.web.page_size if config is not None else PageSize.LETTER


def _convert(files: list[str], fine: bool, page_size: str, target: Path, io: CliIO, limits: Any) -> int:
    """Render in a bounded worker process ([limits]: pages, memory, time), with a progress display."""
    from appliance.render.jobs import files_to_tiff, run_once

    tty = _is_tty(io.stderr)

    def progress(n: int) -> None:
        if tty:
            print(f"\rconverting: page {n}", end="", file=io.stderr, flush=True)

    try:
        pages = run_once(
            limits, files_to_tiff, files, fine, page_size, str(target), limits.max_pages, progress=progress
        )
    finally:
        if tty:
            print("", file=io.stderr)
    print(f"converted {pages} page(s) ({page_size}, {'fine' if fine else 'normal'})", file=io.stderr, flush=True)
    return pages


def _dial_strings(args: argparse.Namespace) -> list[str]:
    """Each ``--to`` through the dial plan of ``--config`` (or the default one); UsageError naming a bad one."""
    from appliance.dialplan import DialPlan, InvalidNumber, dial_string

    config = config_from_args(args)
    plan = config.dialplan if config is not None else DialPlan()
    try:
        return [dial_string(number, plan) for number in args.to]
    except InvalidNumber as exc:
        raise UsageError(str(exc)) from None


def cmd_send(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.jobs import FaxResolution, FaxSpec, Recipient, open_job_store

    numbers = _dial_strings(args)
    for name in args.files:
        if not Path(name).is_file():
            raise UsageError(f"no such file: {name}")
    url, data_dir = storage_of(args)
    limits = _limits(args)
    target = (data_dir / "outbox" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(4).hex()}.tif").resolve()
    from appliance.render import RenderLimitError, WorkerDied

    try:
        pages = _convert(list(args.files), not args.normal, _page_size(args), target, io, limits)
    except (ValueError, RenderLimitError, WorkerDied) as exc:
        raise UsageError(f"cannot convert: {exc}") from None
    store = open_job_store(url)
    try:
        spec = FaxSpec(
            owner=args.owner or args.account,
            account=args.account,
            documents=(str(target),),
            pages=pages,
            resolution=FaxResolution.NORMAL if args.normal else FaxResolution.FINE,
            agent="CLI",
            priority=args.priority,
            max_tries=args.max_tries,
        )
        fax, entries = store.submit(spec, [Recipient(fax_number=n) for n in numbers], time.time())
        if args.format is ReportFormat.TEXT:
            for e in entries:
                print(f"queued {e.key}: {pages} page(s) to {e.recipient.fax_number}", file=io.stdout, flush=True)
        if not args.wait:
            alive = _appliance(data_dir)
            if alive is not None and not alive.running:
                print(
                    f"faxappliance: the appliance is not running ({alive.reason}); the fax stays queued and is "
                    f"sent when `faxappliance run` starts",
                    file=io.stderr,
                    flush=True,
                )
            if args.format is ReportFormat.JSON:
                print(json.dumps({"fax_id": fax.id, "entries": [_entry_json(e) for e in entries]}), file=io.stdout)
            return 0
        return _wait(store, fax.id, data_dir, args, io)
    finally:
        store.close()


NOT_RUNNING = 3  # `status`: the appliance is not running (as init scripts' status)
UNKNOWN = 4  # `status`: its heartbeat cannot be read


def _appliance(data_dir: Path) -> Any:
    """The appliance's :class:`~appliance.heartbeat_state.Liveness`; None when
    its heartbeat cannot be read (for example another user's file)."""
    from appliance.heartbeat import liveness

    try:
        return liveness(data_dir)
    except OSError:
        return None


def _live_calls(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Job key -> live call state, from the running appliance's ``lines.json``."""
    try:
        live = json.loads((data_dir / "lines.json").read_text(encoding="utf-8"))
        lines = live.get("lines", []) if isinstance(live, dict) else []
    except (OSError, ValueError):
        return {}
    calls = {}
    for line in lines:
        call = line.get("call") if isinstance(line, dict) else None
        if isinstance(call, dict) and call.get("job"):
            calls[str(call["job"])] = {**call, "line": line.get("name", "")}
    return calls


def _wait(store: Any, fax_id: int, data_dir: Path, args: argparse.Namespace, io: CliIO) -> int:
    """``send --wait``: until every recipient is done, the timeout passes, or
    the appliance is found not running (exit status 3).  On a terminal a
    progress bar (pages, rate, elapsed, estimate); otherwise one line per
    change (state, connection, page)."""
    from appliance.cli._progress_view import bar, plain

    deadline = time.monotonic() + args.timeout
    tty = _is_tty(io.stderr)
    shown: dict[str | tuple[str, str], Any] = {}
    drawn = False
    while True:
        entries = store.with_live_pages(store.list_entries(fax_id=fax_id))
        if all(e.terminal for e in entries) or time.monotonic() > deadline:
            break
        alive = _appliance(data_dir)
        if alive is not None and not alive.running:
            if args.format is ReportFormat.JSON:
                print(json.dumps({"fax_id": fax_id, "entries": [_entry_json(e) for e in entries]}), file=io.stdout)
            if drawn:
                print("", file=io.stderr)
            print(
                f"faxappliance: not waiting: the appliance is not running ({alive.reason}); the fax stays "
                f"queued and is sent when `faxappliance run` starts",
                file=io.stderr,
                flush=True,
            )
            return NOT_RUNNING
        if args.format is ReportFormat.TEXT:
            calls = _live_calls(data_dir)
            now = time.time()
            texts = []
            for e in entries:
                call = calls.get(e.key) if e.state.value == "sending" else None
                if tty:
                    texts.append(
                        bar(e.key, call, now) if call else f"{e.key} to {e.recipient.fax_number}: {e.state.value}"
                    )
                    continue
                if shown.get((e.key, "state")) != e.state.value:
                    shown[(e.key, "state")] = e.state.value
                    print(
                        f"{e.key} to {e.recipient.fax_number}: {e.state.value}"
                        f"{f' (try {e.tries + 1})' if e.state.value == 'sending' else ''}",
                        file=io.stderr,
                    )
                if call:
                    for text in plain(e.key, call, now, shown.get(e.key)):
                        print(text, file=io.stderr)
                    shown[e.key] = call
            if tty:
                print("\r" + "; ".join(texts) + "\x1b[K", end="", file=io.stderr)
                drawn = True
            io.stderr.flush()
        time.sleep(0.5)
    if args.format is ReportFormat.JSON:
        print(json.dumps({"fax_id": fax_id, "entries": [_entry_json(e) for e in entries]}), file=io.stdout)
    else:
        if drawn:
            print("", file=io.stderr)
        for e in entries:
            print(
                f"{e.key} to {e.recipient.fax_number}: {e.state.value}, {e.pages_sent} page(s) sent "
                f"({e.schedule_message or e.hangup_text})",
                file=io.stdout,
            )
    return 0 if all(e.state.value == "sent" for e in entries) else 1


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _entry_json(e: Any) -> dict[str, Any]:
    return {
        "key": e.key,
        "id": e.id,
        "to": e.recipient.fax_number,
        "state": e.state.value,
        "tries": e.tries,
        "route": e.route,
        "pages_sent": e.pages_sent,
        "message": e.schedule_message,
        "hangup": e.hangup_text,
        "updated_at": e.updated_at,
    }


def _heartbeat(data_dir: Path) -> dict[str, Any]:
    from appliance.heartbeat import liveness

    try:
        alive = liveness(data_dir)
    except OSError as exc:
        return {"running": None, "reason": f"cannot read the heartbeat: {exc.strerror or exc}", "pid": None}
    return {"running": alive.running, "reason": alive.reason, "pid": alive.pid}


def _snapshot(store: Any, data_dir: Path, limit: int, mail_url: str = "") -> dict[str, Any]:
    appliance = _heartbeat(data_dir)
    lines: list[Any] = []
    run: dict[str, Any] = {}
    try:
        run = json.loads((data_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    node = ""
    if appliance["running"]:  # line states are shown only while an appliance keeps them current
        try:  # live states, written every few seconds by the running appliance
            live = json.loads((data_dir / "lines.json").read_text(encoding="utf-8"))
            if isinstance(live, dict) and time.time() - float(live.get("updated_at", 0)) < 30:
                lines = live.get("lines", [])
                node = str(live.get("node", ""))
        except (OSError, ValueError, TypeError):
            pass
        lines = lines or run.get("lines", [])
    for line in lines:
        if isinstance(line, dict) and "call" in line:
            line.update(_call_fields(line.get("call"), line.get("state")))
    nodes = [{"node": n, "last_seen": seen} for n, _, seen in store.nodes()]
    counts = {s.value: n for s, n in store.count_by_state().items()}
    recent = store.with_live_pages(sorted(store.list_entries(), key=lambda e: e.updated_at, reverse=True)[:limit])
    snap = {
        "appliance": appliance,
        "node": node or run.get("node", ""),
        "nodes": nodes,
        "lines": lines,
        "queue": counts,
        "recent": [_entry_json(e) for e in recent],
    }
    if mail_url:  # e-mail, print and share deliveries
        from appliance.mail.status import mail_snapshot

        snap["mail"] = mail_snapshot(mail_url, limit)
    return snap


def _call_fields(call: Any, state: Any) -> dict[str, Any]:
    """The flat per-line progress fields of ``status --format json`` (empty when idle)."""
    busy = isinstance(call, dict) and call.get("ended_at") is None and state not in ("idle", "offline")
    if not busy:
        return {
            "job": "",
            "fax_number": "",
            "remote_id": "",
            "page": 0,
            "pages_sent": 0,
            "pages_total": 0,
            "baud_rate": 0,
            "resolution": "",
        }
    return {
        "job": call.get("job", ""),
        "fax_number": call.get("number", ""),
        "remote_id": call.get("remote_id", ""),
        "page": call.get("page", 0),
        "pages_sent": int(call.get("first_page", 0)) + int(call.get("pages_sent", 0)),
        "pages_total": call.get("pages_total", 0),
        "baud_rate": call.get("baud_rate", 0),
        "resolution": call.get("resolution", ""),
    }


def _disk(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Free space of the data directory, with a warning below ``[retention] min_free_mb``."""
    from appliance.housekeeping import free_bytes
    from appliance.retention import Retention, disk_warning

    config = config_from_args(args)
    retention = (config.retention if config is not None else None) or Retention()
    try:
        free = free_bytes(data_dir)
    except OSError as exc:
        return {"free_mb": None, "warning": f"cannot read the free space: {exc.strerror or exc}"}
    return {"free_mb": free // (1024 * 1024), "warning": disk_warning(free, retention)}


def _exit_status(snap: dict[str, Any]) -> int:
    running = snap["appliance"]["running"]
    return 0 if running else (UNKNOWN if running is None else NOT_RUNNING)


def _print_status(snap: dict[str, Any], io: CliIO) -> None:
    from appliance.cli._progress_view import busy_suffix

    appliance = snap["appliance"]
    if appliance["running"]:
        print(f"APPLIANCE  running ({appliance['reason']})", file=io.stdout)
    else:
        state = "unknown" if appliance["running"] is None else "not running"
        print(f"APPLIANCE  {state}: {appliance['reason']}", file=io.stdout)
    if snap.get("node"):
        print(f"NODE       {snap['node']}", file=io.stdout)
    if len(snap.get("nodes", [])) > 1:
        print("NODES      " + "  ".join(n["node"] for n in snap["nodes"]), file=io.stdout)
    print(
        "LINES" if appliance["running"] else "LINES  (not shown: no running appliance keeps them current)",
        file=io.stdout,
    )
    for line in snap["lines"]:
        name = line.get("name") or line.get("number")
        stats = line.get("stats") or {}
        counts = "  ".join(f"{k}={v}" for k, v in stats.items() if isinstance(v, int) and v)
        busy = busy_suffix(line.get("call")) if line.get("state") not in (None, "idle", "offline") else ""
        print(
            f"  {name:<10} {line.get('did', line.get('number', '')):<10} {line.get('state', line.get('role', '')):<10}"
            f" {line.get('device', '')}  {counts}{busy}".rstrip(),
            file=io.stdout,
        )
    disk = snap.get("disk") or {}
    if disk.get("warning"):
        print(f"WARNING    {disk['warning']}", file=io.stdout)
    print("QUEUE  " + "  ".join(f"{k}={v}" for k, v in snap["queue"].items() if v), file=io.stdout)
    print("RECENT", file=io.stdout)
    for e in snap["recent"]:
        print(
            f"  {e['key']}  {e['to']:<12} {e['state']:<10} tries={e['tries']} pages={e['pages_sent']} "
            f"route={e['route'] or '-'}"
            f"  {e['message'] or e['hangup']}",
            file=io.stdout,
        )
    if "mail" in snap:
        from appliance.mail.status import mail_lines

        for line in mail_lines(snap["mail"]):
            print(line, file=io.stdout)


def cmd_status(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.jobs import open_job_store

    url, data_dir = storage_of(args)
    store = open_job_store(url)
    code = 0
    try:
        while True:
            snap = _snapshot(store, data_dir, args.limit, url)
            snap["disk"] = _disk(args, data_dir)
            code = _exit_status(snap)
            if args.format is ReportFormat.JSON:
                print(json.dumps(snap), file=io.stdout, flush=True)
            else:
                if args.watch and _is_tty(io.stdout):
                    print("\x1b[2J\x1b[H", end="", file=io.stdout)
                elif args.watch:
                    print(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}", file=io.stdout)
                _print_status(snap, io)
                io.stdout.flush()
            if not args.watch:
                return code
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return code
    finally:
        store.close()


def cmd_remote_send(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.demo.embedded import REMOTE_NUMBERS
    from appliance.demo.remote import request_send

    if args.sender not in REMOTE_NUMBERS:
        raise UsageError(f"--from must be one of the remote machines: {', '.join(REMOTE_NUMBERS)}")
    for name in args.files:
        if not Path(name).is_file():
            raise UsageError(f"no such file: {name}")
    path = request_send(Path(args.data_dir) / "remote" / args.sender, args.to, list(args.files))
    print(f"remote {args.sender} will send to {args.to} ({path.name})", file=io.stdout)
    return 0
