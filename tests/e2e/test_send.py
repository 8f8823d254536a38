"""End to end on the embedded default: faxes queued with ``faxappliance send``
go out on a simulated line (same bitmaps at the remote machine, CDR stored
through the port-server role) or, with both lines busy, through the FAXAGE
simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from .harness import RunningAppliance, faxappliance, make_pdf, wait_for

pytestmark = [pytest.mark.slow]


def test_three_page_pdf_arrives_with_the_same_bitmaps(tmp_path: Path) -> None:
    """A 3-page PDF sent to 5550101 arrives bit for bit as rendered, and its Stop CDR is stored."""
    from modem.document import PageSize, Resolution, render
    from modem.tiff import read_tiff_pages

    pdf = make_pdf(tmp_path / "three.pdf")
    with RunningAppliance(tmp_path) as app:
        fax_id = app.send("5550101", pdf)
        entry = app.wait_done(fax_id)
        assert entry.state.value == "sent", entry
        assert entry.route in ("line1", "line2")
        faxes = wait_for(lambda: app.remote_faxes("5550101"), 10, "remote fax stored")
        received = read_tiff_pages(faxes[0])
        expected = render([str(pdf)], Resolution.FINE, PageSize.LETTER)  # the CLI default ([web] page_size)
        assert len(received) == 3
        for got, want in zip(received, expected):
            assert got.image.size == want.image.size
            assert got.image.tobytes() == want.image.tobytes()
        session = f"{app.run_info()['node']}-{fax_id:08X}0000-1"
        stop = wait_for(lambda: [c for c in app.cdrs() if c.session_id == session], 10, "CDR stored")[0]
        assert stop.user_name == "demo"
        assert stop.attributes.get("FB-Page-Count") == [3]
        assert stop.attributes.get("FB-Fax-Error-Code") == [0]

        # `faxappliance status` shows the live line states and the sent page counts.
        def line_states() -> dict[str, Any]:
            done = faxappliance("status", "--format", "json", cwd=app.base)
            lines = json.loads(done.stdout.splitlines()[0])["lines"] if done.returncode == 0 else []
            return {ln["name"]: ln for ln in lines if "state" in ln and "stats" in ln}

        states = wait_for(
            lambda: (lambda s: s if sum(ln["stats"]["pages_sent"] for ln in s.values()) == 3 else None)(line_states()),
            15,
            "live line states",
        )
        assert set(states) == {"line1", "line2"} and {ln["state"] for ln in states.values()} == {"idle"}
        status = json.loads(faxappliance("status", "--format", "json", cwd=app.base).stdout.splitlines()[0])
        assert status["node"] == app.run_info()["node"] and [n["node"] for n in status["nodes"]] == [status["node"]]
        auth = ("admin", (app.data_dir / "admin-password").read_text().strip())
        system = httpx.get(f"http://127.0.0.1:{app.web_port}/ffws/v1/status/SYSTEM", auth=auth, timeout=10)
        assert f"<node>{status['node']}</node>" in system.text, "FFWS status names the node too"


def test_overflow_to_the_cloud_when_both_lines_are_busy(tmp_path: Path) -> None:
    """Both lines ringing numbers that never answer: the next fax goes out through FAXAGE and completes."""
    faults = tmp_path / "faults.toml"
    faults.write_text("[line.5550101]\nnever_answer = true\n[line.5550102]\nnever_answer = true\n")
    pdf = make_pdf(tmp_path / "one.pdf", pages=1)
    with RunningAppliance(tmp_path, "--faults", str(faults)) as app:
        held = [app.send("5550101", pdf), app.send("5550102", pdf)]
        wait_for(
            lambda: all(e.state.value == "sending" and e.route != "cloud" for f in held for e in app.entries(f)),
            15,
            "both lines dialing",
        )
        fax_id = app.send("5035550123", pdf)
        entry = app.wait_done(fax_id, timeout=30)
        assert entry.state.value == "sent", entry
        assert entry.route == "cloud" and entry.cloud_job_id
        session = f"{app.run_info()['node']}-{fax_id:08X}0000-1"
        wait_for(lambda: [c for c in app.cdrs() if c.session_id == session], 10, "cloud CDR stored")
