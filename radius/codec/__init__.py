"""RADIUS wire codec: datagram bytes <-> :class:`radius.model.Request`, and replies.

* :mod:`radius.codec.dictionary`: attribute definitions from FreeRADIUS-format
  files (the only module with a third-party parser) and value conversion by type;
* :mod:`radius.codec.decode`: requests (strict and verified) and replies;
* :mod:`radius.codec.encode`: replies and requests;
* :mod:`radius.codec.wire`: wire constants and the errors.

The wire walk is our own, strict one: every length is checked, so a malformed
packet raises :class:`MalformedPacket` (with the offset and the reason)
instead of being half-decoded, and nothing is ever swallowed.

Pure: bytes, secrets and dictionaries in; objects and bytes out.
"""

from __future__ import annotations

from radius.codec.decode import decode_reply, decode_request, peek_header, verify_reply
from radius.codec.dictionary import AttrDef, Dictionary
from radius.codec.encode import encode_reply, encode_request
from radius.codec.wire import (
    HEADER,
    MAX_PACKET,
    MAX_VALUE,
    MAX_VENDOR_VALUE,
    BadAuthenticator,
    CodecError,
    EncodeError,
    MalformedPacket,
)

__all__ = [
    "HEADER",
    "MAX_PACKET",
    "MAX_VALUE",
    "MAX_VENDOR_VALUE",
    "AttrDef",
    "BadAuthenticator",
    "CodecError",
    "Dictionary",
    "EncodeError",
    "MalformedPacket",
    "decode_reply",
    "decode_request",
    "encode_reply",
    "encode_request",
    "peek_header",
    "verify_reply",
]
