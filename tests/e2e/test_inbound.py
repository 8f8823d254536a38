"""Inbound on the embedded default: mgetty's sendfax on a remote simulated
line faxes the appliance's DID, RADIUS routes it to the demo account's
inbox; a disabled DID is not answered."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.peers import require_program

from .harness import ENV, RunningAppliance, make_pdf, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.interop]


def _inbox(app: RunningAppliance) -> list[dict[str, object]]:
    import json

    path = app.data_dir / "inbox" / "index.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def test_sendfax_to_the_appliance_lands_in_the_demo_inbox(tmp_path: Path) -> None:
    """sendfax on remote 5550102 dials 5550001; the fax is in demo's inbox with TIFF, PDF and previews."""
    sendfax = require_program("sendfax", "mgetty-fax")
    g3 = tmp_path / "page.g3"
    from modem.document import PageSize, Resolution, render
    from modem.t4 import encode_page

    g3.write_bytes(encode_page(render([str(make_pdf(tmp_path / "one.pdf", 1))], Resolution.FINE, PageSize.A4)[0]))
    with RunningAppliance(tmp_path, "--unattended", "5550102") as app:
        device = app.device("5550102")
        res = subprocess.run(
            [sendfax, "-v", "-C", "c2.0", "-l", device, "5550001", str(g3)],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=50,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        items = wait_for(lambda: _inbox(app), 10, "inbox item")
        item = items[0]
        assert item["account"] == "demo" and item["did"] == "5550001" and item["pages"] == 1
        assert Path(str(item["tiff"])).exists() and Path(str(item["pdf"])).exists()
        assert all(Path(p).exists() for p in item["previews"])  # type: ignore[union-attr]


def test_a_disabled_did_is_not_answered(tmp_path: Path) -> None:
    """With DID 5550002 disabled in the store, a call to it is refused through RADIUS and never answered."""
    from radius.store import open_store

    pdf = make_pdf(tmp_path / "one.pdf", 1)
    with RunningAppliance(tmp_path) as app:
        store = open_store(app.url)
        try:
            store.update_did("5550002", enabled=False)
        finally:
            store.close()
        from appliance.demo.remote import request_send

        request_send(app.data_dir / "remote" / "5550101", "5550002", [str(pdf)])
        wait_for(lambda: "not answered: DID 5550002 is disabled" in app.log(), 20, "call refused")
        assert not _inbox(app)


def test_sendfax_resends_after_rtn_inbox_and_cdr_count_each_page_once(tmp_path: Path) -> None:
    """The appliance's line answers RTN to page 1 (hwsim rtn_pages); sendfax resends it; the inbox holds the
    3 pages once, in order, and the receive Stop's FB-Page-Count is 3."""
    sendfax = require_program("sendfax", "mgetty-fax")
    from PIL import ImageChops

    from modem.document import PageSize, Resolution, render
    from modem.t4 import encode_page

    faults = tmp_path / "faults.toml"
    faults.write_text("[line.5550001]\nrtn_pages = [1]\n")
    rendered = render([str(make_pdf(tmp_path / "three.pdf", 3))], Resolution.FINE, PageSize.A4)
    g3s = []
    for n, page in enumerate(rendered, start=1):
        g3s.append(tmp_path / f"page{n}.g3")
        g3s[-1].write_bytes(encode_page(page))
    with RunningAppliance(tmp_path, "--unattended", "5550102", "--faults", str(faults)) as app:
        device = app.device("5550102")
        res = subprocess.run(
            [sendfax, "-v", "-C", "c2.0", "-l", device, "5550001", *map(str, g3s)],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=50,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        (item,) = wait_for(lambda: _inbox(app), 10, "inbox item")
        stops = wait_for(lambda: [c for c in app.cdrs() if "-in-" in c.session_id], 10, "receive CDR")
        assert "not kept" in app.log()
    assert item["pages"] == 3 and len(item["previews"]) == 3  # type: ignore[arg-type]
    from PIL import Image

    with Image.open(str(item["tiff"])) as tiff:
        assert tiff.n_frames == 3
        for n, page in enumerate(rendered):
            tiff.seek(n)
            assert ImageChops.difference(tiff.convert("L"), page.image.convert("L")).getbbox() is None, n
    assert [c.attributes.get("FB-Page-Count") for c in stops] == [[3]]


def test_carrier_lost_mid_page_the_fragment_is_not_a_page(tmp_path: Path) -> None:
    """The line breaks in the middle of sendfax's page 2 (hwsim carrier_lost_page): page 1 is in the inbox,
    the fragment is not, and the receive Stop counts 1 page with a fax error."""
    sendfax = require_program("sendfax", "mgetty-fax")
    from modem.document import PageSize, Resolution, render
    from modem.t4 import encode_page

    faults = tmp_path / "faults.toml"
    faults.write_text("[line.5550001]\ncarrier_lost_page = 2\n")
    g3s = []
    for n, page in enumerate(render([str(make_pdf(tmp_path / "three.pdf", 3))], Resolution.FINE, PageSize.A4), 1):
        g3s.append(tmp_path / f"page{n}.g3")
        g3s[-1].write_bytes(encode_page(page))
    with RunningAppliance(tmp_path, "--unattended", "5550102", "--faults", str(faults)) as app:
        res = subprocess.run(
            [sendfax, "-v", "-C", "c2.0", "-l", app.device("5550102"), "5550001", *map(str, g3s)],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=50,
        )
        assert res.returncode != 0  # sendfax saw the call break
        (item,) = wait_for(lambda: _inbox(app), 10, "inbox item")
        (stop,) = wait_for(lambda: [c for c in app.cdrs() if "-in-" in c.session_id], 10, "receive CDR")
        assert "incomplete: no post-page message" in app.log()
    assert item["pages"] == 1
    assert stop.attributes.get("FB-Page-Count") == [1] and stop.attributes.get("FB-Fax-Error-Code") not in (None, [0])
