"""Decoding: request datagrams into :class:`radius.model.Request` (strict,
verified), and replies into attribute lists (for clients and tests)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from radius.codec.dictionary import AttrDef, AttrType, Dictionary, decode_value
from radius.codec.wire import (
    HEADER,
    MA_TYPE,
    MAX_PACKET,
    PROXY_STATE,
    USER_PASSWORD,
    VSA_TYPE,
    BadAuthenticator,
    MalformedPacket,
)
from radius.model import Code, Request, Value

__all__ = ["decode_reply", "decode_request", "peek_header", "verify_reply"]

_CODES = {int(c): c for c in Code}
_REQUEST_CODES = frozenset((Code.ACCESS_REQUEST, Code.ACCOUNTING_REQUEST, Code.STATUS_SERVER))


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
        if atype == VSA_TYPE:
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
                if t is AttrType.STRING:  # the common cases, without a call
                    value: Value = data[ss:se].decode("utf-8", "replace")
                elif se - ss == 4 and (t is AttrType.INTEGER or t is AttrType.DATE):
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
        if atype == MA_TYPE:
            if ve - vs != 16:
                raise MalformedPacket(f"Message-Authenticator of {ve - vs} bytes, expected 16", vs - 2)
            if ma_offset >= 0:
                raise MalformedPacket("more than one Message-Authenticator", vs - 2)
            ma_offset = vs
            continue
        if atype == PROXY_STATE:
            proxy_states.append(data[vs:ve])
            continue
        if atype == USER_PASSWORD:
            password_raw = data[vs:ve]
            continue
        d = by_code.get((0, atype))
        if d is None:
            unknown.append((0, atype, data[vs:ve]))
        elif d.type is AttrType.STRING:  # the common case, without a call
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
        value = decode_value(d, raw, offset)
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
        if atype == VSA_TYPE and ve - vs >= 4:
            vendor = int.from_bytes(reply[vs : vs + 4], "big")
            for stype, ss, se in _walk(reply, vs + 4, ve):
                d = dictionary.by_code.get((vendor, stype))
                out.append((d.name, decode_value(d, reply[ss:se], ss)) if d else (f"{vendor}:{stype}", reply[ss:se]))
            continue
        d = dictionary.by_code.get((0, atype))
        out.append((d.name, decode_value(d, reply[vs:ve], vs)) if d else (str(atype), reply[vs:ve]))
    return Code(code), ident, out
