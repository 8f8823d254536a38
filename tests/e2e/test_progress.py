"""Progress of a send on paced simulated lines: ``status --format json`` and
FFWS ``modem_status`` show pages 1, 2, 3 while the call is on the line, and
``include_modem_info`` of the finished entry has the connection data.  And a
retry after the carrier is lost on page 3 of 5 sends only pages 3-5."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree

from appliance.cli import CliIO, main

from .harness import ENV, RunningAppliance, faxappliance, wait_for

pytestmark = [pytest.mark.slow]


def _light_pdf(path: Path, pages: int) -> Path:
    """Mostly white pages (short line time), each with its own mark."""
    from PIL import Image, ImageDraw

    images = []
    for i in range(pages):
        image = Image.new("L", (620, 877), 255)
        ImageDraw.Draw(image).rectangle((40 + 60 * i, 60, 80 + 60 * i, 100), fill=0)
        images.append(image.convert("RGB"))
    images[0].save(path, save_all=True, append_images=images[1:], resolution=75.0)
    return path


def _status(data_dir: Path) -> dict[str, Any]:
    out = io.StringIO()
    main(["status", "--data-dir", str(data_dir), "--format", "json"], CliIO(stdout=out, stderr=io.StringIO()))
    return dict(json.loads(out.getvalue().splitlines()[0]))


def test_pages_show_while_on_the_line_and_the_entry_keeps_modem_info(tmp_path: Path) -> None:
    pdf = _light_pdf(tmp_path / "three.pdf", 3)
    with RunningAppliance(tmp_path, fast=False) as app:
        auth = ("admin", (app.data_dir / "admin-password").read_text().strip())
        base = f"http://127.0.0.1:{app.web_port}/ffws/v1"
        waiting = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "appliance.cli",
                "send",
                "--data-dir",
                str(app.data_dir),
                "--to",
                "5550101",
                "--normal",
                "--wait",
                str(pdf),
            ],
            cwd=app.base,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        fax_id = 1  # the first fax of a fresh data directory
        wait_for(lambda: app.entries(fax_id), 30, "fax queued")
        seen_cli: set[int] = set()
        seen_ffws: set[int] = set()
        remote_ids: set[str] = set()
        recent_pages: set[int] = set()
        stop = threading.Event()

        def watch_ffws() -> None:
            with httpx.Client(auth=auth, timeout=5) as client:
                while not stop.is_set():
                    xml = ElementTree.fromstring(client.get(f"{base}/modem_status").content)
                    for modem in xml.iter("modem_status"):
                        page = (modem.findtext("page") or "").strip()
                        if page.isdigit() and modem.findtext("state") == "Sending Page":
                            seen_ffws.add(int(page))
                            assert modem.findtext("fax_number") == "5550101"
                    time.sleep(0.1)

        watcher = threading.Thread(target=watch_ffws, daemon=True)
        watcher.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                entry = app.entries(fax_id)[0]
                snap = _status(app.data_dir)
                recent_pages.update(e["pages_sent"] for e in snap["recent"] if e["state"] == "sending")
                for line in snap["lines"]:
                    if line.get("job") and line.get("page"):
                        seen_cli.add(int(line["page"]))
                        remote_ids.add(line["remote_id"])
                        assert line["fax_number"] == "5550101" and line["baud_rate"] > 0
                if entry.terminal:
                    break
                time.sleep(0.1)
        finally:
            stop.set()
            watcher.join(10)
        assert entry.state.value == "sent", entry
        out, err = waiting.communicate(timeout=30)
        assert waiting.returncode == 0, err
        assert out.strip().endswith("sent, 3 page(s) sent (Successfully sent fax)")
        progress = err.splitlines()  # not a terminal: one line per change, no bar, no repeats
        assert "\r" not in err and len(progress) == len(set(progress)) and len(progress) < 20, progress
        assert progress[0] == "converted 3 page(s) (letter, normal)", progress
        assert [line for line in progress if "confirmed (MCF)" in line], progress
        assert seen_cli == {1, 2, 3} and seen_ffws == {1, 2, 3}
        assert remote_ids == {"5550101"}
        assert {1, 2} <= recent_pages  # the queue's pages_sent grows during the call
        answer = httpx.get(f"{base}/ofax/{fax_id:08X}?include_modem_info=true", auth=auth, timeout=10)
        info = ElementTree.fromstring(answer.content).find(".//fax_entry")
        assert info is not None
        assert info.findtext("connect_time") and info.findtext("baud_rate") == "14400"
        assert info.findtext("resolution") == "normal" and info.findtext("hangup_code") in ("0", "00")
        assert info.findtext("pages_sent") == "3"
        assert app.log().count("confirmed (MCF)") == 3  # one log line per page


def test_a_retry_sends_only_the_pages_not_confirmed(tmp_path: Path) -> None:
    from modem.tiff import read_tiff_pages

    faults = tmp_path / "faults.toml"
    faults.write_text('[[call]]\nto = "5550101"\nattempt = 1\ncarrier_lost_page = 3\n')
    pdf = _light_pdf(tmp_path / "five.pdf", 5)
    with RunningAppliance(tmp_path, "--faults", str(faults)) as app:
        fax_id = app.send("5550101", pdf)
        entry = app.wait_done(fax_id, timeout=60)
        assert entry.state.value == "sent", entry
        assert entry.tries == 2 and entry.pages_sent == 5
        first, second = app.attempts(entry.id)
        assert (first.pages, second.pages) == (2, 5), (first, second)
        assert second.details.get("first_page") == 3
        # the remote printed each page once: 1-2 in the broken call, 3-5 in the retry (stored as one fax)
        printed = app.data_dir / "remote" / "5550101" / "printed.jsonl"
        pages = wait_for(
            lambda: (lambda p: p if len(p) == 5 else None)(
                [json.loads(x) for x in printed.read_text().splitlines()] if printed.exists() else []
            ),
            15,
            "pages printed",
        )
        assert [p["page"] for p in pages] == [1, 2, 1, 2, 3] and pages[-1]["last"]
        (fax,) = wait_for(lambda: app.remote_faxes("5550101"), 15, "the retry stored at the remote")
        from modem.document import PageSize, Resolution, render

        want = [p.image.tobytes() for p in render([str(pdf)], Resolution.FINE, PageSize.LETTER)]
        assert [page.image.tobytes() for page in read_tiff_pages(fax)] == want[2:]


def test_a_shutdown_during_a_call_is_not_a_try(tmp_path: Path) -> None:
    """SIGTERM while page 2 of 4 is on the line: the job is pending again with no try counted,
    due at once; the next start resumes after the confirmed page and sends it in one try."""
    pdf = _light_pdf(tmp_path / "four.pdf", 4)
    app = RunningAppliance(tmp_path, fast=False)
    with app:
        res = faxappliance(
            "send",
            "--data-dir",
            str(app.data_dir),
            "--to",
            "5550101",
            "--normal",
            "--max-tries",
            "1",
            "--format",
            "json",
            str(pdf),
            cwd=app.base,
        )
        assert res.returncode == 0, res.stderr
        fax_id = int(json.loads(res.stdout.strip().splitlines()[-1])["fax_id"])
        wait_for(lambda: "page 1/4 to 5550101 confirmed" in app.log(), 30, "page 1 confirmed")
        assert app.stop() == 0
    (entry,) = app.entries(fax_id)
    assert entry.state.value == "pending" and entry.tries == 0 and entry.pages_sent >= 1, entry
    assert entry.due_at <= time.time()
    done_before = entry.pages_sent
    with app:  # started again
        entry = app.wait_done(fax_id, timeout=60)
        assert entry.state.value == "sent" and entry.tries == 1 and entry.pages_sent == 4, entry
        last = app.attempts(entry.id)[-1]
        assert last.details.get("first_page") == done_before + 1
