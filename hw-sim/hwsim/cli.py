"""``hwsim`` command line: simulated hardware for people and tests.

Subcommands come from registrar modules (``register(subparsers)``); a
command's ``func(args)`` returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys

REGISTRARS: tuple[str, ...] = (
    "hwsim.lines_cli",  # hwsim lines …  (simulated modems on ptys + PSTN)
    "hwsim.faxage.cli",  # hwsim faxage --port N  (FAXAGE service simulator)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwsim", description="Fax hardware simulator")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in REGISTRARS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return int(func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
