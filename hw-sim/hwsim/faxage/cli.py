"""``hwsim faxage --port N``: run the simulated FAXAGE service.

Prints ``listening on port N`` (the real port, also for ``--port 0``) once
the service accepts connections.  ``--state-file`` keeps the account between
runs (loaded at start when it exists, written at shutdown).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = subparsers.add_parser("faxage", help="simulated FAXAGE Internet fax service (HTTP)")
    p.add_argument("--port", type=int, default=8088, help="TCP port (0: any free port)")
    p.add_argument("--interface", default="127.0.0.1", help="address to listen on")
    p.add_argument("--username", default="sim")
    p.add_argument("--company", default="12345")
    p.add_argument("--password", default="simpass")
    p.add_argument("--state-file", type=Path, default=None, help="JSON file holding the account state")
    p.add_argument("--tick", type=float, default=0.1, help="seconds between schedule steps checks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from hwsim.faxage.persist import load_state, save_state
    from hwsim.faxage.service import FaxageSimulator
    from hwsim.faxage.state import FaxageSim

    sim = FaxageSim(username=args.username, company=args.company, password=args.password)
    if args.state_file is not None and args.state_file.exists():
        try:
            load_state(sim, args.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError) as exc:
            print(f"hwsim faxage: cannot load {args.state_file}: {exc}", file=sys.stderr)
            return 2
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    simulator = FaxageSimulator(sim, reactor, tick=args.tick)
    try:
        port = reactor.listenTCP(args.port, simulator.site(), interface=args.interface)  # type: ignore[attr-defined]
    except Exception as exc:  # CannotListenError and friends
        print(f"hwsim faxage: cannot listen: {exc}", file=sys.stderr)
        return 2
    simulator.start()
    if args.state_file is not None:
        path: Path = args.state_file
        reactor.addSystemEventTrigger(  # type: ignore[attr-defined]
            "before", "shutdown", lambda: path.write_text(save_state(sim), encoding="utf-8"))
    print(f"listening on port {port.getHost().port}", flush=True)
    reactor.run()  # type: ignore[attr-defined]
    return 0
