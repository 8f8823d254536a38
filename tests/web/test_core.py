"""Pure cores of the web service: [web] config, FFWS XML parse/render,
UAPI parsing, credentials helpers, the endpoint string, and the import rule."""

from __future__ import annotations

import ast
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.config import ConfigError
from appliance.config.web import WebConfig, parse_web
from appliance.jobs.model import Entry, EntryState, Fax, Recipient
from appliance.web import endpoint_description, ffws
from appliance.web.auth import basic_credentials, bearer_token
from appliance.web.model import UserProfile, WebError
from tests.web.test_ofax import SPEC_EXAMPLE

UTC = ZoneInfo("UTC")


def test_parse_web_defaults_and_values() -> None:
    """An empty [web] gives the defaults; values are read and typed."""
    assert parse_web("f.toml", {}) == WebConfig()
    assert WebConfig().port == 8080
    web = parse_web(
        "f.toml", {"port": 8443, "certificate": "c.pem", "key": "k.pem", "admins": ["root"], "max_recipients": 50}
    )
    assert web.https and web.admins == ("root",) and web.max_recipients == 50


@pytest.mark.parametrize(
    "table, key",
    [
        ({"port": "80"}, "web.port"),
        ({"port": 70000}, "web.port"),
        ({"certificate": "c.pem"}, "web.key"),
        ({"admins": "admin"}, "web.admins"),
        ({"max_request_bytes": 0}, "web.max_request_bytes"),
        ({"bogus": 1}, "web.bogus"),
        ({"timezone": "Mars/Base"}, "web.timezone"),
    ],
)
def test_parse_web_errors(table: dict[str, object], key: str) -> None:
    """Bad values raise ConfigError naming the file and the key."""
    with pytest.raises(ConfigError) as info:
        parse_web("f.toml", table)
    assert info.value.source == "f.toml" and info.value.key == key


def test_endpoint_strings() -> None:
    """Plain TCP by default; SSL with certificate and key."""
    assert endpoint_description(WebConfig()) == "tcp:port=8080:interface=127.0.0.1"
    ssl = endpoint_description(WebConfig(port=443, certificate="/c.pem", key="/k.pem"))
    assert ssl.startswith("ssl:port=443:") and "certKey=/c.pem" in ssl and "privateKey=/k.pem" in ssl


def test_parse_spec_example() -> None:
    """The guide's schedule_fax example parses into the fax spec, recipient and attachment."""
    request = ffws.parse_schedule_fax(
        SPEC_EXAMPLE.encode(), owner="admin", defaults=UserProfile(username="admin"), max_recipients=400
    )
    spec = request.spec
    assert (spec.cover_enabled, spec.cover_subject, spec.sender_email_address) == (
        True,
        "Test Subject",
        "sender@example.com",
    )
    assert (spec.max_tries, spec.priority, spec.try_interval, spec.receipt) == (3, 3, 30, "failure")
    assert spec.schedule_at == 1218141000.0 and spec.preprocessing
    assert request.recipients == (
        Recipient(
            fax_number="218-555-3335", name="Rcpt 1 Name", organization="Rcpt 1 Org", phone_number="218-555-3336"
        ),
    )
    assert request.attachments == (ffws.Attachment("attachment1.txt", "text/plain", data=b"test"),)


def test_lenient_parse() -> None:
    """Any order, unknown elements and TRUE/False case are accepted; an external attachment needs a URL."""
    body = (
        b"<schedule_fax><unknown/><cover_page><enabled>FALSE</enabled></cover_page>"
        b"<attachment><location>external</location><url>http://example.com/a.pdf</url>"
        b"<content_type>application/pdf</content_type></attachment>"
        b"<recipient><fax_number>5551234</fax_number></recipient></schedule_fax>"
    )
    request = ffws.parse_schedule_fax(body, owner="u", defaults=UserProfile(username="u"), max_recipients=1)
    assert not request.spec.cover_enabled and request.attachments[0].url == "http://example.com/a.pdf"
    with pytest.raises(WebError):
        ffws.parse_schedule_fax(
            body.replace(b"http://example.com/a.pdf", b"file:///etc/passwd"),
            owner="u",
            defaults=UserProfile(username="u"),
            max_recipients=1,
        )


def test_render_fax_entry_times_and_empty_elements() -> None:
    """Times are local %FT%T, empty values are empty elements, the declaration comes first."""
    fax = Fax(id=0x1B, owner="admin", created=1217580209.0, cover_enabled=True)
    entry = Entry(
        id=1,
        fax_id=0x1B,
        index=0,
        state=EntryState.PREPROCESSING,
        schedule_message="New fax entry",
        created=1217580209.0,
        due_at=1217580749.0,
        tries=0,
        priority=3,
        max_tries=3,
        recipient=Recipient(fax_number="218-555-3335"),
    )
    body = ffws.render("Success", [ffws.fax_entry_element(entry, fax, "https://192.168.2.1", UTC)])
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<response>')
    assert b"<fax_entry_url>https://192.168.2.1/ffws/v1/ofax/0000001B/0000</fax_entry_url>" in body
    assert b"<created>2008-08-01T08:43:29</created>" in body and b"<stime>2008-08-01T08:52:29</stime>" in body
    assert b"<approver></approver>" in body
    chicago = ffws.render("x", [ffws.fax_entry_element(entry, fax, "h", ZoneInfo("America/Chicago"))])
    assert b"<created>2008-08-01T03:43:29</created>" in chicago


def test_credentials_helpers() -> None:
    """Basic and bearer headers are decoded; malformed ones give None."""
    assert basic_credentials(b"Basic YWRtaW46YWRtaW4=") == ("admin", "admin")
    assert basic_credentials(b"Basic !!!") is None and basic_credentials(b"Digest x") is None
    assert basic_credentials(None) is None
    assert bearer_token(b"Bearer abc") == "abc" and bearer_token(b"token abc") == "abc"
    assert bearer_token(b"Basic abc") is None


PURE = ("ffws.py", "ffws_status.py", "uapi.py", "model.py")
FORBIDDEN = {"twisted", "httpx", "socket", "time", "random", "os", "logging", "sqlite3", "psycopg"}


@pytest.mark.parametrize("name", PURE)
def test_cores_import_no_io(name: str) -> None:
    """The pure web cores import no I/O, clock or randomness modules."""
    path = Path(__file__).resolve().parents[2] / "appliance" / "web" / name
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        )
        for module in names:
            assert module.split(".")[0] not in FORBIDDEN, f"{name} imports {module}"
