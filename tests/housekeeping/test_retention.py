"""Retention: the pure decisions, and the purge over a real job store, inbox,
spool and CDR table on an injected clock (dry run changes nothing)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from twisted.internet.task import Clock

from appliance.config import ConfigError
from appliance.housekeeping import purge
from appliance.inbound.inbox import Inbox
from appliance.jobs import FaxSpec, Recipient, Result, open_job_store
from appliance.jobs.model import Cause
from appliance.retention import (
    DAY,
    FinishedFax,
    Retention,
    SpoolFile,
    disk_warning,
    parse_retention,
    plan,
)
from radius.store import open_store

T0 = 1_750_000_000.0


def test_plan_keeps_young_items_and_referenced_files() -> None:
    r = Retention(sent=30, failed=90, received=10, spool=7, cdrs=0)
    now = T0 + 100 * DAY
    faxes = [
        FinishedFax(1, now - 31 * DAY, True, ("/s/a.tif",)),
        FinishedFax(2, now - 29 * DAY, True),
        FinishedFax(3, now - 31 * DAY, False),
        FinishedFax(4, now - 91 * DAY, False),
    ]
    spool = [
        SpoolFile("/s/a.tif", now - 40 * DAY, True),
        SpoolFile("/s/b.tif", now - 8 * DAY, False),
        SpoolFile("/s/c.tif", now - 6 * DAY, False),
        SpoolFile("/s/d.tif", now - 8 * DAY, True),
    ]
    decided = plan(r, now, faxes=faxes, inbox=[(1, now - 11 * DAY), (2, now - 9 * DAY)], spool=spool)
    assert [f.fax_id for f in decided.faxes] == [1, 4]
    assert decided.inbox == (1,)
    assert decided.files == ("/s/b.tif",)  # a.tif goes with fax 1; c is young; d is still used
    assert decided.cdrs_before is None  # 0 days: keep for ever
    assert plan(Retention(0, 0, 0, 0, 0), now, faxes=faxes, inbox=[(1, 0.0)], spool=spool).faxes == ()


def test_parse_and_disk_warning() -> None:
    assert parse_retention("f.toml", {"sent": 1, "min_free_mb": 10}) == Retention(sent=1, min_free_mb=10)
    for bad in ({"sent": -1}, {"sent": "30"}, {"sent": True}, {"forever": 1}, {"cdrs": 36501}):
        with pytest.raises(ConfigError, match=r"^f\.toml: retention\."):
            parse_retention("f.toml", bad)
    assert disk_warning(100 * 2**20, Retention(min_free_mb=500)) is not None
    assert disk_warning(600 * 2**20, Retention(min_free_mb=500)) is None
    assert disk_warning(0, Retention(min_free_mb=0)) is None


def _old(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def test_purge_removes_old_keeps_young_and_dry_run_changes_nothing(tmp_path: Path) -> None:
    from PIL import Image

    from modem.document import FAX_WIDTH, FaxPage, Resolution
    from modem.t4 import encode_page
    from modem.tiff import write_tiff_f

    clock = Clock()
    clock.advance(T0)
    url = f"sqlite:///{tmp_path}/db.sqlite"
    jobs, cdrs = open_job_store(url), open_store(url)
    data = tmp_path / "var"
    page = FaxPage(Image.new("1", (FAX_WIDTH, 50), 1), Resolution.NORMAL)
    docs = []
    for name in ("old", "young", "pending"):
        doc = data / "outbox" / f"{name}.tif"
        doc.parent.mkdir(parents=True, exist_ok=True)
        write_tiff_f([page], doc)
        docs.append(doc)
    orphan = data / "outbox" / "orphan.tif"
    orphan.write_bytes(b"x")
    _old(orphan, T0 - 30 * DAY)
    web_dir = data / "web" / "0000AAAA"
    web_dir.mkdir(parents=True)
    (web_dir / "fax.tif").write_bytes(b"x")
    _old(web_dir, T0 - 30 * DAY)
    failed_fax, _ = jobs.submit(FaxSpec(owner="u", pages=1, max_tries=1), [Recipient(fax_number="2")], T0 - 60 * DAY)
    (claim,) = jobs.claim("n", T0 - 60 * DAY, "line", ["L1"], 1)
    jobs.complete(claim.entry.id, Result.failure(Cause.BUSY), T0 - 60 * DAY)  # failed, 60 days: kept (90)
    ids = []
    for doc, age in zip(docs, (60, 5, 60)):
        fax, (_entry,) = jobs.submit(
            FaxSpec(owner="u", documents=(str(doc),), pages=1), [Recipient(fax_number="1")], T0 - age * DAY
        )
        ids.append(fax.id)
        if doc.stem != "pending":
            (claim,) = jobs.claim("n", T0 - age * DAY, "line", ["L1"], 1)
            jobs.complete(claim.entry.id, Result.ok(1, 10.0), T0 - age * DAY)
    inbox = Inbox(data / "inbox")
    old_item = inbox.add_received("demo", [encode_page(page)], False, received_at=T0 - 100 * DAY)
    young_item = inbox.add_received("demo", [encode_page(page)], False, received_at=T0 - DAY)
    retention = Retention(sent=30, failed=90, received=90, spool=7, cdrs=365)

    def run(dry: bool):  # type: ignore[no-untyped-def]
        return purge(retention, clock.seconds(), jobs=jobs, inbox=inbox, cdrs=cdrs, data_dir=data, dry_run=dry)

    try:
        before = sorted(p.name for p in (data / "outbox").iterdir())
        dry = run(True)
        assert [f.fax_id for f in dry.faxes] == [ids[0]] and dry.inbox == (old_item.id,)
        assert sorted(Path(f).name for f in dry.files) == ["0000AAAA", "orphan.tif"]
        assert sorted(p.name for p in (data / "outbox").iterdir()) == before and web_dir.exists()
        assert jobs.get_fax(ids[0]) and inbox.get(old_item.id) is not None
        done = run(False)
        assert done.summary() == dry.summary()
        assert sorted(p.name for p in (data / "outbox").iterdir()) == ["pending.tif", "young.tif"]
        assert not web_dir.exists()
        assert [f.id for f in (jobs.get_fax(i) for i in ids[1:])] == ids[1:]
        assert jobs.list_entries(fax_id=ids[0]) == [] and jobs.get_fax(failed_fax.id)
        assert inbox.get(old_item.id) is None and inbox.get(young_item.id) is not None
        clock.advance(31 * DAY)  # a month later the failed fax is past 90 days, the young one past 30
        later = run(False)
        assert sorted(f.fax_id for f in later.faxes) == sorted([ids[1], failed_fax.id])
        assert jobs.get_fax(ids[2])  # still pending: never purged
    finally:
        jobs.close()
        cdrs.close()
