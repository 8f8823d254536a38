"""``faxappliance run`` (every configured service, or the embedded default with its simulated
network) and ``faxappliance radius`` (the RADIUS service only): both start services on the reactor."""

from __future__ import annotations

import argparse
import dataclasses
import secrets
from pathlib import Path
from typing import Any

from twisted.application import service

from appliance.cli import CliIO, config_from_args
from appliance.cli._output import choice, names
from appliance.config import Config, RoutingPolicy, Secret, default_config
from appliance.config.web import WebConfig
from appliance.private import private_file
from appliance.wiring.radius_services import make_radius_services

__all__ = ["ensure_embedded_default", "register"]


def register(sub: Any) -> None:
    p = sub.add_parser("radius", help="run only the RADIUS service (auth + accounting)")
    p.add_argument("--log-json", metavar="FILE", help="write JSON log events to FILE instead of text to stderr")
    p.set_defaults(func=cmd_radius)
    p = sub.add_parser("run", help="run the appliance (embedded default without --config)")
    p.add_argument("--data-dir", default="var", help="data directory of the embedded default (default ./var)")
    p.add_argument("--auth-port", type=int, help="override the RADIUS auth port (default 1812)")
    p.add_argument("--acct-port", type=int, help="override the RADIUS accounting port (default 1813)")
    p.add_argument("--log-json", metavar="FILE", help="write JSON log events to FILE instead of text to stderr")
    p.add_argument("--web-port", type=int, default=8080, help="web service port of the embedded default")
    p.add_argument("--smtp-port", type=int, default=2525, help="e-mail gateway (T.37) port of the embedded default")
    p.add_argument(
        "--smtp-relay",
        default="",
        metavar="HOST:PORT",
        help="embedded default: send mail through this relay instead of writing <data-dir>/mail/",
    )
    p.add_argument("--faxage-port", type=int, default=0, help="FAXAGE simulator port (default: any free port)")
    p.add_argument("--fast", action="store_true", help="simulated lines do not pace pages at the line rate")
    p.add_argument("--faults", metavar="FILE", help="fault file for the simulated network (see hwsim.faults)")
    p.add_argument("--retry-interval", type=float, metavar="SECONDS", help="retry interval for every cause")
    p.add_argument("--ring-seconds", type=float, default=3.0, help="ring cadence of the simulated lines")
    p.add_argument(
        "--unattended",
        action="append",
        default=[],
        metavar="NUMBER",
        help="leave this remote line without a fax machine (for sendfax, efax …)",
    )
    p.add_argument(
        "--extra-radius",
        action="append",
        default=[],
        metavar="HOST:AUTH:ACCT",
        help="a RADIUS server the port-server role tries before the local one",
    )
    p.add_argument(
        "--storage-url",
        metavar="URL",
        help="embedded default: keep accounts, CDRs and jobs in this database (e.g. postgresql://…)"
        " instead of <data-dir>/faxappliance.db; several nodes may share it",
    )
    p.add_argument("--node", metavar="TOML", help="embedded default: the [node] table, e.g. 'id = \"a\"'")
    p.add_argument("--max-tries", type=int, metavar="N", help="embedded default: tries per fax (default 3)")
    p.add_argument(
        "--routing",
        type=choice(RoutingPolicy),
        choices=names(*RoutingPolicy),
        default=RoutingPolicy.LOCAL_FIRST,
        help="embedded default: [routing] policy (default local_first: lines, then the FAXAGE simulator)",
    )
    p.add_argument(
        "--remotes",
        type=int,
        default=2,
        choices=range(2, 21),
        metavar="N",
        help="embedded default: remote fax machines 5550101… (2-20, default 2)",
    )
    p.set_defaults(func=cmd_run)


def ensure_embedded_default(data_dir: str, io: CliIO) -> Config:
    """The embedded default config, generating its client secret on first start."""
    d = Path(data_dir)
    secret, created = private_file(d / "radius-secret", lambda: secrets.token_urlsafe(18))
    if created:
        print(f"RADIUS client secret for 127.0.0.1 (kept in {d / 'radius-secret'}): {secret}", file=io.stdout)
    else:
        print(f"RADIUS client secret for 127.0.0.1: see {d / 'radius-secret'}", file=io.stdout)
    return default_config(data_dir=str(d), client_secret=Secret(secret))


def _start_logging(args: argparse.Namespace, io: CliIO) -> None:
    from twisted.logger import (
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        globalLogBeginner,
        jsonFileLogObserver,
        textFileLogObserver,
    )

    if getattr(args, "log_json", None):
        # the log file stays open for the life of the process
        observer = jsonFileLogObserver(open(args.log_json, "a", encoding="utf-8"))  # noqa: SIM115
    else:
        observer = textFileLogObserver(io.stderr)
    filtered = FilteringLogObserver(observer, [LogLevelFilterPredicate(LogLevel.info)])
    globalLogBeginner.beginLoggingTo([filtered], redirectStandardIO=False)


