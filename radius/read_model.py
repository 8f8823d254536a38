"""An in-memory read model of the account store, for the RADIUS handlers.

It answers every lookup the handlers make (the lookup half of
:class:`radius.store.api.Store`) from dictionaries, on the calling thread,
exactly as the SQL of :mod:`radius.store._common` would.  It is filled from a
snapshot of the store's rows and kept current by applying the rows of changed
keys read through the change feed (:mod:`radius.store.changes`); the
Twisted side of that is :mod:`radius.feed`.

Pure: no I/O, no clock.  Rows come in the column order of
``radius.store.changes.SELECTS``.  Mutations are meant to run on one thread
(the reactor); lookups from other threads see either the old or the new entry
of a key (every update is one dictionary assignment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from radius.store import _records as rec
from radius.store.api import (
    Account,
    CalledNumber,
    Device,
    DeviceKind,
    Did,
    StoreError,
    normalise_did,
    normalise_mac,
    normalise_serial,
)

__all__ = ["FeedCursor", "ReadModel", "StoreFirst"]

_DEVICE_NORMALISERS: dict[str, Callable[[str], str]] = {
    DeviceKind.MAC: normalise_mac,
    DeviceKind.SERIAL: normalise_serial,
}
# Account columns whose values repeat across accounts (kept once in memory).
_SHARED_COLUMNS = frozenset(
    i
    for i, c in enumerate(rec.ACCOUNT_COLUMNS)
    if c in ("rule_group", "login_group", "source", "queue_profile", "customer")
)


class ReadModel:
    """Accounts, DIDs, devices, sender e-mails, groups and Called Numbers, indexed
    the way the handlers look them up."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}  # name_key -> Account
        self.by_uuid: dict[bytes, str] = {}  # uuid -> name_key
        self.dids: dict[str, tuple[Any, ...]] = {}  # did -> row (account_key at [1])
        self.dids_by_account: dict[str, set[str]] = {}  # account_key -> dids
        self.devices: dict[tuple[str, str], tuple[Any, ...]] = {}  # (kind, identifier) -> row
        self.emails: dict[str, str] = {}  # address_key -> account_key
        self.groups: dict[str, list[str]] = {}  # group_key -> member keys, in order
        self.called: dict[str, CalledNumber] = {}
        self._shared: dict[str, str] = {}

    # ------------------------------------------------------------ loading

    def add_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Add rows of a full snapshot (to an empty model, a chunk at a time)."""
        self._replace(table, None, rows)

    def apply(self, table: str, keys: Iterable[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """``rows`` are the current rows of ``keys`` in ``table``; keys without
        a row were deleted."""
        self._replace(table, set(keys), rows)

    def apply_called(self, number: str, data: str | None) -> None:
        """A Called Numbers change carried by the feed (``data`` None: deleted)."""
        if data is None:
            self.called.pop(number, None)
            return
        last, voice, results, updated = data.split(",")
        self.called[number] = CalledNumber(number, int(last), bool(int(voice)), float(updated), int(results))

    def _replace(self, table: str, keys: set[str] | None, rows: Sequence[tuple[Any, ...]]) -> None:
        getattr(self, f"_replace_{table}")(keys, rows)

    def _replace_accounts(self, keys: set[str] | None, rows: Sequence[tuple[Any, ...]]) -> None:
        for key in keys or ():
            old = self.accounts.pop(key, None)
            if old is not None and self.by_uuid.get(old.uuid) == key:
                del self.by_uuid[old.uuid]
        shared = self._shared
        for row in rows:
            key = row[0]
            # One string for name and key when they are spelled alike; one
            # copy of values many accounts share (rule group, source, ...).
            values = [key if row[1] == key else row[1]]
            for i, v in enumerate(row[2:], 2):
                if i in _SHARED_COLUMNS and isinstance(v, str):
                    v = shared.setdefault(v, v)
                values.append(v)
            account = rec.account_from_row([key, *values])
            self.accounts[key] = account
            self.by_uuid[account.uuid] = key
        if len(shared) > 10_000:
            shared.clear()

    def _replace_dids(self, keys: set[str] | None, rows: Sequence[tuple[Any, ...]]) -> None:
        for did in keys or ():
            old = self.dids.pop(did, None)
            if old is not None and old[1] is not None:
                owned = self.dids_by_account.get(old[1])
                if owned is not None:
                    owned.discard(did)
                    if not owned:
                        del self.dids_by_account[old[1]]
        for row in rows:
            self.dids[row[0]] = row
            if row[1] is not None:
                self.dids_by_account.setdefault(row[1], set()).add(row[0])

    def _replace_devices(self, keys: set[str] | None, rows: Sequence[tuple[Any, ...]]) -> None:
        for key in keys or ():
            kind, _, identifier = key.partition(":")
            self.devices.pop((kind, identifier), None)
        for row in rows:
            self.devices[(row[0], row[1])] = row

    def _replace_sender_emails(self, keys: set[str] | None, rows: Sequence[tuple[Any, ...]]) -> None:
        for key in keys or ():
            self.emails.pop(key, None)
        for address_key, account_key in rows:
            self.emails[address_key] = account_key

    def _replace_group_members(self, keys: set[str] | None, rows: Sequence[tuple[Any, ...]]) -> None:
        for key in keys or ():
            self.groups.pop(key, None)
        for group_key, member_key in rows:  # ordered by group, position
            self.groups.setdefault(group_key, []).append(member_key)

    def _replace_called_numbers(self, keys: set[str] | None, rows: Sequence[tuple[Any, ...]]) -> None:
        for key in keys or ():
            self.called.pop(key, None)
        for row in rows:
            self.called[row[0]] = rec.called_from_row(row)

    # ------------------------------------------------------------ lookups

    def get_account(self, name: str) -> Account | None:
        return self.accounts.get(name.casefold())

    def get_account_by_uuid(self, uuid: bytes) -> Account | None:
        key = self.by_uuid.get(bytes(uuid))
        return self.accounts.get(key) if key is not None else None

    def _did(self, row: tuple[Any, ...]) -> Did:
        account = self.accounts.get(row[1]) if row[1] is not None else None
        return Did(row[0], account.name if account else "", bool(row[2]), row[3], int(row[4]), row[5], row[6])

    def get_did(self, did: str) -> Did | None:
        row = self.dids.get(normalise_did(did))
        return self._did(row) if row is not None else None

    def get_device(self, kind: str, identifier: str) -> Device | None:
        normalise = _DEVICE_NORMALISERS.get(kind)
        if normalise is None:
            return None
        row = self.devices.get((kind, normalise(identifier)))
        if row is None:
            return None
        account = self.accounts.get(row[2])
        if account is None:
            return None
        return Device(DeviceKind(row[0]), row[1], account.name, row[3], row[4], row[5])

    def get_account_by_email(self, address: str) -> Account | None:
        key = self.emails.get(address.strip().casefold())
        return self.accounts.get(key) if key is not None else None

    def list_dids_for_account(self, account: str) -> list[Did]:
        dids = self.dids_by_account.get(account.casefold(), ())
        return [self._did(self.dids[d]) for d in sorted(dids)]

    def list_group_members(self, group: str) -> list[str]:
        out = []
        for key in self.groups.get(group.casefold(), ()):
            member = self.accounts.get(key)
            if member is not None:
                out.append(member.name)
        return out

    def get_called_number(self, number: str) -> CalledNumber | None:
        return self.called.get(normalise_did(number))

    def note_called_number(self, number: str, result: int, at: float) -> None:
        """This process stored a Stop's Called Numbers update: apply it at once
        (the feed brings the same values later), as the store's upsert does."""
        number = normalise_did(number)
        if not number:
            return
        old = self.called.get(number)
        voice = int(result) == 2 or (old is not None and old.voice_error_seen)
        self.called[number] = CalledNumber(number, int(result), voice, float(at), (old.results + 1) if old else 1)


