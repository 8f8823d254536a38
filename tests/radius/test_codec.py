"""The strict codec: malformed input raises with a reason, valid input
round-trips; User-Password and authenticators per RFC 2865/2866/3579."""

from __future__ import annotations

import pytest

from radius.codec import BadAuthenticator, MalformedPacket, decode_reply, decode_request, encode_reply, encode_request
from radius.model import Code
from tests.radius.helpers import SECRET, dictionary

DICT = dictionary()
AUTH = bytes(range(16))


def packet(body: bytes, code: int = 1, length: int | None = None) -> bytes:
    n = 20 + len(body) if length is None else length
    return bytes((code, 1)) + n.to_bytes(2, "big") + AUTH + body


VALID_VSA = bytes.fromhex("1A12000077E6010600000001020600000003")


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"\x01\x01\x00", "shorter than a RADIUS header"),
        (packet(b"", length=19), "outside 20-4096"),
        (packet(b"", length=5000), "outside 20-4096"),
        (packet(b"", length=40), "exceeds the datagram"),
        (packet(b"", code=2), "code 2 is not a request"),
        (packet(b"\x01"), "attribute header truncated"),
        (packet(b"\x01\x01x"), "below 2"),
        (packet(b"\x01\x00"), "below 2"),
        (packet(b"\x01\x09abc"), "runs past the packet end"),
        (packet(b"\x1a\x05\x00\x00\x77"), "shorter than a vendor id"),
        (packet(bytes.fromhex("1A08000077E60100")), "below 2"),  # sub-attribute length 0: would loop
        (packet(bytes.fromhex("1A0A000077E6010900000001")), "runs past the packet end"),
        (packet(bytes.fromhex("1A0B000077E60105000000")), "integer value of 3 bytes"),
        (packet(b"\x50\x06abcd"), "Message-Authenticator of 4 bytes"),
        (packet(b"\x02\x05abc"), "User-Password of 3 bytes"),
    ],
)
def test_malformed_packets_raise_with_reason(data, reason):
    """Each kind of malformed packet raises MalformedPacket naming the problem."""
    with pytest.raises(MalformedPacket, match=reason):
        decode_request(data, SECRET, DICT)


def test_several_sub_attributes_in_one_vsa():
    """A VSA holding FB-Command and FB-Context decodes both."""
    req = decode_request(packet(VALID_VSA), SECRET, DICT)
    assert req.get("FB-Command") == 1 and req.get("FB-Context") == 3


def test_padding_after_length_ignored():
    """Octets past the header Length are padding and ignored."""
    req = decode_request(packet(VALID_VSA) + b"\xff" * 7, SECRET, DICT)
    assert req.get("FB-Context") == 3


def test_unknown_attributes_kept_raw():
    """Attributes missing from the dictionary are kept raw, not lost."""
    body = bytes.fromhex("1A0C000077E6C8067A7A7A7A") + b"\xf0\x04ab" + bytes.fromhex("1A0900000009010461")
    req = decode_request(packet(body), SECRET, DICT)
    assert (30694, 200, b"zzzz") not in req.unknown  # 200 is FB-Account-Login-Group: known
    assert req.get("FB-Account-Login-Group") == "zzzz"
    assert (0, 0xF0, b"ab") in req.unknown
    assert (9, 0, b"\x01\x04a") in req.unknown


def test_password_round_trip_and_message_authenticator():
    """User-Password survives hiding; a valid Message-Authenticator verifies; a flipped bit fails."""
    raw = encode_request(
        Code.ACCESS_REQUEST,
        9,
        [("User-Name", "bob")],
        SECRET,
        DICT,
        authenticator=AUTH,
        password="a password longer than sixteen",
    )
    req = decode_request(raw, SECRET, DICT)
    assert req.password == "a password longer than sixteen" and req.has_message_authenticator
    tampered = bytearray(raw)
    tampered[-1] ^= 1
    with pytest.raises(BadAuthenticator):
        decode_request(bytes(tampered), SECRET, DICT)
    with pytest.raises(BadAuthenticator):
        decode_request(raw, b"another secret", DICT)


def test_accounting_authenticator_verified():
    """Accounting-Request authenticators are verified; a wrong secret is rejected."""
    raw = encode_request(
        Code.ACCOUNTING_REQUEST,
        3,
        [("Acct-Status-Type", 1), ("Acct-Session-Id", "x")],
        SECRET,
        DICT,
        authenticator=bytes(16),
        message_authenticator=False,
    )
    assert decode_request(raw, SECRET, DICT).get("Acct-Status-Type") == 1
    with pytest.raises(BadAuthenticator):
        decode_request(raw, b"wrong", DICT)


def test_reply_echoes_proxy_state_last_and_ma_first():
    """Replies carry Message-Authenticator first and the request's Proxy-States last, in order."""
    raw = encode_request(Code.ACCESS_REQUEST, 4, [("User-Name", "bob")], SECRET, DICT, authenticator=AUTH)
    raw = raw[:2] + (len(raw) + 8).to_bytes(2, "big") + raw[4:] + b"\x21\x03A" + b"\x21\x05BCD"
    # re-sign: the MA covers the whole packet
    import hashlib
    import hmac

    body = bytearray(raw)
    body[22:38] = bytes(16)
    body[22:38] = hmac.new(SECRET, bytes(body), hashlib.md5).digest()
    req = decode_request(bytes(body), SECRET, DICT)
    assert req.proxy_states == (b"A", b"BCD")
    reply = encode_reply(Code.ACCESS_ACCEPT, req, [("FB-Snd-ANI", "1")], SECRET, DICT)
    _, _, attrs = decode_reply(reply, DICT)
    assert [n for n, _ in attrs] == ["Message-Authenticator", "FB-Snd-ANI", "Proxy-State", "Proxy-State"]
    assert attrs[2][1] == b"A" and attrs[3][1] == b"BCD"


def test_site_dictionary_replaces_numbers(tmp_path):
    """A site's own dictionary (named in [radius] dictionary) changes the numbers on the wire;
    no number is hard-coded."""
    from appliance.config import parse
    from appliance.wiring.radius_services import PACKAGED_DICTIONARY, load_dictionary

    vendor = (PACKAGED_DICTIONARY / "dictionary.faxback").read_text()
    vendor = vendor.replace("FB-Snd-ANI\t\t\t\t19\t", "FB-Snd-ANI\t\t\t\t99\t")
    (tmp_path / "dictionary.faxback").write_text(vendor)
    (tmp_path / "dictionary").write_text((PACKAGED_DICTIONARY / "dictionary").read_text())
    cfg = parse(f'[radius]\ndictionary = "{tmp_path}"\n', str(tmp_path / "site.toml"))
    site = load_dictionary(cfg)
    assert site.by_name["FB-Snd-ANI"].code == 99
    req = decode_request(packet(VALID_VSA), SECRET, site)
    reply = encode_reply(
        Code.ACCESS_ACCEPT, req, [("FB-Snd-ANI", "5551119999")], SECRET, site, message_authenticator=False
    )
    assert reply[20:] == bytes.fromhex("1A12000077E6630C") + b"5551119999"


def test_missing_site_dictionary_is_a_config_error(tmp_path):
    """A dictionary path that does not exist is reported with the key."""
    from appliance.config import ConfigError, parse
    from appliance.wiring.radius_services import load_dictionary

    cfg = parse('[radius]\ndictionary = "nope"\n', str(tmp_path / "site.toml"))
    with pytest.raises(ConfigError, match=r"radius\.dictionary"):
        load_dictionary(cfg)
