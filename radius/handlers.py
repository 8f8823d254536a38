"""FaxBack request handlers: (request, store view, config) -> Decision, and
(Accounting-Request, client, now) -> the CDR to store.

One small function per request kind of spec §7 (E1-E15), registered in a
table keyed by (FbCommand, FbContext).  Handlers only read through the
:class:`~radius.store.api.Store` lookups they are given (the store itself,
called in a thread pool, or the in-memory read model, called on the reactor
thread) and return a :class:`Decision`; they never write, and never touch
sockets, clocks or randomness (``now`` comes in).

Reply attributes are emitted when they differ from the default the port
server assumes when the attribute is omitted (spec §14), plus the ones the
spec requires; extra attributes are harmless to the port server.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid as _uuid
from collections.abc import Callable
from dataclasses import dataclass

from radius.model import A, AcctStatus, Decision, FbCommand, FbContext, Request, Value
from radius.passwords import verify_password
from radius.store.api import (
    Account,
    AccountingRecord,
    DeviceKind,
    Store,
    normalise_did,
    normalise_mac,
    normalise_serial,
)

__all__ = ["HANDLERS", "HandlerConfig", "UuidFormat", "accounting_record", "handle_access"]

Attr = tuple[str, Value]


class UuidFormat(enum.StrEnum):
    """How FB-Account-UUID values are sent (the value is also the config word)."""

    BINARY = "binary"  # 16 raw bytes
    HEX = "hex"  # 0x + 32 upper-case hex digits
    DASH = "dash"  # 8-4-4-4-12, upper case


@dataclass(frozen=True)
class HandlerConfig:
    uuid_mode: bool = False
    uuid_format: UuidFormat | str = UuidFormat.DASH  # the config word is accepted too
    max_name_bytes: int = 16

    def __post_init__(self) -> None:
        # Always a UuidFormat from here on (an unknown word raises ValueError).
        object.__setattr__(self, "uuid_format", UuidFormat(self.uuid_format))

    def format_uuid(self, raw: bytes) -> bytes:
        return format_uuid(raw, UuidFormat(self.uuid_format))


Handler = Callable[[Request, Store, HandlerConfig], Decision]
HANDLERS: dict[tuple[FbCommand, FbContext], Handler] = {}


def _handles(command: FbCommand, *contexts: FbContext) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for ctx in contexts:
            HANDLERS[(command, ctx)] = fn
        return fn

    return register


def handle_access(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    """Dispatch an Access-Request on (FB-Command, FB-Context)."""
    command = req.get_int(A.FB_COMMAND)
    context = req.get_int(A.FB_CONTEXT)
    if command is None:
        return Decision.reject("FB-Command is missing")
    if context is None:
        return Decision.reject("FB-Context is missing")
    try:
        key = (FbCommand(command), FbContext(context))
    except ValueError:
        return Decision.reject(f"unsupported FB-Command/FB-Context pair ({command}, {context})")
    handler = HANDLERS.get(key)
    if handler is None:
        return Decision.reject(f"unsupported FB-Command/FB-Context pair ({key[0].name}, {key[1].name})")
    return handler(req, store, cfg)


# ----------------------------------------------------------------- helpers


def format_uuid(raw: bytes, fmt: UuidFormat) -> bytes:
    if fmt is UuidFormat.BINARY:
        return raw
    if fmt is UuidFormat.HEX:
        return ("0x" + raw.hex().upper()).encode("ascii")
    return str(_uuid.UUID(bytes=raw)).upper().encode("ascii")


def parse_uuid(value: Value) -> bytes | None:
    """Accept a UUID as 16 raw bytes, ``0x`` + 32 hex digits, or dashed text."""
    if isinstance(value, bytes) and len(value) == 16:
        return value
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if text[:2].lower() == "0x":
        text = text[2:]
    try:
        return _uuid.UUID(text).bytes
    except ValueError:
        return None


def _name_problem(name: str | None, cfg: HandlerConfig) -> str | None:
    if not name:
        return "User-Name is missing"
    if len(name.encode("utf-8")) > cfg.max_name_bytes:
        return f"account name longer than {cfg.max_name_bytes} bytes"
    return None


def _find_account(
    req: Request, store: Store, cfg: HandlerConfig, allow_uuid: bool = False
) -> tuple[Account | None, str]:
    """The account a request names (User-Name, or FB-Account-UUID in UUID mode)."""
    if allow_uuid and cfg.uuid_mode and req.get(A.FB_ACCOUNT_UUID) is not None:
        raw = parse_uuid(req.get(A.FB_ACCOUNT_UUID) or b"")
        if raw is None:
            return None, "FB-Account-UUID is not a UUID"
        account = store.get_account_by_uuid(raw)
        return account, "" if account else "no account with that FB-Account-UUID"
    name = req.get_str(A.USER_NAME)
    problem = _name_problem(name, cfg)
    if problem:
        return None, problem
    assert name is not None
    account = store.get_account(name)
    return account, "" if account else f"no account named {name!r}"


def _flag(attrs: list[Attr], name: A, value: bool, default: bool) -> None:
    if value != default:
        attrs.append((name.value, int(value)))


def _text(attrs: list[Attr], name: A, value: str) -> None:
    if value:
        attrs.append((name.value, value))


def _uuid_attrs(account: Account, store: Store, cfg: HandlerConfig) -> list[Attr]:
    if not cfg.uuid_mode:
        return []
    attrs: list[Attr] = [(A.FB_ACCOUNT_UUID.value, cfg.format_uuid(account.uuid))]
    if account.rcv_failover_account:
        failover = store.get_account(account.rcv_failover_account)
        if failover is not None:
            attrs.append((A.FB_RCV_FAILOVER_ACCOUNT_UUID.value, cfg.format_uuid(failover.uuid)))
    return attrs


def _billing_attrs(account: Account) -> list[Attr]:
    attrs: list[Attr] = []
    _flag(attrs, A.FB_SAVE_CDR, account.save_cdr, True)
    _text(attrs, A.FB_CDR_INFO, account.cdr_info)
    _text(attrs, A.FB_CUSTOMER, account.customer)
    _text(attrs, A.FB_SOURCE, account.source)
    if account.upload_logs:
        attrs.append((A.FB_UPLOAD_LOGS.value, account.upload_logs))
    return attrs


def _call_ahead_flag(account: Account, number: str | None, store: Store) -> int:
    """Pre-Send call-ahead flag (spec §4.3/§4.4): 0 = don't, 1 = call ahead."""
    if account.call_ahead_mode == 0:
        return 0
    if account.call_ahead_mode == 2 or not number:
        return 1
    return called_number_flag(store, number)


