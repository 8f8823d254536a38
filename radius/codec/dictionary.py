"""Attribute definitions (the only module that imports pyrad) and value conversion by type.

pyrad serves only as the FreeRADIUS dictionary parser: attribute names,
numbers, types and VALUE names are data.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pyrad.dictionary import Dictionary as _PyradDictionary

from radius.codec.wire import MAX_VALUE, MAX_VENDOR_VALUE, VSA_HEADER, VSA_TYPE, EncodeError, MalformedPacket
from radius.model import Value

__all__ = ["AttrDef", "AttrType", "Dictionary", "decode_value", "encode_tlv", "encode_value"]

TLV_CACHE = 4096  # encoded non-text attributes kept per dictionary


class AttrType(enum.StrEnum):
    """How the codec reads and writes a value (the dictionary files' type names)."""

    STRING = "string"
    INTEGER = "integer"
    DATE = "date"
    IPADDR = "ipaddr"
    OCTETS = "octets"  # also every other dictionary type: raw bytes

    @classmethod
    def of(cls, name: str) -> AttrType:
        try:
            return cls(name)
        except ValueError:
            return cls.OCTETS


_NUMBERS = (AttrType.INTEGER, AttrType.DATE)


@dataclass(frozen=True)
class AttrDef:
    name: str
    vendor: int
    code: int
    type: AttrType
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
            atype = AttrType.of(attr.type)
            values = (
                {
                    k: int.from_bytes(v, "big") if isinstance(v, bytes) else int(v)
                    for k, v in attr.values.forward.items()
                }
                if atype in _NUMBERS
                else {}
            )
            d = AttrDef(name, vendor, int(attr.code), atype, int(attr.encrypt or 0), values)
            self.by_name[name] = d
            self.by_code[(vendor, d.code)] = d
        self.vendors = frozenset(v for v in vendors.values() if v)
        self._tlv: dict[tuple[str, Value], bytes] = {}
        self._text_headers = {n: (d.vendor, d.code) for n, d in self.by_name.items() if d.type is AttrType.STRING}

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
                        return VSA_HEADER.pack(VSA_TYPE, n + 8, vendor, code, n + 2) + raw
                elif n <= MAX_VALUE:
                    return bytes((code, n + 2)) + raw
            return encode_tlv(self, name, value)
        key = (name, value)
        try:
            return self._tlv[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: encode it every time
            return encode_tlv(self, name, value)
        raw = encode_tlv(self, name, value)
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


def decode_value(d: AttrDef, raw: bytes, offset: int) -> Value:
    t = d.type
    if t is AttrType.STRING:
        return raw.decode("utf-8", "replace")
    if t in _NUMBERS:
        if len(raw) != 4:
            raise MalformedPacket(f"{d.name}: {t} value of {len(raw)} bytes, expected 4", offset)
        return int.from_bytes(raw, "big")
    if t is AttrType.IPADDR:
        if len(raw) != 4:
            raise MalformedPacket(f"{d.name}: ipaddr value of {len(raw)} bytes, expected 4", offset)
        return str(ipaddress.IPv4Address(raw))
    return bytes(raw)


def encode_value(d: AttrDef, value: Value) -> bytes:
    t = d.type
    if t in _NUMBERS:
        if isinstance(value, str):
            if value not in d.values:
                raise EncodeError(f"{d.name}: unknown value name {value!r}")
            value = d.values[value]
        if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
            raise EncodeError(f"{d.name}: {value!r} is not a 32-bit unsigned integer")
        return value.to_bytes(4, "big")
    if t is AttrType.IPADDR:
        return ipaddress.IPv4Address(value).packed
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, int):
        return str(value).encode("ascii")
    raise EncodeError(f"{d.name}: cannot encode {type(value).__name__}")


def encode_tlv(dictionary: Dictionary, name: str, value: Value) -> bytes:
    d = dictionary.by_name.get(name)
    if d is None:
        raise EncodeError(f"attribute {name!r} is not in the dictionary")
    raw = encode_value(d, value)
    if d.vendor:
        if len(raw) > MAX_VENDOR_VALUE:
            raise EncodeError(f"{name}: value of {len(raw)} bytes exceeds {MAX_VENDOR_VALUE}")
        return bytes((VSA_TYPE, len(raw) + 8)) + d.vendor.to_bytes(4, "big") + bytes((d.code, len(raw) + 2)) + raw
    if len(raw) > MAX_VALUE:
        raise EncodeError(f"{name}: value of {len(raw)} bytes exceeds {MAX_VALUE}")
    return bytes((d.code, len(raw) + 2)) + raw
