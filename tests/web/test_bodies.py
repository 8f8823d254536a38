"""Reading large bodies in steps: XML element and depth limits, chunked base64
that agrees with the standard decoder, and the [web] fetch_allow setting."""

from __future__ import annotations

import base64
import random

import pytest

from appliance.config import ConfigError
from appliance.config.web import parse_web
from appliance.web import bodies
from appliance.web.bodies import b64decode, parse_document
from appliance.web.model import WebError


def test_element_limit() -> None:
    """More elements than the limit are refused with 400 naming the limit; the limit itself is fine."""
    doc = b"<r>" + b"<x/>" * 9 + b"</r>"
    assert len(parse_document(doc, max_elements=10)) == 9
    with pytest.raises(WebError) as info:
        parse_document(doc, max_elements=9)
    assert info.value.status == 400 and "more than 9 elements" in info.value.message


def test_depth_limit() -> None:
    """Nesting deeper than the limit is refused with 400."""
    doc = b"<a>" * 5 + b"</a>" * 5
    assert parse_document(doc, max_depth=5).tag == "a"
    with pytest.raises(WebError, match="more than 4 deep"):
        parse_document(doc, max_depth=4)
    with pytest.raises(WebError, match="more than 32 deep"):
        parse_document(b"<a>" * 40 + b"</a>" * 40)


def test_parsed_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document split at every possible place parses to the same tree and text."""
    monkeypatch.setattr(bodies, "CHUNK", 3)
    root = parse_document("<r><n a='1'>héllo &amp; bye</n><m/></r>".encode())
    assert [c.tag for c in root] == ["n", "m"] and root[0].text == "héllo & bye" and root[0].get("a") == "1"
    with pytest.raises(WebError, match="DTD"):
        parse_document(b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>')
    with pytest.raises(WebError, match="well-formed"):
        parse_document(b"<r><n></r>")


@pytest.mark.parametrize("chunk", [4, 5, 7, 64, 256 * 1024])
def test_base64_matches_the_standard_decoder(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Any length, any line breaks and surrounding whitespace decode as base64.b64decode does."""
    monkeypatch.setattr(bodies, "CHUNK", chunk)
    rng = random.Random(7)
    for n in list(range(20)) + [1000, 5001]:
        raw = rng.randbytes(n)
        for text in (
            base64.b64encode(raw).decode(),
            base64.encodebytes(raw).decode(),
            "\n  " + base64.encodebytes(raw).decode() + "\n\n   \t",
        ):
            assert b64decode(text) == raw


@pytest.mark.parametrize("text", ["QQ", "QQ=", "QQ==QQ==", "QQ==\nQUFB", "Q@==", "QUJD\u00e9", "QQ==="])
def test_base64_refused(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Bad characters, padding inside, and a wrong length are refused as the strict decoder does."""
    monkeypatch.setattr(bodies, "CHUNK", 4)
    with pytest.raises(ValueError):
        b64decode(text)


def test_fetch_allow_setting() -> None:
    """[web] fetch_allow takes a list of networks; anything else names the key."""
    assert parse_web("f.toml", {"fetch_allow": ["10.1.0.0/16", "fd00::/8"]}).fetch_allow == ("10.1.0.0/16", "fd00::/8")
    for bad in ("10.0.0.0/8", ["intranet"], [10]):
        with pytest.raises(ConfigError) as info:
            parse_web("f.toml", {"fetch_allow": bad})
        assert info.value.key == "web.fetch_allow"


def multipart_body(*parts: tuple[str, str]) -> bytes:
    return b"".join(f"--B\r\n{head}\r\n\r\n{payload}\r\n".encode() for head, payload in parts) + b"--B--\r\n"


def test_multipart_parts_read_in_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Form parts come out whole however the body is cut; base64 parts are decoded."""
    from appliance.web import uapi

    monkeypatch.setattr(uapi, "_CHUNK", 5)
    body = multipart_body(
        ('Content-Disposition: form-data; name="request"', '{"recipients": ["5550100"]}'),
        (
            'Content-Disposition: form-data; name="files"; filename="a.txt"\r\nContent-Transfer-Encoding: base64',
            base64.b64encode(b"hello\r\n--B world").decode(),
        ),
    )
    parsed = uapi.parse_send("multipart/form-data; boundary=B", body, max_recipients=10, max_files=2)
    assert parsed.recipients == ("5550100",) and parsed.files[0].data == b"hello\r\n--B world"
    assert uapi.form_parts("multipart/form-data; boundary=B", body)[1][:3] == ("files", "a.txt", "text/plain")


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b"--B--\r\n"),
        ("text/plain; boundary=B", b"--B--\r\n"),
        ("multipart/form-data; boundary=B", b'--B\r\nContent-Disposition: form-data; name="files"\r\n\r\ncut'),
    ],
)
def test_multipart_refused(content_type: str, body: bytes) -> None:
    """No boundary, another type, or a body cut short: fx_file_invalid."""
    from appliance.web import uapi

    with pytest.raises(uapi.UapiError) as info:
        uapi.parse_send(content_type, body, max_recipients=10, max_files=2)
    assert info.value.code == "fx_file_invalid"
