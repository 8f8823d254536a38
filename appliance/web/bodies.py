"""Reading large request bodies in small steps.  Pure.

The web service calls these from its thread pool; they work through a body
in chunks of :data:`CHUNK` bytes so that no single step holds the
interpreter lock for long (a C call over 32 MB would stall the reactor
thread, and with it the RADIUS server in the same process, for the whole
call).  XML goes through ``defusedxml`` (no DTD, no entities, no external
references) with a limit on the number of elements and on their depth.
"""

from __future__ import annotations

import binascii
import xml.etree.ElementTree as ET
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as SafeET

from appliance.web.model import WebError

__all__ = ["CHUNK", "MAX_DEPTH", "MAX_ELEMENTS", "b64decode", "parse_document"]

CHUNK = 256 * 1024
MAX_ELEMENTS = 100_000  # 400 recipients and their fields need about 3,000
MAX_DEPTH = 32  # FFWS documents are 4 deep
_WHITESPACE = b" \t\r\n\x0b\x0c"
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class _LimitExceeded(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _LimitedBuilder(ET.TreeBuilder):
    """A tree builder that refuses too many or too deeply nested elements."""

    def __init__(self, max_elements: int, max_depth: int) -> None:
        super().__init__()
        self.max_elements = max_elements
        self.max_depth = max_depth
        self.elements = 0
        self.depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self.elements += 1
        self.depth += 1
        if self.elements > self.max_elements:
            raise _LimitExceeded(f"the XML has more than {self.max_elements} elements")
        if self.depth > self.max_depth:
            raise _LimitExceeded(f"the XML nests elements more than {self.max_depth} deep")
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self.depth -= 1
        return super().end(tag)


def parse_document(body: bytes, *, max_elements: int = MAX_ELEMENTS, max_depth: int = MAX_DEPTH) -> Element:
    """The document element of ``body``, parsed chunk by chunk; WebError 400 for anything refused."""
    builder = _LimitedBuilder(max_elements, max_depth)
    parser = SafeET.XMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    view = memoryview(body)
    try:
        for start in range(0, len(body), CHUNK):
            parser.feed(bytes(view[start : start + CHUNK]))
        root: Element = parser.close()
    except _LimitExceeded as exc:
        raise WebError(400, exc.message) from None
    except defusedxml.DTDForbidden:
        raise WebError(400, "XML with a DTD (<!DOCTYPE …>) is not accepted") from None
    except defusedxml.EntitiesForbidden:
        raise WebError(400, "XML entity declarations are not accepted") from None
    except defusedxml.ExternalReferenceForbidden:
        raise WebError(400, "XML external references are not accepted") from None
    except defusedxml.DefusedXmlException as exc:
        raise WebError(400, f"XML not accepted: {exc}") from None
    except ET.ParseError as exc:
        raise WebError(400, f"the XML is not well-formed: {exc}") from None
    return root


def b64decode(text: str) -> bytes:
    """Strict base64 (whitespace anywhere is ignored, ``=`` only at the end), decoded in
    chunks; ValueError when ``text`` is not base64."""
    out: list[bytes] = []
    carry = b""
    end = len(text)
    while end and text[end - 1] in " \t\r\n\x0b\x0c":  # so that the padding is in the final chunk
        end -= 1
    for start in range(0, end, CHUNK):
        try:
            piece = carry + text[start : min(end, start + CHUNK)].encode("ascii").translate(None, _WHITESPACE)
        except UnicodeEncodeError:
            raise ValueError("not base64: a character outside ASCII") from None
        final = start + CHUNK >= end
        usable = len(piece) if final else len(piece) - len(piece) % 4
        chunk, carry = piece[:usable], piece[usable:]
        body = chunk.rstrip(b"=") if final else chunk
        if len(chunk) - len(body) > 2 or body.translate(None, _ALPHABET):
            raise ValueError("not base64")
        if final and len(chunk) % 4:
            raise ValueError("not base64: the length is not a multiple of 4")
        try:
            out.append(binascii.a2b_base64(chunk))
        except binascii.Error:
            raise ValueError("not base64") from None
    return b"".join(out)
