"""RADIUS wire codec: datagram bytes <-> :class:`radius.model.Request`, and replies.

The only module that imports pyrad, and only for its FreeRADIUS dictionary
parser: attribute names, numbers, types and VALUE names are data.  The wire
walk is our own, strict one: every length is checked, so a malformed packet
raises :class:`MalformedPacket` (with the offset and the reason) instead of
being half-decoded, and nothing is ever swallowed.

Pure: bytes, secrets and dictionaries in; objects and bytes out.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pyrad.dictionary import Dictionary as _PyradDictionary

from radius.model import Code, Request, Value

__all__ = [
    "BadAuthenticator",
    "CodecError",
    "Dictionary",
    "EncodeError",
    "MalformedPacket",
    "decode_request",
    "encode_reply",
    "encode_request",
    "peek_header",
]

TLV_CACHE = 4096  # encoded non-text attributes kept per dictionary
MAX_PACKET = 4096
MAX_VALUE = 253  # an attribute's value: 255 minus type and length
MAX_VENDOR_VALUE = 247  # a vendor sub-attribute's value inside one Vendor-Specific
HEADER = 20
_MA_TYPE = 80
_VSA_TYPE = 26
_PROXY_STATE = 33
_USER_PASSWORD = 2
_HEADER = struct.Struct("!BBH")
_VSA_HEADER = struct.Struct("!BBIBB")
_EMPTY_MA = bytes((_MA_TYPE, 18)) + bytes(16)
_CODES = {int(c): c for c in Code}
_REQUEST_CODES = frozenset((Code.ACCESS_REQUEST, Code.ACCOUNTING_REQUEST, Code.STATUS_SERVER))


class CodecError(Exception):
    """Base class: a packet could not be decoded; the packet is dropped."""

    counter = "malformed"


class MalformedPacket(CodecError):
    """The peer sent bytes that are not a valid RADIUS request."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason if offset is None else f"{reason} (at byte {offset})")


class BadAuthenticator(CodecError):
    """Request Authenticator or Message-Authenticator does not verify (wrong secret?)."""

    counter = "bad_authenticator"


class EncodeError(Exception):
    """We were asked to put something on the wire that cannot go there."""


@dataclass(frozen=True)
class AttrDef:
    name: str
    vendor: int
    code: int
    type: str
    encrypt: int
    values: dict[str, int]  # VALUE name -> number


