"""Faxes received through FAXAGE, filed into the account inboxes by their DNIS
(the FAXAGE receive poller's sink, :mod:`appliance.cloud.receive_poller`)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping

from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import blockingCallFromThread

from appliance.inbound.inbox import UNROUTED_ACCOUNT, Inbox, InboxItem
from appliance.portserver import ReceiveRoute
from appliance.portserver.role import PortServer

__all__ = ["CloudInboxSink", "portserver_resolver"]


class CloudInboxSink:
    """A :class:`appliance.cloud.receive_poller.FaxSink` that files cloud faxes by DNIS.

    ``resolve(dnis) -> account`` blocks (it runs in the poller's thread pool;
    production: the port-server role through ``blockingCallFromThread``)."""

    def __init__(self, inbox: Inbox, resolve: Callable[[str], str]) -> None:
        self.inbox = inbox
        self.resolve = resolve
        #: (inbox item) for each fax stored, called in the storing thread: the e-mail gateway's delivery
        self.on_stored: Callable[[InboxItem], object] | None = None

    def contains(self, recvid: int) -> bool:
        return self.inbox.contains("recvid", recvid)

    def store(self, recvid: int, meta: Mapping[str, object], data: bytes) -> None:
        if self.contains(recvid):
            return
        dnis = str(meta.get("dnis") or "")
        account = self.resolve(dnis) or UNROUTED_ACCOUNT
        item = self.inbox.add_document(
            account,
            data,
            received_at=_epoch(meta),
            did=dnis,
            caller_id=str(meta.get("cid") or ""),
            remote_csid=str(meta.get("tsid") or ""),
            source="cloud",
            extra=dict(meta),
        )
        if self.on_stored is not None:
            self.on_stored(item)


def _epoch(meta: Mapping[str, object]) -> float:
    text = str(meta.get("recvdate") or "")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.UTC).timestamp()
        except ValueError:
            continue
    return 0.0


def portserver_resolver(
    reactor: IReactorFromThreads, portserver: PortServer | None, token_hex: Callable[[], str], default: str = ""
) -> Callable[[str], str]:
    """``resolve(dnis)`` for :class:`CloudInboxSink`, asking RADIUS from a worker thread."""

    def resolve(dnis: str) -> str:
        if portserver is None or not dnis:
            return default
        try:
            # twisted's signature (a plain or a Deferred result) cannot infer the result type here
            route: ReceiveRoute = blockingCallFromThread(
                reactor,
                portserver.route_receive,  # type: ignore[arg-type]
                dnis,
                f"cloud-{token_hex()}",
            )
        except Exception:
            return default
        return str(route.receive_account) if route.accepted else default

    return resolve