def called_number_flag(store: Store, number: str) -> int:
    entry = store.get_called_number(normalise_did(number))
    if entry is None or entry.voice_error_seen:
        return 1
    return 0 if entry.last_result in (0, 1) else 1


# ------------------------------------------------------- E1, E2: credentials


@_handles(FbCommand.GET_ACCOUNT, FbContext.ACCOUNT_LOGIN, FbContext.ACCOUNT_VALIDATE)
def get_account_login(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    account, _problem = _find_account(req, store, cfg)
    # One message and one scrypt run for unknown names and wrong passwords
    # alike (an unknown name is checked against a dummy hash): neither the
    # reply nor its timing tells whether an account exists.
    if req.password is None:
        return Decision.reject("invalid account name or password")
    valid = verify_password(req.password, account.password_hash if account is not None else None)
    if account is None or not valid:
        return Decision.reject("invalid account name or password")
    attrs: list[Attr] = []
    if account.account_type:
        attrs.append((A.FB_ACCOUNT_TYPE.value, account.account_type))
    if req.get_int(A.FB_CONTEXT) == FbContext.ACCOUNT_LOGIN:
        _text(attrs, A.FB_ACCOUNT_LOGIN_GROUP, account.login_group)
        if account.call_ahead_mode != 1:
            attrs.append((A.FB_CALL_AHEAD_MODE.value, account.call_ahead_mode))
        if account.upload_logs:
            attrs.append((A.FB_UPLOAD_LOGS.value, account.upload_logs))
        attrs += _uuid_attrs(account, store, cfg)
    return Decision.accept(*attrs)


# ---------------------------------------------------------- E3: pre-send


@_handles(FbCommand.GET_ACCOUNT, FbContext.PRE_SEND_SESSION)
def get_account_pre_send(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    account, problem = _find_account(req, store, cfg, allow_uuid=True)
    if account is None:
        return Decision.reject(problem)
    attrs: list[Attr] = []
    _flag(attrs, A.FB_SND_FROM_ACCOUNT, account.send_enabled, True)
    _flag(attrs, A.FB_SND_TIME_EXPIRED, account.send_time_expired, False)
    _flag(attrs, A.FB_SND_ON_BEHALF_OF, account.send_on_behalf_of, False)
    if req.get_int(A.FB_TRANSFER_TYPE) == 2:
        flag = _call_ahead_flag(account, req.get_str(A.FB_DIAL_NUMBER), store)
        attrs.append((A.FB_CALL_AHEAD_MODE.value, flag))
    _text(attrs, A.FB_SND_ANI, account.snd_ani)
    _text(attrs, A.FB_SND_TSID, account.snd_tsid)
    _text(attrs, A.FB_RULE_GROUP, account.rule_group)
    attrs += _billing_attrs(account)
    return Decision.accept(*attrs)


# -------------------------------------------------------- E4: pre-receive


@_handles(FbCommand.GET_ACCOUNT, FbContext.PRE_RECEIVE_SESSION)
def get_account_pre_receive(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    account, problem = _find_account(req, store, cfg, allow_uuid=True)
    if account is None:
        return Decision.reject(problem)
    attrs: list[Attr] = []
    can_receive = account.receive_enabled and not account.receive_time_expired
    _flag(attrs, A.FB_RCV_TO_ACCOUNT, account.receive_enabled, True)
    _flag(attrs, A.FB_RCV_TIME_EXPIRED, account.receive_time_expired, False)
    if account.is_group:
        attrs.append((A.FB_ACCOUNT_TYPE.value, account.account_type))
        attrs.append((A.FB_LAST_MODIFIED_TIME.value, account.last_modified))
    _text(attrs, A.FB_RCV_CSID, account.rcv_csid)
    failover = account.rcv_failover_account
    if not failover and not can_receive:
        catch_all = store.get_did("*")
        if catch_all is not None and catch_all.account and catch_all.account.casefold() != account.key:
            failover = catch_all.account
    _text(attrs, A.FB_RCV_FAILOVER_ACCOUNT_ID, failover)
    if account.rcv_failover_mode:
        attrs.append((A.FB_RCV_FAILOVER_MODE.value, account.rcv_failover_mode))
    attrs += _billing_attrs(account)
    return Decision.accept(*attrs)


# ------------------------------------------------- E5: for external module


@_handles(FbCommand.GET_ACCOUNT, FbContext.FOR_EXTERNAL_MODULE)
def get_account_external(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    account, problem = _find_account(req, store, cfg, allow_uuid=True)
    if account is None:
        return Decision.reject(problem)
    attrs: list[Attr] = []
    if account.account_type:
        attrs.append((A.FB_ACCOUNT_TYPE.value, account.account_type))
    if account.is_group:
        attrs.append((A.FB_LAST_MODIFIED_TIME.value, account.last_modified))
    _text(attrs, A.FB_RCV_EMAIL, account.rcv_email)
    if account.rcv_format:
        attrs.append((A.FB_RCV_FORMAT.value, account.rcv_format))
    return Decision.accept(*attrs)


# ------------------------------------------------ E6, E7: account from DID


@_handles(FbCommand.GET_ACCOUNT_FROM_DID, FbContext.PRE_RECEIVE_SESSION, FbContext.FOR_EXTERNAL_MODULE)
def get_account_from_did(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    number = req.get_str(A.USER_NAME)
    if not number:
        return Decision.reject("User-Name (the DID) is missing")
    did = store.get_did(normalise_did(number)) or store.get_did("*")
    if did is None or not did.account:
        return Decision.reject(f"DID {number} is not routed to an account")
    attrs: list[Attr] = [(A.USER_NAME.value, did.account)]
    _flag(attrs, A.FB_DID_ENABLED, did.enabled, True)
    if req.get_int(A.FB_CONTEXT) == FbContext.FOR_EXTERNAL_MODULE:
        account = store.get_account(did.account)
        if account is not None:
            _text(attrs, A.FB_RCV_EMAIL, account.rcv_email)
    return Decision.accept(*attrs)


# --------------------------------------------- E8, E9: provisioning devices


def _device_lookup(req: Request, store: Store, kind: DeviceKind, identifier: str) -> Decision:
    device = store.get_device(kind, identifier)
    label = "MAC address" if kind is DeviceKind.MAC else "serial number"
    if device is None:
        return Decision.reject(f"no fax ATA with {label} {identifier}")
    ata_type = req.get_int(A.FB_FAX_ATA_TYPE)
    if device.fax_ata_type is not None and ata_type is not None and ata_type != device.fax_ata_type:
        return Decision.reject(f"fax ATA {identifier} is registered as type {device.fax_ata_type}, not {ata_type}")
    account = store.get_account(device.account)
    if account is None:
        return Decision.reject(f"fax ATA {identifier} belongs to no existing account")
    attrs: list[Attr] = [(A.USER_NAME.value, account.name)]
    _text(attrs, A.FB_PROVISIONING_ARG, device.provisioning_arg)
    _text(attrs, A.FB_QUEUE_PROFILE, device.queue_profile or account.queue_profile)
    return Decision.accept(*attrs)


@_handles(FbCommand.GET_ACCOUNT_FROM_MAC_ADDRESS, FbContext.FOR_EXTERNAL_MODULE)
def get_account_from_mac(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    mac = normalise_mac(req.get_str(A.USER_NAME) or "")
    if len(mac) != 12:
        return Decision.reject("User-Name is not a MAC address")
    return _device_lookup(req, store, DeviceKind.MAC, mac)


@_handles(FbCommand.GET_ACCOUNT_FROM_SERIAL_NUMBER, FbContext.FOR_EXTERNAL_MODULE)
def get_account_from_serial(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    serial = normalise_serial(req.get_str(A.USER_NAME) or "")
    if not serial:
        return Decision.reject("User-Name (the serial number) is missing")
    return _device_lookup(req, store, DeviceKind.SERIAL, serial)


# ---------------------------------------------- E10: call-ahead per number


@_handles(FbCommand.GET_CALL_AHEAD_MODE, FbContext.PRE_SEND_SESSION)
def get_call_ahead_mode(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    number = req.get_str(A.USER_NAME)
    if not number:
        return Decision.reject("User-Name (the dial number) is missing")
    return Decision.accept((A.FB_CALL_AHEAD_MODE.value, called_number_flag(store, number)))


# ---------------------------------------------- E11: sender e-mail address


@_handles(FbCommand.GET_ACCOUNT_FROM_SENDER_EMAIL_ADDRESS, FbContext.FOR_EXTERNAL_MODULE)
def get_account_from_email(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    # The manual puts the address in User-Name (command table) or in
    # FB-Snd-Email (attribute section); accept both, FB-Snd-Email first.
    address = req.get_str(A.FB_SND_EMAIL) or req.get_str(A.USER_NAME)
    if not address:
        return Decision.reject("sender e-mail address is missing")
    account = store.get_account_by_email(address)
    if account is None:
        return Decision.reject(f"no account for sender {address}")
    attrs: list[Attr] = [(A.USER_NAME.value, account.name)]
    _flag(attrs, A.FB_SND_FROM_ACCOUNT, account.send_enabled and not account.send_time_expired, True)
    return Decision.accept(*attrs)


# ------------------------------------------------------ E12, E13: Get-DID


@_handles(FbCommand.GET_DID, FbContext.PRE_SEND_SESSION, FbContext.FOR_EXTERNAL_MODULE)
def get_did(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    # Pre-Send: User-Name is the ANI of the ATA line; For-External-Module: the
    # DID.  Both name a DID record.  The manual's For-External-Module example
    # carries context 3 (spec §11 #5), so both contexts answer in full.
    number = req.get_str(A.USER_NAME)
    did = store.get_did(normalise_did(number)) if number else None
    if did is None:
        if req.get_int(A.FB_CONTEXT) == FbContext.PRE_SEND_SESSION:
            return Decision.accept(reason="no DID matches; not an error before a send")
        return Decision.reject(f"no DID {number}")
    attrs: list[Attr] = []
    _text(attrs, A.USER_NAME, did.account)
    _text(attrs, A.FB_QUEUE_PROFILE, did.queue_profile)
    _text(attrs, A.FB_SND_ANI, did.snd_ani)
    if req.get_int(A.FB_CONTEXT) == FbContext.FOR_EXTERNAL_MODULE:
        if did.line_num:
            attrs.append((A.FB_LINE_NUM.value, did.line_num))
        _text(attrs, A.FB_LINE_ID, did.line_id)
    return Decision.accept(*attrs)


# --------------------------------------------- E14: DIDs of an account


@_handles(FbCommand.GET_DIDS_FOR_ACCOUNT, FbContext.FOR_EXTERNAL_MODULE)
def get_dids_for_account(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    account, problem = _find_account(req, store, cfg)
    if account is None:
        return Decision.reject(problem)
    return Decision.accept(*((A.FB_DID.value, d.did) for d in store.list_dids_for_account(account.name)))


# ----------------------------------------- E15: load-balance group members


@_handles(FbCommand.GET_LOAD_BALANCE_GROUP_MEMBERS, FbContext.PRE_RECEIVE_SESSION)
def get_group_members(req: Request, store: Store, cfg: HandlerConfig) -> Decision:
    # The manual's page with this response is lost (spec §7 E15): members are
    # returned as one User-Name each, in order (FB-Account-UUID each in UUID
    # mode), with the group's type and FB-Last-Modified-Time.
    account, problem = _find_account(req, store, cfg, allow_uuid=True)
    if account is None:
        return Decision.reject(problem)
    if not account.is_group:
        return Decision.reject(f"account {account.name!r} is not a load-balance group")
    attrs: list[Attr] = [
        (A.FB_ACCOUNT_TYPE.value, account.account_type),
        (A.FB_LAST_MODIFIED_TIME.value, account.last_modified),
    ]
    for member in store.list_group_members(account.name):
        attrs.append((A.USER_NAME.value, member))
        if cfg.uuid_mode:
            m = store.get_account(member)
            if m is not None:
                attrs.append((A.FB_ACCOUNT_UUID.value, cfg.format_uuid(m.uuid)))
    return Decision.accept(*attrs)


# -------------------------------------------------------------- accounting


def _jsonable(value: Value) -> object:
    return value.hex() if isinstance(value, bytes) else value


def accounting_record(req: Request, client: str, now: float) -> tuple[AccountingRecord, tuple[str, int] | None]:
    """The CDR to store for an Accounting-Request, and the Called Numbers update.

    ``dedupe_key`` makes a retransmitted Start or Stop (even with a new
    Acct-Delay-Time, hence a new authenticator) map onto the stored record;
    other status types are keyed on their content.
    """
    status = req.get_int(A.ACCT_STATUS_TYPE) or 0
    session = req.get_str(A.ACCT_SESSION_ID) or ""
    user = req.get_str(A.USER_NAME) or ""
    attributes: dict[str, list[object]] = {}
    for name, values in req.attributes.items():
        # Octets become hex; everything else is stored as decoded.
        attributes[name] = [_jsonable(v) for v in values] if bytes in map(type, values) else list(values)
    if status in (AcctStatus.START, AcctStatus.STOP) and session:
        key = f"{status}|{session}|{user.casefold()}"
    else:
        content = {k: v for k, v in attributes.items() if k != A.ACCT_DELAY_TIME.value}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]
        key = f"{status}|{session}|{digest}"
    record = AccountingRecord(
        dedupe_key=key,
        received_at=now,
        client=client,
        status_type=status,
        session_id=session,
        user_name=user,
        attributes=attributes,
        raw_attributes=tuple((v, t, raw.hex()) for v, t, raw in req.unknown),
    )
    update = None
    result = req.get_int(A.FB_CALLED_NUMBER_RESULT)
    number = req.get_str(A.FB_DIAL_NUMBER)
    if status == AcctStatus.STOP and result is not None and number:
        update = (normalise_did(number), result)
    return record, update
