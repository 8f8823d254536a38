"""``faxappliance send|status|remote-send`` and ``faxappliance config check``.

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

from appliance.cli import CliIO, UsageError, config_from_args

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("send", help="queue a fax: faxappliance send --to NUMBER FILE…")
    p.add_argument("--to", required=True, action="append", metavar="NUMBER", help="recipient (repeatable)")
    p.add_argument("--account", default="demo", help="the RADIUS account sending (default demo)")
    p.add_argument("--owner", default="", help="the API user who owns the fax (default: the account)")
    p.add_argument("--normal", action="store_true", help="normal resolution instead of fine")
    p.add_argument("--page-size", choices=("a4", "letter"), default="a4")
    p.add_argument("--priority", type=int, default=3)
    p.add_argument("--max-tries", type=int)
    p.add_argument("--data-dir", default="var", help="data directory of the embedded default")
    p.add_argument("--wait", action="store_true", help="wait until every recipient is done")
    p.add_argument("--timeout", type=float, default=600.0, help="with --wait: give up after SECONDS")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("status", help="lines, queue and recent results")
    p.add_argument("--data-dir", default="var")
    p.add_argument("--watch", action="store_true", help="refresh every --interval seconds")
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--limit", type=int, default=10, help="recent entries shown")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("remote-send", help="embedded default: a remote fax machine sends a fax")
    p.add_argument("--from", dest="sender", required=True, metavar="NUMBER", help="remote machine (5550101, 5550102)")
    p.add_argument("--to", required=True, metavar="NUMBER")
    p.add_argument("--data-dir", default="var")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_remote_send)

    p = sub.add_parser("config", help="configuration file tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = csub.add_parser("check", help="validate a configuration file")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=cmd_config_check)


def _storage(args: argparse.Namespace) -> tuple[str, Path]:
    config = config_from_args(args)
    if config is not None:
        return config.storage.url, Path(config.data_dir)
    data_dir = Path(args.data_dir)
    if not (data_dir / "faxappliance.db").exists():
        raise UsageError(f"no appliance data in {data_dir}: start `faxappliance run` first, or pass --config")
    return f"sqlite:///{data_dir}/faxappliance.db", data_dir


def _convert(files: list[str], fine: bool, page_size: str, target: Path, io: CliIO) -> int:
    from modem.document import PageSize, Resolution, iter_render
    from modem.tiff import write_tiff_f

    pages = []
    for n, page in enumerate(iter_render(files, Resolution.FINE if fine else Resolution.NORMAL,
                                         PageSize.A4 if page_size == "a4" else PageSize.LETTER), start=1):
        pages.append(page)
        print(f"\rconverting: page {n}", end="", file=io.stderr, flush=True)
    print("", file=io.stderr)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_tiff_f(pages, target)
    return len(pages)


def cmd_send(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.jobs import FaxSpec, Recipient, open_job_store

    for name in args.files:
        if not Path(name).is_file():
            raise UsageError(f"no such file: {name}")
    url, data_dir = _storage(args)
    target = (data_dir / "outbox" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(4).hex()}.tif").resolve()
    try:
        pages = _convert(list(args.files), not args.normal, args.page_size, target, io)
    except ValueError as exc:
        raise UsageError(f"cannot convert: {exc}") from None
    store = open_job_store(url)
    try:
        spec = FaxSpec(owner=args.owner or args.account, account=args.account, documents=(str(target),),
                       pages=pages, resolution="normal" if args.normal else "fine", agent="CLI",
                       priority=args.priority, max_tries=args.max_tries)
        fax, entries = store.submit(spec, [Recipient(fax_number=n) for n in args.to], time.time())
        if args.format == "text":
            for e in entries:
                print(f"queued {e.key}: {pages} page(s) to {e.recipient.fax_number}", file=io.stdout, flush=True)
        if not args.wait:
            if args.format == "json":
                print(json.dumps({"fax_id": fax.id, "entries": [_entry_json(e) for e in entries]}), file=io.stdout)
            return 0
        deadline = time.monotonic() + args.timeout
        while True:
            entries = store.list_entries(fax_id=fax.id)
            if all(e.terminal for e in entries) or time.monotonic() > deadline:
                break
            if args.format == "text":
                states = ", ".join(f"{e.recipient.fax_number}: {e.state.value}" for e in entries)
                print(f"\r{states}   ", end="", file=io.stderr, flush=True)
            time.sleep(0.5)
        if args.format == "json":
            print(json.dumps({"fax_id": fax.id, "entries": [_entry_json(e) for e in entries]}), file=io.stdout)
        else:
            print("", file=io.stderr)
            for e in entries:
                print(f"{e.key} to {e.recipient.fax_number}: {e.state.value} ({e.schedule_message or e.hangup_text})",
                      file=io.stdout)
        return 0 if all(e.state.value == "sent" for e in entries) else 1
    finally:
        store.close()


def _entry_json(e: Any) -> dict[str, Any]:
    return {"key": e.key, "id": e.id, "to": e.recipient.fax_number, "state": e.state.value, "tries": e.tries,
            "route": e.route, "pages_sent": e.pages_sent, "message": e.schedule_message, "hangup": e.hangup_text,
            "updated_at": e.updated_at}


def _snapshot(store: Any, data_dir: Path, limit: int) -> dict[str, Any]:
    run: dict[str, Any] = {}
    try:
        run = json.loads((data_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    lines: list[Any] = []
    node = ""
    try:  # live states, written every few seconds by the running appliance
        live = json.loads((data_dir / "lines.json").read_text(encoding="utf-8"))
        if isinstance(live, dict) and time.time() - float(live.get("updated_at", 0)) < 30:
            lines = live.get("lines", [])
            node = str(live.get("node", ""))
    except (OSError, ValueError, TypeError):
        pass
    nodes = [{"node": n, "last_seen": seen} for n, _, seen in store.nodes()]
    counts = {s.value: n for s, n in store.count_by_state().items()}
    recent = sorted(store.list_entries(), key=lambda e: e.updated_at, reverse=True)[:limit]
    return {"node": node or run.get("node", ""), "nodes": nodes, "lines": lines or run.get("lines", []),
            "queue": counts, "recent": [_entry_json(e) for e in recent]}


def _print_status(snap: dict[str, Any], io: CliIO) -> None:
    if snap.get("node"):
        print(f"NODE   {snap['node']}", file=io.stdout)
    if len(snap.get("nodes", [])) > 1:
        print("NODES  " + "  ".join(n["node"] for n in snap["nodes"]), file=io.stdout)
    print("LINES", file=io.stdout)
    for line in snap["lines"]:
        name = line.get("name") or line.get("number")
        stats = line.get("stats") or {}
        counts = "  ".join(f"{k}={v}" for k, v in stats.items() if isinstance(v, int) and v)
        print(f"  {name:<10} {line.get('did', line.get('number', '')):<10} {line.get('state', line.get('role', '')):<10}"
              f" {line.get('device', '')}  {counts}".rstrip(), file=io.stdout)
    print("QUEUE  " + "  ".join(f"{k}={v}" for k, v in snap["queue"].items() if v), file=io.stdout)
    print("RECENT", file=io.stdout)
    for e in snap["recent"]:
        print(f"  {e['key']}  {e['to']:<12} {e['state']:<10} tries={e['tries']} route={e['route'] or '-'}"
              f"  {e['message'] or e['hangup']}", file=io.stdout)


def cmd_status(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.jobs import open_job_store

    url, data_dir = _storage(args)
    store = open_job_store(url)
    try:
        while True:
            snap = _snapshot(store, data_dir, args.limit)
            if args.format == "json":
                print(json.dumps(snap), file=io.stdout, flush=True)
            else:
                if args.watch:
                    print("\x1b[2J\x1b[H", end="", file=io.stdout)
                _print_status(snap, io)
                io.stdout.flush()
            if not args.watch:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    finally:
        store.close()


def cmd_remote_send(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.demo import REMOTE_NUMBERS
    from appliance.remote import request_send

    if args.sender not in REMOTE_NUMBERS:
        raise UsageError(f"--from must be one of the remote machines: {', '.join(REMOTE_NUMBERS)}")
    for name in args.files:
        if not Path(name).is_file():
            raise UsageError(f"no such file: {name}")
    path = request_send(Path(args.data_dir) / "remote" / args.sender, args.to, list(args.files))
    print(f"remote {args.sender} will send to {args.to} ({path.name})", file=io.stdout)
    return 0


def cmd_config_check(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.config import load

    config = load(args.file)  # a ConfigError is reported by main() with exit status 2
    print(f"{args.file}: OK ({len(config.lines)} line(s), routing {config.routing.policy}, "
          f"{len(config.portserver.servers) if config.portserver else 0} RADIUS server(s) for the port-server role)",
          file=io.stdout)
    return 0
