"""FFWS fax status resources (§6): status, modem_status, channel_status,
inbound_status, outbound_status.  Readable by every authenticated user;
outbound_status shows a regular user only their own entries ([INFERRED])."""

from __future__ import annotations

from appliance.web import ffws
from appliance.web.app import CLASSES, Call, EntryClass, Reply, WebApp, xml_reply
from appliance.web.deps import LineUse
from appliance.web.ffws_status import (
    STATUS_SECTIONS,
    channel_status_element,
    inbound_entry_element,
    modem_status_element,
    status_element,
)
from appliance.web.model import WebError

__all__ = ["channel_status", "inbound_status", "modem_status", "outbound_status", "status"]


def _get_only(call: Call, max_segments: int) -> None:
    if len(call.segments) > max_segments:
        raise WebError(404, "no such resource")
    if call.method != "GET":
        raise WebError(405, f"{call.method} is not allowed here")


async def status(app: WebApp, call: Call) -> Reply:
    _get_only(call, 1)
    if call.segments:
        section = call.segments[0].lower()
        if section not in STATUS_SECTIONS:
            raise WebError(404, f"no status section {call.segments[0]!r} (MODEM, CHANNEL, SYSTEM, PRINTER, SHARE)")
        sections = [section]
    else:
        sections = ["modem", "system", "printer", "share"]
    element = status_element(
        list(app.lines.status()), sections, now=app.now(), started=app.started, tz=app.tz, node=app.node_id
    )
    return xml_reply(200, "Success", [element])


def _pick(app: WebApp, call: Call) -> list:
    lines = list(app.lines.status())
    if call.segments:
        try:
            number = int(call.segments[0])
        except ValueError:
            raise WebError(400, f"{call.segments[0]!r} is not a modem/channel number") from None
        lines = [line for line in lines if line.number == number]
        if not lines:
            raise WebError(404, f"no modem/channel {number}")
    return lines


async def modem_status(app: WebApp, call: Call) -> Reply:
    _get_only(call, 1)
    now = app.now()
    return xml_reply(200, "Success", [modem_status_element(line, now, app.tz) for line in _pick(app, call)])


async def channel_status(app: WebApp, call: Call) -> Reply:
    _get_only(call, 1)
    now = app.now()
    return xml_reply(200, "Success", [channel_status_element(line, now, app.tz) for line in _pick(app, call)])


async def inbound_status(app: WebApp, call: Call) -> Reply:
    _get_only(call, 0)
    receiving = [line for line in app.lines.status() if line.direction is LineUse.RECEIVE]
    return xml_reply(200, "Success", [inbound_entry_element(line, app.tz) for line in receiving])


async def outbound_status(app: WebApp, call: Call) -> Reply:
    _get_only(call, 0)
    wanted_text = call.query.get("class", "")
    if wanted_text and wanted_text not in (EntryClass.PENDING, EntryClass.SENDING):
        raise WebError(400, f"class must be pending or sending, not {wanted_text!r}")
    wanted = EntryClass(wanted_text) if wanted_text else None
    limits = {}
    for name in ("pending_limit", "sending_limit"):
        try:
            limits[name] = int(call.query.get(name, "10"))
        except ValueError:
            raise WebError(400, f"{name} must be a whole number") from None
    owner = None if call.identity.admin else call.identity.username

    def load() -> list:
        entries = []
        for cls in (EntryClass.SENDING, EntryClass.PENDING):
            if wanted is not None and cls is not wanted:
                continue
            found = app.jobs.list_entries(owner=owner, states=CLASSES[cls])
            entries += found[: limits[f"{cls.value}_limit"]] if wanted else found
        return app._with_faxes(sorted(entries, key=lambda e: (e.fax_id, e.index)), False)

    rows = await app.run(load)
    if not rows:
        raise WebError(404, "no pending or sending faxes")
    return xml_reply(200, "Success", [ffws.fax_entry_element(e, f, call.base, app.tz) for e, f, _ in rows])