class FeedCursor:
    """Which changes of the feed have been applied.

    Ids are handed out in one order and may become visible in another (two
    PostgreSQL transactions commit in the opposite order, or one rolls back
    and leaves a hole), so the cursor keeps ``low`` (every id up to it is
    handled) and the ids above it already seen; a hole older than ``grace``
    seconds is taken to be a rollback and skipped.  Readers ask for ids
    above ``low``.
    """

    def __init__(self, grace: float = 30.0) -> None:
        self.grace = grace
        self.low = 0
        self.seen: set[int] = set()
        self._holes: dict[int, float] = {}

    def start(self, low: int, existing: Iterable[int]) -> None:
        """After a snapshot: ``existing`` ids above ``low`` are in it."""
        self.low = low
        self.seen = set(existing)
        self._holes.clear()
        self._advance(None)

    def accept(self, ids: Iterable[int], now: float) -> list[int]:
        """Note ``ids`` read from the feed; the ones not seen before, to apply."""
        new = [i for i in ids if i > self.low and i not in self.seen]
        self.seen.update(new)
        self._advance(now)
        return new

    def _advance(self, now: float | None) -> None:
        while self.low + 1 in self.seen:
            self.low += 1
            self.seen.discard(self.low)
        if not self.seen or now is None:
            return
        top = max(self.seen)
        for hole in range(self.low + 1, top):
            if hole not in self.seen and hole not in self._holes:
                self._holes[hole] = now
        expired = [h for h, t in self._holes.items() if now - t >= self.grace]
        for hole in expired:
            del self._holes[hole]
            self.seen.add(hole)
        for hole in [h for h in self._holes if h <= self.low]:
            del self._holes[hole]
        while self.low + 1 in self.seen:
            self.low += 1
            self.seen.discard(self.low)


class StoreFirst:
    """Lookups for password checks: accounts from the store (falling back to
    the read model when the store fails), everything else from the model."""

    def __init__(self, store: Any, model: ReadModel) -> None:
        self._store = store
        self._model = model

    def get_account(self, name: str) -> Any:
        try:
            return self._store.get_account(name)
        except StoreError:
            return self._model.get_account(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)
