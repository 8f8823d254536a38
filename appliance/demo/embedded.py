"""The embedded default of ``faxappliance run``: a whole fax network in one process.

Four simulated lines on ptys (``hwsim``): the appliance's 5550001 and
5550002, and two remote fax machines, 5550101 and 5550102, that auto-answer
and store what they receive under ``<data_dir>/remote/<number>/``; the
FAXAGE simulator on loopback as the cloud route; the port-server role
pointed at the local RADIUS service; a ``demo`` account owning both DIDs and
an ``admin`` API user.  This is the only appliance module that imports
``hwsim``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from twisted.application import service
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred

from appliance.config import (
    Config,
    FaxageConfig,
    LineClass,
    LineConfig,
    RetryConfig,
    RoutingConfig,
    RoutingPolicy,
    Secret,
)
from appliance.demo.remote import RemoteMachine, RunBlocking
from appliance.mail.config import MailConfig, parse_mail
from appliance.portserver.config import PortServerConfig, PortServerServer
from appliance.private import private_file
from appliance.wiring.reactor import Reactor
from hwsim.faults import FaultPlan, load_faults
from hwsim.faxage.service import FaxageSimulator
from hwsim.faxage.state import FaxageSim
from hwsim.modem import ModemConfig
from hwsim.pty import start_lines
from radius.passwords import hash_password
from radius.store import Store
from radius.store.api import Account, Did, SenderEmail

__all__ = [
    "APPLIANCE_NUMBERS",
    "REMOTE_NUMBERS",
    "DemoOptions",
    "SimNetwork",
    "demo_config",
    "remote_machines",
    "seed_store",
    "write_run_file",
]

APPLIANCE_NUMBERS = ("5550001", "5550002")
REMOTE_NUMBERS = ("5550101", "5550102")
DEMO_EMAIL = "demo@localhost"
FAXAGE_USER, FAXAGE_COMPANY, FAXAGE_PASSWORD = "demo", "10001", "demo-cloud-password"


@dataclass(frozen=True)
class DemoOptions:
    fast: bool = False  # no line-rate pacing of pages
    faults: str = ""  # hwsim fault file
    faxage_port: int = 0  # 0: any free port
    web_port: int = 8080
    retry_interval: float | None = None  # every cause; None: the defaults
    max_tries: int | None = None  # None: the default (3)
    ring_seconds: float = 3.0
    unattended: tuple[str, ...] = ()  # remote numbers left without a fax machine (for other programs)
    portserver_servers: tuple[tuple[str, int, int], ...] = field(default_factory=tuple)  # extra servers first
    smtp_port: int = 2525  # the e-mail gateway (T.37) on 127.0.0.1
    smtp_relay: str = ""  # host:port of a relay for outgoing mail; "" = the Maildir <data_dir>/mail
    routing: RoutingPolicy = RoutingPolicy.LOCAL_FIRST  # [routing] policy
    remotes: int = 2  # remote fax machines: 5550101, 5550102, … (more for load tests)

    @property
    def remote_numbers(self) -> tuple[str, ...]:
        return REMOTE_NUMBERS + tuple(f"5550{101 + i}" for i in range(len(REMOTE_NUMBERS), self.remotes))


class SimNetwork(service.Service):
    """The simulated lines and the FAXAGE simulator; created listening, stopped with the service."""

    def __init__(self, reactor: Reactor, data_dir: Path, options: DemoOptions) -> None:
        faults = load_faults(options.faults) if options.faults else FaultPlan()
        modem = ModemConfig(ring_seconds=options.ring_seconds, pacing=not options.fast)
        numbers = [*APPLIANCE_NUMBERS, *options.remote_numbers]
        self.lines = start_lines(reactor, len(numbers), numbers=numbers, faults=faults, config=modem)
        self.devices = {line.number: line.device for line in self.lines.lines}
        sim = FaxageSim(username=FAXAGE_USER, company=FAXAGE_COMPANY, password=FAXAGE_PASSWORD)
        self.faxage = FaxageSimulator(sim, reactor, tick=0.1)
        site = self.faxage.site(access_log=False)
        # twisted.web's Site is a ServerFactory, but not of the protocol type listenTCP's stubs name
        self.faxage_port = reactor.listenTCP(options.faxage_port, site, interface="127.0.0.1")  # type: ignore[arg-type]
        address = self.faxage_port.getHost()
        assert isinstance(address, IPv4Address)
        self.faxage_url = f"http://127.0.0.1:{address.port}"

    def startService(self) -> None:
        super().startService()
        self.faxage.start()

    def stopService(self) -> Deferred[None] | None:
        super().stopService()
        self.faxage.stop()
        self.lines.stop()
        return self.faxage_port.stopListening()


def demo_config(base: Config, sim: SimNetwork, secret: Secret, options: DemoOptions) -> Config:
    """The embedded default's controller sections on top of ``base`` (storage, RADIUS)."""
    lines = tuple(
        LineConfig(name=f"line{i + 1}", device=sim.devices[n], fax_class=LineClass.AUTO, did=n, caller_id=n, tsid=n)
        for i, n in enumerate(APPLIANCE_NUMBERS)
    )
    servers = [
        PortServerServer(a, auth, acct, secret, True, f"{a}:{auth}") for a, auth, acct in options.portserver_servers
    ]
    servers.append(PortServerServer("127.0.0.1", base.radius.auth_port, base.radius.acct_port, secret, True, "local"))
    portserver = PortServerConfig(
        servers=tuple(servers), timeout=1.0, retries=1, dead_time=30.0, nas_identifier="faxappliance-demo"
    )
    faxage = FaxageConfig(
        url=sim.faxage_url,
        username=FAXAGE_USER,
        company=FAXAGE_COMPANY,
        password=Secret(FAXAGE_PASSWORD),
        poll_interval=2.0,
    )
    retry = RetryConfig()
    if options.retry_interval is not None:
        r = options.retry_interval
        retry = RetryConfig(max_tries=3, busy=r, no_answer=r, protocol=r, other=r)
    if options.max_tries is not None:
        retry = dataclasses.replace(retry, max_tries=options.max_tries)
    web = base.web
    try:
        web = dataclasses.replace(web, listen="127.0.0.1", port=options.web_port)
    except TypeError:
        pass
    web_raw = base.raw.get("web")
    raw = {
        **base.raw,
        "web": {**(web_raw if isinstance(web_raw, dict) else {}), "listen": "127.0.0.1", "port": options.web_port},
        "email_gateway": {"listen": "127.0.0.1", "domains": ["localhost"]},
        "smtp": {"relay": options.smtp_relay, "sender": "fax@localhost", "retry_initial": 2.0, "retry_max": 10.0},
    }
    return dataclasses.replace(
        base,
        raw=raw,
        lines=lines,
        portserver=portserver,
        faxage=faxage,
        retry=retry,
        routing=RoutingConfig(policy=RoutingPolicy(options.routing), overflow_after_failures=3, line_rest_seconds=60.0),
        web=web,
        mail=_demo_mail(base.source, raw, options.smtp_port),
    )


