"""Received faxes to deliveries: routing through the RADIUS answer, mails split under the size limit
with every page decodable, printer and share deliveries pointing at the stored files."""

from __future__ import annotations

import io
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet import defer, reactor, threads

from appliance.inbound.inbox import Inbox
from appliance.mail.inbound import FaxMailer, build_deliveries
from appliance.mail.outbox import open_mail_outbox
from appliance.mail.routing import Destination, FaxbackAnswer, Routes


def _item(tmp_path: Path, pages: int = 4) -> Any:
    from PIL import Image, ImageDraw

    from modem.document import FaxPage, Resolution
    from modem.t4 import encode_page

    encoded = []
    for n in range(pages):
        image = Image.new("1", (1728, 2200), 1)
        draw = ImageDraw.Draw(image)
        for y in range(0, 2200, 9):  # busy pages: a few kB each
            draw.line([(n * 37 % 200, y), (1700 - y % 300, y)], fill=0)
        encoded.append(encode_page(FaxPage(image, Resolution.FINE)))
    return Inbox(tmp_path / "inbox").add_received(
        "demo", encoded, True, received_at=1.7e9, did="5550001", caller_id="5550101", remote_csid="REMOTE"
    )


def test_split_mails_carry_every_page_in_order(tmp_path: Path) -> None:
    """Under a small limit the fax goes in several mails, each within the limit, pages 1..n in order."""
    import pypdfium2

    item = _item(tmp_path)
    whole = Path(item.pdf).stat().st_size
    limit = int(whole * 0.75)
    deliveries = build_deliveries(
        item, (Destination("email", "a@example.com", "pdf"),), sender="fax@example.com", line="line1", max_bytes=limit
    )
    assert len(deliveries) >= 2
    pages = 0
    for n, d in enumerate(deliveries, start=1):
        assert len(d.payload) <= limit
        msg = BytesParser(policy=policy.default).parsebytes(d.payload)
        assert msg["Subject"].endswith(f"[part {n} of {len(deliveries)}]")
        (att,) = list(msg.iter_attachments())
        pages += len(pypdfium2.PdfDocument(att.get_content()))
    assert pages == item.pages == 4
    one = build_deliveries(
        item, (Destination("email", "a@example.com", "tiff"),), sender="fax@example.com", line="line1", max_bytes=0
    )
    (att,) = list(BytesParser(policy=policy.default).parsebytes(one[0].payload).iter_attachments())
    from PIL import Image

    assert Image.open(io.BytesIO(att.get_content())).n_frames == 4 and att.get_content_type() == "image/tiff"


def test_printer_and_share_point_at_the_stored_files(tmp_path: Path) -> None:
    """Printers get the PDF; shares the format asked for."""
    item = _item(tmp_path, 1)
    got = build_deliveries(
        item,
        (Destination("printer", "office", "tiff"), Destination("share", "/srv", "tiff")),
        sender="f@e.com",
        line="l",
        max_bytes=0,
    )
    assert [(d.kind, d.target, d.document) for d in got] == [
        ("printer", "office", item.pdf),
        ("share", "/srv", item.tiff),
    ]


@pytest_twisted.ensureDeferred
async def test_mailer_asks_radius_and_falls_back_to_routes(tmp_path: Path) -> None:
    """The account's FB-Rcv-Email wins; when RADIUS cannot be asked the routes table decides."""
    item = _item(tmp_path, 1)
    outbox = open_mail_outbox(f"sqlite:///{tmp_path}/store.db")
    answers: list[Any] = [
        defer.succeed(FaxbackAnswer("demo", "demo@example.com", 0)),
        defer.fail(RuntimeError("no RADIUS server")),
    ]
    pokes: list[int] = []
    mailer = FaxMailer(
        reactor,
        outbox,
        Routes(global_route=(Destination("email", "ops@example.com"),)),
        sender="fax@example.com",
        max_bytes=0,
        run_blocking=threads.deferToThread,
        ask_account=lambda account: answers.pop(0),
        poke=lambda: pokes.append(1),
    )
    try:
        await mailer.on_stored(item, "line1", 12.0)
        await mailer.on_stored(item, "line1", 12.0)
        assert sorted(d.target for d in outbox.list()) == ["demo@example.com", "ops@example.com"]
        assert pokes == [1, 1]
        body = BytesParser(policy=policy.default).parsebytes(outbox.list()[-1].payload).get_body(("plain",))
        assert "Duration:  12 s" in body.get_content() and "Line:      line1" in body.get_content()
    finally:
        outbox.close()


def test_cloud_faxes_are_handed_on_too(tmp_path: Path) -> None:
    """A fax polled from the cloud is stored and handed to the mailer hook with its inbox item."""
    from appliance.inbound.sinks import CloudInboxSink
    from tests.e2e.harness import make_pdf

    sink = CloudInboxSink(Inbox(tmp_path / "inbox"), lambda dnis: "demo")
    seen: list[Any] = []
    sink.on_stored = seen.append
    sink.store(
        42,
        {"dnis": "5550001", "cid": "5035550123", "tsid": "CLOUD", "recvdate": "2026-01-02 03:04:05"},
        make_pdf(tmp_path / "c.pdf", 1).read_bytes(),
    )
    (item,) = seen
    assert (item.account, item.did, item.remote_csid, item.pages) == ("demo", "5550001", "CLOUD", 1)
    got = build_deliveries(
        item, (Destination("email", "a@example.com", "pdf"),), sender="f@e.com", line="cloud", max_bytes=0
    )
    assert len(got) == 1 and b"application/pdf" in got[0].payload
