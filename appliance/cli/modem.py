"""``faxappliance modem probe|send|receive``: low-level admin commands for one modem.

Like HylaFAX's ``faxaddmodem``/``sendfax`` and mgetty's ``sendfax``: they open
the device with our driver, probe it, and do one job.  Each command runs the
reactor itself and returns the exit status (0 success, 1 failure, 2 usage).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

from appliance.cli._output import choice, names
from appliance.config.web import PageSize
from modem import class2 as c2
from modem.driver import ModemProtocol
from modem.params import PageFormat
from modem.supervisor import open_serial

__all__ = ["register"]

Job = Callable[[ModemProtocol, Any], "Deferred[int]"]


def register(subparsers: Any) -> None:
    modem = subparsers.add_parser("modem", help="probe a fax modem, send or receive one fax")
    sub = modem.add_subparsers(dest="modem_command", metavar="ACTION", required=True)

    probe = sub.add_parser("probe", help="identify the modem and its fax classes")
    _common(probe)
    probe.set_defaults(func=cmd_probe)

    send = sub.add_parser("send", help="send files as one fax")
    _common(send)
    send.add_argument("--to", required=True, metavar="NUMBER", help="number to dial")
    send.add_argument("--normal", action="store_true", help="normal resolution (98 lpi) instead of fine")
    send.add_argument("--page-size", type=choice(PageSize), choices=names(*PageSize), default=PageSize.LETTER)
    send.add_argument("files", nargs="+", metavar="FILE", help="PDF, TIFF, image or text files, or raw T.4 (.g3)")
    send.set_defaults(func=cmd_send)

    receive = sub.add_parser("receive", help="wait for one call and receive the fax")
    _common(receive)
    receive.add_argument("--out", required=True, metavar="DIR", help="directory for the received fax")
    receive.add_argument("--rings", type=int, default=1, help="answer after this many rings (default 1)")
    receive.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="give up when no call comes (0 = wait forever)"
    )
    receive.add_argument("--raw", action="store_true", help="also store each page's T.4 data as PAGE.g3 (MSB first)")
    receive.set_defaults(func=cmd_receive)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("device", metavar="DEVICE", help="serial device, e.g. /dev/ttyS0 or /dev/ttyFAX0")
    parser.add_argument(
        "--class",
        dest="fax_class",
        choices=("2", "2.0", "2.1"),
        help="use this class (default: 2.1, 2.0 or 2, the first offered)",
    )
    parser.add_argument("--init", action="append", metavar="AT…", help="init string (repeatable; default ATQ0V1, ATE0)")
    parser.add_argument(
        "--flow", choices=("none", "xonxoff", "rtscts"), default="xonxoff", help="flow control while sending"
    )
    parser.add_argument("--id", dest="local_id", default="", help="our fax ID (TSI/CSI, 20 characters)")
    parser.add_argument("--speed", type=int, default=19200, help="DTE speed in bit/s (default 19200)")
    parser.add_argument(
        "--max-bps",
        type=int,
        default=33600,
        help="highest fax line rate (default 33600: V.34 in Class 2.1 with ECM, else 14400)",
    )
    parser.add_argument("--command-timeout", type=float, default=10.0, metavar="SECONDS")


def _config(args: argparse.Namespace) -> c2.SessionConfig:
    if args.max_bps % 2400 or not 2400 <= args.max_bps <= 33600:
        raise _usage(f"fax bit rate {args.max_bps} is not one of 2400, 4800, …, 33600")
    br = args.max_bps // 2400 - 1
    timers = c2.Timers(command=args.command_timeout, wait_call=getattr(args, "wait", 0.0))
    return c2.SessionConfig(
        init_strings=tuple(args.init) if args.init else ("ATQ0V1", "ATE0"),
        local_id=args.local_id,
        max_br=int(br),
        flow=c2.FlowControl[args.flow.upper()],
        timers=timers,
    )


def _usage(message: str) -> Exception:
    from appliance.cli import UsageError

    return UsageError(message)


def _run(args: argparse.Namespace, io: Any, job: Job) -> int:
    """Open the device, probe, run ``job``; returns its exit status."""
    from twisted.internet import reactor

    config = _config(args)
    proto = ModemProtocol(reactor, args.device, config)
    try:
        port = open_serial(reactor, baudrate=args.speed)(proto)
    except Exception as exc:  # serial.SerialException / OSError
        print(f"faxappliance: cannot open {args.device}: {exc}", file=io.stderr)
        return 1
    status = [1]
    force = c2.FaxClass(args.fax_class) if args.fax_class else None

    def done(code: int) -> None:
        status[0] = code

    def failed(failure: Failure) -> None:
        print(f"faxappliance: {failure.getErrorMessage()}", file=io.stderr)

    def stop(_: object) -> None:
        if proto.connected_:
            port.loseConnection()
        reactor.callLater(0, reactor.stop)

    d = proto.probe(force).addCallback(lambda _probe: job(proto, reactor))
    d.addCallbacks(done, failed).addBoth(stop)
    reactor.run()
    return status[0]


def cmd_probe(args: argparse.Namespace, io: Any) -> int:
    def job(proto: ModemProtocol, reactor: Any) -> Deferred[int]:
        p = proto.probe_result
        assert p is not None  # the probe succeeded before the job runs
        print(f"device: {args.device}", file=io.stdout)
        print(f"class: {p.fax_class.value} (offered: {','.join(p.classes)})", file=io.stdout)
        print(f"identification: {' / '.join(p.identification) or '-'}", file=io.stdout)
        print(f"manufacturer: {p.manufacturer or '-'}", file=io.stdout)
        print(f"model: {p.model or '-'}", file=io.stdout)
        print(f"revision: {p.revision or '-'}", file=io.stdout)
        if p.caps is not None:
            ranges = ",".join("(" + ",".join(str(v) for v in sorted(f)) + ")" for f in p.caps.fields)
            print(f"capabilities: {ranges}", file=io.stdout)
        return succeed(0)

    return _run(args, io, job)


def _load_pages(files: list[str], fine: bool, page_size: str) -> list[Any]:
    """Raw T.4 files (``.g3``) are sent as they are (MH); anything else is rendered and
    coded MH, MR and MMR (the call picks what the remote takes)."""
    pages: list[Any] = []
    others: list[str] = []
    for name in files:
        if name.lower().endswith((".g3", ".t4")):
            pages.append(Path(name).read_bytes())
        else:
            others.append(name)
    if others:  # rendered in a bounded worker process, with the default [limits]
        from appliance.render import Limits
        from appliance.render.jobs import files_to_coded, run_once

        limits = Limits()
        pages += run_once(limits, files_to_coded, others, fine, page_size, limits.max_pages)
    return pages


def _print_result(result: c2.SessionResult, io: Any) -> None:
    print(f"outcome: {result.outcome.value} ({result.detail})", file=io.stdout)
    print(f"pages: {result.pages_confirmed} of {result.pages_total}", file=io.stdout)
    for page in result.discarded:  # receive: transmissions not kept (RTN, broken off)
        print(f"not kept: a page transmission of {len(page.data)} bytes ({page.note})", file=io.stdout)
    if result.remote_id:
        print(f"remote id: {result.remote_id}", file=io.stdout)
    if result.caller_id:
        print(f"caller id: {result.caller_id}", file=io.stdout)
    if result.params:
        print(f"parameters: {result.params.format(hex_values=False)} ({result.params.bps} bit/s)", file=io.stdout)
    if result.hangup:
        print(f"hangup: {result.hangup}", file=io.stdout)
    print(f"duration: {result.duration_s:.1f} s", file=io.stdout)
    if not result.ok:
        print(f"faxappliance: {result.outcome.value}: {result.detail}", file=io.stderr)
        print(f"faxappliance: last exchange: {' | '.join(result.exchange)}", file=io.stderr)


def cmd_send(args: argparse.Namespace, io: Any) -> int:
    from modem.dialect import dial_string_problem

    if dial_string_problem(args.to) is not None:  # raw dial string (W, P, … allowed); the modem driver's rule
        raise _usage(str(dial_string_problem(args.to)))
    for name in args.files:
        if not Path(name).is_file():
            raise _usage(f"no such file: {name}")
    fine = not args.normal

    def job(proto: ModemProtocol, reactor: Any) -> Deferred[int]:
        from twisted.internet.threads import deferToThread

        d: Deferred[list[Any]] = deferToThread(_load_pages, args.files, fine, args.page_size)

        def send(pages: list[Any]) -> Deferred[c2.SessionResult]:
            return proto.send(args.to, pages, PageFormat(fine=fine))

        def report(result: c2.SessionResult) -> int:
            _print_result(result, io)
            return 0 if result.ok else 1

        return d.addCallback(send).addCallback(report)

    return _run(args, io, job)


def cmd_receive(args: argparse.Namespace, io: Any) -> int:
    if args.rings < 1:
        raise _usage(f"--rings must be at least 1, not {args.rings}")
    out_dir = Path(args.out)

    def job(proto: ModemProtocol, reactor: Any) -> Deferred[int]:
        from twisted.internet.threads import deferToThread

        def store(result: c2.SessionResult) -> Deferred[int]:
            _print_result(result, io)
            return deferToThread(_store, result, out_dir, args.raw, io)

        d = proto.receive(args.rings).addCallback(store)
        print(f"waiting for a call on {args.device}", file=io.stdout, flush=True)
        return d

    return _run(args, io, job)


def _store(result: c2.SessionResult, out_dir: Path, raw: bool, io: Any) -> int:
    """Store the pages confirmed to the sender (``result.received``), nothing else."""
    if not result.received:
        return 0 if result.ok else 1
    from modem.document import Resolution
    from modem.tiff import received_to_files

    stem = time.strftime("fax-%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    if raw:
        for number, page in enumerate(result.received, start=1):
            (out_dir / f"{stem}-p{number:03d}.g3").write_bytes(page.data)
    fine = result.params.fine if result.params else True
    resolution = Resolution.FINE if fine else Resolution.NORMAL
    try:
        files = received_to_files(
            [p.data for p in result.received], resolution, out_dir, stem, codings=[p.coding for p in result.received]
        )
    except ValueError as exc:
        print(f"faxappliance: received pages could not be decoded: {exc}", file=io.stderr)
        return 1
    print(f"stored: {files.tiff}", file=io.stdout)
    return 0 if result.ok else 1
