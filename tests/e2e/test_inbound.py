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
        res = subprocess.run([sendfax, "-v", "-C", "c2.0", "-l", device, "5550001", str(g3)], env=ENV,
                             capture_output=True, text=True, timeout=50)
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
        from appliance.remote import request_send

        request_send(app.data_dir / "remote" / "5550101", "5550002", [str(pdf)])
        wait_for(lambda: "not answered: DID 5550002 is disabled" in app.log(), 20, "call refused")
        assert not _inbox(app)
