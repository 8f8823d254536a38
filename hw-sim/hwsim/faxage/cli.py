"""``hwsim faxage --port N``: run the simulated FAXAGE service.

Prints ``listening on port N`` (the real port, also for ``--port 0``) once
the service accepts connections.  ``--state-file`` keeps the account between
runs (loaded at start when it exists, written at shutdown).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hwsim.faxage.state import Step

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("faxage", help="simulated FAXAGE Internet fax service (HTTP)")
    p.add_argument("--port", type=int, default=8088, help="TCP port (0: any free port)")
    p.add_argument("--interface", default="127.0.0.1", help="address to listen on")
    p.add_argument("--username", default="sim")
    p.add_argument("--company", default="12345")
    p.add_argument("--password", default="simpass")
    p.add_argument("--state-file", type=Path, default=None, help="JSON file holding the account state")
    p.add_argument("--tick", type=float, default=0.1, help="seconds between schedule steps checks")
    p.add_argument(
        "--schedule",
        type=parse_schedule,
        default=None,
        metavar="STEPS",
        help="job schedule as DELAY:SHORTSTATUS:LONGSTATUS steps separated by commas, "
        "e.g. '0.01:pending:In Queue,0.02:success:Success' (default 0.5 s, then 1.5 s)",
    )
    p.set_defaults(func=run)


def parse_schedule(text: str) -> tuple[Step, ...]:
    """``DELAY:SHORTSTATUS:LONGSTATUS[,…]`` as schedule steps."""
    steps = []
    for part in text.split(","):
        fields = part.split(":", 2)
        if len(fields) != 3:
            raise argparse.ArgumentTypeError(f"step {part!r} is not DELAY:SHORTSTATUS:LONGSTATUS")
        delay, short, long = fields
        try:
            seconds = float(delay)
        except ValueError:
            raise argparse.ArgumentTypeError(f"step {part!r}: delay {delay!r} is not a number") from None
        if seconds < 0 or short not in ("pending", "success", "failure") or not long:
            raise argparse.ArgumentTypeError(
                f"step {part!r}: needs a delay >= 0, pending/success/failure and a long status"
            )
        steps.append(Step(seconds, short, long))
    if not steps or steps[-1].shortstatus == "pending":
        raise argparse.ArgumentTypeError("the schedule must end in success or failure")
    return tuple(steps)


def run(args: argparse.Namespace) -> int:
    from twisted.internet import reactor
    from twisted.internet.address import IPv4Address, IPv6Address
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from hwsim.faxage.persist import load_state, save_state
    from hwsim.faxage.service import FaxageSimulator
    from hwsim.faxage.state import FaxageSim

    sim = FaxageSim(username=args.username, company=args.company, password=args.password)
    if args.schedule is not None:
        sim.schedule = args.schedule
    if args.state_file is not None and args.state_file.exists():
        try:
            load_state(sim, args.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError) as exc:
            print(f"hwsim faxage: cannot load {args.state_file}: {exc}", file=sys.stderr)
            return 2
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    simulator = FaxageSimulator(sim, reactor, tick=args.tick)
    try:
        port = reactor.listenTCP(
            args.port,
            simulator.site(),  # type: ignore[arg-type]  # twisted types listenTCP for ServerFactory; Site is a Factory
            interface=args.interface,
        )
    except Exception as exc:  # CannotListenError and friends
        print(f"hwsim faxage: cannot listen: {exc}", file=sys.stderr)
        return 2
    simulator.start()
    if args.state_file is not None:
        path: Path = args.state_file
        reactor.addSystemEventTrigger("before", "shutdown", lambda: path.write_text(save_state(sim), encoding="utf-8"))
    address = port.getHost()
    assert isinstance(address, IPv4Address | IPv6Address)
    print(f"listening on port {address.port}", flush=True)
    reactor.run()
    return 0
