"""Account and DID fields as command-line options and CSV columns.

One table per record kind says, for each field, its option flag(s) and how
text becomes a value; the admin commands and the CSV import both use it, so
``--failover-mode always`` and a CSV cell ``always`` mean the same.
"""

from __future__ import annotations

import argparse
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.cli import UsageError

__all__ = [
    "ACCOUNT_OPTIONS",
    "ACCOUNT_TYPES",
    "CALL_AHEAD",
    "DID_OPTIONS",
    "FAILOVER_MODE",
    "UPLOAD_LOGS",
    "Choices",
    "FieldOption",
    "account_options",
    "add_account_options",
    "add_did_options",
    "did_options",
    "parse_bool",
    "parse_int",
]


class Choices:
    """Named integer values of an FB-* attribute (spec §8.4); numbers work too."""

    def __init__(self, **names: int) -> None:
        self.by_name = {k.replace("_", "-"): v for k, v in names.items()}
        self.by_value = {v: k for k, v in self.by_name.items()}

    def name(self, value: int) -> str:
        return self.by_value.get(value, str(value))

    def describe(self, value: int) -> str:
        return f"{value} ({self.by_value[value]})" if value in self.by_value else str(value)

    def parse(self, text: str) -> int:
        key = text.strip().lower()
        if key in self.by_name:
            return self.by_name[key]
        try:
            return int(key)
        except ValueError:
            raise ValueError(f"{text!r} is not a number or one of {', '.join(self.by_name)}") from None


ACCOUNT_TYPES = Choices(
    private=0, shared=1, private_queue=4, shared_queue=5, group_alternating=8, group_most_free=9, group_random=10
)
CALL_AHEAD = Choices(never=0, dynamic=1, always=2)
UPLOAD_LOGS = Choices(never=0, errors=1, always=2)
FAILOVER_MODE = Choices(busy=0, always=1)

_TRUE = ("1", "true", "yes", "y", "on", "enabled")
_FALSE = ("0", "false", "no", "n", "off", "disabled")


def parse_bool(text: str) -> bool:
    key = text.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a yes/no value (1/0, true/false, yes/no)")


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _uuid(text: str) -> bytes:
    try:
        return uuidlib.UUID(text.strip().removeprefix("0x")).bytes
    except ValueError:
        raise ValueError(f"{text!r} is not a UUID (32 hex digits, dashes allowed)") from None


