"""The page cap is checked before anything is drawn: counting is cheap,
refusing a page bomb costs next to nothing (modem.document)."""

from __future__ import annotations

import pytest
from PIL import Image

from modem.document import (
    DocumentError,
    PageLimitError,
    PageSize,
    Resolution,
    check_page_limit,
    count_pages,
    iter_render,
    render,
)
from tests.imaging._samples import encoded
from tests.render._docs import FORM_FEED_BOMB, blank_pdf, text_pages

FINE, A4 = Resolution.FINE, PageSize.A4


def test_counts_match_what_rendering_gives() -> None:
    """The count found without drawing equals the pages drawn, for text, PDF and TIFF."""
    tiff = encoded(
        Image.new("L", (300, 200), 128), format="TIFF", save_all=True, append_images=[Image.new("1", (200, 100), 1)] * 2
    )
    long_text = b"line\n" * 130 + b"\f\f" + b"z" * 500
    for data in (b"x\f" * 7, long_text, blank_pdf(3), tiff, b"a\n"):
        assert count_pages(data, FINE, A4) == len(render(data, FINE, A4))
    assert count_pages(FORM_FEED_BOMB, FINE, A4) == 801
    assert count_pages(blank_pdf(1000), FINE, A4) == 1000


def test_form_feed_bomb_is_refused_by_its_count() -> None:
    """1.6 KB of "x\\f" is 801 pages: refused naming the document, the count and the limit."""
    pages = iter_render([FORM_FEED_BOMB], FINE, A4, max_pages=200)
    with pytest.raises(PageLimitError) as info:
        next(pages)  # not a single page was handed out
    assert str(info.value) == "<bytes #1>: the document has 801 pages; a fax may have at most 200 pages"
    assert isinstance(info.value, DocumentError)  # callers that handle bad documents handle this too


def test_thousand_page_pdf_is_refused() -> None:
    with pytest.raises(PageLimitError, match="the document has 1000 pages; a fax may have at most 200 pages"):
        render([blank_pdf(1000)], FINE, A4, max_pages=200)


def test_the_cap_is_for_the_whole_fax() -> None:
    """Documents each under the cap together over it: refused at the one that crosses it."""
    docs = [("cover", b"cover\n"), ("a.pdf", blank_pdf(3)), ("b.txt", text_pages(3))]
    assert check_page_limit(docs, FINE, A4, max_pages=7) == 7
    with pytest.raises(
        PageLimitError,
        match=r"^b\.txt: with this document the fax has at least 7 pages; "
        r"a fax may have at most 6 pages$",
    ):
        check_page_limit(docs, FINE, A4, max_pages=6)


def test_exactly_the_cap_is_allowed() -> None:
    assert len(render([text_pages(4)], FINE, A4, max_pages=4)) == 4


def test_unreadable_document_is_named_while_counting() -> None:
    with pytest.raises(DocumentError, match=r"^bad\.pdf: unreadable PDF"):
        check_page_limit([("bad.pdf", b"%PDF-1.4 nothing")], FINE, A4, max_pages=10)


def test_huge_counts_stop_early() -> None:
    """300 KB of form feeds is refused in a moment: counting stops past 10,000 pages."""
    with pytest.raises(
        PageLimitError,
        match=r"^memo\.txt: the document has more than 10000 pages; "
        r"a fax may have at most 200 pages$",
    ):
        check_page_limit([("memo.txt", b"x\f" * 150_000)], FINE, A4, max_pages=200)
    assert count_pages(b"x\f" * 150_000, FINE, A4) == 150_001
