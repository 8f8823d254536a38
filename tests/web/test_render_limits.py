"""Conversion limits as a web client sees them: a fax whose inline documents
have too many pages is refused (400) before anything is stored; one over
another limit is accepted, then ends dead with the reason; conversion runs
in worker processes while the web service keeps answering."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import pytest_twisted

from appliance.jobs.model import EntryState
from appliance.render import Limits, RenderPool
from appliance.render.runner import Renderer
from tests.render._docs import FORM_FEED_BOMB, blank_pdf, text_pages
from tests.web.harness import ALICE, WebHarness, schedule_xml


@pytest.fixture
def limited(h: WebHarness) -> Iterator[WebHarness]:
    """The harness with its own pool: 200 pages, 2 s a conversion, one worker."""
    pool = RenderPool(Limits(max_pages=200, workers=1, render_seconds=2.0))
    h.app.render = Renderer(pool, h.app.run)
    yield h
    pool.close()


def _attachment(name: str, content_type: str, data: bytes) -> str:
    return (
        f"<attachment><name>{name}</name><content_type>{content_type}</content_type>"
        f"<content_transfer_encoding>base64</content_transfer_encoding>"
        f"<content>{base64.b64encode(data).decode()}</content></attachment>"
    )


async def _outcome(h: WebHarness, attachment: str) -> tuple[EntryState, str]:
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(1, attachment), auth=ALICE)
    assert response.status_code == 201, response.text
    await h.app.idle()
    (entry,) = h.jobs.list_entries()
    return entry.state, entry.schedule_message


async def _refused(h: WebHarness, attachment: str) -> str:
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(1, attachment), auth=ALICE)
    assert response.status_code == 400, response.text
    assert h.jobs.list_entries() == [], "a refused fax is not stored"
    return response.text


@pytest_twisted.ensureDeferred
async def test_form_feed_bomb_is_refused_before_rendering(limited: WebHarness) -> None:
    text = await _refused(limited, _attachment("bomb.txt", "text/plain", FORM_FEED_BOMB))
    assert "bomb.txt: the document has 801 pages; a fax may have at most 200 pages" in text


@pytest_twisted.ensureDeferred
async def test_thousand_page_pdf_is_refused_before_rendering(limited: WebHarness) -> None:
    text = await _refused(limited, _attachment("big.pdf", "application/pdf", blank_pdf(1000)))
    assert "big.pdf: the document has 1000 pages" in text


@pytest_twisted.ensureDeferred
async def test_cover_page_counts_towards_the_cap(limited: WebHarness) -> None:
    """200 text pages fit alone; with a cover page the fax would have 201: refused."""
    body = schedule_xml(1, _attachment("long.txt", "text/plain", text_pages(200))).replace(
        b"<enabled>false</enabled>", b"<enabled>true</enabled>"
    )
    response = await limited.xml("POST", "/ffws/v1/ofax", body, auth=ALICE)
    assert response.status_code == 400, response.text
    assert "with the cover page the fax has 201 pages; a fax may have at most 200 pages" in response.text
    assert limited.jobs.list_entries() == []


@pytest_twisted.ensureDeferred
async def test_slow_document_ends_dead_with_the_time_limit(limited: WebHarness) -> None:
    state, message = await _outcome(limited, _attachment("long.txt", "text/plain", text_pages(190)))
    assert state is EntryState.DEAD
    assert message == (
        "Cannot convert attachment: the document took longer to convert than the limit of "
        "2 seconds ([limits] render_seconds)"
    )


@pytest_twisted.ensureDeferred
async def test_service_answers_while_converting(h: WebHarness) -> None:
    """A long conversion runs in a worker: a request made meanwhile is served and sees it converting."""
    pool = RenderPool(Limits(workers=1, render_seconds=60))
    h.app.render = Renderer(pool, h.app.run)
    try:
        response = await h.xml(
            "POST", "/ffws/v1/ofax", schedule_xml(1, _attachment("long.txt", "text/plain", text_pages(40))), auth=ALICE
        )
        assert response.status_code == 201
        listing = await h.request("GET", "/ffws/v1/ofax", auth=ALICE)
        assert listing.status_code == 200 and b"<state>preprocessing</state>" in listing.content
        await h.app.idle()
        done = await h.request("GET", "/ffws/v1/ofax", auth=ALICE)
        assert b"<state>pending</state>" in done.content and b"<pages>40</pages>" in done.content
    finally:
        pool.close()


@pytest_twisted.ensureDeferred
async def test_killed_worker_fails_its_fax_and_the_next_one_converts(h: WebHarness) -> None:
    """kill -9 of the worker converting a fax: that fax ends dead saying so; the next fax converts."""
    import os
    import signal

    from twisted.internet import reactor, task

    pool = RenderPool(Limits(workers=1, render_seconds=60))
    h.app.render = Renderer(pool, h.app.run)
    try:
        response = await h.xml(
            "POST", "/ffws/v1/ofax", schedule_xml(1, _attachment("long.txt", "text/plain", text_pages(150))), auth=ALICE
        )
        assert response.status_code == 201
        for _ in range(300):
            busy = pool.worker_pids(busy_only=True)
            if busy:
                break
            await task.deferLater(reactor, 0.05, lambda: None)
        os.kill(busy[0], signal.SIGKILL)
        await h.app.idle()
        (dead,) = h.jobs.list_entries()
        assert dead.state is EntryState.DEAD
        assert "the conversion process stopped unexpectedly (killed by SIGKILL)" in dead.schedule_message
        state, message = await _outcome_of_next(h)
        assert state is EntryState.PENDING, message
    finally:
        pool.close()


async def _outcome_of_next(h: WebHarness) -> tuple[EntryState, str]:
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(1), auth=ALICE)
    assert response.status_code == 201
    await h.app.idle()
    newest = max(h.jobs.list_entries(), key=lambda e: e.id)
    return newest.state, newest.schedule_message
