"""The inbox store: files and index."""

from __future__ import annotations

from pathlib import Path

from appliance.inbound.inbox import Inbox


def test_inbox_stores_and_lists(tmp_path: Path) -> None:
    """Received pages are stored as TIFF, PDF and previews, listed newest first, per account."""
    from PIL import Image

    from modem.document import FaxPage, Resolution
    from modem.t4 import encode_page

    page = encode_page(FaxPage(Image.new("1", (1728, 200), 1), Resolution.FINE))
    inbox = Inbox(tmp_path / "inbox")
    first = inbox.add_received("demo", [page], True, received_at=1.0, did="5550001")
    second = inbox.add_received("other", [page, page], True, received_at=2.0)
    assert [i.id for i in inbox.list()] == [second.id, first.id]
    assert [i.id for i in inbox.list("demo")] == [first.id]
    got = inbox.get(second.id)
    assert got is not None and got.pages == 2 and len(got.previews) == 2
    assert Path(got.tiff).exists() and Path(got.pdf).exists()
    assert inbox.get(99) is None
