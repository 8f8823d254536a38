"""``faxappliance`` command line: the parser, the exit-status rules and the entry point.

Every command lives in a module of this package (``run`` and ``radius`` in
:mod:`appliance.cli.run`, ``send``/``status`` in :mod:`appliance.cli.fax`,
``config check`` in :mod:`appliance.cli.config`, …) and contributes its
subcommands through ``register(subparsers)``; the cloud client adds its own
(:mod:`appliance.cloud.cli`).  A command's ``func(args, io)`` returns the
process exit status; the commands that run the services (``run``, ``radius``,
``modem``) are the ones that drive the global reactor.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, TextIO

from appliance.config import Config, ConfigError, load

__all__ = ["CliIO", "UsageError", "build_parser", "config_from_args", "entry", "main", "storage_of"]

# Modules that contribute subcommands.  Each defines register(subparsers).
REGISTRARS: tuple[str, ...] = (
    "appliance.cli.run",  # radius, run
    "appliance.cli.admin",  # accounts, dids, devices, emails, groups, import
    "appliance.cli.cdrs",  # cdrs list
    "appliance.cloud.cli",  # cloud OPERATION …
    "appliance.cli.modem",  # modem probe|send|receive
    "appliance.cli.tokens",  # tokens add|list|revoke
    "appliance.cli.fax",  # send, status, remote-send
    "appliance.cli.config",  # config check
    "appliance.cli.ops",  # inbox, jobs
    "appliance.cli.purge",  # purge
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


def storage_of(args: argparse.Namespace) -> tuple[str, Path]:
    """The store URL and data directory of the appliance the command works on:
    ``--config``'s, else the embedded default's under ``--data-dir``."""
    config = config_from_args(args)
    if config is not None:
        return config.storage.url, Path(config.data_dir)
    data_dir = Path(args.data_dir)
    if not (data_dir / "faxappliance.db").exists():
        raise UsageError(f"no appliance data in {data_dir}: start `faxappliance run` first, or pass --config")
    return f"sqlite:///{data_dir}/faxappliance.db", data_dir


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="faxappliance", description="Fax appliance controller")
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
    except BrokenPipeError:
        raise
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a failure, not a usage error: one line, exit status 1
        message = _failure(exc)
        if message is None:
            raise
        print(f"faxappliance: {message}", file=io.stderr)
        return 1


def _failure(exc: Exception) -> str | None:
    """The one-line message of an expected failure; None for a bug (its traceback is worth seeing)."""
    from appliance.jobs.model import JobError
    from radius.store.api import StoreError

    if isinstance(exc, (JobError, StoreError)):
        return str(exc)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return None


def entry() -> int:
    """The ``faxappliance`` program: files it creates are private (umask 077), then :func:`main`."""
    from appliance.private import set_private_umask

    set_private_umask()
    try:
        code = main()
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # the reader went away (`… | head`): end quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