def _demo_mail(source: str, raw: dict[str, Any], smtp_port: int) -> MailConfig:
    """The mail sections of the demo; ``--smtp-port 0`` (any free port) is an option, not a file's value."""
    mail = parse_mail(source, raw)
    return dataclasses.replace(mail, gateway=dataclasses.replace(mail.gateway, port=smtp_port))


def seed_store(store: Store, data_dir: Path, out: TextIO) -> None:
    """The demo account, the ``admin`` API user and the two DIDs (first start only)."""
    for name, file in (("demo", "demo-password"), ("admin", "admin-password")):
        password, created = private_file(data_dir / file, lambda: secrets.token_urlsafe(9))
        if store.get_account(name) is None:
            store.add_account(Account(name=name, password_hash=hash_password(password, os.urandom(16))))
        if created:
            role = "API user" if name == "admin" else "demo account"
            print(f"{role}: {name} / {password} (kept in {data_dir / file})", file=out)
    for number in APPLIANCE_NUMBERS:
        if store.get_did(number) is None:
            store.add_did(Did(did=number, account="demo"))
    demo = store.get_account("demo")
    if demo is not None and not demo.rcv_email:  # received faxes are mailed to demo@localhost (the Maildir)
        store.update_account("demo", rcv_email=DEMO_EMAIL)
    if store.get_account_by_email(DEMO_EMAIL) is None:  # demo@localhost may send faxes by e-mail
        store.add_sender_email(SenderEmail(address=DEMO_EMAIL, account="demo"))


def write_run_file(data_dir: Path, sim: SimNetwork, config: Config, options: DemoOptions, node_id: str = "") -> Path:
    """``<data_dir>/run.json``: where everything is, for scripts and tests."""
    info = {
        "pid": os.getpid(),
        "lines": [
            {
                "number": line.number,
                "device": line.device,
                "role": "appliance" if line.number in APPLIANCE_NUMBERS else "remote",
                "attended": line.number not in options.unattended,
            }
            for line in sim.lines.lines
        ],
        "radius": {"auth_port": config.radius.auth_port, "acct_port": config.radius.acct_port},
        "faxage_url": sim.faxage_url,
        "web": {"port": options.web_port},
        "smtp": {"port": options.smtp_port, "relay": options.smtp_relay, "maildir": str(data_dir / "mail")},
        "storage": config.storage.url,
        "node": node_id,
    }
    path = data_dir / "run.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def remote_machines(
    reactor: Reactor, sim: SimNetwork, data_dir: Path, options: DemoOptions, run_blocking: RunBlocking
) -> list[RemoteMachine]:
    """The remote fax machines of the attended remote numbers."""
    return [
        RemoteMachine(reactor, reactor, n, sim.devices[n], data_dir / "remote" / n, run_blocking)
        for n in options.remote_numbers
        if n not in options.unattended
    ]