class Dictionary:
    """Attribute definitions loaded from FreeRADIUS-format files (via pyrad)."""

    def __init__(self, source: str | Path | IO[str]) -> None:
        path = source
        if isinstance(source, Path):
            path = str(source / "dictionary") if source.is_dir() else str(source)
        elif isinstance(source, str) and Path(source).is_dir():
            path = str(Path(source) / "dictionary")
        parsed = _PyradDictionary(path)
        vendors = dict(parsed.vendors.forward)
        self.by_name: dict[str, AttrDef] = {}
        self.by_code: dict[tuple[int, int], AttrDef] = {}
        for name, attr in parsed.attributes.items():
            vendor = vendors.get(attr.vendor, 0) if attr.vendor else 0
            values = (
                {
                    k: int.from_bytes(v, "big") if isinstance(v, bytes) else int(v)
                    for k, v in attr.values.forward.items()
                }
                if attr.type in ("integer", "date")
                else {}
            )
            d = AttrDef(name, vendor, int(attr.code), attr.type, int(attr.encrypt or 0), values)
            self.by_name[name] = d
            self.by_code[(vendor, d.code)] = d
        self.vendors = frozenset(v for v in vendors.values() if v)
        self._tlv: dict[tuple[str, Value], bytes] = {}
        self._text_headers = {n: (d.vendor, d.code) for n, d in self.by_name.items() if d.type == "string"}

    def tlv(self, name: str, value: Value) -> bytes:
        """The wire bytes of one attribute (inside its Vendor-Specific for a
        vendor attribute).  Texts are packed with one precompiled header;
        other values (flags, modes: few distinct ones) come from a bounded
        cache."""
        if type(value) is str:
            hit = self._text_headers.get(name)
            if hit is not None:
                raw = value.encode("utf-8")
                n = len(raw)
                vendor, code = hit
                if vendor:
                    if n <= MAX_VENDOR_VALUE:
                        return _VSA_HEADER.pack(_VSA_TYPE, n + 8, vendor, code, n + 2) + raw
                elif n <= MAX_VALUE:
                    return bytes((code, n + 2)) + raw
            return _tlv(self, name, value)
        key = (name, value)
        try:
            return self._tlv[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: encode it every time
            return _tlv(self, name, value)
        raw = _tlv(self, name, value)
        if len(self._tlv) >= TLV_CACHE:
            self._tlv.clear()
        self._tlv[key] = raw
        return raw

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def value_name(self, name: str, number: int) -> str | None:
        for k, v in self.by_name[name].values.items():
            if v == number:
                return k
        return None


# ------------------------------------------------------------------ values


def _decode_value(d: AttrDef, raw: bytes, offset: int) -> Value:
    t = d.type
    if t == "string":
        return raw.decode("utf-8", "replace")
    if t in ("integer", "date"):
        if len(raw) != 4:
            raise MalformedPacket(f"{d.name}: {t} value of {len(raw)} bytes, expected 4", offset)
        return int.from_bytes(raw, "big")
    if t == "ipaddr":
        if len(raw) != 4:
            raise MalformedPacket(f"{d.name}: ipaddr value of {len(raw)} bytes, expected 4", offset)
        return str(ipaddress.IPv4Address(raw))
    return bytes(raw)


def _encode_value(d: AttrDef, value: Value) -> bytes:
    t = d.type
    if t in ("integer", "date"):
        if isinstance(value, str):
            if value not in d.values:
                raise EncodeError(f"{d.name}: unknown value name {value!r}")
            value = d.values[value]
        if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
            raise EncodeError(f"{d.name}: {value!r} is not a 32-bit unsigned integer")
        return value.to_bytes(4, "big")
    if t == "ipaddr":
        return ipaddress.IPv4Address(value if not isinstance(value, bytes) else value).packed
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, int):
        return str(value).encode("ascii")
    raise EncodeError(f"{d.name}: cannot encode {type(value).__name__}")


# ------------------------------------------------------------------ decode


def peek_header(datagram: bytes) -> tuple[int, int, bytes]:
    """(code, id, authenticator) of a datagram, checking only the header length."""
    if len(datagram) < HEADER:
        raise MalformedPacket(f"datagram of {len(datagram)} bytes is shorter than a RADIUS header")
    return datagram[0], datagram[1], datagram[4:20]


def _walk(data: bytes, start: int, end: int) -> Iterable[tuple[int, int, int]]:
    """Yield (type, value_start, value_end) of each attribute between start and end."""
    i = start
    while i < end:
        if end - i < 2:
            raise MalformedPacket("attribute header truncated", i)
        length = data[i + 1]
        if length < 2:
            raise MalformedPacket(f"attribute length {length} is below 2", i)
        if i + length > end:
            raise MalformedPacket(f"attribute of length {length} runs past the packet end", i)
        yield data[i], i + 2, i + length
        i += length


