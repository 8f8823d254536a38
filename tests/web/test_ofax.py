"""FFWS ofax over HTTP: schedule, view, abort and reschedule, with RADIUS
authentication and ownership rules (spec §3)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest_twisted

from appliance.jobs.model import EntryState
from tests.web.harness import ALICE, BOB, CAROL, TEXT_B64, WebHarness, schedule_xml

SPEC_EXAMPLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<schedule_fax>
  <cover_page>
    <url>https://192.168.2.1/ffws/v1/data/cover_pages/default.pdf</url>
    <enabled>true</enabled>
    <subject>Test Subject</subject>
    <comments>Test Message</comments>
  </cover_page>
  <sender>
    <name>Sender Name</name>
    <organization>Sender Org</organization>
    <phone_number>218-555-3333</phone_number>
    <fax_number>218-555-3334</fax_number>
    <email_address>sender@example.com</email_address>
  </sender>
  <recipient>
    <name>Rcpt 1 Name</name>
    <organization>Rcpt 1 Org</organization>
    <fax_number>218-555-3335</fax_number>
    <phone_number>218-555-3336</phone_number>
  </recipient>
  <attachment>
    <location>inline</location>
    <name>attachment1.txt</name>
    <content_type>text/plain</content_type>
    <content_transfer_encoding>base64</content_transfer_encoding>
    <content>{TEXT_B64}</content>
  </attachment>
  <max_tries>3</max_tries>
  <priority>3</priority>
  <try_interval>30</try_interval>
  <receipt>failure</receipt>
  <receipt_attachment>none</receipt_attachment>
  <schedule_all_at>2008-08-07T20:30:00</schedule_all_at>
</schedule_fax>"""

ENTRY_CHILDREN = [
    "fax_entry_url",
    "fax_url",
    "state",
    "schedule_message",
    "created",
    "stime",
    "try_number",
    "agent",
    "preview",
    "cover_page",
    "sender",
    "recipient",
    "max_tries",
    "priority",
    "try_interval",
    "receipt",
    "receipt_attachment",
    "pages",
    "approver",
    "approval_time",
]


def entries(body: bytes) -> list[ET.Element]:
    root = ET.fromstring(body)
    assert root.tag == "response" and root[0].tag == "message"
    return root.findall("fax_entry")


async def schedule(h: WebHarness, auth: tuple[str, str] = ALICE, recipients: int = 1) -> list[ET.Element]:
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(recipients), auth=auth)
    assert response.status_code == 201, response.text
    return entries(response.content)


def key_of(entry: ET.Element) -> str:
    return entry.findtext("fax_entry_url").split("/ofax/")[1]  # type: ignore[union-attr]


@pytest_twisted.ensureDeferred
async def test_schedule_spec_example(h: WebHarness) -> None:
    """The guide's schedule_fax example is answered 201 with one fax_entry in the documented shape."""
    response = await h.xml("POST", "/ffws/v1/ofax", SPEC_EXAMPLE)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/xml"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    (entry,) = entries(response.content)
    assert [c.tag for c in entry] == ENTRY_CHILDREN
    assert entry.findtext("state") == "preprocessing"
    assert entry.findtext("schedule_message") == "New fax entry"
    assert entry.findtext("try_number") == "1" and entry.findtext("agent") == "FFWS"
    assert entry.findtext("pages") == "0" and entry.findtext("approver") == ""
    assert entry.findtext("sender/username") == "admin"
    assert entry.findtext("sender/email_address") == "sender@example.com"
    assert entry.findtext("recipient/organization") == "Rcpt 1 Org"
    assert entry.findtext("cover_page/subject") == "Test Subject"
    assert entry.findtext("try_interval") == "30" and entry.findtext("receipt") == "failure"
    url = entry.findtext("fax_entry_url") or ""
    assert url.startswith(h.base + "/ffws/v1/ofax/") and url.endswith("/0000")
    faxkey = url.split("/")[-2]
    assert len(faxkey) == 8 and entry.findtext("preview") == f"{h.base}/ffws/v1/data/preview/{faxkey}-0000.pdf"


