"""FFWS status resources (§6): render lines and receptions as XML elements.
Pure; value formats are [INFERRED] (see README "Web API")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from xml.etree.ElementTree import Element, SubElement

from appliance.web.deps import LineStatus, LineUse
from appliance.web.ffws import format_time, text_element

__all__ = [
    "STATUS_SECTIONS",
    "channel_status_element",
    "duration",
    "inbound_entry_element",
    "modem_status_element",
    "status_element",
]

#: sub-resource of /ffws/v1/status -> element name
STATUS_SECTIONS = {
    "modem": "modem",
    "channel": "channel",
    "system": "system",
    "printer": "printer",
    "share": "network_share",
}


def duration(seconds: float) -> str:
    """``HH:MM:SS``, with a ``N days, `` prefix past a day."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days} days, {text}" if days else text


def _counts(lines: Sequence[LineStatus]) -> tuple[int, int, int]:
    inbound = sum(1 for line in lines if line.direction is LineUse.RECEIVE)
    outbound = sum(1 for line in lines if line.direction is LineUse.SEND)
    return inbound, outbound, len(lines) - inbound - outbound


def status_element(
    lines: Sequence[LineStatus],
    sections: Sequence[str],
    *,
    now: float,
    started: float,
    tz: tzinfo,
    time_server: str = "",
    line_element: str = "modem",
    node: str = "",
) -> Element:
    """``<status>`` with the requested sections (all when ``sections`` is every key); ``node``,
    the appliance node answering (``[node] id``), is an extension element of ``<system>``."""
    status = Element("status")
    for section in sections:
        if section in ("modem", "channel"):
            block = SubElement(status, section if section != "modem" else line_element)
            inbound, outbound, idle = _counts(lines)
            text_element(block, "number_inbound", inbound)
            text_element(block, "number_outbound", outbound)
            text_element(block, "number_idle", idle)
        elif section == "system":
            block = SubElement(status, "system")
            text_element(block, "uptime", duration(now - started))
            text_element(block, "current_time", format_time(now, tz))
            text_element(block, "time_server", time_server)
            if node:
                text_element(block, "node", node)
        elif section == "printer":
            block = SubElement(status, "printer")
            for name in ("name", "status", "jobs"):
                text_element(block, name, "")
        elif section == "share":
            block = SubElement(status, "network_share")
            text_element(block, "share", "")
            text_element(block, "status", "")
    return status


def _connected(line: LineStatus, now: float) -> str:
    return duration(now - line.connect_time) if line.connect_time is not None else ""


def modem_status_element(line: LineStatus, now: float, tz: tzinfo) -> Element:
    e = Element("modem_status")
    text_element(e, "modem_number", line.number)
    text_element(e, "state", line.state)
    text_element(e, "page", line.page if line.direction is not LineUse.IDLE else "")
    text_element(e, "vertical_resolution", line.resolution)
    text_element(e, "baud_rate", line.baud_rate or "")
    text_element(e, "width", line.width or "")
    text_element(e, "height", line.height or "")
    text_element(e, "connect_time", format_time(line.connect_time, tz))
    text_element(e, "elasped_time", _connected(line, now))  # sic: the vendor's spelling
    text_element(e, "fax_number", line.fax_number)
    text_element(e, "remote_id", line.remote_id)
    return e


def channel_status_element(line: LineStatus, now: float, tz: tzinfo) -> Element:
    e = Element("channel_status")
    text_element(e, "channel_number", line.number)
    text_element(e, "state", line.state)
    text_element(e, "pages_sent_recd", line.page if line.direction is not LineUse.IDLE else "")
    text_element(e, "baud_rate", line.baud_rate or "")
    text_element(e, "fax_number", line.fax_number)
    text_element(e, "ecm", getattr(line, "ecm", ""))
    text_element(e, "line_encoding", getattr(line, "line_encoding", ""))
    text_element(e, "resolution", line.resolution)
    text_element(e, "remote_id", line.remote_id)
    text_element(e, "modulation", "")
    return e


def inbound_entry_element(line: LineStatus, tz: tzinfo) -> Element:
    """One reception in progress (FF240/440/840 form)."""
    e = Element("inbound_entry")
    text_element(e, "state", "Receiving")
    text_element(e, "start_time", format_time(line.started_at, tz))
    text_element(e, "line_number", line.number)
    text_element(e, "extension", line.extension)
    text_element(e, "recipient", line.recipient)
    text_element(e, "remote_id", line.remote_id)
    text_element(e, "current_page", line.page)
    return e
