"""``faxappliance config check FILE``: every error of a configuration file
(exit status 2), else warnings about its TLS files and a one-line summary."""

from __future__ import annotations

import argparse
from typing import Any

from appliance.cli import CliIO
from appliance.config import all_errors, load
from appliance.tls import check_tls, exposed_without_tls

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="configuration file tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = csub.add_parser("check", help="validate a configuration file")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=cmd_config_check)


def cmd_config_check(args: argparse.Namespace, io: CliIO) -> int:
    errors = all_errors(args.file)
    if errors:
        for error in errors:
            print(f"faxappliance: configuration error: {error}", file=io.stderr)
        print(f"{args.file}: {len(errors)} error(s)", file=io.stderr)
        return 2
    config = load(args.file)
    for warning in check_tls(config.source, config.web):  # certificate and key exist, load and match
        print(f"{args.file}: warning: {warning}", file=io.stderr)
    if exposed_without_tls(config.web):
        print(
            f"{args.file}: warning: web.listen: {config.web.listen or '(all addresses)'} serves plain HTTP beyond "
            f"loopback; set web.certificate and web.key for HTTPS",
            file=io.stderr,
        )
    print(
        f"{args.file}: OK ({len(config.lines)} line(s), routing {config.routing.policy}, "
        f"{len(config.portserver.servers) if config.portserver else 0} RADIUS server(s) for the port-server role)",
        file=io.stdout,
    )
    return 0
