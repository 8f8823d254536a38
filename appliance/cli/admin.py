"""Admin commands on the account store: accounts, dids, devices, emails,
groups and import (names fixed by the product: scripts rely on them;
``cdrs`` is in :mod:`appliance.cli.cdrs`).

Each command opens the store named by ``--config`` (or the embedded
default), does its work and prints a table (people) or ``--format csv|json``
(scripts).  Store errors go to stderr as ``faxappliance: …`` with exit 1.
"""

from __future__ import annotations

import argparse
import functools
import os
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from appliance.cli import CliIO, UsageError, config_from_args
from appliance.cli import _admin_fields as fields
from appliance.cli._admin_import import import_accounts, import_dids
from appliance.cli._output import OutputFormat, ReportFormat, choice, names, print_record, print_rows
from appliance.config import default_config
from radius.passwords import hash_password
from radius.store import (
    ACCOUNT_FIELDS,
    Account,
    Device,
    Did,
    NotFoundError,
    SenderEmail,
    Store,
    StoreError,
    open_store,
)

__all__ = ["format_arg", "open_configured_store", "register", "with_store"]

Command = Callable[[argparse.Namespace, CliIO, Store], int]


def open_configured_store(args: argparse.Namespace) -> Store:
    """The store of ``--config`` (or of the embedded default config)."""
    config = config_from_args(args) or default_config()
    return open_store(config.storage.url)


def with_store(func: Command) -> Callable[[argparse.Namespace, CliIO], int]:
    @functools.wraps(func)
    def run(args: argparse.Namespace, io: CliIO) -> int:
        try:
            store = open_configured_store(args)
        except StoreError as exc:
            print(f"faxappliance: {exc}", file=io.stderr)
            return 1
        try:
            return func(args, io, store)
        except StoreError as exc:
            print(f"faxappliance: {exc}", file=io.stderr)
            return 1
        finally:
            store.close()

    return run


def format_arg(parser: argparse.ArgumentParser, kind: type[OutputFormat | ReportFormat] = OutputFormat) -> None:
    default = next(iter(kind))
    parser.add_argument(
        "--format", type=choice(kind), choices=names(*kind), default=default, help=f"output format (default {default})"
    )


# ------------------------------------------------------------------ accounts


def _password(args: argparse.Namespace, io: CliIO) -> str | None:
    """The new password hash, or None when no password option was given."""
    if args.password_stdin:
        text = io.stdin.readline().rstrip("\r\n")
    elif args.password is not None:
        text = args.password
    else:
        return None
    if not text:
        raise UsageError("the password must not be empty")
    return hash_password(text, os.urandom(16))


def account_dict(account: Account) -> dict[str, Any]:
    """An account for output: the password hash is never shown, only whether there is one."""
    out: dict[str, Any] = {"name": account.name, "password": "set" if account.password_hash else "not set"}
    for name in ACCOUNT_FIELDS:
        if name == "uuid":
            out[name] = str(uuidlib.UUID(bytes=account.uuid)) if len(account.uuid) == 16 else account.uuid.hex()
        elif name != "password_hash":
            out[name] = getattr(account, name)
    return out


ACCOUNT_CSV_COLUMNS = tuple(c for c in account_dict(Account("x")) if c != "password")
ACCOUNT_TABLE_COLUMNS = ("name", "type", "send", "receive", "call_ahead", "snd_ani", "rcv_email", "failover")


def _account_table_row(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "type": fields.ACCOUNT_TYPES.name(account.account_type),
        "send": account.send_enabled and not account.send_time_expired,
        "receive": account.receive_enabled and not account.receive_time_expired,
        "call_ahead": fields.CALL_AHEAD.name(account.call_ahead_mode),
        "snd_ani": account.snd_ani,
        "rcv_email": account.rcv_email,
        "failover": account.rcv_failover_account,
    }


