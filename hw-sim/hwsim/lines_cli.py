"""``hwsim lines``: simulated fax lines on ptys, for people and tests.

Prints one line per simulated line, ``line <i> <number> <device> [<link>]``,
then ``ready``, and runs until SIGTERM or SIGINT; then prints, per line, the
transmit flow control it saw: ``flow <number> xoffs=N peak=BYTES overrun=N
ecm_resent=FRAMES``.  Pages are paced at the line rate and the T.30 phases
take the time they take on a real line, unless ``--fast``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .faults import FaultFileError, FaultPlan, load_faults

__all__ = ["register", "run_lines"]


def register(subparsers: Any) -> None:
    """Add the ``lines`` subcommand."""
    p = subparsers.add_parser("lines", help="simulated fax modems on ptys joined by a simulated PSTN")
    p.add_argument("--count", type=int, required=True, help="number of lines")
    p.add_argument("--numbers", help="comma-separated phone numbers (default 5550001, 5550002, ...)")
    p.add_argument("--link-prefix", help="make symlinks PREFIX0, PREFIX1, ... to the pty devices")
    p.add_argument("--class", dest="fax_class", choices=("2.1", "2.0", "2"), default="2.0", help="highest fax class")
    p.add_argument("--faults", help="fault file (TOML), see hwsim.faults")
    p.add_argument(
        "--fast", action="store_true", help="no line time: pages are not paced and the T.30 phases take no time"
    )
    p.add_argument("--no-t30", action="store_true", help="pace pages, but let the T.30 phases take no time")
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="S",
        help="multiply line and T.30 phase times by S (0.1: ten times faster; default 1)",
    )
    p.set_defaults(func=run_lines)


def _numbers(text: str | None, count: int) -> list[str] | None:
    if not text:
        return None
    numbers = [n.strip() for n in text.split(",") if n.strip()]
    if len(numbers) != count:
        raise ValueError(f"--numbers lists {len(numbers)} numbers but --count is {count}")
    return numbers


def run_lines(args: argparse.Namespace) -> int:
    """Run the lines until stopped; exit status."""
    from twisted.internet import reactor

    from .pty import start_lines

    try:
        if args.count < 1:
            raise ValueError("--count must be at least 1")
        if not 0.001 <= args.time_scale <= 10:
            raise ValueError("--time-scale must be between 0.001 and 10")
        numbers = _numbers(args.numbers, args.count)
        faults = load_faults(args.faults) if args.faults else FaultPlan()
        lines = start_lines(
            reactor,
            args.count,
            numbers=numbers,
            link_prefix=args.link_prefix,
            fax_class=args.fax_class,
            faults=faults,
            fast=args.fast,
            t30=not (args.fast or args.no_t30),
            time_scale=args.time_scale,
        )
    except (ValueError, FaultFileError, OSError) as exc:
        print(f"hwsim lines: {exc}", file=sys.stderr)
        return 2

    def announce() -> None:
        # Printed once the reactor runs, so SIGTERM after "ready" is handled cleanly.
        for i, line in enumerate(lines.lines):
            print(f"line {i} {line.number} {line.device}" + (f" {line.link}" if line.link else ""))
        print("ready", flush=True)

    reactor.callWhenRunning(announce)

    def stop() -> None:
        for number, modem in lines.exchange.modems.items():  # flow control seen, for people and tests
            s = modem.flow_stats
            print(
                f"flow {number} xoffs={s.xoffs} peak={s.peak} overrun={s.overrun} ecm_resent={s.frames_resent}",
                flush=True,
            )
        lines.stop()

    reactor.addSystemEventTrigger("before", "shutdown", stop)
    reactor.run()
    return 0
