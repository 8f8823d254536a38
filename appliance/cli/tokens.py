"""``faxappliance tokens add|list|revoke``: bearer tokens for the
VoipNow-style send endpoint (``/uapi/faxes/…``).

A token is printed once, when it is added; only its SHA-256 hash is stored
(in the web directory: ``[web] token_store``, else ``[storage] url``).  A
token is issued only for a known account: one in the account store
(``[storage] url``) or a web user (a profile the web service created when
the user logged in or an admin added the user).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from appliance.cli import CliIO, config_from_args
from appliance.config import default_config
from appliance.web.directory import Directory, open_directory
from radius.store import open_store

__all__ = ["register"]


def _directory(args: argparse.Namespace) -> Directory:
    config = config_from_args(args) or default_config()
    web = config.web
    return open_directory(web.token_store or config.storage.url)


def _known(args: argparse.Namespace, directory: Directory, user: str) -> bool:
    """Whether ``user`` is an account of the store or a web user."""
    if directory.get_user(user) is not None:
        return True
    config = config_from_args(args) or default_config()
    store = open_store(config.storage.url)
    try:
        return store.get_account(user) is not None
    finally:
        store.close()


def _add(args: argparse.Namespace, io: CliIO) -> int:
    directory = _directory(args)
    try:
        if not _known(args, directory, args.user):
            print(
                f"faxappliance: no account {args.user!r}: add it first (faxappliance accounts add), no token issued",
                file=io.stderr,
            )
            return 1
        record, token = directory.add_token(args.user, args.label or "", time.time())
    finally:
        directory.close()
    print(f"token {record.id} for {record.username}: {token}", file=io.stdout)
    print("Keep it safe: it is shown only this once.", file=io.stderr)
    return 0


def _list(args: argparse.Namespace, io: CliIO) -> int:
    directory = _directory(args)
    try:
        records = directory.list_tokens()
    finally:
        directory.close()
    print(f"{'id':>4}  {'user':<16} {'created (UTC)':<20} {'state':<8} label", file=io.stdout)
    for r in records:
        created = datetime.fromtimestamp(r.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        state = "revoked" if r.revoked else "active"
        print(f"{r.id:>4}  {r.username:<16} {created:<20} {state:<8} {r.label}", file=io.stdout)
    return 0


def _revoke(args: argparse.Namespace, io: CliIO) -> int:
    directory = _directory(args)
    try:
        found = directory.revoke_token(args.id)
    finally:
        directory.close()
    if not found:
        print(f"faxappliance: no token {args.id}", file=io.stderr)
        return 1
    print(f"token {args.id} revoked", file=io.stdout)
    return 0


def register(subparsers: Any) -> None:
    tokens = subparsers.add_parser("tokens", help="bearer tokens for the /uapi/faxes send endpoint")
    sub = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="issue a token for a user (printed once)")
    add.add_argument("user", help="the user the token sends as")
    add.add_argument("--label", help="what the token is for")
    add.set_defaults(func=_add)
    lst = sub.add_parser("list", help="list tokens (never their values)")
    lst.set_defaults(func=_list)
    revoke = sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_revoke)
