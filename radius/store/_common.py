"""The queries and rules both store implementations share: every lookup and
every change of accounts, DIDs, devices, sender e-mails, groups and CDRs.

Connections, transactions and the dialect hooks are in :mod:`radius.store._base`,
the longer SQL text in :mod:`radius.store._sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from radius.store import _records as rec
from radius.store._base import Constraint, SqlBase, account_key, no_account
from radius.store._group_commit import GroupCommit
from radius.store._sql import (
    ACCOUNT_SELECT,
    CDR_SELECT,
    DEVICE_SELECT,
    DID_SELECT,
    INSERT_ACCOUNT,
    INSERT_CDR,
    INSERT_CDR_AND_CALLED,
    INSERT_DID,
    UPSERT_CALLED,
)
from radius.store.api import (
    DID_FIELDS,
    Account,
    AccountingRecord,
    CalledNumber,
    Device,
    DeviceKind,
    Dialect,
    Did,
    DuplicateError,
    NotFoundError,
    SenderEmail,
    StoreError,
    normalise_did,
    normalise_mac,
    normalise_serial,
)

_NORMALISERS: dict[str, Callable[[str], str]] = {DeviceKind.MAC: normalise_mac, DeviceKind.SERIAL: normalise_serial}


class SqlStore(SqlBase):
    """The Store protocol over a DB-API connection; subclassed per dialect."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._accounting: GroupCommit[bool] = GroupCommit(self._commit_accounting)

    # ------------------------------------------------------------ lookups

    def get_account(self, name: str) -> Account | None:
        row = self._one(ACCOUNT_SELECT + " WHERE a.name_key = ?", (account_key(name),))
        return rec.account_from_row(row) if row else None

    def get_account_by_uuid(self, uuid: bytes) -> Account | None:
        row = self._one(ACCOUNT_SELECT + " WHERE a.uuid = ?", (bytes(uuid),))
        return rec.account_from_row(row) if row else None

    def get_did(self, did: str) -> Did | None:
        row = self._one(DID_SELECT + " WHERE d.did = ?", (normalise_did(did),))
        return rec.did_from_row(row) if row else None

    def get_device(self, kind: str, identifier: str) -> Device | None:
        row = self._one(
            DEVICE_SELECT + " WHERE v.kind = ? AND v.identifier = ?", (kind, _normalise_device(kind, identifier))
        )
        return rec.device_from_row(row) if row else None

    def get_account_by_email(self, address: str) -> Account | None:
        sql = ACCOUNT_SELECT + " JOIN sender_emails e ON e.account_key = a.name_key WHERE e.address_key = ?"
        row = self._one(sql, (address.strip().casefold(),))
        return rec.account_from_row(row) if row else None

    def list_dids_for_account(self, account: str) -> list[Did]:
        return self.list_dids(account)

    def list_group_members(self, group: str) -> list[str]:
        sql = (
            "SELECT a.name FROM group_members g JOIN accounts a ON a.name_key = g.member_key"
            " WHERE g.group_key = ? ORDER BY g.position"
        )
        return [row[0] for row in self._all(sql, (account_key(group),))]

    def get_called_number(self, number: str) -> CalledNumber | None:
        sql = "SELECT number, last_result, voice_error_seen, updated_at, results FROM called_numbers WHERE number = ?"
        row = self._one(sql, (normalise_did(number),))
        return rec.called_from_row(row) if row else None

    # ------------------------------------------------------------ accounts

    def add_account(self, account: Account) -> Account:
        self.add_accounts([account])
        stored = self.get_account(account.name)
        assert stored is not None  # just committed
        return stored

    def add_accounts(self, accounts: Iterable[Account]) -> int:
        rows = [rec.account_row(a, self._token_bytes) for a in accounts]
        seen: dict[str, str] = {}
        for row in rows:
            if row[0] in seen:
                raise DuplicateError(
                    f"account {row[1]!r} is given twice (as {seen[row[0]]!r} and {row[1]!r})",
                    kind="account",
                    key=row[1],
                )
            seen[row[0]] = row[1]
        if not rows:
            return 0
        try:
            with self._writer() as conn:
                self._bulk_insert(conn, INSERT_ACCOUNT, "accounts", rec.ACCOUNT_COLUMNS, rows)
        except Exception as exc:
            if self._constraint(exc) is not Constraint.UNIQUE:
                raise
            raise self._account_duplicate(rows) from None
        return len(rows)

    def _account_duplicate(self, rows: list[tuple[Any, ...]]) -> DuplicateError:
        uuid_at = rec.ACCOUNT_COLUMNS.index("uuid")
        with self._reader() as conn:
            for row in rows:
                if self._exists(conn, "SELECT 1 FROM accounts WHERE name_key = ?", (row[0],)):
                    return DuplicateError(f"account {row[1]!r} exists already", kind="account", key=row[1])
                if self._exists(conn, "SELECT 1 FROM accounts WHERE uuid = ?", (row[uuid_at],)):
                    return DuplicateError(
                        f"account {row[1]!r}: UUID {row[uuid_at].hex()} belongs to another account",
                        kind="account",
                        key=row[1],
                    )
        return DuplicateError("an account exists already (it was added concurrently)", kind="account")

    def update_account(self, name: str, **changes: Any) -> Account:
        key = account_key(name)
        params = [rec.account_change(f, v, self._token_bytes) for f, v in changes.items()]
        if params:
            sql = "UPDATE accounts SET " + ", ".join(f"{f} = ?" for f in changes) + " WHERE name_key = ?"
            try:
                with self._writer() as conn:
                    if self._run(conn, sql, (*params, key)).rowcount == 0:
                        raise no_account(name)
            except StoreError:
                raise
            except Exception as exc:
                if self._constraint(exc) is not Constraint.UNIQUE:
                    raise
                raise DuplicateError(
                    f"account {name!r}: that UUID belongs to another account", kind="account", key=name
                ) from None
        account = self.get_account(name)
        if account is None:
            raise no_account(name)
        return account

    def delete_account(self, name: str) -> None:
        key = account_key(name)
        with self._writer() as conn:
            groups = [r[0] for r in self._run(conn, "SELECT group_key FROM group_members WHERE member_key = ?", (key,))]
            self._bump_groups(conn, groups)
            if self._run(conn, "DELETE FROM accounts WHERE name_key = ?", (key,)).rowcount == 0:
                raise no_account(name)

    def list_accounts(self) -> list[Account]:
        return [rec.account_from_row(r) for r in self._all(ACCOUNT_SELECT + " ORDER BY a.name_key")]

    # ---------------------------------------------------------------- DIDs

    def _did_row(self, conn: Any, did: Did) -> tuple[Any, ...]:
        number = normalise_did(did.did)
        if not number:
            raise StoreError(f"DID {did.did!r} has no digits", kind="DID", key=did.did)
        account_key = self._require_account(conn, did.account) if did.account else None
        return rec.did_row(number, {f: getattr(did, f) for f in DID_FIELDS}, account_key)

    def add_did(self, did: Did) -> Did:
        self.add_dids([did])
        stored = self.get_did(did.did)
        assert stored is not None  # just committed
        return stored

    def add_dids(self, dids: Iterable[Did]) -> int:
        items = list(dids)
        if not items:
            return 0
        with self._writer() as conn:
            rows = [self._did_row(conn, d) for d in items]
            seen: set[str] = set()
            for row in rows:
                if row[0] in seen or self._exists(conn, "SELECT 1 FROM dids WHERE did = ?", (row[0],)):
                    raise DuplicateError(f"DID {row[0]!r} exists already", kind="DID", key=row[0])
                seen.add(row[0])
            self._bulk_insert(conn, INSERT_DID, "dids", rec.DID_COLUMNS, rows)
        return len(rows)

    def update_did(self, did: str, **changes: Any) -> Did:
        number = normalise_did(did)
        with self._writer() as conn:
            sets: list[str] = []
            params: list[Any] = []
            for name, value in changes.items():
                if name == "account":
                    sets.append("account_key = ?")
                    params.append(self._require_account(conn, value) if value else None)
                else:
                    sets.append(f"{name} = ?")
                    params.append(rec.did_change(name, value))
            sql = f"UPDATE dids SET {', '.join(sets)} WHERE did = ?" if sets else "SELECT 1 FROM dids WHERE did = ?"
            cursor = self._run(conn, sql, (*params, number))
            if (cursor.rowcount if sets else len(cursor.fetchall())) == 0:
                raise NotFoundError(f"no DID {number!r}", kind="DID", key=number)
        stored = self.get_did(number)
        assert stored is not None
        return stored

    def delete_did(self, did: str) -> None:
        number = normalise_did(did)
        with self._writer() as conn:
            if self._run(conn, "DELETE FROM dids WHERE did = ?", (number,)).rowcount == 0:
                raise NotFoundError(f"no DID {number!r}", kind="DID", key=number)

    def list_dids(self, account: str | None = None) -> list[Did]:
        if account is None:
            rows = self._all(DID_SELECT + " ORDER BY d.did")
        else:
            rows = self._all(DID_SELECT + " WHERE d.account_key = ? ORDER BY d.did", (account_key(account),))
        return [rec.did_from_row(r) for r in rows]

    # ------------------------------------------------------------- devices

    def add_device(self, device: Device) -> Device:
        identifier = _normalise_device(device.kind, device.identifier)
        if not identifier:
            raise StoreError(f"device {device.kind} {device.identifier!r} is empty", kind="device")
        with self._writer() as conn:
            key = self._require_account(conn, device.account)
            if self._exists(conn, "SELECT 1 FROM devices WHERE kind = ? AND identifier = ?", (device.kind, identifier)):
                raise DuplicateError(f"device {device.kind} {identifier} exists already", kind="device", key=identifier)
            self._run(
                conn,
                "INSERT INTO devices (kind, identifier, account_key, fax_ata_type, provisioning_arg, queue_profile)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (device.kind, identifier, key, device.fax_ata_type, device.provisioning_arg, device.queue_profile),
            )
        stored = self.get_device(device.kind, identifier)
        assert stored is not None
        return stored

    def delete_device(self, kind: str, identifier: str) -> None:
        ident = _normalise_device(kind, identifier)
        with self._writer() as conn:
            if self._run(conn, "DELETE FROM devices WHERE kind = ? AND identifier = ?", (kind, ident)).rowcount == 0:
                raise NotFoundError(f"no device with {kind} {ident}", kind="device", key=ident)

    def list_devices(self) -> list[Device]:
        return [rec.device_from_row(r) for r in self._all(DEVICE_SELECT + " ORDER BY v.kind, v.identifier")]

    # ------------------------------------------------------ sender e-mails

    def add_sender_email(self, entry: SenderEmail) -> SenderEmail:
        address = entry.address.strip()
        if "@" not in address:
            raise StoreError(f"{entry.address!r} is not an e-mail address", kind="e-mail", key=entry.address)
        with self._writer() as conn:
            key = self._require_account(conn, entry.account)
            if self._exists(conn, "SELECT 1 FROM sender_emails WHERE address_key = ?", (address.casefold(),)):
                raise DuplicateError(f"sender e-mail {address!r} exists already", kind="e-mail", key=address)
            self._run(
                conn,
                "INSERT INTO sender_emails (address_key, address, account_key) VALUES (?, ?, ?)",
                (address.casefold(), address, key),
            )
        account = self.get_account(entry.account)
        return SenderEmail(address, account.name if account else entry.account)

    def delete_sender_email(self, address: str) -> None:
        key = address.strip().casefold()
        with self._writer() as conn:
            if self._run(conn, "DELETE FROM sender_emails WHERE address_key = ?", (key,)).rowcount == 0:
                raise NotFoundError(f"no sender e-mail {address!r}", kind="e-mail", key=address)

    def list_sender_emails(self) -> list[SenderEmail]:
        sql = (
            "SELECT e.address, a.name FROM sender_emails e JOIN accounts a ON a.name_key = e.account_key"
            " ORDER BY e.address_key"
        )
        return [SenderEmail(r[0], r[1]) for r in self._all(sql)]

    # -------------------------------------------------------------- groups

    def set_group_members(self, group: str, members: Sequence[str]) -> None:
        gkey = account_key(group)
        keys = [account_key(m) for m in members]
        for i, (member, key) in enumerate(zip(members, keys)):
            if key in keys[:i]:
                raise DuplicateError(
                    f"group {group!r}: member {member!r} is listed twice", kind="group member", key=member
                )
            if key == gkey:
                raise StoreError(f"group {group!r} cannot be a member of itself", kind="group member", key=member)
        with self._writer() as conn:
            row = self._run(conn, "SELECT account_type FROM accounts WHERE name_key = ?", (gkey,)).fetchone()
            if row is None:
                raise no_account(group)
            if not Account(group, account_type=int(row[0])).is_group:
                raise StoreError(
                    f"account {group!r} is not a load-balance group (its type is {row[0]}; groups are 8, 9, 10)",
                    kind="account",
                    key=group,
                )
            for member in members:
                self._require_account(conn, member)
            old = [
                r[0]
                for r in self._run(
                    conn, "SELECT member_key FROM group_members WHERE group_key = ? ORDER BY position", (gkey,)
                )
            ]
            if old == keys:
                return
            self._run(conn, "DELETE FROM group_members WHERE group_key = ?", (gkey,))
            insert = self._sql("INSERT INTO group_members (group_key, position, member_key) VALUES (?, ?, ?)")
            conn.cursor().executemany(insert, [(gkey, i, k) for i, k in enumerate(keys)])
            self._bump_groups(conn, [gkey])

    # ---------------------------------------------------------- accounting

    def record_accounting(self, record: AccountingRecord, called_number: tuple[str, int] | None = None) -> bool:
        called = None
        if called_number is not None:
            number, result = called_number
            called = (normalise_did(number), int(result), int(int(result) == 2), float(record.received_at))
        return self._accounting.submit((rec.cdr_row(record), called))

    def record_accounting_many(self, items: Sequence[tuple[AccountingRecord, tuple[str, int] | None]]) -> list[bool]:
        """Commit several records in one transaction (one disk flush); per
        record, False when its dedupe_key was stored already.  If the
        transaction fails nothing of it is stored."""
        batch = []
        for record, called_number in items:
            called = None
            if called_number is not None:
                number, result = called_number
                called = (normalise_did(number), int(result), int(int(result) == 2), float(record.received_at))
            batch.append((rec.cdr_row(record), called))
        return self._commit_accounting(batch) if batch else []

    def _commit_accounting(self, batch: list[tuple[tuple[Any, ...], tuple[Any, ...] | None]]) -> list[bool]:
        """One transaction for ``batch``; per record, False when its dedupe_key was stored already."""
        if self.dialect is Dialect.POSTGRESQL and len(batch) > 1:
            return self._commit_accounting_pipelined(batch)
        results = []
        with self._writer() as conn:
            for row, called in batch:
                inserted = self._run(conn, INSERT_CDR, row).rowcount != 0
                if inserted and called is not None and called[0]:
                    self._run(conn, UPSERT_CALLED, called)
                results.append(inserted)
        return results

    def _commit_accounting_pipelined(self, batch: list[tuple[tuple[Any, ...], tuple[Any, ...] | None]]) -> list[bool]:
        """PostgreSQL: the whole batch as one pipelined ``executemany`` (no round
        trip per record), each record one statement that inserts the CDR and,
        only if it was new, upserts its Called Numbers entry."""
        params = [
            (*row, *called, called[0]) if called is not None and called[0] else (*row, None, None, None, None, None)
            for row, called in batch
        ]
        with self._writer() as conn:
            cursor = conn.cursor()
            cursor.executemany(self._sql(INSERT_CDR_AND_CALLED), params, returning=True)
            results = []
            while True:
                results.append(bool(cursor.fetchone()[0]))
                if not cursor.nextset():
                    break
        return results

    def purge_cdrs(self, before: float, dry_run: bool = False) -> int:
        """Remove the CDRs received before ``before`` (unix time); how many (would) go."""
        if dry_run:
            return int(self._all("SELECT COUNT(*) FROM accounting WHERE received_at < ?", [float(before)])[0][0])
        with self._writer() as conn:
            return int(self._run(conn, "DELETE FROM accounting WHERE received_at < ?", (float(before),)).rowcount)

    def list_cdrs(
        self, since: float | None = None, limit: int | None = None, stops_only: bool = False
    ) -> list[AccountingRecord]:
        """Oldest first (received_at, then insertion order); ``since`` is inclusive."""
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("received_at >= ?")
            params.append(float(since))
        if stops_only:
            where.append("status_type = 2")
        sql = CDR_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY received_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        return [rec.cdr_from_row(r) for r in self._all(sql, params)]


def _normalise_device(kind: str, identifier: str) -> str:
    try:
        return _NORMALISERS[kind](identifier)
    except KeyError:
        raise StoreError(f"device kind must be 'mac' or 'serial', not {kind!r}", kind="device") from None
