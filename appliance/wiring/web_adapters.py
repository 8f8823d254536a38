"""The web service of the controller: its credentials checker, and the line
pool and the inbox as the web service's ``LineStatusSource`` and ``InboxSource``
(FaxFinder's line states and string ids)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

from twisted.logger import Logger

from appliance import lines
from appliance.inbound.inbox import Inbox, InboxItem
from appliance.progress import CallPhase
from appliance.web import Authenticator, WebService, make_web_service
from appliance.web.accounts import StoreAccountWriter, accounts_are_local
from appliance.web.deps import LineInfo, LineUse, ReceivedFax
from appliance.wiring.controller import Appliance
from appliance.wiring.reactor import Reactor

__all__ = ["WebInbox", "WebLines", "make_web"]

log = Logger()


def make_web(appliance: Appliance, reactor: Reactor) -> WebService | None:
    """The web service of ``appliance`` (None without a port-server role to check credentials)."""
    if appliance.portserver is None:
        log.warn("no [portserver]: the web service cannot check credentials and is not started")
        return None
    web = appliance.config.web
    auth = Authenticator(
        appliance.portserver.client,
        reactor,
        admins=web.admins,
        admin_groups=web.admin_groups,
        ttl=web.auth_cache_seconds,
        negative_ttl=web.auth_negative_cache_seconds,
        token_bytes=os.urandom,
    )
    accounts = StoreAccountWriter(appliance.store) if accounts_are_local(appliance.config, web.accounts) else None
    svc = make_web_service(
        appliance.config,
        reactor,
        jobs=appliance.jobs,
        scheduler=appliance.scheduler,
        lines=WebLines(appliance.pool),
        inbox=WebInbox(appliance.inbox),
        authenticator=auth,
        cdrs=appliance.store,
        accounts=accounts,
    )
    svc.site.app.node_id = appliance.node_id
    return svc


_FAXFINDER_STATE = {
    lines.LineActivity.IDLE: ("Waiting for Ring", LineUse.IDLE),
    lines.LineActivity.DIALING: ("Dialing", LineUse.SEND),
    lines.LineActivity.SENDING: ("Sending Page", LineUse.SEND),
    lines.LineActivity.RECEIVING: ("Receiving Page", LineUse.RECEIVE),
    lines.LineActivity.OFFLINE: ("Offline", LineUse.IDLE),
}


class LineStates(Protocol):
    """What :class:`WebLines` reads of the line pool."""

    def status(self) -> Sequence[lines.LineSnapshot]: ...


class WebLines:
    """The line pool as the web service's LineStatusSource."""

    def __init__(self, pool: LineStates | None) -> None:
        self.pool = pool

    def status(self) -> list[LineInfo]:
        if self.pool is None:
            return []
        out = []
        for n, line in enumerate(self.pool.status(), start=1):
            text, direction = _FAXFINDER_STATE.get(line.state, ("Waiting for Ring", LineUse.IDLE))
            info = LineInfo(
                line_id=line.name,
                number=n,
                state=text,
                direction=direction,
                extension=line.did if direction is LineUse.RECEIVE else "",
                started_at=line.since if direction is not LineUse.IDLE else None,
            )
            call = line.call
            if call is not None and direction is not LineUse.IDLE and call.ended_at is None:
                page = (call.page or call.confirmed + 1) if call.phase is not CallPhase.DIALING else 0
                if direction is LineUse.RECEIVE:
                    page = call.pages_sent + 1
                info.remote_id, info.fax_number, info.page = call.remote_id, call.number, page
                info.baud_rate, info.resolution = call.baud_rate, call.resolution
                info.width, info.height, info.connect_time = call.width, call.height, call.connect_time
                info.started_at, info.recipient = call.started_at, call.recipient
                if direction is LineUse.SEND and call.phase is CallPhase.CONNECTED:
                    info.state = "Negotiating"  # connected, no page under way yet
                info.ecm = "on" if call.ecm else ("off" if call.baud_rate else "")
                info.line_encoding = call.compression
            out.append(info)
        return out


class WebInbox:
    """The inbox as the web service's InboxSource (string ids)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    @staticmethod
    def _record(item: InboxItem) -> ReceivedFax:
        return ReceivedFax(
            id=str(item.id),
            account=item.account,
            received_at=item.received_at,
            pages=item.pages,
            remote_id=item.remote_csid,
            did=item.did,
            previews=tuple(item.previews),
            pdf=item.pdf,
            tiff=item.tiff,
        )

    def list(self, account: str | None = None, limit: int = 50) -> list[ReceivedFax]:
        return [self._record(i) for i in self.inbox.list(account, limit)]

    def get(self, id: str) -> ReceivedFax | None:
        try:
            item = self.inbox.get(int(id))
        except ValueError:
            return None
        return self._record(item) if item is not None else None
