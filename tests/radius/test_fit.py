"""Replies fit the wire: texts cut on a UTF-8 character boundary, replies
trimmed to 4096 bytes; accounting keeps wrongly sized values raw; password
checks cost one scrypt run whether or not the account exists."""

from __future__ import annotations

import pytest

import radius.passwords as passwords
from radius.codec import MalformedPacket, decode_reply, decode_request, encode_reply, encode_request
from radius.fit import fit_reply, truncate_utf8
from radius.handlers import accounting_record, handle_access
from radius.model import Code, Request
from tests.radius.helpers import SECRET, dictionary, memory_store

DICT = dictionary()
REQ = Request(Code.ACCESS_REQUEST, 1, b"A" * 16, {})


@pytest.mark.parametrize(
    "text,limit,expected_bytes",
    [
        ("a" * 300, 253, 253),  # ASCII: cut at the limit
        ("a" * 253, 253, 253),  # exactly full: unchanged
        ("ß" * 128, 253, 252),  # 2-byte: 127th character would straddle the limit
        ("a" + "ß" * 126, 253, 253),  # 2-byte ending exactly on the limit
        ("a" * 252 + "ß", 253, 252),  # 2-byte character straddling the limit is left out whole
        ("€" * 85, 253, 252),  # 3-byte: 84 characters
        ("a" * 251 + "€", 253, 251),  # 3-byte straddling (2 of 3 bytes would fit)
        ("a" * 250 + "€", 253, 253),  # 3-byte ending exactly on the limit
        ("😀" * 64, 253, 252),  # 4-byte: 63 characters
        ("a" * 250 + "😀", 253, 250),  # 4-byte straddling (3 of 4 bytes would fit)
        ("a" * 249 + "😀", 253, 253),  # 4-byte ending exactly on the limit
        ("ß" * 124, 247, 246),  # the vendor limit
    ],
)
def test_truncate_utf8_table(text, limit, expected_bytes):
    """The cut never splits a character, and keeps as much as fits."""
    cut = truncate_utf8(text, limit)
    raw = cut.encode("utf-8")
    assert len(raw) == expected_bytes and text.startswith(cut)


def test_long_non_ascii_reply_message_is_cut_and_encodes():
    """A Reject echoing a 128-character ß address (266 bytes) is cut to 253 and goes on the wire."""
    reason = "no account for sender " + "ß" * 128
    fitted = fit_reply(REQ, [("Reply-Message", reason)], DICT)
    assert fitted.truncated == ("Reply-Message",) and fitted.dropped == ()
    data = encode_reply(Code.ACCESS_REJECT, REQ, fitted.attributes, SECRET, DICT)
    code, _, attrs = decode_reply(data, DICT)
    (message,) = [v for n, v in attrs if n == "Reply-Message"]
    assert code == Code.ACCESS_REJECT and reason.startswith(message) and len(message.encode()) == 252


def test_vendor_text_cut_to_247():
    """A FaxBack text (inside a Vendor-Specific) is cut to 247 bytes."""
    fitted = fit_reply(REQ, [("FB-Rcv-Email", "€" * 100)], DICT)
    ((_name, value),) = fitted.attributes
    assert len(value.encode()) == 246 and fitted.truncated == ("FB-Rcv-Email",)
    encode_reply(Code.ACCESS_ACCEPT, REQ, fitted.attributes, SECRET, DICT)


def test_oversized_binary_value_left_out():
    """An octets value over 247 bytes cannot be cut meaningfully: it is left out, the rest stays."""
    fitted = fit_reply(REQ, [("FB-Account-UUID", b"x" * 300), ("User-Name", "alice")], DICT)
    assert fitted.attributes == (("User-Name", "alice"),) and fitted.dropped == ("FB-Account-UUID",)


@pytest.mark.parametrize("proxy_states", [(), (b"p" * 200, b"q" * 100)])
def test_reply_over_4096_is_trimmed(proxy_states):
    """400 DIDs (7,200 bytes) are trimmed in order to a reply within 4096 bytes, Proxy-State kept."""
    request = Request(Code.ACCESS_REQUEST, 1, b"A" * 16, {}, proxy_states=proxy_states)
    dids = [("FB-DID", f"{5550000000 + i}") for i in range(400)]
    fitted = fit_reply(request, dids, DICT)
    data = encode_reply(Code.ACCESS_ACCEPT, request, fitted.attributes, SECRET, DICT)
    _, _, attrs = decode_reply(data, DICT)
    kept = [v for n, v in attrs if n == "FB-DID"]
    assert len(data) <= 4096 and len(data) > 4096 - 18  # filled up to the last whole attribute
    assert kept == [v for _, v in dids[: len(kept)]] and len(fitted.dropped) == 400 - len(kept)
    assert [v for n, v in attrs if n == "Proxy-State"] == list(proxy_states)


