"""RADIUS / FaxBack protocol vocabulary: enums, decoded requests, decisions.

Pure data; no I/O.  Attribute *numbers* live only in the dictionary files:
here attributes are known by name.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "A",
    "AcctStatus",
    "Code",
    "Decision",
    "FbCommand",
    "FbContext",
    "Request",
    "Value",
    "Verdict",
]

Value = str | int | bytes


class Code(enum.IntEnum):
    ACCESS_REQUEST = 1
    ACCESS_ACCEPT = 2
    ACCESS_REJECT = 3
    ACCOUNTING_REQUEST = 4
    ACCOUNTING_RESPONSE = 5
    STATUS_SERVER = 12


class AcctStatus(enum.IntEnum):
    START = 1
    STOP = 2
    INTERIM_UPDATE = 3  # the manual's "Alive"
    ACCOUNTING_ON = 7
    ACCOUNTING_OFF = 8


class FbCommand(enum.IntEnum):
    GET_ACCOUNT = 1
    GET_ACCOUNT_FROM_DID = 2
    GET_ACCOUNT_FROM_SENDER_EMAIL_ADDRESS = 3
    GET_LOAD_BALANCE_GROUP_MEMBERS = 4
    GET_CALL_AHEAD_MODE = 5
    GET_ACCOUNT_FROM_SERIAL_NUMBER = 6
    GET_ACCOUNT_FROM_MAC_ADDRESS = 7
    GET_DID = 8
    GET_DIDS_FOR_ACCOUNT = 9


class FbContext(enum.IntEnum):
    ACCOUNT_LOGIN = 1
    ACCOUNT_VALIDATE = 2
    PRE_SEND_SESSION = 3
    PRE_RECEIVE_SESSION = 4
    FOR_EXTERNAL_MODULE = 5


class A(enum.StrEnum):
    """Attribute names (as spelled in the dictionary files)."""

    USER_NAME = "User-Name"
    USER_PASSWORD = "User-Password"
    REPLY_MESSAGE = "Reply-Message"
    PROXY_STATE = "Proxy-State"
    ACCT_STATUS_TYPE = "Acct-Status-Type"
    ACCT_DELAY_TIME = "Acct-Delay-Time"
    ACCT_SESSION_ID = "Acct-Session-Id"
    MESSAGE_AUTHENTICATOR = "Message-Authenticator"
    EAP_MESSAGE = "EAP-Message"
    NAS_IP_ADDRESS = "NAS-IP-Address"
    NAS_IDENTIFIER = "NAS-Identifier"

    FB_COMMAND = "FB-Command"
    FB_CONTEXT = "FB-Context"
    FB_ACCOUNT_TYPE = "FB-Account-Type"
    FB_ACCOUNT_LOGIN_GROUP = "FB-Account-Login-Group"
    FB_ACCOUNT_UUID = "FB-Account-UUID"
    FB_CALL_AHEAD_MODE = "FB-Call-Ahead-Mode"
    FB_CDR_INFO = "FB-CDR-Info"
    FB_CLIENT_INFO = "FB-Client-Info"
    FB_CUSTOMER = "FB-Customer"
    FB_DID = "FB-DID"
    FB_DID_ENABLED = "FB-DID-Enabled"
    FB_DIAL_NUMBER = "FB-Dial-Number"
    FB_FAX_ATA_TYPE = "FB-Fax-ATA-Type"
    FB_LAST_MODIFIED_TIME = "FB-Last-Modified-Time"
    FB_LINE_ID = "FB-Line-Id"
    FB_LINE_NUM = "FB-Line-Num"
    FB_PROVISIONING_ARG = "FB-Provisioning-Arg"
    FB_QUEUE_PROFILE = "FB-Queue-Profile"
    FB_RCV_CSID = "FB-Rcv-CSID"
    FB_RCV_EMAIL = "FB-Rcv-Email"
    FB_RCV_FAILOVER_ACCOUNT_ID = "FB-Rcv-Failover-Account-Id"
    FB_RCV_FAILOVER_ACCOUNT_UUID = "FB-Rcv-Failover-Account-UUID"
    FB_RCV_FAILOVER_MODE = "FB-Rcv-Failover-Mode"
    FB_RCV_FORMAT = "FB-Rcv-Format"
    FB_RCV_TIME_EXPIRED = "FB-Rcv-Time-Expired"
    FB_RCV_TO_ACCOUNT = "FB-Rcv-To-Account"
    FB_RULE_GROUP = "FB-Rule-Group"
    FB_SAVE_CDR = "FB-Save-CDR"
    FB_SND_ANI = "FB-Snd-ANI"
    FB_SND_EMAIL = "FB-Snd-Email"
    FB_SND_FROM_ACCOUNT = "FB-Snd-From-Account"
    FB_SND_ON_BEHALF_OF = "FB-Snd-On-Behalf-Of"
    FB_SND_TIME_EXPIRED = "FB-Snd-Time-Expired"
    FB_SND_TSID = "FB-Snd-TSID"
    FB_SOURCE = "FB-Source"
    FB_TRANSFER_TYPE = "FB-Transfer-Type"
    FB_UPLOAD_LOGS = "FB-Upload-Logs"
    FB_CALLED_NUMBER_RESULT = "FB-Called-Number-Result"


@dataclass(frozen=True)
class Request:
    """A decoded, verified RADIUS request.

    ``attributes`` maps each attribute name (from the dictionary) to its values
    in packet order, decoded by type: ``string`` -> str, ``integer``/``date``
    -> int, ``ipaddr`` -> str, ``octets`` -> bytes.  Attributes the dictionary
    does not know stay in ``unknown`` as ``(vendor, type, raw bytes)``
    (vendor 0 for standard attributes); so do the values of an
    Accounting-Request that do not fit their type (a 5-byte integer).
    """

    code: Code
    id: int
    authenticator: bytes
    attributes: Mapping[str, Sequence[Value]]
    unknown: tuple[tuple[int, int, bytes], ...] = ()
    proxy_states: tuple[bytes, ...] = ()
    has_message_authenticator: bool = False
    password: str | None = None  # User-Password, decrypted

    def get(self, name: A | str, default: Value | None = None) -> Value | None:
        values = self.attributes.get(name.value if isinstance(name, A) else name)
        return values[0] if values else default

    def get_str(self, name: A | str) -> str | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)

    def get_int(self, name: A | str) -> int | None:
        value = self.get(name)
        return value if isinstance(value, int) else None


class Verdict(enum.Enum):
    ACCEPT = "accept"
    REJECT = "reject"


@dataclass(frozen=True)
class Decision:
    """What a handler decided: the reply code and attributes, in order."""

    verdict: Verdict
    attributes: tuple[tuple[str, Value], ...] = ()
    reason: str = ""  # Reply-Message on a reject; log text on an accept
    details: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def accept(cls, *attributes: tuple[str, Value], reason: str = "") -> Decision:
        return cls(Verdict.ACCEPT, tuple(attributes), reason)

    @classmethod
    def reject(cls, reason: str) -> Decision:
        return cls(Verdict.REJECT, (), reason)
