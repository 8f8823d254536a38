"""The web service's request handling between the pure XML/JSON cores and
the twisted.web adapter: stores, conversion, permissions.

Handlers are coroutines taking a :class:`Call` and returning a
:class:`Reply`; every blocking store or imaging call goes through
``run_blocking`` (the reactor's thread pool).  :class:`WebError` carries
the HTTP status and the message for the client.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from xml.etree.ElementTree import Element

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.config import Config
from appliance.config.web import WebConfig
from appliance.dialplan import DialPlan
from appliance.fetch import Fetcher, FetchError, FetchPolicy
from appliance.fetch_policy import parse_allow
from appliance.jobs.model import (
    TERMINAL,
    Attempt,
    Entry,
    EntryState,
    Fax,
    FaxSpec,
    IllegalTransition,
    JobError,
    NotFound,
    Recipient,
)
from appliance.jobs.scheduler import RunBlocking
from appliance.jobs.store import JobStore
from appliance.logsafe import safe_for_log
from appliance.mail.outbox import MailOutbox
from appliance.render import RenderLimitError, WorkerDied
from appliance.render.convert import convert_fax
from appliance.render.runner import Renderer, shared_pool
from appliance.web import ffws
from appliance.web.auth import Identity
from appliance.web.deps import AccountWriter, CdrSource, InboxSource, LineStatusSource
from appliance.web.directory import Directory
from appliance.web.model import WebError
from appliance.web.numbers import dial_recipients
from modem.document import DocumentError, PageLimitError, PageSize, Resolution, check_page_limit

__all__ = ["ACTIVE", "CLASSES", "Call", "EntryClass", "Reply", "WebApp", "parse_entry_key", "parse_fax_key"]

S = EntryState
ACTIVE = (S.PREPROCESSING, S.APPROVAL_PENDING, S.PENDING, S.SENDING)


class EntryClass(enum.StrEnum):
    """The ``class`` of an FFWS fax entry query."""

    PENDING = "pending"
    SENDING = "sending"
    COMPLETE = "complete"


CLASSES = {
    EntryClass.PENDING: (S.PREPROCESSING, S.APPROVAL_PENDING, S.PENDING),
    EntryClass.SENDING: (S.SENDING,),
    EntryClass.COMPLETE: tuple(TERMINAL),
}
XML = "application/xml"
DEFAULT_PAGE = 100  # GET /ofax entries per page
MAX_PAGE = 1000
FETCHES_AT_ONCE = 4  # external attachments fetched at the same time (the rest wait their turn)


@dataclass
class Call:
    """One authenticated request as handlers see it."""

    method: str
    segments: list[str]
    query: dict[str, str]
    body: bytes
    identity: Identity
    base: str  # scheme://host[:port] for absolute URLs
    content_type: str = ""


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = XML
    headers: dict[str, str] = field(default_factory=dict)


def xml_reply(status: int, message: str, children: Sequence[Element] = ()) -> Reply:
    return Reply(status, ffws.render(message, children))


def parse_fax_key(text: str) -> int:
    if not (1 <= len(text) <= 8 and all(c in "0123456789ABCDEFabcdef" for c in text)):
        raise WebError(404, f"no fax {text!r}")
    return int(text, 16)


def parse_entry_key(text: str) -> int:
    if not (1 <= len(text) <= 4 and all(c in "0123456789ABCDEFabcdef" for c in text)):
        raise WebError(404, f"no fax entry {text!r}")
    return int(text, 16)


def _flag(query: dict[str, str], name: str) -> bool:
    value = query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0", ""):
        raise WebError(400, f"{name} must be true or false, not {value!r}")
    return value in ("true", "1")


def _count(query: dict[str, str], name: str, default: int | None) -> int | None:
    if name not in query:
        return default
    try:
        value = int(query[name])
    except ValueError:
        raise WebError(400, f"{name} must be a whole number, not {query[name]!r}") from None
    if value < 0:
        raise WebError(400, f"{name} must not be negative")
    return value


def _page(query: dict[str, str]) -> tuple[int, int]:
    """(limit, offset) of a listing: ``limit`` 1..MAX_PAGE (default DEFAULT_PAGE), ``offset`` >= 0."""
    limit = _count(query, "limit", DEFAULT_PAGE) or 0
    if not 1 <= limit <= MAX_PAGE:
        raise WebError(400, f"limit must be 1..{MAX_PAGE}, not {limit}")
    return limit, _count(query, "offset", 0) or 0


class _Change(enum.StrEnum):
    ABORT = "abort"
    RESCHEDULE = "reschedule"


class WebApp:
    """Everything the handlers need, injected."""

    log = Logger()

    def __init__(
        self,
        config: WebConfig,
        *,
        clock: IReactorTime,
        run_blocking: RunBlocking,
        jobs: JobStore,
        directory: Directory,
        lines: LineStatusSource,
        inbox: InboxSource | None,
        cdrs: CdrSource | None,
        accounts: AccountWriter | None,
        poke: Callable[[], None],
        spool_dir: str,
        tz: tzinfo,
        started: float,
        dialplan: DialPlan | None = None,
        render: Renderer | None = None,
    ) -> None:
        self.config = config
        self.dialplan = dialplan or DialPlan()
        self.clock = clock
        self.run = run_blocking
        self.render = render or Renderer(shared_pool(), run_blocking)  # conversions: worker processes
        self.jobs = jobs
        self.directory = directory
        self.lines = lines
        self.inbox = inbox
        self.cdrs = cdrs
        self.accounts = accounts
        self.poke = poke
        self.spool_dir = spool_dir
        self.tz = tz
        self.started = started
        self.node_id = ""  # [node] id of the appliance this web service belongs to (shown in /status)
        self.conversions: dict[int, defer.Deferred[None]] = {}
        self.page_size = PageSize(config.page_size)
        self.on_password_change: Callable[[str], None] = lambda username: None  # drops cached logins
        self.deliveries: MailOutbox | None = None  # the console lists its deliveries
        self.appliance_config: Config | None = None  # the console's routes and settings pages
        self.fetcher = Fetcher(
            FetchPolicy(
                allow=parse_allow(config.fetch_allow),
                max_bytes=config.max_request_bytes,
                timeout=config.external_fetch_timeout,
            )
        )
        self.fetches = defer.DeferredSemaphore(FETCHES_AT_ONCE)  # slow fetches never take every pool thread

    def now(self) -> float:
        return self.clock.seconds()

    def idle(self) -> defer.Deferred[list[tuple[bool, None]]]:
        """Fires when every conversion under way has finished (for tests and shutdown)."""
        return defer.DeferredList(list(self.conversions.values()), consumeErrors=True)

    # ------------------------------------------------------------ submit

    async def submit(
        self, spec: FaxSpec, recipients: Sequence[Recipient], attachments: Sequence[ffws.Attachment]
    ) -> tuple[Fax, list[Entry]]:
        """Store a fax (entries in preprocessing) and start converting it."""
        recipients = dial_recipients(recipients, self.dialplan)
        await self._check_pages(spec, attachments)
        try:
            fax, entries = await self.run(self.jobs.submit, spec, list(recipients), self.now())
        except IllegalTransition as exc:
            raise WebError(400, str(exc)) from None
        except JobError as exc:
            raise WebError(400, str(exc)) from None
        d = defer.Deferred.fromCoroutine(self._convert(fax, list(recipients), list(attachments)))
        self.conversions[fax.id] = d
        d.addBoth(self._converted, fax.id)
        return fax, entries

    async def _check_pages(self, spec: FaxSpec, attachments: Sequence[ffws.Attachment]) -> None:
        """400, before anything is stored, when the inline documents alone pass ``[limits] max_pages``.

        The pages are counted in a render worker (nothing is drawn), so a
        hostile document cannot hurt this process; a document the count
        cannot read is left to the conversion, which reports it on the fax."""
        inline = [(a.name, a.data) for a in attachments if a.data is not None]
        if not inline:
            return
        max_pages = self.render.limits.max_pages
        try:
            total = await self.render(check_page_limit, inline, Resolution.FINE, self.page_size, max_pages)
        except PageLimitError as exc:
            raise WebError(400, str(exc)) from None
        except (DocumentError, RenderLimitError, WorkerDied):
            return
        if spec.cover_enabled and total + 1 > max_pages:
            raise WebError(
                400, f"with the cover page the fax has {total + 1} pages; a fax may have at most {max_pages} pages"
            )

    def _converted(self, result: object, fax_id: int) -> None:
        self.conversions.pop(fax_id, None)

    async def _convert(self, fax: Fax, recipients: list[Recipient], attachments: list[ffws.Attachment]) -> None:
        try:
            contents = []
            for attachment in attachments:
                data = attachment.data
                if data is None:
                    assert attachment.url is not None
                    try:
                        fetched = await self.fetches.run(self.run, self.fetcher.fetch, attachment.url)
                    except FetchError as exc:
                        self.log.info(
                            "fax {key}: attachment {name!r} not fetched: {detail}",
                            key=f"{fax.id:08X}",
                            name=attachment.name,
                            detail=exc.detail,
                        )
                        raise WebError(400, f"attachment {attachment.name!r}: {exc}") from None
                    data = fetched.content
                    ffws.check_content(attachment.name, attachment.content_type or fetched.content_type, data)
                contents.append((attachment.name, data))
            converted = await self.render(
                convert_fax,
                self.spool_dir,
                fax,
                recipients,
                contents,
                resolution=Resolution.FINE,
                page_size=self.page_size,
                max_pages=self.render.limits.max_pages,
            )
            await self.run(lambda: self.jobs.release(fax.id, converted.documents, converted.pages, now=self.now()))
            self.poke()
        except (WebError, DocumentError, RenderLimitError, WorkerDied) as exc:
            reason = exc.message if isinstance(exc, WebError) else str(exc)
            self.log.info("fax {key} cannot be converted: {reason}", key=f"{fax.id:08X}", reason=safe_for_log(reason))
            await self.run(lambda: self.jobs.kill(fax.id, f"Cannot convert attachment: {reason}", now=self.now()))
        except Exception:
            self.log.failure("converting fax {key} failed", key=f"{fax.id:08X}")
            await self.run(lambda: self.jobs.kill(fax.id, "Conversion failed", now=self.now()))

    # -------------------------------------------------------------- ofax

    async def ofax(self, call: Call) -> Reply:
        keys = call.segments
        if len(keys) > 2:
            raise WebError(404, "no such resource")
        if call.method == "POST" and not keys:
            return await self._schedule(call)
        if call.method == "GET":
            return await self._view(call, keys)
        if call.method == "DELETE" and keys:
            return await self._change(call, keys, _Change.ABORT)
        if call.method == "PUT" and keys:
            return await self._change(call, keys, _Change.RESCHEDULE)
        raise WebError(405, f"{call.method} is not allowed here")

    async def _schedule(self, call: Call) -> Reply:
        profile = await self.run(self.directory.ensure_user, call.identity.username)
        request = await self.run(
            lambda: ffws.parse_schedule_fax(  # in steps, off the reactor (up to 36 MB)
                call.body, owner=call.identity.username, defaults=profile, max_recipients=self.config.max_recipients
            )
        )
        fax, entries = await self.submit(request.spec, request.recipients, request.attachments)
        return await self.run(
            lambda: xml_reply(201, "Success", [ffws.fax_entry_element(e, fax, call.base, self.tz) for e in entries])
        )

    def _owned(self, fax: Fax, identity: Identity) -> bool:
        return identity.admin or fax.owner == identity.username

    async def _view(self, call: Call, keys: list[str]) -> Reply:
        modem = _flag(call.query, "include_modem_info")
        headers: dict[str, str] = {}
        if keys:
            fax_id = parse_fax_key(keys[0])
            index = parse_entry_key(keys[1]) if len(keys) > 1 else None
            try:
                fax = await self.run(self.jobs.get_fax, fax_id)
                if index is None:
                    entries = await self.run(lambda: self.jobs.list_entries(fax_id=fax_id))
                else:
                    entries = [await self.run(self.jobs.get_entry_by_key, fax_id, index)]
            except NotFound as exc:
                raise WebError(404, str(exc)) from None
            if not self._owned(fax, call.identity):
                raise WebError(403, f"fax {keys[0]} belongs to another user")
        else:
            all_users = _flag(call.query, "all_users") and call.identity.admin
            owner = None if all_users else call.identity.username
            wanted_text = call.query.get("class", "")
            if wanted_text and wanted_text not in CLASSES:
                raise WebError(400, f"class must be pending, sending or complete, not {wanted_text!r}")
            wanted = EntryClass(wanted_text) if wanted_text else None
            complete_limit = _count(call.query, "complete_limit", 10)
            page_size, offset = _page(call.query)
            entries = await self.run(self._listing, owner, wanted, complete_limit, page_size + 1, offset)
            if len(entries) > page_size:
                entries = entries[:page_size]
                headers["X-Next-Offset"] = str(offset + page_size)
        rows = await self.run(self._with_faxes, entries, modem)
        reply = await self.run(
            lambda: xml_reply(200, "Success", [ffws.fax_entry_element(e, f, call.base, self.tz, a) for e, f, a in rows])
        )
        reply.headers.update(headers)
        return reply

    def _listing(
        self, owner: str | None, wanted: EntryClass | None, complete_limit: int | None, limit: int, offset: int
    ) -> list[Entry]:
        """(blocking) One page of a general query (``wanted`` None: every class): active
        entries and the latest completed."""
        active: Iterable[EntryState]
        done: Iterable[EntryState]
        if wanted is None:
            active, done = ACTIVE, TERMINAL
        elif wanted is EntryClass.COMPLETE:
            active, done = (), TERMINAL
        else:
            active, done = CLASSES[wanted], frozenset()
        return self.jobs.page_entries(
            owner=owner, active=active, done=done, done_limit=complete_limit, limit=limit, offset=offset
        )

    def _with_faxes(self, entries: list[Entry], modem: bool) -> list[tuple[Entry, Fax, list[Attempt] | None]]:
        """(blocking) Each entry with its fax (and attempts when ``modem``)."""
        faxes: dict[int, Fax] = {}
        rows = []
        for entry in self.jobs.with_live_pages(list(entries)):  # pages confirmed so far while sending
            fax = faxes.get(entry.fax_id) or faxes.setdefault(entry.fax_id, self.jobs.get_fax(entry.fax_id))
            rows.append((entry, fax, self.jobs.attempts(entry.id) if modem else None))
        return rows

    async def _change(self, call: Call, keys: list[str], action: _Change) -> Reply:
        """Abort or reschedule; 400 when not found or not the caller's (§3.3, §3.4)."""
        try:
            fax_id = parse_fax_key(keys[0])
            index = parse_entry_key(keys[1]) if len(keys) > 1 else None
        except WebError as exc:
            raise WebError(400, exc.message) from None
        at: float | None = None
        if action is _Change.RESCHEDULE:
            value = call.query.get("at", "now")
            at = None if value in ("", "now") else ffws.parse_time(value, "at")
        try:
            fax = await self.run(self.jobs.get_fax, fax_id)
            if not self._owned(fax, call.identity):
                raise WebError(400, f"fax {keys[0]} is not yours")
            if action is _Change.ABORT:
                await self.run(lambda: self.jobs.abort(fax_id, index, now=self.now()))
            else:
                await self.run(lambda: self.jobs.reschedule(fax_id, index, at, now=self.now()))
                self.poke()
        except (NotFound, IllegalTransition) as exc:
            raise WebError(400, str(exc)) from None
        return Reply(202)

    async def preview(self, call: Call, name: str) -> Reply:
        """``/ffws/v1/data/preview/FAXKEY-ENTRYKEY.pdf``: the converted fax as PDF."""
        stem = name[:-4] if name.endswith(".pdf") else ""
        faxkey, _, entrykey = stem.partition("-")
        fax_id = parse_fax_key(faxkey)
        parse_entry_key(entrykey or "0")
        try:
            fax = await self.run(self.jobs.get_fax, fax_id)
        except NotFound as exc:
            raise WebError(404, str(exc)) from None
        if not self._owned(fax, call.identity):
            raise WebError(403, f"fax {faxkey} belongs to another user")
        path = Path(self.spool_dir) / f"{fax_id:08X}" / "fax.pdf"
        data = await self.run(lambda: path.read_bytes() if path.exists() else None)
        if data is None:
            raise WebError(404, "the preview is not ready (the fax is still being converted or failed)")
        return Reply(200, data, "application/pdf")

    # ------------------------------------------------------------ uapi uid

    @staticmethod
    def uid(fax: Fax) -> str:
        """A stable 32-hex-digit id of a fax for UAPI answers."""
        return hashlib.sha256(f"{fax.id}:{fax.created!r}:{fax.owner}".encode()).hexdigest()[:32]