def _demo(config: Config, args: argparse.Namespace, io: CliIO, store: Any, reactor: Any, notes: list[str]) -> Any:
    """The embedded default's services; ``notes`` gets the lines to print once they listen."""
    from twisted.internet.error import CannotListenError
    from twisted.internet.threads import deferToThreadPool

    from appliance.demo import embedded as d
    from appliance.startup import StartupError, describe_listen_error
    from appliance.wiring.assemble import make_service

    extra = []
    for spec in args.extra_radius:
        host, auth, acct = spec.split(":")
        extra.append((host, int(auth), int(acct)))
    options = d.DemoOptions(
        fast=args.fast,
        faults=args.faults or "",
        faxage_port=args.faxage_port,
        web_port=args.web_port,
        retry_interval=args.retry_interval,
        max_tries=args.max_tries,
        remotes=args.remotes,
        routing=args.routing,
        ring_seconds=args.ring_seconds,
        unattended=tuple(args.unattended),
        portserver_servers=tuple(extra),
        smtp_port=args.smtp_port,
        smtp_relay=args.smtp_relay,
    )
    data_dir = Path(config.data_dir)
    d.seed_store(store, data_dir, io.stdout)
    try:
        sim = d.SimNetwork(reactor, data_dir, options)
    except CannotListenError as exc:
        raise StartupError(describe_listen_error(exc, "tcp", "FAXAGE simulator")) from None
    secret = config.radius.clients[0].secret
    config = d.demo_config(config, sim, secret, options)
    run = lambda fn, *a: deferToThreadPool(reactor, reactor.getThreadPool(), fn, *a)  # noqa: E731
    machines = d.remote_machines(reactor, sim, data_dir, options, run)
    # the simulated network and the remote machines start before the controller and stop after it
    top = make_service(config, reactor, store=store, before=[sim, *machines])
    appliance = getattr(top, "appliance", None)  # set by make_service
    d.write_run_file(data_dir, sim, config, options, appliance.node_id if appliance is not None else "")
    for line in sim.lines.lines:
        role = "appliance line" if line.number in d.APPLIANCE_NUMBERS else "remote fax machine"
        print(f"{role} {line.number} on {line.device}", file=io.stdout)
    print(f"FAXAGE simulator (cloud route) on {sim.faxage_url}", file=io.stdout)
    if appliance is not None:
        web = [s for s in top if type(s).__module__.startswith("appliance.web")]
        if web:
            notes.append(f"web service on http://127.0.0.1:{args.web_port}/")
        else:
            notes.append("web service: not in this build")
        mail = getattr(top, "mail", None)
        if mail is not None and mail.gateway is not None:
            notes.append(
                f"e-mail to fax (T.37) on smtp://127.0.0.1:{args.smtp_port}/ for FAX=<number>@localhost "
                f"from {d.DEMO_EMAIL}"
            )
        if mail is not None:
            where = f"through {args.smtp_relay}" if args.smtp_relay else f"into {data_dir / 'mail'}/new/"
            notes.append(f"received faxes are mailed to {d.DEMO_EMAIL} {where}")
    return top


def _web_config(config: Config) -> WebConfig:
    return config.web


def _prepare_data(config: Config) -> Any:
    """Create the data directory (0700) and tighten an existing install; the report."""
    from appliance.private import sqlite_files, tighten
    from appliance.startup import StartupError

    data_dir = Path(config.data_dir)
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path in sqlite_files(config.storage.url)[:1]:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot create the data directory {data_dir}: {exc.strerror or exc}") from None
    web = _web_config(config)
    roots: list[Any] = [data_dir, *sqlite_files(config.storage.url), *sqlite_files(web.token_store)]
    if web.spool_dir:
        roots.append(web.spool_dir)
    return tighten(roots)


def _refuse_second_instance(config: Config) -> None:
    import os

    from appliance.heartbeat import liveness
    from appliance.startup import StartupError

    try:
        alive = liveness(config.data_dir)
    except OSError:
        return
    if alive.running and alive.pid != os.getpid():
        raise StartupError(
            f"another faxappliance ({alive.reason}) is running with the data directory {config.data_dir}"
        )


