"""Every web front door passes fax numbers through the dial plan: FFWS
``POST /ffws/v1/ofax``, UAPI send and FFWS contacts refuse a bad number with
400 naming it (escaped), store nothing, and store good numbers as dialled."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest_twisted

from appliance.dialplan import DialPlan, parse_rule
from appliance.logsafe import safe_for_log
from tests.appliance.test_dialplan import BAD_NUMBERS, GOOD_NUMBERS
from tests.web.harness import ALICE, TEXT_B64, WebHarness

ATTACHMENT = (
    f"<attachment><location>inline</location><name>a.txt</name><content_type>text/plain</content_type>"
    f"<content_transfer_encoding>base64</content_transfer_encoding><content>{TEXT_B64}</content>"
    f"</attachment>"
)


def xml_text(raw: str) -> str:
    """``raw`` as XML character data, every character outside printable ASCII as a reference."""
    escaped = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(c if " " <= c <= "~" else f"&#{ord(c)};" for c in escaped)


def xml_can_carry(raw: str) -> bool:
    """XML 1.0 has no way to write NUL, ESC and most C0 controls, even as references."""
    return all(c in "\t\n\r" or ord(c) >= 0x20 for c in raw)


def schedule(*numbers: str) -> bytes:
    recipients = "".join(
        f"<recipient><name>R</name><fax_number>{xml_text(n)}</fax_number></recipient>" for n in numbers
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><schedule_fax><cover_page><enabled>false</enabled>'
        f"</cover_page>{recipients}{ATTACHMENT}</schedule_fax>"
    ).encode()


def message(response: object) -> str:
    root = ET.fromstring(response.content)  # type: ignore[attr-defined]
    return root.findtext("message") or ""


def uapi_post(h: WebHarness, token: str, recipients: object) -> object:
    return h.request(
        "POST",
        "/uapi/faxes/@me/100",
        auth=None,
        files=[("files", ("a.txt", b"hi", "text/plain"))],
        data={"request": json.dumps({"recipients": recipients})},
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest_twisted.ensureDeferred
async def test_ffws_refuses_bad_numbers(h: WebHarness) -> None:
    """Each bad number is a 400 naming it (escaped, one line); nothing is stored, not even good recipients."""
    for raw, reason in BAD_NUMBERS:
        response = await h.xml("POST", "/ffws/v1/ofax", schedule("555-0100", raw), auth=ALICE)
        assert response.status_code == 400, (raw[:30], response.text[:300])
        text = message(response)
        assert "\r" not in text and "\n" not in text and len(text) < 300
        if xml_can_carry(raw) and raw.strip():
            assert text.startswith(f"recipient 2: fax number '{safe_for_log(raw.strip(), 24)}"), text
            assert reason in text, text
    assert h.jobs.list_entries() == []


@pytest_twisted.ensureDeferred
async def test_ffws_stores_numbers_as_dialled(h: WebHarness) -> None:
    """Good numbers are stored normalised, in order, one entry each."""
    response = await h.xml("POST", "/ffws/v1/ofax", schedule(*(raw for raw, _ in GOOD_NUMBERS)), auth=ALICE)
    assert response.status_code == 201, response.text
    entries = ET.fromstring(response.content).findall("fax_entry")
    assert [e.findtext("recipient/fax_number") for e in entries] == [dialled for _, dialled in GOOD_NUMBERS]
    stored = sorted(h.jobs.list_entries(), key=lambda e: e.index)
    assert [e.recipient.fax_number for e in stored] == [dialled for _, dialled in GOOD_NUMBERS]


@pytest_twisted.ensureDeferred
async def test_ffws_applies_the_configured_rules(h: WebHarness) -> None:
    """The app's dial plan rules rewrite and reject; a rejected number stores nothing."""
    h.app.dialplan = DialPlan(
        international_prefix="011",
        country_code="1",
        national_prefix="1",
        outside_prefix="9,",
        rules=(parse_rule("1900XXXXXXX", "reject"), parse_rule("{1503}XXXXXXX")),
    )
    refused = await h.xml("POST", "/ffws/v1/ofax", schedule("+1 900 555 1234"), auth=ALICE)
    assert refused.status_code == 400 and "refused by dialing rule 1 (1900XXXXXXX)" in message(refused)
    assert h.jobs.list_entries() == []
    ok = await h.xml("POST", "/ffws/v1/ofax", schedule("555-0123", "+44 20 7946 0000"), auth=ALICE)
    assert ok.status_code == 201, ok.text
    stored = sorted(h.jobs.list_entries(), key=lambda e: e.index)
    assert [e.recipient.fax_number for e in stored] == ["9,15035550123", "9,011442079460000"]


@pytest_twisted.ensureDeferred
async def test_uapi_refuses_bad_numbers(h: WebHarness) -> None:
    """Each bad number is 400 fx_recipients_invalid naming it; a non-text recipient too; nothing is stored."""
    token = h.directory.add_token("alice", "test", 0.0)[1]
    for raw, reason in BAD_NUMBERS:
        response = await uapi_post(h, token, ["555-0100", raw])
        assert response.status_code == 400, (raw[:30], response.text[:300])  # type: ignore[attr-defined]
        error = response.json()["error"]  # type: ignore[attr-defined]
        assert error["code"] == "fx_recipients_invalid"
        assert error["message"].startswith(f"recipient 2: fax number '{safe_for_log(raw, 24)}'")
        assert reason in error["message"] and error["message"].isprintable()
    for value in ([5550101], {"n": 1}, None, True):
        response = await uapi_post(h, token, ["555-0100", value])
        assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    assert h.jobs.list_entries() == []


@pytest_twisted.ensureDeferred
async def test_uapi_stores_numbers_as_dialled(h: WebHarness) -> None:
    """Good numbers (and a JSON number) are stored normalised."""
    token = h.directory.add_token("alice", "test", 0.0)[1]
    response = await uapi_post(h, token, [raw for raw, _ in GOOD_NUMBERS] + [5550199])
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    stored = sorted(h.jobs.list_entries(), key=lambda e: e.index)
    assert [e.recipient.fax_number for e in stored] == [dialled for _, dialled in GOOD_NUMBERS] + ["5550199"]


@pytest_twisted.ensureDeferred
async def test_contacts_refuse_bad_numbers(h: WebHarness) -> None:
    """A contact with a bad fax number is 400 naming it, on create and on edit; good ones are kept as written."""

    def contact(number: str) -> str:
        return f"<contact><name>C</name><fax_number>{xml_text(number)}</fax_number></contact>"

    for raw in ("5550101\rATZ", "ATDT5550101", "1" * 16):
        response = await h.xml("POST", "/ffws/v1/contacts/alice", contact(raw), auth=ALICE)
        assert response.status_code == 400 and "fax number" in message(response), response.text
    assert h.directory.list_contacts("alice") == []
    created = await h.xml("POST", "/ffws/v1/contacts/alice", contact("(503) 555-0123"), auth=ALICE)
    assert created.status_code == 200, created.text
    (stored,) = h.directory.list_contacts("alice")
    assert stored.fax_number == "(503) 555-0123"
    edit = await h.xml("PUT", f"/ffws/v1/contacts/alice/{stored.id}", contact("555;0101"), auth=ALICE)
    assert edit.status_code == 400 and "';'" in message(edit)
    assert h.directory.list_contacts("alice")[0].fax_number == "(503) 555-0123"
