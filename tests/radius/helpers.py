"""Shared helpers for RADIUS tests: a populated store, request builders."""

from __future__ import annotations

import hashlib
from typing import Any

from radius.codec import Dictionary
from radius.codec.encode import encrypt_password
from radius.passwords import hash_password
from radius.store import open_store
from radius.store.api import Account, AccountingRecord, Device, Did, SenderEmail, Store
from tests.conftest import DICTIONARY_DIR

SECRET = b"testing123-golden"
FIXED_SALT = bytes(range(16))


def dictionary() -> Dictionary:
    return Dictionary(DICTIONARY_DIR)


def populate(store: Store, spec: dict[str, Any]) -> None:
    """Fill ``store`` from a vector's store description."""
    for a in spec.get("accounts", []):
        fields = dict(a)
        password = fields.pop("password", None)
        if password is not None:
            fields["password_hash"] = hash_password(password, FIXED_SALT)
        store.add_account(Account(**fields))
    for d in spec.get("dids", []):
        store.add_did(Did(**d))
    for dev in spec.get("devices", []):
        store.add_device(Device(**dev))
    for address, account in spec.get("emails", []):
        store.add_sender_email(SenderEmail(address, account))
    for group, members in spec.get("groups", {}).items():
        store.set_group_members(group, members)
    for i, (number, result) in enumerate(spec.get("called_numbers", [])):
        record = AccountingRecord(
            dedupe_key=f"seed-{i}",
            received_at=1.0,
            client="127.0.0.1",
            status_type=2,
            session_id=f"seed-{i}",
            user_name="seed",
        )
        store.record_accounting(record, (number, result))


def memory_store(spec: dict[str, Any] | None = None) -> Store:
    store = open_store("sqlite:///:memory:")
    if spec:
        populate(store, spec)
    return store


def with_password(datagram: bytes, secret: bytes, password: str) -> bytes:
    """Replace the User-Password of a request by ``password`` hidden under ``secret``."""
    out = bytearray(datagram[:20])
    i = 20
    while i < len(datagram):
        t, length = datagram[i], datagram[i + 1]
        if t == 2:
            enc = encrypt_password(password, secret, datagram[4:20])
            out += bytes((2, len(enc) + 2)) + enc
        else:
            out += datagram[i : i + length]
        i += length
    out[2:4] = len(out).to_bytes(2, "big")
    return bytes(out)


def response_authenticator(reply: bytes, request_auth: bytes, secret: bytes) -> bytes:
    return hashlib.md5(reply[:4] + request_auth + reply[20:] + secret).digest()