@pytest_twisted.ensureDeferred
async def test_one_entry_per_recipient_and_conversion(h: WebHarness) -> None:
    """Three recipients give entries 0000..0002; after conversion they are pending with pages."""
    found = await schedule(h, recipients=3)
    assert [key_of(e)[-4:] for e in found] == ["0000", "0001", "0002"]
    await h.app.idle()
    faxkey = key_of(found[0]).split("/")[0]
    response = await h.request("GET", f"/ffws/v1/ofax/{faxkey}", auth=ALICE)
    assert response.status_code == 200
    states = [(e.findtext("state"), e.findtext("pages")) for e in entries(response.content)]
    assert states == [("pending", "1")] * 3
    assert h.poker.pokes >= 1
    preview = await h.request("GET", f"/ffws/v1/data/preview/{faxkey}-0000.pdf", auth=ALICE)
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    assert (await h.request("GET", f"/ffws/v1/data/preview/{faxkey}-0000.pdf", auth=BOB)).status_code == 403


@pytest_twisted.ensureDeferred
async def test_view_entry_and_ownership(h: WebHarness) -> None:
    """An entry is readable by its owner and an admin, 403 for another user, 404 when unknown."""
    (entry,) = await schedule(h)
    path = f"/ffws/v1/ofax/{key_of(entry)}"
    assert (await h.request("GET", path, auth=ALICE)).status_code == 200
    assert (await h.request("GET", path)).status_code == 200
    assert (await h.request("GET", path, auth=CAROL)).status_code == 200
    assert (await h.request("GET", path, auth=BOB)).status_code == 403
    assert (await h.request("GET", "/ffws/v1/ofax/0000FFFF", auth=ALICE)).status_code == 404
    assert (await h.request("GET", path[:-4] + "0009", auth=ALICE)).status_code == 404


@pytest_twisted.ensureDeferred
async def test_list_all_users_class_and_complete_limit(h: WebHarness) -> None:
    """The list shows the caller's entries; all_users only for admins; class and complete_limit filter."""
    await schedule(h, ALICE)
    bob_entries = await schedule(h, BOB, recipients=3)
    await h.app.idle()
    faxkey = key_of(bob_entries[0]).split("/")[0]
    await h.request("DELETE", f"/ffws/v1/ofax/{faxkey}", auth=BOB)

    async def listing(query: str, auth: tuple[str, str]) -> list[str]:
        response = await h.request("GET", "/ffws/v1/ofax" + query, auth=auth)
        assert response.status_code == 200
        return [e.findtext("state") or "" for e in entries(response.content)]

    assert await listing("", ALICE) == ["pending"]
    assert await listing("", BOB) == ["aborted"] * 3
    assert await listing("?complete_limit=2", BOB) == ["aborted"] * 2
    assert await listing("?all_users=true", ALICE) == ["pending"]  # ignored for non-admins
    assert sorted(await listing("?all_users=true", ("admin", "admin"))) == ["aborted"] * 3 + ["pending"]
    assert await listing("?all_users=true&class=pending", ("admin", "admin")) == ["pending"]
    assert await listing("?class=sending", BOB) == []
    assert (await h.request("GET", "/ffws/v1/ofax?class=bogus", auth=BOB)).status_code == 400


@pytest_twisted.ensureDeferred
async def test_include_modem_info(h: WebHarness) -> None:
    """include_modem_info adds the last attempt's modem-level data."""
    from appliance.jobs.model import Result

    (entry,) = await schedule(h)
    await h.app.idle()
    claims = h.jobs.claim("n1", 1e10, "line", ["line1"], 1)
    h.jobs.complete(claims[0].entry.id, Result.ok(1, 42.0, "REMOTE CSID", baud_rate=14400), 1e10 + 50)
    response = await h.request("GET", f"/ffws/v1/ofax/{key_of(entry)}?include_modem_info=true", auth=ALICE)
    (shown,) = entries(response.content)
    assert shown.findtext("state") == "sent"
    assert shown.findtext("remote_id") == "REMOTE CSID" and shown.findtext("baud_rate") == "14400"
    assert shown.findtext("init_time") and shown.findtext("elapsed_time") == "42"
    plain = entries((await h.request("GET", f"/ffws/v1/ofax/{key_of(entry)}", auth=ALICE)).content)[0]
    assert plain.find("init_time") is None


