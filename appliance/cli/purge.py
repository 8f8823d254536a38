"""``faxappliance purge [--dry-run]``: the ``[retention]`` housekeeping by hand."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from appliance.cli import CliIO, config_from_args, storage_of
from appliance.cli._output import ReportFormat, choice, names

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("purge", help="remove old faxes, spool files and CDRs per [retention]")
    p.add_argument("--data-dir", default="var", help="data directory of the embedded default")
    p.add_argument("--dry-run", action="store_true", help="list what would go; change nothing")
    p.add_argument("--format", type=choice(ReportFormat), choices=names(*ReportFormat), default=ReportFormat.TEXT)
    p.set_defaults(func=cmd_purge)


def cmd_purge(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.housekeeping import purge
    from appliance.inbound.inbox import Inbox
    from appliance.jobs import open_job_store
    from appliance.retention import Retention
    from radius.store import open_store

    config = config_from_args(args)
    retention = (config.retention if config is not None else None) or Retention()
    web = config.web if config is not None else None
    url, data_dir = storage_of(args)
    jobs = open_job_store(url)
    cdrs = open_store(url)
    try:
        plan = purge(
            retention,
            time.time(),
            jobs=jobs,
            inbox=Inbox(Path(data_dir) / "inbox"),
            cdrs=cdrs,
            data_dir=data_dir,
            web_spool=getattr(web, "spool_dir", "") or "",
            dry_run=args.dry_run,
        )
    finally:
        jobs.close()
        cdrs.close()
    summary = plan.summary()
    if args.format is ReportFormat.JSON:
        print(json.dumps({"dry_run": args.dry_run, **summary}), file=io.stdout)
        return 0
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb}: {len(plan.faxes)} finished fax(es), {len(plan.inbox)} received fax(es), "
        f"{len(plan.files)} spool file(s), {plan.cdrs} CDR(s)",
        file=io.stdout,
    )
    for key in summary["faxes"]:
        print(f"  fax {key}", file=io.stdout)
    for item in summary["inbox"]:
        print(f"  received {item}", file=io.stdout)
    for name in summary["files"]:
        print(f"  file {name}", file=io.stdout)
    return 0
