"""Hostile and oversized input: each is refused with the documented status
and a message, and nothing reaches the job store."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest_twisted

from appliance.config.web import WebConfig
from tests.web.harness import ALICE, WebHarness, schedule_xml

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<schedule_fax><recipient><name>&lol9;</name><fax_number>5551234</fax_number></recipient></schedule_fax>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE schedule_fax [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<schedule_fax><recipient><name>&xxe;</name><fax_number>5551234</fax_number></recipient></schedule_fax>"""


async def refused(h: WebHarness, body: bytes, status: int = 400) -> str:
    """POST ``body`` to ofax: the status, the message; the job store stays empty."""
    response = await h.xml("POST", "/ffws/v1/ofax", body, auth=ALICE)
    assert response.status_code == status, response.text[:200]
    message = ET.fromstring(response.content).findtext("message") or ""
    assert message
    assert h.jobs.list_entries() == [] and sum(h.jobs.count_by_state().values()) == 0
    return message


@pytest_twisted.ensureDeferred
async def test_xml_bomb(h: WebHarness) -> None:
    """Entity expansion ("billion laughs") is refused with 400 before any expansion."""
    assert "DTD" in await refused(h, BOMB)


@pytest_twisted.ensureDeferred
async def test_external_entity(h: WebHarness) -> None:
    """An external entity is refused with 400 and never resolved."""
    message = await refused(h, XXE)
    assert "root:" not in message


@pytest_twisted.ensureDeferred
async def test_malformed_xml(h: WebHarness) -> None:
    """Malformed XML and a wrong root element are 400 with a message."""
    assert "well-formed" in await refused(h, b"<schedule_fax><recipient>")
    assert "schedule_fax" in await refused(h, b"<fax/>")


@pytest_twisted.ensureDeferred
async def test_forty_megabyte_body(h: WebHarness) -> None:
    """A 40 MB body exceeds the 36 MB limit: 413 from its Content-Length, and the body is not stored."""
    body = schedule_xml(1, extra="<pad>" + "A" * 40_000_000 + "</pad>")
    assert "larger" in await refused(h, body, 413)


@pytest_twisted.ensureDeferred
async def test_too_many_recipients(h: WebHarness) -> None:
    """401 recipients are refused (at most 400 per fax); 400 are accepted."""
    assert "too many recipients" in await refused(h, schedule_xml(401))
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(400), auth=ALICE)
    assert response.status_code == 201
    assert len(ET.fromstring(response.content).findall("fax_entry")) == 400


@pytest_twisted.ensureDeferred
async def test_bad_base64(h: WebHarness) -> None:
    """An attachment whose content is not base64 is refused, naming the attachment."""
    attachment = (
        "<attachment><name>bad.txt</name><content_type>text/plain</content_type>"
        "<content>@@not*base64@@</content></attachment>"
    )
    assert "bad.txt" in await refused(h, schedule_xml(1, attachment))


@pytest_twisted.ensureDeferred
async def test_content_type_honoured(h: WebHarness) -> None:
    """A declared type the content does not match, or an unconvertible type, is refused (no sniffing)."""
    import base64

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n....").decode()
    mismatch = (
        f"<attachment><name>x.pdf</name><content_type>application/pdf</content_type>"
        f"<content>{png}</content></attachment>"
    )
    assert "not application/pdf" in await refused(h, schedule_xml(1, mismatch))
    word = (
        f"<attachment><name>x.doc</name><content_type>application/msword</content_type>"
        f"<content>{png}</content></attachment>"
    )
    assert "cannot be converted" in await refused(h, schedule_xml(1, word))


@pytest_twisted.ensureDeferred
async def test_no_recipient_and_bad_values(h: WebHarness) -> None:
    """No recipient, a recipient without a number, and out-of-range options are 400."""
    await refused(h, b"<schedule_fax><attachment/></schedule_fax>")
    await refused(h, b"<schedule_fax><recipient><name>x</name></recipient></schedule_fax>")
    await refused(h, schedule_xml(1, extra="<priority>9</priority>"))
    await refused(h, schedule_xml(1, extra="<schedule_all_at>soon</schedule_all_at>"))


def test_limit_is_configurable() -> None:
    """The default request limit is 36 MB and 400 recipients."""
    assert WebConfig().max_request_bytes == 36 * 1024 * 1024 and WebConfig().max_recipients == 400
