"""Incoming faxes through the appliance's receive path, on the simulator core with a
Clock: a remote (our driver) calls a pool line; the inbound router answers, files the
pages in the inbox and sends the accounting Stop.  Network faults from hwsim: RTN on
page 1 (the sender retransmits it) and carrier loss in the middle of a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw
from twisted.internet.defer import Deferred, maybeDeferred, succeed

from appliance.config import LineClass, LineConfig
from appliance.inbound.inbox import Inbox
from appliance.inbound.router import InboundRouter
from appliance.lines import LinePool
from appliance.portserver import Cdr, ReceiveRoute, Session
from hwsim.faults import FaultPlan, Faults
from modem import class2 as c2
from modem.document import FaxPage, Resolution
from modem.params import PageFormat
from modem.t4 import encode_page
from tests.modem.pair import Bench

REMOTE, DID = "5550101", "5550001"
CLASSES = ["2.0", "2"]


class RecordingPortServer:
    """Stands in for the port-server role (our RADIUS seam): routes every DID to ``demo``, records the Stops."""

    def __init__(self) -> None:
        self.stops: list[tuple[Session, Cdr]] = []

    def route_receive(self, did: str, session_id: str) -> Deferred[ReceiveRoute]:
        return succeed(ReceiveRoute(True, did, billed_account="demo", receive_account="demo"))

    def start(self, session: Session) -> Deferred[bool]:
        return succeed(True)

    def stop(self, session: Session, cdr: Cdr) -> Deferred[bool]:
        self.stops.append((session, cdr))
        return succeed(True)


def page_images(count: int) -> list[Image.Image]:
    """Distinct pages: page n has n black bars, so a duplicate or a swap shows."""
    images = []
    for n in range(1, count + 1):
        image = Image.new("1", (1728, 120), 1)
        draw = ImageDraw.Draw(image)
        for bar in range(n):
            draw.rectangle((100 + bar * 300, 20, 300 + bar * 300, 100), fill=0)
        images.append(image)
    return images


class Appliance:
    """One pool line on ``DID`` behind the inbound router, and a remote sender on ``REMOTE``."""

    def __init__(self, tmp_path: Path, fax_class: str, faults: Faults) -> None:
        self.bench = Bench(fax_class, FaultPlan(lines={DID: faults}), numbers=(REMOTE, DID))
        self.inbox = Inbox(tmp_path / "inbox")
        self.portserver = RecordingPortServer()

        def factory(config: LineConfig, device: str) -> Any:
            return lambda protocol: self.bench.plug(DID, protocol)

        line = LineConfig("line1", f"/dev/sim{DID}", fax_class=LineClass(fax_class), did=DID, tsid=DID)
        self.pool = LinePool(self.bench.clock, [line], factory)
        self.router = InboundRouter(
            self.bench.clock,
            self.pool,
            self.inbox,
            self.portserver,
            lambda f, *a, **kw: maybeDeferred(f, *a, **kw),
            node_id="t",
            token_hex=lambda: "0001",
        )
        self.pool.on_ring = self.router.on_ring
        self.pool.startService()
        self.remote = self.bench.attach(REMOTE, c2.SessionConfig(local_id=REMOTE))
        self.bench.run(self.remote.probe(), self.pool._lines["line1"].supervisor.when_online())

    def send(self, images: list[Image.Image]) -> c2.SessionResult:
        pages = [encode_page(FaxPage(image, Resolution.FINE)) for image in images]
        (sent,) = self.bench.run(self.remote.send(DID, pages, PageFormat(fine=True)))
        done: Deferred[None] = Deferred()

        def check() -> None:  # the router has filed the fax and sent the Stop
            if self.router.calls and self.portserver.stops:
                done.callback(None)
            else:
                self.bench.clock.callLater(0.1, check)

        check()
        self.bench.run(done, limit=60)
        return sent


def stored_pages(tiff: str) -> list[Image.Image]:
    with Image.open(tiff) as image:
        frames = []
        for n in range(image.n_frames):
            image.seek(n)
            frames.append(image.convert("1").copy())
        return frames


def same_image(a: Image.Image, b: Image.Image) -> bool:
    if a.width != b.width or a.height < b.height:
        return False
    return ImageChops.difference(a.crop((0, 0, b.width, b.height)).convert("L"), b.convert("L")).getbbox() is None


@pytest.mark.parametrize("fax_class", CLASSES)
@pytest.mark.parametrize("rtn_page", [1, 3])
def test_rtn_page_is_stored_once_and_counted_3(tmp_path: Path, fax_class: str, rtn_page: int) -> None:
    """rtn_pages=[1] (or the last, EOP page): it is rejected and resent; the inbox holds exactly the 3 pages,
    the CDR counts 3."""
    app = Appliance(tmp_path, fax_class, Faults(rtn_pages=frozenset({rtn_page})))
    images = page_images(3)
    sent = app.send(images)
    assert sent.ok and sent.rtn_resends == 1 and sent.pages_confirmed == 3, sent
    (item,) = app.inbox.list()
    assert item.account == "demo" and item.pages == 3 and len(item.previews) == 3
    stored = stored_pages(item.tiff)
    assert len(stored) == 3
    assert all(same_image(got, want) for got, want in zip(stored, images, strict=True))
    ((session, cdr),) = app.portserver.stops
    assert not session.is_send and cdr.page_count == 3 and cdr.fax_error_code == 0
    assert app.pool.status()[0].stats.pages_received == 3


@pytest.mark.parametrize("fax_class", CLASSES)
def test_carrier_lost_mid_page_2_keeps_page_1_only(tmp_path: Path, fax_class: str) -> None:
    """carrier_lost_page=2: the fragment of page 2 is not stored; page 1 is, and the CDR counts 1 with the error."""
    app = Appliance(tmp_path, fax_class, Faults(carrier_lost_page=2))
    images = page_images(3)
    sent = app.send(images)
    assert sent.outcome is c2.Outcome.HANGUP and sent.pages_confirmed == 1, sent
    (item,) = app.inbox.list()
    assert item.pages == 1
    (stored,) = stored_pages(item.tiff)
    assert same_image(stored, images[0])
    ((_, cdr),) = app.portserver.stops
    assert cdr.page_count == 1 and cdr.fax_error_code == (0x90 if fax_class == "2.0" else 90)


def test_carrier_lost_mid_page_1_stores_nothing(tmp_path: Path) -> None:
    """carrier_lost_page=1: only a fragment arrived; no inbox item, the CDR counts 0 pages."""
    app = Appliance(tmp_path, "2.0", Faults(carrier_lost_page=1))
    sent = app.send(page_images(2))
    assert sent.pages_confirmed == 0
    assert app.inbox.list() == []
    ((_, cdr),) = app.portserver.stops
    assert cdr.page_count == 0 and cdr.fax_error_code == 0x90
    assert app.router.calls[0][2] == c2.Outcome.HANGUP.value


@pytest.mark.parametrize("fax_class", CLASSES)
def test_line_lost_after_a_complete_good_page_keeps_it(tmp_path: Path, fax_class: str) -> None:
    """carrier_lost_after_page=2: page 2 ended with MPS and was reported good, then the line dropped: kept."""
    app = Appliance(tmp_path, fax_class, Faults(carrier_lost_after_page=2))
    images = page_images(3)
    sent = app.send(images)
    assert sent.pages_confirmed == 1, sent  # the sender never heard the answer to page 2
    (item,) = app.inbox.list()
    assert item.pages == 2
    stored = stored_pages(item.tiff)
    assert all(same_image(got, want) for got, want in zip(stored, images[:2], strict=True))
    ((_, cdr),) = app.portserver.stops
    assert cdr.page_count == 2 and cdr.fax_error_code != 0