def parse_int(option: str, text: str) -> int:
    try:
        return _int(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


@dataclass(frozen=True)
class FieldOption:
    field: str  # record field
    flag: str  # option; for booleans the one that sets True
    parse: Callable[[str], Any]
    help: str
    off_flag: str = ""  # booleans: the option that sets False
    metavar: str = "VALUE"

    @property
    def aliases(self) -> tuple[str, ...]:
        """CSV header spellings accepted for this field."""
        names = [self.field, self.flag.lstrip("-").replace("-", "_")] if self.flag else [self.field]
        return tuple(dict.fromkeys(names))


def _text(text: str) -> str:
    return text


def _bool(field: str, on: str, off: str, help_: str) -> FieldOption:
    return FieldOption(field, on, parse_bool, help_, off)


ACCOUNT_OPTIONS: tuple[FieldOption, ...] = (
    FieldOption(
        "account_type",
        "--type",
        ACCOUNT_TYPES.parse,
        "FB-Account-Type: " + ", ".join(ACCOUNT_TYPES.by_name) + " or a number",
        metavar="TYPE",
    ),
    _bool("send_enabled", "--send-enabled", "--send-disabled", "may send (FB-Snd-From-Account)"),
    _bool("receive_enabled", "--receive-enabled", "--receive-disabled", "may receive (FB-Rcv-To-Account)"),
    _bool("send_time_expired", "--send-time-expired", "--send-time-left", "FB-Snd-Time-Expired"),
    _bool("receive_time_expired", "--receive-time-expired", "--receive-time-left", "FB-Rcv-Time-Expired"),
    FieldOption("call_ahead_mode", "--call-ahead-mode", CALL_AHEAD.parse, "never, dynamic or always", metavar="MODE"),
    _bool("save_cdr", "--save-cdr", "--no-save-cdr", "send accounting records (FB-Save-CDR)"),
    _bool("send_on_behalf_of", "--send-on-behalf-of", "--no-send-on-behalf-of", "FB-Snd-On-Behalf-Of"),
    FieldOption("upload_logs", "--upload-logs", UPLOAD_LOGS.parse, "never, errors or always", metavar="WHEN"),
    FieldOption("snd_ani", "--snd-ani", _text, "ANI for sends (FB-Snd-ANI)"),
    FieldOption("snd_tsid", "--snd-tsid", _text, "TSI for sends (FB-Snd-TSID)"),
    FieldOption("rcv_csid", "--rcv-csid", _text, "CSI for receives (FB-Rcv-CSID)"),
    FieldOption("rcv_email", "--rcv-email", _text, "e-mail for received faxes (FB-Rcv-Email)"),
    FieldOption("rcv_format", "--rcv-format", _int, "FB-Rcv-Format"),
    FieldOption("rcv_failover_account", "--failover-account", _text, "FB-Rcv-Failover-Account-Id", metavar="NAME"),
    FieldOption("rcv_failover_mode", "--failover-mode", FAILOVER_MODE.parse, "busy (0) or always (1)", metavar="MODE"),
    FieldOption("rule_group", "--rule-group", _text, "FB-Rule-Group"),
    FieldOption("login_group", "--login-group", _text, "FB-Account-Login-Group"),
    FieldOption("cdr_info", "--cdr-info", _text, "FB-CDR-Info"),
    FieldOption("customer", "--customer", _text, "FB-Customer"),
    FieldOption("source", "--source", _text, "FB-Source"),
    FieldOption("queue_profile", "--queue-profile", _text, "FB-Queue-Profile (XML)"),
    FieldOption("uuid", "--uuid", _uuid, "account UUID (default: a new random one)"),
    FieldOption("last_modified", "", _int, "FB-Last-Modified-Time"),  # CSV only
)

DID_OPTIONS: tuple[FieldOption, ...] = (
    FieldOption("account", "--account", _text, "owning account ('' = unassigned)", metavar="NAME"),
    _bool("enabled", "--enabled", "--disabled", "FB-DID-Enabled"),
    FieldOption("line_id", "--line-id", _text, "FB-Line-Id"),
    FieldOption("line_num", "--line-num", _int, "FB-Line-Num"),
    FieldOption("snd_ani", "--snd-ani", _text, "FB-Snd-ANI returned by Get-DID"),
    FieldOption("queue_profile", "--queue-profile", _text, "FB-Queue-Profile returned by Get-DID"),
)


def _add_options(parser: argparse.ArgumentParser, options: tuple[FieldOption, ...]) -> None:
    for opt in options:
        if not opt.flag:
            continue
        if opt.off_flag:
            pair = parser.add_mutually_exclusive_group()
            pair.add_argument(opt.flag, dest=opt.field, action="store_const", const=True, default=None, help=opt.help)
            pair.add_argument(opt.off_flag, dest=opt.field, action="store_const", const=False, default=None)
        else:
            parser.add_argument(opt.flag, dest=opt.field, metavar=opt.metavar, default=None, help=opt.help)


def _collect(args: argparse.Namespace, options: tuple[FieldOption, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for opt in options:
        raw = getattr(args, opt.field, None)
        if raw is None or not opt.flag:
            continue
        if isinstance(raw, bool):
            values[opt.field] = raw
            continue
        try:
            values[opt.field] = opt.parse(raw)
        except ValueError as exc:
            raise UsageError(f"{opt.flag}: {exc}") from None
    return values


def add_account_options(parser: argparse.ArgumentParser) -> None:
    _add_options(parser, ACCOUNT_OPTIONS)


def account_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Account fields given as options, parsed."""
    return _collect(args, ACCOUNT_OPTIONS)


def add_did_options(parser: argparse.ArgumentParser) -> None:
    _add_options(parser, DID_OPTIONS)


def did_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Did fields given as options, parsed."""
    return _collect(args, DID_OPTIONS)
