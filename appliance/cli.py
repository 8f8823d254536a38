"""``faxappliance`` command line: the only module that touches the global reactor.

Subcommands are contributed by registrar modules (``register(subparsers)``),
each owning its own commands, so components stay independent.  A command's
``func(args, io)`` returns the process exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass, field
from typing import Callable, TextIO

from appliance.config import Config, ConfigError, load

__all__ = ["CliIO", "main", "entry", "build_parser", "config_from_args", "UsageError"]

# Modules that contribute subcommands.  Each defines register(subparsers).
REGISTRARS: tuple[str, ...] = (
    "appliance.cli_radius",  # radius, run
    "appliance.cli_admin",  # accounts, dids, devices, emails, groups, cdrs, import
    "appliance.cloud.cli",  # cloud OPERATION …
    "appliance.cli_modem",  # modem probe|send|receive
    "appliance.cli_tokens",  # tokens add|list|revoke
    "appliance.cli_fax",  # send, status, remote-send, config check
)


class UsageError(Exception):
    """The command line or its inputs are wrong; the message is for the user."""


@dataclass
class CliIO:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)


def config_from_args(args: argparse.Namespace) -> Config | None:
    """The config named by ``--config``, or None when none was given."""
    path = getattr(args, "config", None)
    return load(path) if path else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faxappliance", description="Fax appliance controller")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in REGISTRARS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue  # component not installed in this build
        module.register(sub)
    return parser


def main(argv: list[str] | None = None, io: CliIO | None = None) -> int:
    io = io or CliIO()
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, CliIO], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(io.stderr)
        return 2
    try:
        return func(args, io)
    except ConfigError as exc:
        print(f"faxappliance: configuration error: {exc}", file=io.stderr)
        return 2
    except UsageError as exc:
        print(f"faxappliance: {exc}", file=io.stderr)
        return 2


def entry() -> int:
    """The ``faxappliance`` program: files it creates are private (umask 077), then :func:`main`."""
    from appliance.private import set_private_umask

    set_private_umask()
    return main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
