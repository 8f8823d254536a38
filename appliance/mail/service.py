"""Wiring: the mail parts of a running appliance (outbox, delivery, inbound routing,
receipts and the T.37 listener) from its config."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService

from appliance.config import Config, ConfigError
from appliance.mail.config import MailConfig
from appliance.mail.delivery import DeliveryService
from appliance.mail.gateway import make_gateway_service
from appliance.mail.inbound import FaxMailer, radius_account_lookup
from appliance.mail.outbox import MailOutbox, open_mail_outbox
from appliance.mail.receipts import Receipts
from appliance.mail.routing import RoutingError, parse_recipients_csv
from appliance.wiring.controller import Appliance
from appliance.wiring.reactor import Reactor

__all__ = ["MailParts", "load_mail_config", "make_mail"]


@dataclass
class MailParts:
    config: MailConfig
    outbox: MailOutbox
    delivery: DeliveryService
    mailer: FaxMailer
    receipts: Receipts
    gateway: StreamServerEndpointService | None = None  # the T.37 listener


def load_mail_config(config: Config) -> MailConfig:
    """The mail sections of ``config``, with the recipients CSV read in."""
    mail = config.mail
    if mail.recipients_csv:
        path = Path(mail.recipients_csv)
        if not path.is_absolute():
            path = Path(config.source).parent / path
        try:
            rows = parse_recipients_csv(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(
                config.source, "inbound_routes.recipients_csv", f"cannot read {path}: {exc.strerror or exc}"
            ) from None
        except (RoutingError, UnicodeDecodeError) as exc:
            raise ConfigError(config.source, "inbound_routes.recipients_csv", f"{path}: {exc}") from None

        mail = replace(mail, routes=mail.routes.with_recipients(rows))
    return mail


def make_mail(
    appliance: Appliance, reactor: Reactor, parent: service.MultiService, *, mail: MailConfig | None = None
) -> MailParts:
    """Build the mail parts for ``appliance`` and add their services to ``parent``."""
    config = appliance.config
    mail = mail or load_mail_config(config)
    outbox = open_mail_outbox(config.storage.url)
    run = appliance.run_blocking
    maildir = Path(mail.smtp.maildir or Path(config.data_dir) / "mail")
    receipts = Receipts(appliance.jobs, outbox, mail.smtp.sender)
    delivery = DeliveryService(
        outbox,
        mail.smtp,
        reactor,
        reactor,
        run,
        maildir=maildir,
        hooks=[lambda: run(receipts.check, reactor.seconds())],
        node_id=appliance.node_id,
    )
    client = appliance.portserver.client if appliance.portserver is not None else None
    mailer = FaxMailer(
        reactor,
        outbox,
        mail.routes,
        sender=mail.smtp.sender,
        max_bytes=mail.smtp.max_message_bytes,
        run_blocking=run,
        ask_account=radius_account_lookup(client) if client is not None else None,
        poke=delivery.poke,
    )
    if appliance.inbound is not None:
        appliance.inbound.on_stored = mailer.on_stored
    sink = appliance.cloud_sink
    if sink is not None:  # cloud faxes are stored in a worker thread
        sink.on_stored = lambda item: reactor.callFromThread(mailer.on_stored, item, "cloud", 0.0)
    delivery.setServiceParent(parent)
    parts = MailParts(mail, outbox, delivery, mailer, receipts)
    if mail.gateway.enabled:
        parts.gateway = make_gateway_service(appliance, reactor, mail)
        parts.gateway.setServiceParent(parent)
    return parts
