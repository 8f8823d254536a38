"""``faxappliance --config FILE cloud OPERATION [--VARIABLE value …] [FILE…]``.

One subcommand per FAXAGE operation; options are the document's POST
variable names (array variables such as ``jobids[]`` are repeatable
``--jobids`` options); sendfax takes the files to fax as arguments.
Results print as a table or, with ``--format json``, as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import random
import time
from pathlib import Path
from typing import Any

from appliance.cli import CliIO, config_from_args
from appliance.cli._output import OutputFormat, choice, names
from appliance.cloud._ops import OPERATIONS
from appliance.cloud.api import ParamValue, build, build_sendfax
from appliance.cloud.errors import FaxageError, FaxageRequestError
from appliance.cloud.records import Document

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cloud = subparsers.add_parser("cloud", help="FAXAGE Internet fax operations")
    ops = cloud.add_subparsers(dest="operation", metavar="OPERATION", required=True)
    for spec in OPERATIONS.values():
        p = ops.add_parser(
            spec.name, help=spec.summary, description=f"{spec.name}: {spec.summary} ({spec.endpoint.value})"
        )
        for var in spec.variables:
            if spec.name == "sendfax" and var.name in ("faxfilenames[]", "faxfiledata[]"):
                continue
            base = var.name[:-2] if var.array else var.name
            flags = [f"--{base}"] + ([f"--{var.name}"] if var.array else [])
            p.add_argument(
                *flags,
                dest=f"v_{base}",
                action="append" if var.array else "store",
                metavar=base.upper(),
                help=(var.help or base) + (" (required)" if var.required else ""),
            )
        if spec.name == "sendfax":
            p.add_argument("files", nargs="*", metavar="FILE", help="files to fax (supported extensions)")
        if spec.binary:
            p.add_argument("--output", "-o", metavar="PATH", help="where to write the file (default: its name)")
        p.add_argument(
            "--format",
            type=choice(OutputFormat),
            choices=names(OutputFormat.TABLE, OutputFormat.JSON),
            default=OutputFormat.TABLE,
        )
        p.set_defaults(func=run)


def _params(args: argparse.Namespace) -> dict[str, ParamValue]:
    spec = OPERATIONS[args.operation]
    params: dict[str, ParamValue] = {}
    for var in spec.variables:
        value = getattr(args, f"v_{var.name[:-2] if var.array else var.name}", None)
        if value is not None:
            params[var.name] = value
    return params


def _plain(value: object) -> Any:  # JSON-like: what the operation returned, without dataclasses and enums
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _table(result: object) -> str:
    plain = _plain(result)
    if isinstance(plain, list):
        if not plain:
            return "(none)"
        if not isinstance(plain[0], dict):
            return "\n".join(str(v) for v in plain)
        columns = [c for c in plain[0] if any(row[c] not in (None, "", ()) for row in plain)]
        rows = [[("" if row[c] is None else str(row[c])) for c in columns] for row in plain]
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
        return "\n".join(line.rstrip() for line in lines)
    if isinstance(plain, dict):
        width = max(len(k) for k in plain)
        return "\n".join(f"{k.ljust(width)}  {'' if v is None else v}" for k, v in plain.items())
    return str(plain)


def run(args: argparse.Namespace, io: CliIO) -> int:
    from appliance.cloud.client import client_from_config  # httpx loads only when a cloud command runs

    config = config_from_args(args)
    if config is None or not config.faxage.configured:
        print(
            "faxappliance cloud: the FAXAGE credentials are not configured: set [faxage] username, company "
            "and password in the file given with --config",
            file=io.stderr,
        )
        return 2
    op = args.operation
    try:
        if op == "sendfax":
            files = []
            for name in args.files:
                try:
                    files.append((Path(name).name, Path(name).read_bytes()))
                except OSError as exc:
                    print(f"faxappliance cloud sendfax: cannot read {name}: {exc.strerror}", file=io.stderr)
                    return 2
            params = _params(args)
            faxno, recipname = str(params.pop("faxno", "")), str(params.pop("recipname", ""))
            request = build_sendfax(faxno, recipname, files, **params)
        else:
            request = build(op, _params(args))
    except FaxageRequestError as exc:
        print(f"faxappliance cloud: {exc}", file=io.stderr)
        return 2
    client = client_from_config(config.faxage, sleep=time.sleep, rng=random.Random())
    try:
        result = client.submit(request) if op == "sendfax" else client.call(request)
    except FaxageError as exc:
        print(f"faxappliance cloud: {exc}", file=io.stderr)
        return 1
    finally:
        client.close()
    if isinstance(result, Document):
        target = Path(args.output or result.filename or f"{op}.bin")
        target.write_bytes(result.data)
        result = {"file": str(target), "bytes": len(result.data), "content_type": result.content_type}
    if args.format is OutputFormat.JSON:
        print(json.dumps(_plain(result), indent=2), file=io.stdout)
    else:
        print(_table(result), file=io.stdout)
    return 0
