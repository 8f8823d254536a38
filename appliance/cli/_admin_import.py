"""CSV import of accounts and DIDs: every row checked first, then all or nothing.

The header row names fields (``name``, ``password``, ``type``,
``failover_account``, … for accounts; ``did``, ``account``, ``enabled``, …
for DIDs; option spellings work too).  Each problem is reported as
``FILE:LINE: column N (HEADER): problem`` and a file with any problem imports
nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.cli import CliIO
from appliance.cli._admin_fields import ACCOUNT_OPTIONS, DID_OPTIONS, FieldOption
from radius.passwords import hash_password
from radius.store import Account, Did, DuplicateError, NotFoundError, Store, normalise_did

__all__ = ["import_accounts", "import_dids"]

MAX_REPORTED = 20


@dataclass
class _Sheet:
    """A parsed CSV file: per row, its line number and {field: (column, text)}."""

    path: str
    rows: list[tuple[int, dict[str, tuple[int, str]]]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    headers: list[str] = field(default_factory=list)

    def error(self, line: int, problem: str, column: int | None = None) -> None:
        where = f"{self.path}:{line}: "
        if column is not None:
            where += f"column {column + 1} ({self.headers[column]}): "
        self.errors.append((line, where + problem))

    def fail(self, message: str, line: int = 0) -> None:
        self.errors.append((line, message))


def _read(path: str, columns: dict[str, str], key: str) -> _Sheet:
    """Read ``path``; ``columns`` maps accepted header spellings to fields."""
    sheet = _Sheet(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            sheet.headers = [h.strip() for h in next(reader, [])]
            targets: list[str] = []
            for i, header in enumerate(sheet.headers):
                name = columns.get(header.lower().replace("-", "_").replace(" ", "_"))
                if name is None:
                    sheet.error(1, f"unknown column; known: {', '.join(sorted(set(columns.values())))}", i)
                elif name in targets:
                    sheet.error(1, f"names field {name!r} a second time", i)
                targets.append(name or "")
            if key not in targets:
                sheet.fail(f"{path}:1: the header row has no {key!r} column", 1)
            if sheet.errors:
                return sheet
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(targets):
                    sheet.error(reader.line_num, f"{len(values)} values, but the header has {len(targets)} columns")
                    continue
                sheet.rows.append((reader.line_num, {t: (i, v) for i, (t, v) in enumerate(zip(targets, values))}))
    except OSError as exc:
        sheet.fail(f"{path}: cannot read: {exc.strerror}")
    except (UnicodeDecodeError, csv.Error) as exc:
        sheet.fail(f"{path}: not a UTF-8 CSV file: {exc}")
    return sheet


def _parse_row(
    sheet: _Sheet, line: int, cells: dict[str, tuple[int, str]], options: dict[str, FieldOption]
) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    ok = True
    for name, (column, text) in cells.items():
        if not text.strip() or name not in options:
            continue
        try:
            values[name] = options[name].parse(text)
        except ValueError as exc:
            sheet.error(line, str(exc), column)
            ok = False
    return values if ok else None


def _finish(sheet: _Sheet, io: CliIO, what: str, count: int) -> int:
    if sheet.errors:
        for _, message in sorted(sheet.errors, key=lambda e: e[0])[:MAX_REPORTED]:
            print(message, file=io.stderr)
        if len(sheet.errors) > MAX_REPORTED:
            print(f"… and {len(sheet.errors) - MAX_REPORTED} more", file=io.stderr)
        print(f"faxappliance: {len(sheet.errors)} error(s) in {sheet.path}; nothing imported", file=io.stderr)
        return 1
    print(f"imported {count} {what} from {sheet.path}", file=io.stdout)
    return 0


def _columns(options: tuple[FieldOption, ...], extra: dict[str, str]) -> dict[str, str]:
    columns = dict(extra)
    for opt in options:
        for alias in opt.aliases:
            columns[alias] = opt.field
    return columns


def _unique(sheet: _Sheet, line: int, column: int, key: str, seen: dict[str, int], what: str) -> bool:
    if key in seen:
        sheet.error(line, f"{what} repeats line {seen[key]}", column)
        return False
    seen[key] = line
    return True


def import_accounts(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    """``import accounts FILE.csv``: one transaction for the whole file."""
    extra = {"name": "name", "account": "name", "password": "password", "password_hash": "password_hash"}
    options = {o.field: o for o in ACCOUNT_OPTIONS}
    sheet = _read(args.file, _columns(ACCOUNT_OPTIONS, extra), "name")
    accounts: list[Account] = []
    lines: dict[str, int] = {}
    for line, cells in sheet.rows:
        column, name = cells["name"]
        if not name.strip():
            sheet.error(line, "the account name is empty", column)
            continue
        values = _parse_row(sheet, line, cells, options)
        if not _unique(sheet, line, column, name.casefold(), lines, f"account {name!r}") or values is None:
            continue
        password_hash = _password_cell(sheet, line, cells)
        if password_hash is None:
            continue
        accounts.append(Account(name, password_hash=password_hash, **values))
    if not sheet.errors:
        _store_all(sheet, lines, lambda: store.add_accounts(accounts), str.casefold)
    return _finish(sheet, io, "accounts", len(accounts))


def _password_cell(sheet: _Sheet, line: int, cells: dict[str, tuple[int, str]]) -> str | None:
    """The row's password hash ("" for none), or None after reporting an error."""
    if "password" in cells and cells["password"][1]:
        if "password_hash" in cells and cells["password_hash"][1]:
            sheet.error(line, "give a password or a password_hash, not both", cells["password"][0])
            return None
        return hash_password(cells["password"][1], os.urandom(16))
    if "password_hash" in cells and cells["password_hash"][1]:
        column, text = cells["password_hash"]
        if not text.startswith("scrypt$") or text.count("$") != 5:
            sheet.error(line, "not a password hash of this product (scrypt$N$r$p$salt$hash)", column)
            return None
        return text
    return ""


def _store_all(sheet: _Sheet, lines: dict[str, int], write: Callable[[], int], keyf: Callable[[str], str]) -> None:
    """Run ``write``; a duplicate or unknown record it reports becomes a row error."""
    try:
        write()
    except (DuplicateError, NotFoundError) as exc:
        line = lines.get(keyf(exc.key), 0) if exc.key else 0
        sheet.fail(f"{sheet.path}:{line}: {exc}" if line else f"{sheet.path}: {exc}", line)


def import_dids(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    """``import dids FILE.csv``: one transaction for the whole file."""
    options = {o.field: o for o in DID_OPTIONS}
    sheet = _read(args.file, _columns(DID_OPTIONS, {"did": "did", "number": "did"}), "did")
    dids: list[Did] = []
    lines: dict[str, int] = {}
    known: dict[str, bool] = {}
    for line, cells in sheet.rows:
        column, text = cells["did"]
        number = normalise_did(text)
        if not number:
            sheet.error(line, f"{text!r} is not a DID (no digits)", column)
            continue
        values = _parse_row(sheet, line, cells, options)
        if not _unique(sheet, line, column, number, lines, f"DID {number!r}") or values is None:
            continue
        account = values.get("account", "")
        if account:
            if account.casefold() not in known:
                known[account.casefold()] = store.get_account(account) is not None
            if not known[account.casefold()]:
                sheet.error(line, f"no account named {account!r}", cells["account"][0])
                continue
        dids.append(Did(text, **values))
    if not sheet.errors:
        _store_all(sheet, lines, lambda: store.add_dids(dids), normalise_did)
    return _finish(sheet, io, "DIDs", len(dids))
