"""FFWS status resources over HTTP: status, modem_status, channel_status,
inbound_status and outbound_status (spec §6)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest_twisted

from appliance.web.deps import LineUse
from tests.web.harness import ALICE, BOB, WebHarness, schedule_xml


def parse(response: object) -> ET.Element:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return ET.fromstring(response.content)  # type: ignore[attr-defined]


@pytest_twisted.ensureDeferred
async def test_status_summary_and_sections(h: WebHarness) -> None:
    """/status has modem, system, printer and network_share blocks; a section path returns just that block."""
    h.lines.lines[0].direction, h.lines.lines[0].state = LineUse.SEND, "Sending Page"
    root = parse(await h.request("GET", "/ffws/v1/status", auth=ALICE))
    status = root.find("status")
    assert status is not None and [c.tag for c in status] == ["modem", "system", "printer", "network_share"]
    assert (status.findtext("modem/number_outbound"), status.findtext("modem/number_idle")) == ("1", "1")
    assert status.findtext("system/current_time")
    system = parse(await h.request("GET", "/ffws/v1/status/SYSTEM", auth=ALICE)).find("status")
    assert system is not None and [c.tag for c in system] == ["system"]
    share = parse(await h.request("GET", "/ffws/v1/status/SHARE", auth=ALICE)).find("status")
    assert share is not None and [c.tag for c in share] == ["network_share"]
    assert (await h.request("GET", "/ffws/v1/status/FAN", auth=ALICE)).status_code == 404
    assert status.find("system/node") is None, "no node element when no node id is known"


@pytest_twisted.ensureDeferred
async def test_status_names_the_node(h: WebHarness) -> None:
    """The node answering (``[node] id``) is in /status's system block."""
    h.app.node_id = "fax-a"
    status = parse(await h.request("GET", "/ffws/v1/status/SYSTEM", auth=ALICE)).find("status")
    assert status is not None and status.findtext("system/node") == "fax-a"


@pytest_twisted.ensureDeferred
async def test_modem_and_channel_status(h: WebHarness) -> None:
    """One modem_status/channel_status per line with the vendor element names (elasped_time, pages_sent_recd)."""
    root = parse(await h.request("GET", "/ffws/v1/modem_status", auth=ALICE))
    modems = root.findall("modem_status")
    assert [m.findtext("modem_number") for m in modems] == ["1", "2"]
    assert [c.tag for c in modems[0]] == [
        "modem_number",
        "state",
        "page",
        "vertical_resolution",
        "baud_rate",
        "width",
        "height",
        "connect_time",
        "elasped_time",
        "fax_number",
        "remote_id",
    ]
    assert modems[0].findtext("state") == "Waiting for Ring"
    one = parse(await h.request("GET", "/ffws/v1/modem_status/2", auth=ALICE)).findall("modem_status")
    assert [m.findtext("modem_number") for m in one] == ["2"]
    assert (await h.request("GET", "/ffws/v1/modem_status/9", auth=ALICE)).status_code == 404
    channels = parse(await h.request("GET", "/ffws/v1/channel_status/1", auth=ALICE)).findall("channel_status")
    assert channels[0].find("pages_sent_recd") is not None and channels[0].findtext("channel_number") == "1"


@pytest_twisted.ensureDeferred
async def test_inbound_status(h: WebHarness) -> None:
    """A reception in progress shows as an inbound_entry; none gives an empty 200 list."""
    assert parse(await h.request("GET", "/ffws/v1/inbound_status", auth=ALICE)).findall("inbound_entry") == []
    line = h.lines.lines[1]
    line.direction, line.state, line.remote_id, line.page, line.extension = (
        LineUse.RECEIVE,
        "Receiving Page",
        "CSID",
        2,
        "101",
    )
    line.started_at = 1_700_000_000.0
    (entry,) = parse(await h.request("GET", "/ffws/v1/inbound_status", auth=ALICE)).findall("inbound_entry")
    assert [c.tag for c in entry] == [
        "state",
        "start_time",
        "line_number",
        "extension",
        "recipient",
        "remote_id",
        "current_page",
    ]
    assert (entry.findtext("line_number"), entry.findtext("remote_id"), entry.findtext("current_page")) == (
        "2",
        "CSID",
        "2",
    )


@pytest_twisted.ensureDeferred
async def test_outbound_status(h: WebHarness) -> None:
    """404 with nothing queued; pending entries listed (own for users, all for admins); class and limits filter."""
    assert (await h.request("GET", "/ffws/v1/outbound_status", auth=ALICE)).status_code == 404
    await h.xml("POST", "/ffws/v1/ofax", schedule_xml(3), auth=ALICE)
    await h.app.idle()
    assert len(parse(await h.request("GET", "/ffws/v1/outbound_status", auth=ALICE)).findall("fax_entry")) == 3
    assert (await h.request("GET", "/ffws/v1/outbound_status", auth=BOB)).status_code == 404
    assert len(parse(await h.request("GET", "/ffws/v1/outbound_status")).findall("fax_entry")) == 3
    limited = parse(await h.request("GET", "/ffws/v1/outbound_status?class=pending&pending_limit=2", auth=ALICE))
    assert len(limited.findall("fax_entry")) == 2
    assert (await h.request("GET", "/ffws/v1/outbound_status?class=sending", auth=ALICE)).status_code == 404
    assert (await h.request("GET", "/ffws/v1/outbound_status?class=done", auth=ALICE)).status_code == 400