@pytest_twisted.ensureDeferred
async def test_abort(h: WebHarness) -> None:
    """DELETE aborts an entry (202, state aborted); another user or an unknown fax gets 400."""
    (entry,) = await schedule(h)
    await h.app.idle()
    path = f"/ffws/v1/ofax/{key_of(entry)}"
    assert (await h.request("DELETE", path, auth=BOB)).status_code == 400
    response = await h.request("DELETE", path, auth=ALICE)
    assert response.status_code == 202 and response.content == b""
    shown = entries((await h.request("GET", path, auth=ALICE)).content)[0]
    assert shown.findtext("state") == "aborted" and shown.findtext("schedule_message") == "Fax aborted by user"
    assert (await h.request("DELETE", path, auth=ALICE)).status_code == 400  # no longer abortable
    assert (await h.request("DELETE", "/ffws/v1/ofax/00FFFFFF", auth=ALICE)).status_code == 400


@pytest_twisted.ensureDeferred
async def test_reschedule(h: WebHarness) -> None:
    """PUT ?at=UTC time moves stime; at=now and a missing at reschedule now; bad times and strangers get 400."""
    (entry,) = await schedule(h)
    await h.app.idle()
    path = f"/ffws/v1/ofax/{key_of(entry)}"
    response = await h.request("PUT", path + "?at=2030-08-09T22%3A30%3A00", auth=ALICE)
    assert response.status_code == 202
    shown = entries((await h.request("GET", path, auth=ALICE)).content)[0]
    assert shown.findtext("stime") == "2030-08-09T22:30:00"
    await h.request("DELETE", path, auth=ALICE)
    assert (await h.request("PUT", path + "?at=now", auth=ALICE)).status_code == 202
    e = h.jobs.list_entries()[0]
    assert e.state is EntryState.PENDING
    assert (await h.request("PUT", path, auth=ALICE)).status_code == 202
    assert (await h.request("PUT", path + "?at=tomorrow", auth=ALICE)).status_code == 400
    assert (await h.request("PUT", path + "?at=now", auth=BOB)).status_code == 400
    assert (await h.request("PUT", "/ffws/v1/ofax/00FFFFFF/0000", auth=ALICE)).status_code == 400


@pytest_twisted.ensureDeferred
async def test_unconvertible_attachment_goes_dead(h: WebHarness) -> None:
    """A PDF that pdfium cannot open is accepted (201) and its entries end dead with a message."""
    import base64

    bad_pdf = base64.b64encode(b"%PDF-1.4 this is not really a pdf").decode()
    attachment = (
        f"<attachment><name>broken.pdf</name><content_type>application/pdf</content_type>"
        f"<content>{bad_pdf}</content></attachment>"
    )
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(1, attachment), auth=ALICE)
    assert response.status_code == 201
    await h.app.idle()
    (e,) = h.jobs.list_entries()
    assert e.state is EntryState.DEAD and "broken.pdf" in e.schedule_message


@pytest_twisted.ensureDeferred
async def test_authentication(h: WebHarness) -> None:
    """No credentials, a wrong password or an unknown user get 401 with a Basic challenge."""
    for auth in (None, ("alice", "s3cr3t-guess"), ("nobody", "x")):
        response = await h.request("GET", "/ffws/v1/ofax", auth=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic")
    assert "s3cr3t-guess" not in response.text


@pytest_twisted.ensureDeferred
async def test_auth_cache(h: WebHarness) -> None:
    """Repeated requests with the same credentials ask RADIUS once."""
    before = h.authenticator.radius_requests
    for _ in range(3):
        assert (await h.request("GET", "/ffws/v1/ofax", auth=ALICE)).status_code == 200
    assert h.authenticator.radius_requests == before + 1


@pytest_twisted.ensureDeferred
async def test_unknown_paths(h: WebHarness) -> None:
    """Unknown paths are 404."""
    for path in ("/ffws/v1/ifax", "/ffws/v2/ofax", "/nothing", "/ffws/v1/ofax/1/2/3", "/ffws/v1/data/x/y.pdf"):
        assert (await h.request("GET", path)).status_code == 404, path
