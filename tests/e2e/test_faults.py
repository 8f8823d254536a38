"""Faults on the embedded default: a line failing mid-fax is retried on the
other line; an unreachable RADIUS server fails over to the next; ``kill -9``
during a send and a restart deliver the fax exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import RunningAppliance, free_port, make_pdf, wait_for

pytestmark = [pytest.mark.slow]


def test_line_failing_mid_fax_is_retried_on_the_other_line(tmp_path: Path) -> None:
    """The first call from line1 loses carrier on page 2; the retry goes out on line2 and the fax arrives once."""
    faults = tmp_path / "faults.toml"
    faults.write_text('[[call]]\nfrom = "5550001"\nto = "5550101"\nattempt = 1\ncarrier_lost_page = 2\n')
    pdf = make_pdf(tmp_path / "three.pdf")
    with RunningAppliance(tmp_path, "--faults", str(faults)) as app:
        fax_id = app.send("5550101", pdf)
        entry = app.wait_done(fax_id, timeout=40)
        assert entry.state.value == "sent", entry
        attempts = app.attempts(entry.id)
        assert [a.route for a in attempts] == ["line1", "line2"]
        assert attempts[0].outcome == "pending" and attempts[0].cause == "protocol"
        assert len(wait_for(lambda: app.remote_faxes("5550101"), 10, "remote fax")) == 1


def test_unreachable_radius_server_fails_over_to_the_next(tmp_path: Path) -> None:
    """The first RADIUS server in the list never answers; sends are authorized and accounted by the second."""
    dead = f"127.0.0.1:{free_port()}:{free_port()}"
    pdf = make_pdf(tmp_path / "one.pdf", 1)
    with RunningAppliance(tmp_path, "--extra-radius", dead) as app:
        fax_id = app.send("5550101", pdf)
        entry = app.wait_done(fax_id, timeout=40)
        assert entry.state.value == "sent", entry
        session = f"{app.run_info()['node']}-{fax_id:08X}0000-1"
        wait_for(lambda: [c for c in app.cdrs() if c.session_id == session], 15, "CDR through the second server")


def test_kill_9_during_a_send_then_restart_delivers_exactly_once(tmp_path: Path) -> None:
    """kill -9 while pages are on the line; after a restart the fax is retried and arrives exactly once."""
    pdf = make_pdf(tmp_path / "three.pdf")
    app = RunningAppliance(tmp_path, fast=False)
    try:
        app.start()
        fax_id = app.send("5550101", pdf)
        wait_for(lambda: any(e.state.value == "sending" for e in app.entries(fax_id)), 15, "sending")
        wait_for(lambda: "+FCS" in app.log() or "sending" in str(app.entries(fax_id)), 5, "call up")
        import time

        time.sleep(2.0)
        app.kill9()
        assert not app.remote_faxes("5550101")
        app.start()
        entry = app.wait_done(fax_id, timeout=50)
        assert entry.state.value == "sent", entry
        assert next(a.cause for a in app.attempts(entry.id)) == "interrupted"
        assert len(wait_for(lambda: app.remote_faxes("5550101"), 10, "remote fax")) == 1
    finally:
        app.stop()