def decode_request(datagram: bytes, secret: bytes, dictionary: Dictionary) -> Request:
    """Decode and verify one request datagram.

    Checks the header, every attribute and vendor sub-attribute length, the
    Message-Authenticator when present, and the Request Authenticator of
    Accounting-Requests.  Decrypts User-Password.
    """
    code_raw, ident, authenticator = peek_header(datagram)
    length = int.from_bytes(datagram[2:4], "big")
    if length < HEADER or length > MAX_PACKET:
        raise MalformedPacket(f"header length {length} is outside 20-4096")
    if length > len(datagram):
        raise MalformedPacket(f"header length {length} exceeds the datagram's {len(datagram)} bytes")
    if code_raw not in _REQUEST_CODES:
        raise MalformedPacket(f"code {code_raw} is not a request this server answers")
    code = _CODES[code_raw]
    data = datagram[:length]  # octets past Length are padding (RFC 2865 §3)

    attributes: dict[str, list[Value]] = {}
    unknown: list[tuple[int, int, bytes]] = []
    proxy_states: list[bytes] = []
    ma_offset = -1
    password_raw: bytes | None = None
    by_code = dictionary.by_code

    # The attribute walk of _walk, inlined: this loop runs for every attribute
    # of every request.
    i = HEADER
    while i < length:
        if length - i < 2:
            raise MalformedPacket("attribute header truncated", i)
        atype = data[i]
        alen = data[i + 1]
        if alen < 2:
            raise MalformedPacket(f"attribute length {alen} is below 2", i)
        ve = i + alen
        if ve > length:
            raise MalformedPacket(f"attribute of length {alen} runs past the packet end", i)
        vs = i + 2
        i = ve
        if atype == _VSA_TYPE:
            if ve - vs < 4:
                raise MalformedPacket("Vendor-Specific attribute shorter than a vendor id", vs - 2)
            vendor = int.from_bytes(data[vs : vs + 4], "big")
            if vendor not in dictionary.vendors:
                unknown.append((vendor, 0, data[vs + 4 : ve]))
                continue
            j = vs + 4
            while j < ve:  # the sub-attributes (_walk, inlined)
                if ve - j < 2:
                    raise MalformedPacket("attribute header truncated", j)
                stype = data[j]
                slen = data[j + 1]
                if slen < 2:
                    raise MalformedPacket(f"attribute length {slen} is below 2", j)
                se = j + slen
                if se > ve:
                    raise MalformedPacket(f"attribute of length {slen} runs past the packet end", j)
                ss = j + 2
                j = se
                sd = by_code.get((vendor, stype))
                if sd is None:
                    unknown.append((vendor, stype, data[ss:se]))
                    continue
                t = sd.type
                if t == "string":  # the common cases, without a call
                    value: Value = data[ss:se].decode("utf-8", "replace")
                elif se - ss == 4 and (t == "integer" or t == "date"):
                    value = int.from_bytes(data[ss:se], "big")
                else:
                    _add_value(attributes, unknown, sd, data[ss:se], ss, code)
                    continue
                values = attributes.get(sd.name)
                if values is None:
                    attributes[sd.name] = [value]
                else:
                    values.append(value)
            continue
        if atype == _MA_TYPE:
            if ve - vs != 16:
                raise MalformedPacket(f"Message-Authenticator of {ve - vs} bytes, expected 16", vs - 2)
            if ma_offset >= 0:
                raise MalformedPacket("more than one Message-Authenticator", vs - 2)
            ma_offset = vs
            continue
        if atype == _PROXY_STATE:
            proxy_states.append(data[vs:ve])
            continue
        if atype == _USER_PASSWORD:
            password_raw = data[vs:ve]
            continue
        d = by_code.get((0, atype))
        if d is None:
            unknown.append((0, atype, data[vs:ve]))
        elif d.type == "string":  # the common case, without a call
            values = attributes.get(d.name)
            if values is None:
                attributes[d.name] = [data[vs:ve].decode("utf-8", "replace")]
            else:
                values.append(data[vs:ve].decode("utf-8", "replace"))
        else:
            _add_value(attributes, unknown, d, data[vs:ve], vs, code)

    if ma_offset >= 0:
        _verify_message_authenticator(data, ma_offset, secret, code)
    if code == Code.ACCOUNTING_REQUEST:
        expected = hashlib.md5(data[:4] + bytes(16) + data[HEADER:] + secret).digest()
        if not hmac.compare_digest(expected, authenticator):
            raise BadAuthenticator("Accounting-Request authenticator does not verify")
    password = None
    if password_raw is not None:
        password = _decrypt_password(password_raw, secret, authenticator)
    return Request(
        code=code,
        id=ident,
        authenticator=authenticator,
        attributes={k: tuple(v) for k, v in attributes.items()},
        unknown=tuple(unknown),
        proxy_states=tuple(proxy_states),
        has_message_authenticator=ma_offset >= 0,
        password=password,
    )