def test_small_reply_unchanged():
    attrs = [("User-Name", "alice"), ("FB-Snd-ANI", "5035550100")]
    fitted = fit_reply(REQ, attrs, DICT)
    assert fitted.attributes == tuple(attrs) and not fitted.changed


# ------------------------------------------------------- accounting decode


def bad_page_count_stop(code=Code.ACCOUNTING_REQUEST, ident=7):
    """A Stop whose FB-Page-Count (integer) is 5 bytes long, signed with SECRET."""
    import hashlib
    import struct

    good = encode_request(
        code,
        ident,
        [("Acct-Status-Type", 2), ("Acct-Session-Id", "s-bad"), ("User-Name", "alice")],
        SECRET,
        DICT,
        authenticator=bytes(16),
        message_authenticator=False,
    )
    body = good[20:] + bytes((26, 13)) + (30694).to_bytes(4, "big") + bytes((240, 7)) + b"\x00\x00\x00\x00\x05"
    header = struct.pack("!BBH", code, ident, 20 + len(body))
    auth = hashlib.md5(header + bytes(16) + body + SECRET).digest() if code == Code.ACCOUNTING_REQUEST else b"A" * 16
    return header + auth + body


def test_accounting_keeps_wrongly_sized_value_raw():
    """A 5-byte FB-Page-Count in a signed Stop is kept raw; the record carries it."""
    req = decode_request(bad_page_count_stop(), SECRET, DICT)
    assert "FB-Page-Count" not in req.attributes and (30694, 240, b"\x00\x00\x00\x00\x05") in req.unknown
    record, _ = accounting_record(req, "10.0.0.5", 1.0)
    assert (30694, 240, "0000000005") in record.raw_attributes and record.session_id == "s-bad"


def test_access_request_with_wrongly_sized_value_still_malformed():
    """An Access-Request must not be decided on a misread value: it stays malformed (dropped)."""
    with pytest.raises(MalformedPacket, match="FB-Page-Count: integer value of 5 bytes"):
        decode_request(bad_page_count_stop(Code.ACCESS_REQUEST), SECRET, DICT)


def test_bad_lengths_still_malformed_in_accounting():
    """Genuinely malformed accounting (an attribute running past the end) is still refused."""
    data = bytearray(bad_page_count_stop())
    data[-6] = 40  # the vendor sub-attribute claims more bytes than the VSA holds
    with pytest.raises(MalformedPacket, match="runs past the packet end"):
        decode_request(bytes(data), SECRET, DICT)


# ------------------------------------------------------ constant-cost login


@pytest.fixture
def counted_scrypt(monkeypatch):
    calls = []
    real = passwords._scrypt

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(passwords, "_scrypt", counting)
    return calls


def login(name, password="guess", ident=1):
    return Request(
        Code.ACCESS_REQUEST,
        ident,
        b"A" * 16,
        {"FB-Command": (1,), "FB-Context": (1,), "User-Name": (name,)},
        password=password,
    )


def test_unknown_account_costs_one_scrypt_like_a_known_one(counted_scrypt):
    """Known name + wrong password, unknown name, overlong name and a hashless account: one
    scrypt run each with the configured parameters, and the same reply."""
    from radius.handlers import HandlerConfig

    store = memory_store({"accounts": [{"name": "alice", "password": "right"}, {"name": "nopw"}]})
    counted_scrypt.clear()  # populating hashed alice's password
    cfg = HandlerConfig()
    decisions = [handle_access(login(n), store, cfg) for n in ("alice", "nobody", "x" * 40, "nopw")]
    assert [d.reason for d in decisions] == ["invalid account name or password"] * 4
    assert len(counted_scrypt) == 4
    params = {(c["n"], c["r"], c["p"]) for c in counted_scrypt}
    assert params == {(passwords._N, passwords._R, passwords._P)}
    assert handle_access(login("alice", "right"), store, cfg).verdict.value == "accept"
