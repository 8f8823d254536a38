"""Records <-> rows: the column lists and conversions both dialects share."""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from radius.store.api import (
    ACCOUNT_FIELDS,
    DID_FIELDS,
    Account,
    AccountingRecord,
    CalledNumber,
    Device,
    DeviceKind,
    Did,
    StoreError,
)

# Columns in SELECT/INSERT order.  Accounts: name_key, name, then every other field.
ACCOUNT_COLUMNS: tuple[str, ...] = ("name_key", "name", *ACCOUNT_FIELDS)
assert tuple(f.name for f in fields(Account)) == ("name", *ACCOUNT_FIELDS)
ACCOUNT_BOOLS = frozenset(f.name for f in fields(Account) if f.type == "bool")
DID_BOOLS = frozenset(f.name for f in fields(Did) if f.type == "bool")
DID_COLUMNS: tuple[str, ...] = ("did", "account_key", "enabled", "line_id", "line_num", "snd_ani", "queue_profile")
CDR_COLUMNS: tuple[str, ...] = (
    "dedupe_key",
    "received_at",
    "client",
    "status_type",
    "session_id",
    "user_name",
    "attributes",
    "raw_attributes",
)

MAX_NAME_CHARS = 64  # spec §3: 16 bytes, or 64 UTF-8 characters in UUID mode

TokenBytes = Callable[[int], bytes]


def new_uuid(token_bytes: TokenBytes) -> bytes:
    """A random (version 4) UUID as 16 raw bytes."""
    return uuidlib.UUID(bytes=token_bytes(16), version=4).bytes


def check_account_name(name: str) -> str:
    """The account's key; a clear error for an unusable name."""
    if not isinstance(name, str) or not name.strip():
        raise StoreError("an account name must not be empty", kind="account", key=str(name))
    if name != name.strip():
        raise StoreError(f"account name {name!r} has leading or trailing spaces", kind="account", key=name)
    if len(name) > MAX_NAME_CHARS:
        raise StoreError(
            f"account name {name[:20]!r}... is longer than {MAX_NAME_CHARS} characters",
            kind="account",
            key=name,
        )
    return name.casefold()


def check_uuid(value: bytes) -> bytes:
    if len(value) != 16:
        raise StoreError(f"an account UUID must be 16 bytes, got {len(value)}", kind="account")
    return bytes(value)


def account_row(account: Account, token_bytes: TokenBytes) -> tuple[Any, ...]:
    """INSERT parameters for ``account`` (a UUID is generated when empty)."""
    key = check_account_name(account.name)
    uuid = check_uuid(account.uuid) if account.uuid else new_uuid(token_bytes)
    values: list[Any] = [key, account.name]
    for name in ACCOUNT_FIELDS:
        value = uuid if name == "uuid" else getattr(account, name)
        values.append(int(value) if name in ACCOUNT_BOOLS else value)
    return tuple(values)


_ACCOUNT_DECODERS: tuple[Callable[[Any], Any] | None, ...] = tuple(
    bool if name in ACCOUNT_BOOLS else bytes if name == "uuid" else None for name in ACCOUNT_FIELDS
)


def account_from_row(row: Sequence[Any]) -> Account:
    # Positional: Account's fields are name followed by ACCOUNT_FIELDS, in order.
    return Account(row[1], *[v if f is None else f(v) for f, v in zip(_ACCOUNT_DECODERS, row[2:])])


def account_change(name: str, value: Any, token_bytes: TokenBytes) -> Any:
    """An UPDATE parameter for one account field."""
    if name not in ACCOUNT_FIELDS:
        raise TypeError(f"Account has no changeable field {name!r}")
    if name == "uuid":
        return check_uuid(value) if value else new_uuid(token_bytes)
    return int(value) if name in ACCOUNT_BOOLS else value


def did_row(did: str, fields_: dict[str, Any], account_key: str | None) -> tuple[Any, ...]:
    return (
        did,
        account_key,
        int(bool(fields_["enabled"])),
        fields_["line_id"],
        int(fields_["line_num"]),
        fields_["snd_ani"],
        fields_["queue_profile"],
    )


def did_change(name: str, value: Any) -> Any:
    if name not in DID_FIELDS:
        raise TypeError(f"Did has no changeable field {name!r}")
    return int(bool(value)) if name in DID_BOOLS else value


def did_from_row(row: Sequence[Any]) -> Did:
    did, account, enabled, line_id, line_num, snd_ani, queue_profile = row
    return Did(did, account or "", bool(enabled), line_id, int(line_num), snd_ani, queue_profile)


def device_from_row(row: Sequence[Any]) -> Device:
    kind, identifier, account, fax_ata_type, provisioning_arg, queue_profile = row
    return Device(DeviceKind(kind), identifier, account, fax_ata_type, provisioning_arg, queue_profile)


def called_from_row(row: Sequence[Any]) -> CalledNumber:
    number, last_result, voice_error_seen, updated_at, results = row
    return CalledNumber(number, int(last_result), bool(voice_error_seen), float(updated_at), int(results))


# ------------------------------------------------------------ accounting JSON


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"attribute value of type {type(value).__name__} cannot be stored")


def _json_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$bytes" in obj:
        return bytes.fromhex(obj["$bytes"])
    return obj


def cdr_row(record: AccountingRecord) -> tuple[Any, ...]:
    if not record.dedupe_key:
        raise StoreError("an accounting record needs a dedupe_key", kind="accounting record")
    try:
        attributes = json.dumps(record.attributes, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"accounting record {record.dedupe_key!r}: {exc}", kind="accounting record", key=record.dedupe_key
        ) from None
    raw = json.dumps([[int(v), int(t), str(h)] for v, t, h in record.raw_attributes])
    return (
        record.dedupe_key,
        float(record.received_at),
        record.client,
        int(record.status_type),
        record.session_id,
        record.user_name,
        attributes,
        raw,
    )


def cdr_from_row(row: Sequence[Any]) -> AccountingRecord:
    id_, dedupe_key, received_at, client, status_type, session_id, user_name, attributes, raw = row
    return AccountingRecord(
        dedupe_key=dedupe_key,
        received_at=float(received_at),
        client=client,
        status_type=int(status_type),
        session_id=session_id,
        user_name=user_name,
        attributes=json.loads(attributes, object_hook=_json_object),
        raw_attributes=tuple((int(v), int(t), str(h)) for v, t, h in json.loads(raw)),
        id=int(id_),
    )