def _add_value(
    attributes: dict[str, list[Value]],
    unknown: list[tuple[int, int, bytes]],
    d: AttrDef,
    raw: bytes,
    offset: int,
    code: Code,
) -> None:
    """Decode one known attribute into ``attributes``.

    A value of the wrong size (a 5-byte integer) makes an Access-Request
    malformed: a decision must not rest on a misread value.  An
    Accounting-Request keeps such a value raw in ``unknown`` instead, so the
    record is stored and acknowledged rather than resent forever (the
    FaxBack numbers from 200 up are provisional)."""
    try:
        value = _decode_value(d, raw, offset)
    except MalformedPacket:
        if code != Code.ACCOUNTING_REQUEST:
            raise
        unknown.append((d.vendor, d.code, bytes(raw)))
        return
    attributes.setdefault(d.name, []).append(value)


def _verify_message_authenticator(data: bytes, offset: int, secret: bytes, code: Code) -> None:
    received = data[offset : offset + 16]
    packet = bytearray(data)
    packet[offset : offset + 16] = bytes(16)
    if code == Code.ACCOUNTING_REQUEST:
        packet[4:20] = bytes(16)
    expected = hmac.digest(secret, bytes(packet), "md5")
    if not hmac.compare_digest(expected, received):
        raise BadAuthenticator("Message-Authenticator does not verify")


def _decrypt_password(raw: bytes, secret: bytes, authenticator: bytes) -> str:
    if not raw or len(raw) % 16 or len(raw) > 128:
        raise MalformedPacket(f"User-Password of {len(raw)} bytes is not 16-128 in steps of 16")
    out = bytearray()
    last = authenticator
    for i in range(0, len(raw), 16):
        block = raw[i : i + 16]
        pad = hashlib.md5(secret + last).digest()
        out += bytes(a ^ b for a, b in zip(block, pad))
        last = block
    return bytes(out).rstrip(b"\x00").decode("utf-8", "replace")


def _encrypt_password(password: str, secret: bytes, authenticator: bytes) -> bytes:
    plain = password.encode("utf-8")
    if len(plain) > 128:
        raise EncodeError("User-Password longer than 128 bytes")
    plain += bytes(-len(plain) % 16 or (16 if not plain else 0))
    out = bytearray()
    last = authenticator
    for i in range(0, len(plain), 16):
        pad = hashlib.md5(secret + last).digest()
        block = bytes(a ^ b for a, b in zip(plain[i : i + 16], pad))
        out += block
        last = block
    return bytes(out)


# ------------------------------------------------------------------ encode


def _tlv(dictionary: Dictionary, name: str, value: Value) -> bytes:
    d = dictionary.by_name.get(name)
    if d is None:
        raise EncodeError(f"attribute {name!r} is not in the dictionary")
    raw = _encode_value(d, value)
    if d.vendor:
        if len(raw) > MAX_VENDOR_VALUE:
            raise EncodeError(f"{name}: value of {len(raw)} bytes exceeds {MAX_VENDOR_VALUE}")
        return bytes((_VSA_TYPE, len(raw) + 8)) + d.vendor.to_bytes(4, "big") + bytes((d.code, len(raw) + 2)) + raw
    if len(raw) > MAX_VALUE:
        raise EncodeError(f"{name}: value of {len(raw)} bytes exceeds {MAX_VALUE}")
    return bytes((d.code, len(raw) + 2)) + raw


def _encode_attributes(attributes: Sequence[tuple[str, Value]], dictionary: Dictionary) -> bytes:
    tlv = dictionary.tlv
    return b"".join([tlv(name, value) for name, value in attributes])


