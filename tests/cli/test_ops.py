"""`faxappliance inbox …` and `faxappliance jobs …`: tables and JSON, filters,
export (the PDF decodes with the right page count), cancel, reschedule,
retry; errors are one line with exit status 2 (usage) or 1 (failure)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from PIL import Image, ImageDraw

from appliance.inbound.inbox import Inbox
from appliance.jobs import FaxSpec, Recipient, open_job_store
from modem.document import FAX_WIDTH, FaxPage, Resolution
from modem.t4 import encode_page
from modem.tiff import write_tiff_f
from tests.cli.conftest import Run


def _pages(count: int) -> list[FaxPage]:
    out = []
    for i in range(count):
        image = Image.new("1", (FAX_WIDTH, 300), 1)
        ImageDraw.Draw(image).rectangle((100 + 40 * i, 40, 200 + 40 * i, 140), fill=0)
        out.append(FaxPage(image, Resolution.NORMAL))
    return out


@pytest.fixture
def data(tmp_path: Path, db_path: Path, run: Run) -> dict[str, Any]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    inbox = Inbox(tmp_path / "var" / "inbox")
    old = inbox.add_received("demo", [encode_page(p) for p in _pages(2)], False, received_at=1_700_000_000.0)
    new = inbox.add_received("other", [encode_page(p) for p in _pages(1)], False, received_at=time.time())
    tif = tmp_path / "doc.tif"
    write_tiff_f(_pages(3), tif)
    jobs = open_job_store(f"sqlite:///{db_path}")
    try:
        fax, (entry,) = jobs.submit(
            FaxSpec(owner="demo", documents=(str(tif),), pages=3), [Recipient(fax_number="5550101")], time.time()
        )
    finally:
        jobs.close()
    return {"old": old, "new": new, "job": f"{fax.id:08X}-{entry.index:04X}", "inbox": inbox}


def test_inbox_list_filters_and_export(run: Run, data: dict[str, Any], tmp_path: Path) -> None:
    result = run("inbox", "list")
    assert result.code == 0 and result.out.splitlines()[0].split()[:3] == ["ID", "ACCOUNT", "RECEIVED_AT"]
    assert len(result.out.splitlines()) == 3
    listed = json.loads(run("inbox", "list", "--account", "demo", "--format", "json").out)
    assert [i["id"] for i in listed] == [data["old"].id] and listed[0]["received_at"] == "2023-11-14T22:13:20Z"
    recent = json.loads(run("inbox", "list", "--since", "2024-01-01", "--format", "json").out)
    assert [i["id"] for i in recent] == [data["new"].id]
    target = tmp_path / "out.pdf"
    result = run("inbox", "export", str(data["old"].id), "-o", str(target))
    assert result.code == 0 and len(pypdfium2.PdfDocument(target.read_bytes())) == 2
    result = run("inbox", "export", str(data["old"].id), "--as", "tiff", "-o", str(tmp_path / "out.tif"))
    assert result.code == 0 and (tmp_path / "out.tif").read_bytes()[:2] in (b"II", b"MM")
    shown = json.loads(run("inbox", "show", str(data["new"].id), "--format", "json").out)
    assert shown["account"] == "other" and shown["pages"] == 1


def test_inbox_delete_needs_yes_when_not_asked(run: Run, data: dict[str, Any]) -> None:
    result = run("inbox", "delete", str(data["old"].id))
    assert result.code == 2 and "--yes" in result.err and data["inbox"].get(data["old"].id) is not None
    assert run("inbox", "delete", str(data["old"].id), "--yes").code == 0
    assert data["inbox"].get(data["old"].id) is None
    result = run("inbox", "show", str(data["old"].id))
    assert result.code == 1 and result.err.count("\n") == 1 and "no received fax" in result.err


def test_jobs_list_show_cancel_reschedule_retry_export(run: Run, data: dict[str, Any], tmp_path: Path) -> None:
    job = data["job"]
    (listed,) = json.loads(run("jobs", "list", "--state", "active", "--format", "json").out)
    assert listed["id"] == job and listed["state"] == "pending" and listed["pages"] == 3
    assert json.loads(run("jobs", "list", "--state", "done", "--format", "json").out) == []
    result = run("jobs", "reschedule", job, "--at", "2031-05-06T07:08:09")
    assert result.code == 0 and "due 2031-05-06T07:08:09Z" in result.out
    assert run("jobs", "cancel", job).code == 0
    shown = json.loads(run("jobs", "show", job, "--format", "json").out)
    assert shown["state"] == "aborted" and shown["attempts"] == []
    result = run("jobs", "retry", job, "--format", "json")
    assert result.code == 0 and json.loads(result.out)["state"] == "pending"
    result = run("jobs", "retry", job)
    assert result.code == 1 and "only a failed, dead or aborted job" in result.err
    target = tmp_path / "job.pdf"
    assert run("jobs", "export", job, "-o", str(target)).code == 0
    assert len(pypdfium2.PdfDocument(target.read_bytes())) == 3


def test_usage_errors_are_one_line_with_status_2(run: Run, data: dict[str, Any]) -> None:
    for argv, words in (
        (("jobs", "show", "xyz!"), "FAXKEY-ENTRYKEY"),
        (("jobs", "list", "--state", "lost"), "unknown state"),
        (("inbox", "list", "--since", "last week"), "--since"),
        (("jobs", "list", "--limit", "0"), "limit"),
        (("inbox", "show", "abc"), "a number"),
    ):
        result = run(*argv)
        assert result.code == 2 and words in result.err and result.err.count("\n") == 1, (argv, result)
    result = run("jobs", "show", "0000FFFF-0000")
    assert result.code == 1 and "no fax" in result.err