def _after_start(
    config: Config,
    top: Any,
    args: argparse.Namespace,
    io: CliIO,
    notes: list[str],
    tightened: Any,
    tls_warnings: list[str],
) -> None:
    """Everything listens: say so, start logging, and log the start-up findings."""
    from twisted.logger import Logger

    from appliance.tls import exposed_without_tls
    from radius.server import ACCT, AUTH, RadiusService

    for svc in top:
        if isinstance(svc, RadiusService):
            print(
                f"RADIUS auth on {svc.listen}:{svc.bound.get(AUTH)}, accounting on {svc.listen}:{svc.bound.get(ACCT)}",
                file=io.stdout,
            )
    for note in notes:
        print(note, file=io.stdout)
    io.stdout.flush()
    _start_logging(args, io)
    log = Logger(namespace="appliance.run")
    if tightened.count:
        log.info(
            "tightened the permissions of {count} path(s) under {data_dir} to owner-only",
            count=tightened.count,
            data_dir=config.data_dir,
        )
    for problem in tightened.failed[:5]:
        log.warn("cannot make private: {problem}", problem=problem)
    for warning in tls_warnings:
        log.warn("{warning}", warning=warning)
    web = _web_config(config)
    if any(type(s).__module__.startswith("appliance.web") for s in top) and exposed_without_tls(web):
        log.warn(
            "the web service serves plain HTTP on {address}:{port}, beyond loopback: passwords, tokens and "
            "faxes cross the network unencrypted; set [web] certificate and key",
            address=web.listen or "*",
            port=web.port,
        )


def _serve(config: Config, args: argparse.Namespace, io: CliIO, demo: bool) -> int:
    from appliance.startup import StartupError

    try:
        return _serve_or_fail(config, args, io, demo)
    except StartupError as exc:
        print(f"faxappliance: {exc}", file=io.stderr, flush=True)
        return 1


def _serve_or_fail(config: Config, args: argparse.Namespace, io: CliIO, demo: bool) -> int:
    import os
    import signal
    import socket

    from appliance.heartbeat import HeartbeatService
    from appliance.startup import start_all, stop_started
    from appliance.tls import check_tls
    from appliance.wiring.assemble import make_service
    from appliance.wiring.reactor import reactor
    from radius.store import open_store

    tls_warnings = check_tls(config.source, _web_config(config)) if args.command == "run" else []
    tightened = _prepare_data(config)
    _refuse_second_instance(config)
    store = open_store(config.storage.url)
    store.init_schema()
    notes: list[str] = []
    try:
        if demo:
            top = _demo(config, args, io, store, reactor, notes)
        elif args.command == "radius":
            top = service.MultiService()
            workers = config.radius.workers or os.cpu_count() or 1  # 0: one per core
            make_radius_services(config, reactor, store=store, workers=workers).setServiceParent(top)
        else:
            top = make_service(config, reactor, store=store)
    except BaseException:
        store.close()
        raise
    HeartbeatService(reactor, config.data_dir, pid=os.getpid(), host=socket.gethostname()).setServiceParent(top)
    io.stdout.flush()
    status = {"code": 0}

    def start() -> None:
        problem = start_all(top)
        if problem is None:
            _after_start(config, top, args, io, notes, tightened, tls_warnings)
            return
        print(f"faxappliance: {problem}", file=io.stderr, flush=True)
        status["code"] = 1
        reactor.stop()

    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", stop_started, top)
    reactor.addSystemEventTrigger("after", "shutdown", store.close)
    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(reactor.stop))
    reactor.run()
    return status["code"]


def cmd_radius(args: argparse.Namespace, io: CliIO) -> int:
    config = config_from_args(args)
    if config is None:
        config = ensure_embedded_default("var", io)
    return _serve(config, args, io, demo=False)


def _embedded_overrides(config: Config, args: argparse.Namespace) -> Config:
    """``--storage-url`` and ``--node`` of the embedded default."""
    import tomllib

    from appliance.config import ConfigError, StorageConfig
    from appliance.node_config import parse_node

    if args.storage_url:
        config = dataclasses.replace(config, storage=StorageConfig(url=args.storage_url))
    if args.node:
        try:
            table = tomllib.loads(args.node)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--node", "node", f"not valid TOML: {exc}") from None
        config = dataclasses.replace(config, node=parse_node("--node", table))
    return config


def cmd_run(args: argparse.Namespace, io: CliIO) -> int:
    config = config_from_args(args)
    demo = config is None
    if config is None:
        config = ensure_embedded_default(args.data_dir, io)
        config = _embedded_overrides(config, args)
    if args.auth_port is not None or args.acct_port is not None:
        radius = dataclasses.replace(
            config.radius,
            auth_port=config.radius.auth_port if args.auth_port is None else args.auth_port,
            acct_port=config.radius.acct_port if args.acct_port is None else args.acct_port,
        )
        config = dataclasses.replace(config, radius=radius)
    return _serve(config, args, io, demo=demo)
