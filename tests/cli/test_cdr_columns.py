"""`cdrs list` shows pages, duration and result; `--until` selects the CDRs a
purge would remove (to keep them first); the store purges by age."""

from __future__ import annotations

import json

from radius.store import Store
from radius.store.api import AccountingRecord
from tests.cli.conftest import Run


def test_pages_duration_result_and_until(run: Run, store: Store) -> None:
    attrs = {"FB-Dial-Number": "555", "FB-Page-Count": 7, "FB-Total-Seconds": 95, "FB-Fax-Error-Code": 0}
    store.record_accounting(AccountingRecord("ok", 1_700_000_000.0, "192.0.2.9", 2, "S1", "alice", attrs))
    store.record_accounting(
        AccountingRecord(
            "bad", 1_800_000_000.0, "192.0.2.9", 2, "S2", "alice", {**attrs, "FB-Page-Count": 2, "FB-Fax-Error-Code": 3}
        )
    )
    table = run("cdrs", "list").out.splitlines()
    assert table[0].split()[-3:] == ["PAGES", "DURATION", "RESULT"]
    assert table[1].split()[-3:] == ["7", "95", "ok"] and table[2].split()[-4:] == ["2", "95", "error", "3"]
    old = json.loads(run("cdrs", "list", "--until", "2025-01-01", "--format", "json").out)
    assert [c["session_id"] for c in old] == ["S1"] and old[0]["pages"] == 7
    assert store.purge_cdrs(1_750_000_000.0, dry_run=True) == 1
    assert len(store.list_cdrs()) == 2
    assert store.purge_cdrs(1_750_000_000.0) == 1
    assert [r.session_id for r in store.list_cdrs()] == ["S2"]