def encode_reply(
    code: Code,
    request: Request,
    attributes: Sequence[tuple[str, Value]],
    secret: bytes,
    dictionary: Dictionary,
    *,
    message_authenticator: bool = True,
    encoded: bytes | None = None,
) -> bytes:
    """Encode a reply to ``request``.

    Message-Authenticator, when wanted, is the FIRST attribute (BlastRADIUS
    hardening, as FreeRADIUS 3.2.5+ does); Proxy-State attributes of the
    request are echoed last, in order.  The Response Authenticator is
    MD5(Code|Id|Length|RequestAuth|Attributes|Secret).  ``encoded``: the
    attributes' wire bytes, already built (by :func:`radius.fit.fit_reply`).
    """
    attrs = encoded if encoded is not None else _encode_attributes(attributes, dictionary)
    if request.proxy_states:
        attrs += b"".join([bytes((_PROXY_STATE, len(state) + 2)) + state for state in request.proxy_states])
    length = HEADER + len(attrs) + (18 if message_authenticator else 0)
    if length > MAX_PACKET:
        raise EncodeError(f"reply of {length} bytes exceeds {MAX_PACKET}")
    header = _HEADER.pack(code, request.id, length) + request.authenticator
    if message_authenticator:
        ma = hmac.digest(secret, header + _EMPTY_MA + attrs, "md5")
        body = b"\x50\x12" + ma + attrs
    else:
        body = attrs
    response_auth = hashlib.md5(header + body + secret).digest()
    return header[:4] + response_auth + body


def encode_request(
    code: Code,
    ident: int,
    attributes: Sequence[tuple[str, Value]],
    secret: bytes,
    dictionary: Dictionary,
    *,
    authenticator: bytes,
    password: str | None = None,
    message_authenticator: bool = True,
) -> bytes:
    """Encode a request (for clients and tests).  ``authenticator`` is the
    caller's 16 random bytes for Access-Request/Status-Server; it is computed
    for Accounting-Request."""
    body = bytearray()
    if message_authenticator:
        body += bytes((_MA_TYPE, 18)) + bytes(16)
    if password is not None:
        enc = _encrypt_password(password, secret, authenticator)
        body += bytes((_USER_PASSWORD, len(enc) + 2)) + enc
    body += _encode_attributes(attributes, dictionary)
    length = HEADER + len(body)
    header = struct.pack("!BBH", int(code), ident, length)
    if code == Code.ACCOUNTING_REQUEST:
        if message_authenticator:
            body[2:18] = hmac.new(secret, header + bytes(16) + bytes(body), hashlib.md5).digest()
        authenticator = hashlib.md5(header + bytes(16) + bytes(body) + secret).digest()
    elif message_authenticator:
        body[2:18] = hmac.new(secret, header + authenticator + bytes(body), hashlib.md5).digest()
    return header + authenticator + bytes(body)


def verify_reply(reply: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    """True when a reply's Response Authenticator verifies against the request's."""
    if len(reply) < HEADER:
        return False
    expected = hashlib.md5(reply[:4] + request_authenticator + reply[HEADER:] + secret).digest()
    return hmac.compare_digest(expected, reply[4:20])


def decode_reply(reply: bytes, dictionary: Dictionary) -> tuple[Code, int, list[tuple[str, Value]]]:
    """(code, id, [(name, value) in order]) of a reply; for clients and tests."""
    code, ident, _ = peek_header(reply)
    length = int.from_bytes(reply[2:4], "big")
    if length < HEADER or length > len(reply):
        raise MalformedPacket(f"reply length {length} is invalid")
    out: list[tuple[str, Value]] = []
    for atype, vs, ve in _walk(reply, HEADER, length):
        if atype == _VSA_TYPE and ve - vs >= 4:
            vendor = int.from_bytes(reply[vs : vs + 4], "big")
            for stype, ss, se in _walk(reply, vs + 4, ve):
                d = dictionary.by_code.get((vendor, stype))
                out.append((d.name, _decode_value(d, reply[ss:se], ss)) if d else (f"{vendor}:{stype}", reply[ss:se]))
            continue
        d = dictionary.by_code.get((0, atype))
        out.append((d.name, _decode_value(d, reply[vs:ve], vs)) if d else (str(atype), reply[vs:ve]))
    return Code(code), ident, out
