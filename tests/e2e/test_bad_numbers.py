"""End to end: a queued entry whose number is not a dial string (stored before
the dial plan existed, or written by another tool) never reaches a modem as
AT text: it ends dead after one try with a clear message, no traceback, and
the number appears escaped on one log line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .harness import RunningAppliance, make_pdf, wait_for

pytestmark = [pytest.mark.slow]

BAD = ["5550101\rATZ", "5550101\nATZ 2026-01-01 forged line", "ATDT5550101", "555;0101", "0" * 10_000]


def test_stored_bad_numbers_end_dead_without_traceback(tmp_path: Path) -> None:
    """Each bad stored number ends dead after one try, saying why; the log has no traceback and no forged line."""
    from appliance.jobs import FaxSpec, Recipient, open_job_store
    from modem.document import PageSize, Resolution, render
    from modem.tiff import write_tiff_f

    tif = tmp_path / "one.tif"
    write_tiff_f(render([str(make_pdf(tmp_path / "one.pdf", pages=1))], Resolution.FINE, PageSize.A4), tif)
    with RunningAppliance(tmp_path) as app:
        store = open_job_store(app.url, init=False)
        try:
            spec = FaxSpec(owner="demo", account="demo", documents=(str(tif),), pages=1, resolution="fine", agent="CLI")
            fax, _ = store.submit(spec, [Recipient(fax_number=n) for n in BAD], time.time())
        finally:
            store.close()
        wait_for(lambda: all(e.terminal for e in app.entries(fax.id)), 40, "every entry done")
        done = sorted(app.entries(fax.id), key=lambda e: e.index)
        log = app.log()
    for entry in done:
        assert entry.state.value == "dead", entry
        assert entry.tries == 1, entry
        assert "dial string" in entry.hangup_text and entry.hangup_text.isprintable(), entry.hangup_text
    assert "Traceback" not in log and "Unhandled" not in log, log[-3000:]
    assert "\r" not in log
    assert not any(line.startswith(("ATZ", "ATDT", " 2026-01-01 forged")) for line in log.splitlines())
    assert "5550101\\rATZ" in log and "5550101\\nATZ 2026-01-01 forged line" in log
