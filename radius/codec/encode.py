"""Encoding: replies to requests (the server's), and requests (for clients and tests)."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence

from radius.codec.dictionary import Dictionary
from radius.codec.wire import HEADER, HEADER_STRUCT, MA_TYPE, MAX_PACKET, PROXY_STATE, USER_PASSWORD, EncodeError
from radius.model import Code, Request, Value

__all__ = ["encode_reply", "encode_request", "encrypt_password"]

_EMPTY_MA = bytes((MA_TYPE, 18)) + bytes(16)


def encrypt_password(password: str, secret: bytes, authenticator: bytes) -> bytes:
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
        attrs += b"".join([bytes((PROXY_STATE, len(state) + 2)) + state for state in request.proxy_states])
    length = HEADER + len(attrs) + (18 if message_authenticator else 0)
    if length > MAX_PACKET:
        raise EncodeError(f"reply of {length} bytes exceeds {MAX_PACKET}")
    header = HEADER_STRUCT.pack(code, request.id, length) + request.authenticator
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
        body += bytes((MA_TYPE, 18)) + bytes(16)
    if password is not None:
        enc = encrypt_password(password, secret, authenticator)
        body += bytes((USER_PASSWORD, len(enc) + 2)) + enc
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
