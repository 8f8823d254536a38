"""Run simulated lines on ptys for interop tests: ``python -m tests.modem.run_lines PREFIX CLASS N [FAULTS]``.

``FAULTS`` is an optional hwsim fault file (TOML, see :mod:`hwsim.faults`).

Prints one ``number device link`` line per line, then ``ready``; runs until
SIGTERM.  The test starts it as a subprocess so real programs, our CLI and
the simulator each have their own process and reactor.
"""

from __future__ import annotations

import signal
import sys


def main(argv: list[str]) -> int:
    from twisted.internet import reactor

    from hwsim.faults import FaultPlan, load_faults
    from hwsim.pty import start_lines

    prefix, fax_class, count = argv[0], argv[1], int(argv[2])
    faults = load_faults(argv[3]) if len(argv) > 3 else FaultPlan()
    lines = start_lines(reactor, count, link_prefix=prefix, fax_class=fax_class, faults=faults)
    for line in lines.lines:
        print(line.number, line.device, line.link, flush=True)
    print("ready", flush=True)

    def stop(*_: object) -> None:
        reactor.callFromThread(reactor.stop)

    signal.signal(signal.SIGTERM, stop)
    reactor.run(installSignalHandlers=False)
    lines.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
