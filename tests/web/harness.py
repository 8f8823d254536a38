"""A real web service on loopback for the web tests: our RADIUS server (a
separate process) checks every password, SQLite stores, in-memory lines and
inbox (doubles of the appliance.web.deps Protocols), httpx as the client."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from twisted.internet import reactor, threads
from twisted.internet.defer import Deferred

from appliance.config.web import WebConfig
from appliance.jobs import open_job_store
from appliance.web import make_site
from appliance.web.accounts import StoreAccountWriter
from appliance.web.auth import Authenticator
from appliance.web.deps import InboxRecord, LineInfo, ReceivedFax
from appliance.web.directory import open_directory
from radius.client import RadiusClient, ServerSpec
from radius.store import open_store
from tests.radius.helpers import dictionary
from tests.radius.server_process import DEFAULT_SECRET as SECRET

ADMIN = ("admin", "admin")
ALICE = ("alice", "alice-pw")
BOB = ("bob", "bob-pw")
CAROL = ("carol", "carol-pw")  # admin through FB-Account-Login-Group
DATASET: dict[str, Any] = {
    "accounts": [
        {"name": "admin", "password": "admin"},
        {"name": "alice", "password": "alice-pw"},
        {"name": "bob", "password": "bob-pw"},
        {"name": "carol", "password": "carol-pw", "login_group": "fax-admins"},
    ]
}
TEXT_B64 = base64.b64encode(b"test").decode()


class FakeLines:
    """In-memory LineStatusSource."""

    def __init__(self, count: int = 2) -> None:
        self.lines = [LineInfo(line_id=f"line{i}", number=i) for i in range(1, count + 1)]

    def status(self) -> Sequence[LineInfo]:
        return list(self.lines)


@dataclass
class FakeInbox:
    """In-memory InboxSource."""

    records: list[ReceivedFax] = field(default_factory=list)

    def list(self, account: str | None = None, limit: int = 50) -> Sequence[InboxRecord]:
        found = [r for r in self.records if account is None or r.account == account]
        return sorted(found, key=lambda r: r.received_at, reverse=True)[:limit]

    def get(self, id: str) -> InboxRecord | None:
        return next((r for r in self.records if r.id == id), None)


class Poker:
    """Stands in for the JobScheduler's poke()."""

    def __init__(self) -> None:
        self.pokes = 0

    def poke(self) -> None:
        self.pokes += 1


def schedule_xml(recipients: int = 1, attachment: str | None = None, extra: str = "") -> bytes:
    """A <schedule_fax> with ``recipients`` recipients and one text attachment."""
    rcpts = "".join(
        f"<recipient><name>R{i}</name><fax_number>218-555-{3000 + i}</fax_number></recipient>"
        for i in range(recipients)
    )
    if attachment is None:
        attachment = (
            f"<attachment><location>inline</location><name>a.txt</name><content_type>text/plain"
            f"</content_type><content_transfer_encoding>base64</content_transfer_encoding>"
            f"<content>{TEXT_B64}</content></attachment>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><schedule_fax><cover_page><enabled>false</enabled>'
        f"</cover_page>{rcpts}{attachment}{extra}</schedule_fax>"
    ).encode()


class WebHarness:
    """make_site on 127.0.0.1 port 0, authenticated through the RADIUS server ``radius``."""

    def __init__(
        self,
        tmp: Path,
        radius: Any,
        *,
        web: WebConfig | None = None,
        scheduler: Any = None,
        jobs: Any = None,
        local_accounts: bool = True,
    ) -> None:
        self.jobs = jobs or open_job_store(f"sqlite:///{tmp}/jobs.db")
        self.directory = open_directory(f"sqlite:///{tmp}/web.db")
        self.lines = FakeLines()
        self.inbox = FakeInbox()
        self.cdrs = open_store(f"sqlite:///{radius.db_path}", init=False)
        self.poker = Poker()
        self.client = RadiusClient(
            reactor,
            [ServerSpec("127.0.0.1", radius.auth_port, radius.acct_port, secret=SECRET.encode())],
            dictionary(),
            secrets.token_bytes,
            timeout=1.0,
            retries=2,
        )
        self.client.listen("127.0.0.1")
        self.web = web or WebConfig(admin_groups=("fax-admins",))
        self.authenticator = Authenticator(
            self.client,
            reactor,
            admins=self.web.admins,
            admin_groups=self.web.admin_groups,
            token_bytes=secrets.token_bytes,
        )
        self.site = make_site(
            self.web,
            reactor,
            jobs=self.jobs,
            scheduler=scheduler or self.poker,
            lines=self.lines,
            inbox=self.inbox,
            authenticator=self.authenticator,
            directory=self.directory,
            spool_dir=str(tmp / "spool"),
            cdrs=self.cdrs,
            accounts=StoreAccountWriter(self.cdrs) if local_accounts else None,
        )
        self.app = self.site.app  # type: ignore[attr-defined]
        self.port = reactor.listenTCP(0, self.site, interface="127.0.0.1")
        self.base = f"http://127.0.0.1:{self.port.getHost().port}"
        self.http = httpx.Client(base_url=self.base, timeout=30.0)

    def request(
        self, method: str, path: str, *, auth: tuple[str, str] | None = ADMIN, **kw: Any
    ) -> Deferred[httpx.Response]:
        """The response to one request, made from a thread."""
        if auth is not None:
            kw["auth"] = auth
        return threads.deferToThread(self.http.request, method, path, **kw)

    def xml(self, method: str, path: str, body: bytes | str = b"", **kw: Any) -> Deferred[httpx.Response]:
        content = body.encode() if isinstance(body, str) else body
        return self.request(method, path, content=content, headers={"content-type": "application/xml"}, **kw)

    async def close(self) -> None:
        await self.app.idle()
        self.http.close()
        await self.port.stopListening()
        await self.client.close()
        await threads.deferToThread(self._close_stores)

    def _close_stores(self) -> None:
        self.jobs.close()
        self.directory.close()
        self.cdrs.close()
