"""The line pool's live call state as FFWS shows it (modem_status,
channel_status, inbound_status fields), for a send and a reception."""

from __future__ import annotations

from datetime import UTC

from appliance.config import LineDirection
from appliance.lines import LineActivity, LineSnapshot
from appliance.progress import CallDirection, CallPhase, LiveCall
from appliance.web.ffws_status import channel_status_element, inbound_entry_element, modem_status_element
from appliance.wiring.web_adapters import WebLines


class _Pool:
    def __init__(self, lines: list[LineSnapshot]) -> None:
        self.lines = lines

    def status(self) -> list[LineSnapshot]:
        return self.lines


def test_send_and_receive_fields() -> None:
    sending = LiveCall(
        CallDirection.SEND,
        "5550101",
        1000.0,
        connect_time=1005.0,
        remote_id="REMOTE",
        baud_rate=14400,
        resolution="fine",
        width=1728,
        height=770,
        compression="MH",
        page=3,
        pages_sent=2,
        pages_total=5,
        phase=CallPhase.PAGE,
        job="0000002A/0000",
    )
    receiving = LiveCall(
        CallDirection.RECEIVE,
        "5550002",
        1010.0,
        connect_time=1012.0,
        remote_id="CALLER",
        baud_rate=9600,
        resolution="normal",
        pages_sent=1,
        phase=CallPhase.PAGE,
        recipient="demo",
    )
    pool = _Pool(
        [
            LineSnapshot(
                "line1", "/dev/x", "5550001", LineDirection.BOTH, LineActivity.SENDING, 1000.0, None, call=sending
            ),
            LineSnapshot(
                "line2", "/dev/y", "5550002", LineDirection.BOTH, LineActivity.RECEIVING, 1010.0, None, call=receiving
            ),
            LineSnapshot(
                "line3",
                "/dev/z",
                "5550003",
                LineDirection.BOTH,
                LineActivity.IDLE,
                1.0,
                None,
                call=LiveCall(CallDirection.SEND, "1", 1.0, ended_at=2.0, remote_id="OLD"),
            ),
        ]
    )
    send, receive, idle = WebLines(pool).status()
    modem = modem_status_element(send, 1065.0, UTC)
    assert modem.findtext("page") == "3" and modem.findtext("remote_id") == "REMOTE"
    assert modem.findtext("baud_rate") == "14400" and modem.findtext("fax_number") == "5550101"
    assert modem.findtext("vertical_resolution") == "fine" and modem.findtext("elasped_time") == "00:01:00"
    channel = channel_status_element(send, 1065.0, UTC)
    assert channel.findtext("ecm") == "off" and channel.findtext("line_encoding") == "MH"
    inbound = inbound_entry_element(receive, UTC)
    assert inbound.findtext("remote_id") == "CALLER" and inbound.findtext("current_page") == "2"
    assert inbound.findtext("recipient") == "demo" and inbound.findtext("extension") == "5550002"
    assert (idle.remote_id, idle.page, idle.state) == ("", 0, "Waiting for Ring")
