"""Wire constants and the codec's errors."""

from __future__ import annotations

import struct

__all__ = [
    "HEADER",
    "MAX_PACKET",
    "MAX_VALUE",
    "MAX_VENDOR_VALUE",
    "BadAuthenticator",
    "CodecError",
    "EncodeError",
    "MalformedPacket",
]

MAX_PACKET = 4096
MAX_VALUE = 253  # an attribute's value: 255 minus type and length
MAX_VENDOR_VALUE = 247  # a vendor sub-attribute's value inside one Vendor-Specific
HEADER = 20
MA_TYPE = 80
VSA_TYPE = 26
PROXY_STATE = 33
USER_PASSWORD = 2
HEADER_STRUCT = struct.Struct("!BBH")
VSA_HEADER = struct.Struct("!BBIBB")


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
