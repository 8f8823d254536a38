"""Fitting reply attributes to the wire: texts cut on a UTF-8 character
boundary to what one attribute holds, and a reply kept within 4096 bytes.

Pure: attribute lists and a dictionary in, attribute lists out.  The adapter
counts and logs what was cut, so every valid request still gets an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from radius.codec import HEADER, MAX_PACKET, MAX_VALUE, MAX_VENDOR_VALUE, Dictionary, EncodeError
from radius.codec.dictionary import AttrType, encode_value
from radius.model import Request, Value

__all__ = ["Fitted", "fit_reply", "truncate_utf8"]


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    end = limit
    while end > 0 and raw[end] & 0xC0 == 0x80:  # a continuation byte: back to the lead byte
        end -= 1
    return raw[:end].decode("utf-8")


@dataclass(frozen=True)
class Fitted:
    """Reply attributes made to fit the wire, and what that cost."""

    attributes: tuple[tuple[str, Value], ...]
    truncated: tuple[str, ...] = ()  # names of texts cut on a character boundary
    dropped: tuple[str, ...] = ()  # names of attributes left out
    encoded: bytes = b""  # the kept attributes' wire bytes, for encode_reply(encoded=...)

    @property
    def changed(self) -> bool:
        return bool(self.truncated or self.dropped)


def fit_reply(
    request: Request,
    attributes: Sequence[tuple[str, Value]],
    dictionary: Dictionary,
    *,
    message_authenticator: bool = True,
) -> Fitted:
    """Make reply ``attributes`` fit one reply to ``request``.

    A text (``string``) value longer than an attribute can hold (253 bytes,
    247 inside a Vendor-Specific) is cut on a UTF-8 character boundary; any
    other value that long is left out.  Then attributes are kept in order
    while the reply, with its Message-Authenticator and the request's echoed
    Proxy-State, stays within 4096 bytes; the rest are left out, so a list
    (DIDs, group members) loses its tail.  Unknown names and values of the
    wrong type still raise :class:`EncodeError`: those are our bugs.
    """
    budget = MAX_PACKET - HEADER - (18 if message_authenticator else 0)
    budget -= sum(len(state) + 2 for state in request.proxy_states)
    kept: list[tuple[str, Value]] = []
    chunks: list[bytes] = []
    truncated: list[str] = []
    dropped: list[str] = []
    full = False
    by_name = dictionary.by_name
    tlv = dictionary.tlv
    for name, value in attributes:
        d = by_name.get(name)
        if d is None:
            raise EncodeError(f"attribute {name!r} is not in the dictionary")
        limit = MAX_VENDOR_VALUE if d.vendor else MAX_VALUE
        cut = False
        try:
            chunk = tlv(name, value)
        except EncodeError:
            if len(encode_value(d, value)) <= limit:  # (a wrong type raises here: our bug)
                raise
            if d.type is not AttrType.STRING or not isinstance(value, str):
                dropped.append(name)
                continue
            value = truncate_utf8(value, limit)
            chunk = tlv(name, value)
            cut = True
        size = len(chunk)
        if full or size > budget:
            full = True  # keep the order: nothing after the first that does not fit
            dropped.append(name)
            continue
        budget -= size
        kept.append((name, value))
        chunks.append(chunk)
        if cut:
            truncated.append(name)
    return Fitted(tuple(kept), tuple(truncated), tuple(dropped), b"".join(chunks))
