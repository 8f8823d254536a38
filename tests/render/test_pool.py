"""The render pool: conversions in bounded worker processes (appliance.render).

Real worker processes, real documents; limits are set low so every failure
comes quickly.  The time limits used are several times shorter than the
work they stop needs, on any machine.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.jobs.model import Fax, Recipient
from appliance.render import Limits, RenderCrash, RenderLimitError, RenderPool, WorkerDied
from appliance.render.convert import convert_fax
from appliance.render.jobs import files_to_tiff
from appliance.render.pool import worker_rss_bytes
from modem.document import DocumentError, PageLimitError, PageSize, Resolution, render
from modem.tiff import read_tiff_pages, tiff_f_bytes
from tests.render import jobs
from tests.render._docs import FORM_FEED_BOMB, blank_pdf, huge_png, text_pages, write

MB = 1024 * 1024


@pytest.fixture
def pool() -> Iterator[RenderPool]:
    """One worker, 1 s per job, 512 MB."""
    with RenderPool(Limits(workers=1, render_seconds=1.0, worker_memory_mb=512), kill_grace=1.0) as p:
        yield p


def _fax(cover: bool = False) -> Fax:
    return Fax(owner="alice", id=7, created=0.0, cover_enabled=cover)


def test_converts_in_a_worker_like_in_process(pool: RenderPool, tmp_path: Path) -> None:
    """A fax converted by a worker has the pages rendering in this process gives."""
    pdf = blank_pdf(2)
    converted = pool.call(
        convert_fax, str(tmp_path), _fax(cover=True), [Recipient(fax_number="5551234")], [("a.pdf", pdf)], max_pages=10
    )
    assert converted.pages == 3 and len(converted.previews) == 3
    assert pool.worker_pids() and os.getpid() not in pool.worker_pids()
    tiff = Path(converted.documents[0])
    assert len(read_tiff_pages(tiff)) == 3
    expected = render([pdf], Resolution.FINE, PageSize.LETTER)
    assert tiff_f_bytes(read_tiff_pages(tiff)[1:]) == tiff_f_bytes(expected)


def test_form_feed_bomb_refused_before_rendering(pool: RenderPool, tmp_path: Path) -> None:
    """801 text pages would take many seconds to draw; the refusal is the page count, not the 1 s limit."""
    with pytest.raises(PageLimitError) as info:
        pool.call(convert_fax, str(tmp_path), _fax(), [], [("bomb.txt", FORM_FEED_BOMB)], max_pages=200)
    assert str(info.value) == "bomb.txt: the document has 801 pages; a fax may have at most 200 pages"
    assert not list(tmp_path.rglob("*.png"))  # no page was drawn


def test_thousand_page_pdf_refused_before_rendering(pool: RenderPool, tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    with pytest.raises(PageLimitError, match="has 1000 pages; a fax may have at most 200 pages"):
        pool.call(files_to_tiff, [write(tmp_path, "big.pdf", blank_pdf(1000))], True, "a4", str(target), 200)
    assert not target.exists()


def test_document_errors_come_back_as_they_are(pool: RenderPool) -> None:
    with pytest.raises(DocumentError, match=r"^bad\.pdf: unreadable PDF"):
        pool.call(convert_fax, "/nonexistent", _fax(), [], [("bad.pdf", b"%PDF-1.4 junk")])


def test_a_bug_in_a_job_is_a_crash_with_the_worker_traceback(pool: RenderPool) -> None:
    with pytest.raises(RenderCrash, match=r"conversion failed \(KeyError: 'a bug'\)") as info:
        pool.call(jobs.broken)
    assert "raise KeyError" in info.value.details
    assert pool.call(jobs.pid) in pool.worker_pids()  # the worker carries on


def test_repeated_conversions_keep_memory_flat(tmp_path: Path) -> None:
    """The same 40-page PDF converted again and again: neither the worker nor this process grows.

    Before pages were streamed, every conversion kept 3.7 MB a fine page
    (150 MB for this document) in the converting process for good.
    """
    pdf = blank_pdf(40)
    with RenderPool(Limits(workers=1, render_seconds=60)) as pool:

        def convert() -> int:
            return int(pool.call(convert_fax, str(tmp_path), _fax(), [], [("doc.pdf", pdf)], max_pages=200).pages)

        assert convert() == 40
        (worker,) = pool.worker_pids()
        worker_before, parent_before = worker_rss_bytes(worker), worker_rss_bytes(os.getpid())
        for _ in range(3):
            assert convert() == 40
        assert pool.worker_pids() == [worker]  # the same process all along
        worker_growth = worker_rss_bytes(worker) - worker_before
        parent_growth = worker_rss_bytes(os.getpid()) - parent_before
    assert worker_before < 200 * MB, worker_before / MB
    assert worker_growth < 30 * MB, worker_growth / MB
    assert parent_growth < 30 * MB, parent_growth / MB


def test_worker_killed_mid_render_fails_only_its_document(tmp_path: Path) -> None:
    """SIGKILL to the worker drawing document A: A fails with a clear message,
    B (on the other worker) completes, and the next conversion gets a fresh worker."""
    results: dict[str, Any] = {}
    started = {"a": threading.Event(), "b": threading.Event()}
    docs = {"a": write(tmp_path, "a.txt", text_pages(150)), "b": write(tmp_path, "b.txt", text_pages(20))}

    def run(name: str) -> None:
        try:
            results[name] = pool.call(
                files_to_tiff,
                [docs[name]],
                True,
                "a4",
                str(tmp_path / f"{name}.tif"),
                200,
                progress=lambda n: started[name].set(),
            )
        except Exception as exc:
            results[name] = exc

    with RenderPool(Limits(workers=2, render_seconds=60)) as pool:
        a = threading.Thread(target=run, args=("a",))
        a.start()
        assert started["a"].wait(30)
        (victim,) = pool.worker_pids(busy_only=True)
        b = threading.Thread(target=run, args=("b",))
        b.start()
        assert started["b"].wait(30)
        os.kill(victim, signal.SIGKILL)
        a.join(30)
        b.join(30)
        assert isinstance(results["a"], WorkerDied), results["a"]
        assert "the conversion process stopped unexpectedly (killed by SIGKILL)" in str(results["a"])
        assert results["b"] == 20
        assert pool.call(files_to_tiff, [docs["b"]], True, "a4", str(tmp_path / "c.tif"), 200) == 20
        assert victim not in pool.worker_pids()


def test_memory_limit_fails_the_document_clearly(tmp_path: Path) -> None:
    """A 9000 x 9000 PNG (100 KB) needs 81 MB and more to decode: over a 160 MB address space."""
    with RenderPool(Limits(workers=1, worker_memory_mb=160, render_seconds=30)) as pool:
        with pytest.raises(RenderLimitError) as info:
            pool.call(
                files_to_tiff, [write(tmp_path, "huge.png", huge_png())], True, "a4", str(tmp_path / "out.tif"), 200
            )
        assert str(info.value) == (
            "the document needs more memory to convert than the limit of 160 MB ([limits] worker_memory_mb)"
        )
        small = write(tmp_path, "small.txt", b"still working\n")
        assert pool.call(files_to_tiff, [small], True, "a4", str(tmp_path / "ok.tif"), 200) == 1


def test_time_limit_fails_the_document_clearly(tmp_path: Path) -> None:
    """200 text pages take seconds; the limit is half a second."""
    with RenderPool(Limits(workers=1, render_seconds=0.5)) as pool:
        with pytest.raises(RenderLimitError) as info:
            pool.call(
                files_to_tiff,
                [write(tmp_path, "long.txt", text_pages(200))],
                True,
                "a4",
                str(tmp_path / "out.tif"),
                200,
            )
        assert str(info.value) == (
            "the document took longer to convert than the limit of 0.5 seconds ([limits] render_seconds)"
        )
        small = write(tmp_path, "small.txt", b"next one\n")
        assert pool.call(files_to_tiff, [small], True, "a4", str(tmp_path / "ok.tif"), 200) == 1


def test_worker_deaf_to_its_timer_is_killed() -> None:
    """A job stuck where the worker's own timer cannot stop it is ended by the parent."""
    with RenderPool(Limits(workers=1, render_seconds=0.3), kill_grace=0.5) as pool:
        first = pool.call(jobs.pid)
        with pytest.raises(RenderLimitError, match=r"longer to convert than the limit of 0\.3 seconds"):
            pool.call(jobs.deaf_sleep, 30.0)
        assert first not in pool.worker_pids()
        assert pool.call(jobs.pid) != first


def test_closed_pool_refuses_work() -> None:
    pool = RenderPool(Limits(workers=1))
    pool.close()
    with pytest.raises(Exception, match="document conversion is shut down"):
        pool.call(jobs.pid)


def test_failing_progress_callback_retires_the_worker(pool: RenderPool, tmp_path: Path) -> None:
    """If the caller gives up mid-job, that worker is not reused with the job's leftovers."""
    first = pool.call(jobs.pid)

    def give_up(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pool.call(
            files_to_tiff,
            [write(tmp_path, "t.txt", text_pages(5))],
            True,
            "a4",
            str(tmp_path / "t.tif"),
            9,
            progress=give_up,
        )
    assert pool.call(jobs.pid) != first