@with_store
def accounts_add(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    values = fields.account_options(args)
    password_hash = _password(args, io)
    if password_hash is not None:
        values["password_hash"] = password_hash
    account = store.add_account(Account(args.name, **values))
    print(f"added account {account.name}", file=io.stdout)
    size = len(account.name.encode("utf-8"))
    if size > 16:
        print(f"faxappliance: warning: account name {account.name!r} is {size} bytes; port servers accept "
              "names over 16 bytes only in UUID mode", file=io.stderr)  # fmt: skip
    return 0


@with_store
def accounts_set(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    values = fields.account_options(args)
    password_hash = _password(args, io)
    if password_hash is not None:
        values["password_hash"] = password_hash
    if not values:
        raise UsageError("accounts set: nothing to change (give at least one option)")
    account = store.update_account(args.name, **values)
    print(f"updated account {account.name}", file=io.stdout)
    return 0


@with_store
def accounts_show(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    account = store.get_account(args.name)
    if account is None:
        raise NotFoundError(f"no account named {args.name!r}")
    record = account_dict(account)
    if args.format is not ReportFormat.JSON:
        record["account_type"] = fields.ACCOUNT_TYPES.describe(account.account_type)
        record["call_ahead_mode"] = fields.CALL_AHEAD.describe(account.call_ahead_mode)
        record["upload_logs"] = fields.UPLOAD_LOGS.describe(account.upload_logs)
        record["rcv_failover_mode"] = fields.FAILOVER_MODE.describe(account.rcv_failover_mode)
    record["dids"] = [d.did for d in store.list_dids_for_account(account.name)]
    if account.is_group:
        record["members"] = store.list_group_members(account.name)
    if args.format is not ReportFormat.JSON:
        record["dids"] = ", ".join(record["dids"])
        if "members" in record:
            record["members"] = ", ".join(record["members"])
    print_record(record, args.format, io.stdout)
    return 0


@with_store
def accounts_list(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    accounts = store.list_accounts()
    if args.format is OutputFormat.TABLE:
        print_rows([_account_table_row(a) for a in accounts], ACCOUNT_TABLE_COLUMNS, OutputFormat.TABLE, io.stdout)
    else:
        print_rows([account_dict(a) for a in accounts], ACCOUNT_CSV_COLUMNS, args.format, io.stdout)
    return 0


@with_store
def accounts_delete(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    store.delete_account(args.name)
    print(f"deleted account {args.name}", file=io.stdout)
    return 0


def _register_accounts(sub: Any) -> None:
    parser = sub.add_parser("accounts", help="manage accounts")
    cmds = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, func, help_ in (("add", accounts_add, "add an account"), ("set", accounts_set, "change an account")):
        p = cmds.add_parser(action, help=help_)
        p.add_argument("name", metavar="NAME")
        pw = p.add_mutually_exclusive_group()
        pw.add_argument(
            "--password", metavar="PW", help="password (visible to other local users; prefer --password-stdin)"
        )
        pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
        fields.add_account_options(p)
        p.set_defaults(func=func)
    p = cmds.add_parser("show", help="show one account (never its password)")
    p.add_argument("name", metavar="NAME")
    format_arg(p, ReportFormat)
    p.set_defaults(func=accounts_show)
    p = cmds.add_parser("list", help="list accounts")
    format_arg(p)
    p.set_defaults(func=accounts_list)
    p = cmds.add_parser("delete", help="delete an account (its DIDs become unassigned)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=accounts_delete)


# ---------------------------------------------------------------------- DIDs

DID_COLUMNS = ("did", "account", "enabled", "line_id", "line_num", "snd_ani", "queue_profile")


@with_store
def dids_add(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    values = fields.did_options(args)
    did = store.add_did(Did(args.did, **values))
    print(f"added DID {did.did}" + (f" for account {did.account}" if did.account else " (unassigned)"), file=io.stdout)
    return 0


@with_store
def dids_set(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    values = fields.did_options(args)
    if not values:
        raise UsageError("dids set: nothing to change (give at least one option)")
    did = store.update_did(args.did, **values)
    print(f"updated DID {did.did}", file=io.stdout)
    return 0


@with_store
def dids_list(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    if args.account is not None and store.get_account(args.account) is None:
        raise NotFoundError(f"no account named {args.account!r}")
    rows = [{c: getattr(d, c) for c in DID_COLUMNS} for d in store.list_dids(args.account)]
    print_rows(rows, DID_COLUMNS, args.format, io.stdout)
    return 0


@with_store
def dids_delete(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    store.delete_did(args.did)
    print(f"deleted DID {args.did}", file=io.stdout)
    return 0


def _register_dids(sub: Any) -> None:
    parser = sub.add_parser("dids", help="manage inbound numbers (DIDs)")
    cmds = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, func, help_ in (("add", dids_add, "add a DID"), ("set", dids_set, "change a DID")):
        p = cmds.add_parser(action, help=help_)
        p.add_argument("did", metavar="DID", help="the number (punctuation is ignored) or * for the catch-all")
        fields.add_did_options(p)
        p.set_defaults(func=func)
    p = cmds.add_parser("list", help="list DIDs")
    p.add_argument("--account", metavar="NAME", help="only this account's DIDs")
    format_arg(p)
    p.set_defaults(func=dids_list)
    p = cmds.add_parser("delete", help="delete a DID")
    p.add_argument("did", metavar="DID")
    p.set_defaults(func=dids_delete)


# ------------------------------------------------------------------- devices

DEVICE_COLUMNS = ("kind", "identifier", "account", "fax_ata_type", "provisioning_arg", "queue_profile")


def _device_key(args: argparse.Namespace) -> tuple[str, str]:
    return ("mac", args.mac) if args.mac is not None else ("serial", args.serial)


@with_store
def devices_add(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    kind, identifier = _device_key(args)
    ata_type = fields.parse_int("--fax-ata-type", args.fax_ata_type) if args.fax_ata_type is not None else None
    device = store.add_device(
        Device(kind, identifier, args.account, ata_type, args.provisioning_arg or "", args.queue_profile or "")
    )
    print(f"added device {device.kind} {device.identifier} for account {device.account}", file=io.stdout)
    return 0


@with_store
def devices_list(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    rows = [{c: getattr(d, c) for c in DEVICE_COLUMNS} for d in store.list_devices()]
    print_rows(rows, DEVICE_COLUMNS, args.format, io.stdout)
    return 0


@with_store
def devices_delete(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    kind, identifier = _device_key(args)
    store.delete_device(kind, identifier)
    print(f"deleted device {kind} {identifier}", file=io.stdout)
    return 0


def _device_id_args(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--mac", metavar="MAC", help="MAC address (any separators)")
    which.add_argument("--serial", metavar="SERIAL", help="serial number")


def _register_devices(sub: Any) -> None:
    parser = sub.add_parser("devices", help="manage fax ATAs known by MAC address or serial number")
    cmds = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = cmds.add_parser("add", help="add a device")
    _device_id_args(p)
    p.add_argument("--account", metavar="NAME", required=True, help="the account the device provisions")
    p.add_argument("--fax-ata-type", metavar="N", help="FB-Fax-ATA-Type it must report (default: any)")
    p.add_argument("--provisioning-arg", metavar="TEXT", help="FB-Provisioning-Arg")
    p.add_argument("--queue-profile", metavar="XML", help="FB-Queue-Profile")
    p.set_defaults(func=devices_add)
    p = cmds.add_parser("list", help="list devices")
    format_arg(p)
    p.set_defaults(func=devices_list)
    p = cmds.add_parser("delete", help="delete a device")
    _device_id_args(p)
    p.set_defaults(func=devices_delete)


# -------------------------------------------------------------------- emails


@with_store
def emails_add(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    entry = store.add_sender_email(SenderEmail(args.address, args.account))
    print(f"added sender e-mail {entry.address} for account {entry.account}", file=io.stdout)
    return 0


@with_store
def emails_list(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    rows = [{"address": e.address, "account": e.account} for e in store.list_sender_emails()]
    print_rows(rows, ("address", "account"), args.format, io.stdout)
    return 0


@with_store
def emails_delete(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    store.delete_sender_email(args.address)
    print(f"deleted sender e-mail {args.address}", file=io.stdout)
    return 0


def _register_emails(sub: Any) -> None:
    parser = sub.add_parser("emails", help="manage sender e-mail addresses")
    cmds = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = cmds.add_parser("add", help="map a sender e-mail address to an account")
    p.add_argument("address", metavar="ADDRESS")
    p.add_argument("--account", metavar="NAME", required=True)
    p.set_defaults(func=emails_add)
    p = cmds.add_parser("list", help="list sender e-mail addresses")
    format_arg(p)
    p.set_defaults(func=emails_list)
    p = cmds.add_parser("delete", help="delete a sender e-mail address")
    p.add_argument("address", metavar="ADDRESS")
    p.set_defaults(func=emails_delete)


# -------------------------------------------------------------------- groups


@with_store
def groups_set(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    store.set_group_members(args.group, args.members)
    print(f"group {args.group} has {len(args.members)} member(s)", file=io.stdout)
    return 0


@with_store
def groups_show(args: argparse.Namespace, io: CliIO, store: Store) -> int:
    group = store.get_account(args.group)
    if group is None:
        raise NotFoundError(f"no account named {args.group!r}")
    members = store.list_group_members(group.name)
    if args.format is OutputFormat.JSON:
        record = {"group": group.name, "account_type": group.account_type, "last_modified": group.last_modified}
        print_record({**record, "members": members}, OutputFormat.JSON, io.stdout)
    else:
        rows = [{"position": i + 1, "member": m} for i, m in enumerate(members)]
        kind = fields.ACCOUNT_TYPES.describe(group.account_type)
        print(f"group {group.name}, type {kind}, last modified {group.last_modified}", file=io.stdout)
        print_rows(rows, ("position", "member"), args.format, io.stdout)
    return 0


def _register_groups(sub: Any) -> None:
    parser = sub.add_parser("groups", help="load-balance group members")
    cmds = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = cmds.add_parser("set", help="replace a group's members (in delivery order)")
    p.add_argument("group", metavar="GROUP")
    p.add_argument("members", metavar="MEMBER", nargs="*")
    p.set_defaults(func=groups_set)
    p = cmds.add_parser("show", help="show a group's members")
    p.add_argument("group", metavar="GROUP")
    format_arg(p)
    p.set_defaults(func=groups_show)


# -------------------------------------------------------------------- import


def _register_import(sub: Any) -> None:
    parser = sub.add_parser("import", help="import accounts or DIDs from CSV (all or nothing)")
    cmds = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    p = cmds.add_parser("accounts", help="import accounts: header row of Account fields (name, password, type, …)")
    p.add_argument("file", metavar="FILE.csv")
    p.set_defaults(func=with_store(import_accounts))
    p = cmds.add_parser("dids", help="import DIDs: header row of Did fields (did, account, enabled, …)")
    p.add_argument("file", metavar="FILE.csv")
    p.set_defaults(func=with_store(import_dids))


def register(subparsers: Any) -> None:
    """Add the admin commands to the ``faxappliance`` parser."""
    for add in (_register_accounts, _register_dids, _register_devices, _register_emails, _register_groups):
        add(subparsers)
    _register_import(subparsers)
