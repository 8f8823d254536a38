"""Success-reply parsers, one per operation (pure).  Each takes the reply
text (already known not to be an ``ERRnn`` reply) and the request fields
(optional columns depend on the flags sent) and returns typed records."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from typing import Any

from appliance.cloud.errors import FaxageProtocolError
from appliance.cloud.records import (
    Ack,
    AuditRecord,
    BlacklistEntry,
    BusyCall,
    CallCounts,
    CdrRecord,
    FaxRecord,
    Folder,
    HandleCount,
    JobSubmitted,
    LowSpeed,
    NpaNxx,
    PortRequest,
    QueueEntry,
    ShortStatus,
    StatusRecord,
    User,
)

__all__ = ["STATUS_FIELDS", "TEXT_PARSERS", "parse_status_line", "status_record_from_fields"]

Fields = dict[str, list[str]]
Parser = Callable[[str, str, Fields], Any]


def _lines(text: str) -> list[str]:
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def _int(op: str, value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise FaxageProtocolError(op, f"{what} is not a number", value) from None


def _columns(op: str, line: str, count: int, *, at_least: bool = False) -> list[str]:
    parts = line.split("\t")
    if len(parts) > count and at_least:
        parts = parts[: count - 1] + ["\t".join(parts[count - 1 :])]
    if len(parts) != count:
        raise FaxageProtocolError(op, f"expected {count} tab-separated fields, got {len(parts)}", line)
    return parts


def _flag(fields: Fields, name: str) -> bool:
    return fields.get(name, [""])[0] == "1"


# ------------------------------------------------------------ one-line acks

_ACKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "clear": (r"(\d+) cleared", ("jobid",)),
    "stopfax": (r"(\d+) stopped", ("jobid",)),
    "delfax": (r"(\d+) deleted", ("faxid",)),
    "handled": (r"(\d+) marked (handled|unhandled)", ("recvid", "state")),
    "mvfax": (r"Recv ID: (\d+) moved to Folder ID: (\d+)", ("recvid", "folderid")),
    "disabledid": (r"Disabled (\d+)", ("didnumber",)),
    "enabledid": (r"Enabled (\d+)", ("didnumber",)),
    "adduser": (r"UID: (\d+)", ("uid",)),
    "remuser": (r"(\d+) removed", ("uid",)),
    "changepass": (r"(\d+) password changed", ("uid",)),
    "changeemail": (r"(\d+) email changed to (.+)", ("uid", "uemail")),
    "addlineemail": (r"(\d+) email routing added to (\d+)", ("uid", "linenumber")),
    "remlineemail": (r"(\d+) email routing removed from (\d+)", ("uid", "linenumber")),
    "addlineperm": (r"(\d+) permission added to (\d+) level (\d)", ("uid", "linenumber", "permlevel")),
    "remlineperm": (r"(\d+) permission removed from (\d+)", ("uid", "linenumber")),
    "donotfax": (r"(\d+) (added|deleted)", ("number", "activity")),
    "provdid": (r"(\d+) provisioned", ("didnumber",)),
    "provonhold": (r"(\d+) provisioned", ("didnumber",)),
    "deprovidid": (r"(\d+) deprovisioned", ("didnumber",)),
}
_ACK_RES = {op: re.compile(rx, re.IGNORECASE) for op, (rx, _) in _ACKS.items()}


def _ack(op: str, text: str, fields: Fields) -> Ack:
    line = text.strip()
    match = _ACK_RES[op].fullmatch(line)
    if not match:
        raise FaxageProtocolError(op, "unexpected success reply", line)
    names = _ACKS[op][1]
    return Ack(operation=op, text=line, subject=match.group(1), extra=tuple(zip(names[1:], match.groups()[1:])))


# ------------------------------------------------------------ sending


def _jobid(op: str, text: str, fields: Fields) -> JobSubmitted:
    match = re.fullmatch(r"JOBID:\s*(\d+)", text.strip())
    if not match:
        raise FaxageProtocolError(op, "expected 'JOBID: <number>'", text.strip())
    return JobSubmitted(jobid=int(match.group(1)))


_STATUS_OPTIONAL = (
    ("pagecount", "pagecount"),
    ("csid", "csid"),
    ("showlogin", "login"),
    ("xmitpages", "xmitpages"),
    ("showtries", "tries"),
)
_INT_COLUMNS = {"pagecount", "xmitpages", "tries"}


def status_record_from_fields(op: str, values: dict[str, str]) -> StatusRecord:
    """A :class:`StatusRecord` from named values (a status line or a callback POST)."""
    try:
        short = ShortStatus(values["shortstatus"].strip().lower())
    except ValueError:
        raise FaxageProtocolError(op, "shortstatus is not pending, success or failure", values["shortstatus"]) from None
    extra: dict[str, Any] = {}
    for _, name in _STATUS_OPTIONAL:
        if name in values:
            extra[name] = _int(op, values[name], name) if name in _INT_COLUMNS else values[name]
    return StatusRecord(
        jobid=_int(op, values["jobid"], "jobid"),
        commid=values["commid"],
        destname=values["destname"],
        destnum=values["destnum"],
        shortstatus=short,
        longstatus=values["longstatus"],
        sendtime=values["sendtime"],
        completetime=values["completetime"],
        xmittime=values["xmittime"],
        **extra,
    )


#: the fields every status record has (also the fields a url_notify callback must carry)
STATUS_FIELDS = (
    "jobid",
    "commid",
    "destname",
    "destnum",
    "shortstatus",
    "longstatus",
    "sendtime",
    "completetime",
    "xmittime",
)


def parse_status_line(op: str, line: str, fields: Fields) -> StatusRecord:
    """One ``<StatusRecord>`` line; optional columns follow in the document's
    order (pagecount, csid, login, xmitpages, tries) for the flags sent."""
    names = list(STATUS_FIELDS) + [name for flag, name in _STATUS_OPTIONAL if _flag(fields, flag)]
    parts = _columns(op, line, len(names))
    return status_record_from_fields(op, dict(zip(names, parts)))


def _status(op: str, text: str, fields: Fields) -> tuple[StatusRecord, ...]:
    return tuple(parse_status_line(op, line, fields) for line in _lines(text))


# ------------------------------------------------------------ receiving


def _listfax(op: str, text: str, fields: Fields) -> tuple[FaxRecord, ...]:
    out = []
    names = ["recvid", "recvdate"] + (["starttime"] if _flag(fields, "starttime") else []) + ["cid", "dnis"]
    for flag in ("filename", "pagecount"):
        if _flag(fields, flag):
            names.append(flag)
    if _flag(fields, "showtsid"):
        names.append("tsid")
    for line in _lines(text):
        values = dict(zip(names, _columns(op, line, len(names))))
        recvid = _int(op, values.pop("recvid"), "recvid")
        pages = _int(op, values.pop("pagecount"), "pagecount") if "pagecount" in values else None
        out.append(FaxRecord(recvid=recvid, pagecount=pages, **values))
    return tuple(out)


def _listfolder(op: str, text: str, fields: Fields) -> tuple[Folder, ...]:
    return tuple(
        Folder(folderid=_int(op, a, "folder-id"), name=b) for a, b in (_columns(op, line, 2) for line in _lines(text))
    )


def _bool(op: str, text: str, fields: Fields) -> bool:
    value = text.strip()
    if value not in ("0", "1"):
        raise FaxageProtocolError(op, "expected '0' or '1'", value)
    return value == "1"


def _numbers(op: str, text: str, fields: Fields) -> tuple[str, ...]:
    lines = [line.strip() for line in _lines(text)]
    if lines == ["No records"]:
        return ()
    bad = [line for line in lines if not line.isdigit()]
    if bad:
        raise FaxageProtocolError(op, "expected one number per line", bad[0])
    return tuple(lines)


def _listusers(op: str, text: str, fields: Fields) -> tuple[User, ...]:
    return tuple(
        User(uid=_int(op, a, "uid"), login=b, email=c) for a, b, c in (_columns(op, line, 3) for line in _lines(text))
    )


# ------------------------------------------------------------ settings


def _lowspeed(op: str, text: str, fields: Fields) -> LowSpeed | Ack:
    line = text.strip()
    if fields.get("qtype") == ["check"]:
        if line not in tuple(LowSpeed):
            raise FaxageProtocolError(op, "expected none, low or lowlow", line)
        return LowSpeed(line)
    match = re.fullmatch(r"Calls from (\S+) to (\S+) set to (\S+)", line)
    if not match:
        raise FaxageProtocolError(op, "unexpected success reply", line)
    return Ack(
        operation=op, text=line, subject=match.group(1), extra=(("dst", match.group(2)), ("setspeed", match.group(3)))
    )


def _blacklist(op: str, text: str, fields: Fields) -> tuple[BlacklistEntry, ...] | Ack:
    if fields.get("activity") == ["list"]:
        return tuple(
            BlacklistEntry(cidnumber=a.strip(), didnumber=b.strip())
            for a, b in (_columns(op, line, 2) for line in _lines(text))
        )
    line = text.strip()
    match = re.fullmatch(r"Entry for cidnumber (\d+) to didnumber (\d+) (added|deleted)", line)
    if not match:
        raise FaxageProtocolError(op, "unexpected success reply", line)
    return Ack(
        operation=op,
        text=line,
        subject=match.group(1),
        extra=(("didnumber", match.group(2)), ("activity", match.group(3))),
    )


# ------------------------------------------------------------ information


def _pair(op: str, text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)~(\d+)", text.strip())
    if not match:
        raise FaxageProtocolError(op, "expected '<count>~<count>'", text.strip())
    return int(match.group(1)), int(match.group(2))


def _handlecount(op: str, text: str, fields: Fields) -> HandleCount:
    total, handled = _pair(op, text)
    return HandleCount(total=total, handled=handled)


def _incomingcalls(op: str, text: str, fields: Fields) -> CallCounts:
    incoming, allocated = _pair(op, text)
    return CallCounts(incoming=incoming, allocated=allocated)


def _pendcount(op: str, text: str, fields: Fields) -> int:
    return _int(op, text, "pend-count")


def _qstatus(op: str, text: str, fields: Fields) -> tuple[QueueEntry, ...]:
    out = []
    for line in _lines(text):
        a, b, c, d, e = _columns(op, line, 5)
        out.append(
            QueueEntry(
                jobid=_int(op, a, "jobid"),
                callerid=b,
                destination=c,
                lineid=_int(op, d, "lineid"),
                pagecount=_int(op, e, "pagecount"),
            )
        )
    return tuple(out)


def _busycalls(op: str, text: str, fields: Fields) -> tuple[BusyCall, ...]:
    lines = _lines(text)
    if [line.strip() for line in lines] == ["No records"]:
        return ()
    return tuple(
        BusyCall(number_called=a, number_calling=b, time=c) for a, b, c in (_columns(op, line, 3) for line in lines)
    )


def _portstatus(op: str, text: str, fields: Fields) -> tuple[PortRequest, ...]:
    out = []
    for line in _lines(text):
        a, b, c, d, e, f, g = _columns(op, line, 7)
        if g not in ("Yes", "No"):
            raise FaxageProtocolError(op, "complete must be Yes or No", g)
        out.append(
            PortRequest(number=a, request_date=b, due_date=c, complete_date=d, status=e, comment=f, complete=g == "Yes")
        )
    return tuple(out)


def _auditlog(op: str, text: str, fields: Fields) -> tuple[AuditRecord, ...]:
    out = []
    for line in _lines(text):
        p = _columns(op, line, 10, at_least=True)
        out.append(
            AuditRecord(
                audit_id=_int(op, p[0], "audit-id"),
                timestamp=p[1],
                login=p[2],
                ip_address=p[3],
                interface=p[4],
                web_sessid=p[5],
                auditop=p[6],
                opstat=p[7],
                request_detail=p[8],
                response_detail=p[9],
            )
        )
    return tuple(out)


def _getcdr(op: str, text: str, fields: Fields) -> tuple[CdrRecord, ...]:
    with_nuid = _flag(fields, "nuidshow")
    out = []
    for row in csv.reader(_lines(text)):
        if len(row) != (6 if with_nuid else 5):
            raise FaxageProtocolError(op, f"expected {6 if with_nuid else 5} comma-separated fields", ",".join(row))
        out.append(
            CdrRecord(
                calldate=row[0],
                direction=row[1],
                src=row[2],
                dst=row[3],
                duration=_int(op, row[4], "duration"),
                nuid=_int(op, row[5], "nuid") if with_nuid else None,
            )
        )
    return tuple(out)


def _listnpanxx(op: str, text: str, fields: Fields) -> tuple[NpaNxx, ...]:
    return tuple(NpaNxx(npanxx=a, rcname=b, rcstate=c) for a, b, c in (_columns(op, line, 3) for line in _lines(text)))


TEXT_PARSERS: dict[str, Parser] = {
    **{op: _ack for op in _ACKS},
    "sendfax": _jobid,
    "resend": _jobid,
    "status": _status,
    "listfax": _listfax,
    "listfolder": _listfolder,
    "portable": _bool,
    "checkline": _bool,
    "listlines": _numbers,
    "listusers": _listusers,
    "lowspeed": _lowspeed,
    "blacklist": _blacklist,
    "handlecount": _handlecount,
    "pendcount": _pendcount,
    "qstatus": _qstatus,
    "incomingcalls": _incomingcalls,
    "busycalls": _busycalls,
    "portstatus": _portstatus,
    "auditlog": _auditlog,
    "getcdr": _getcdr,
    "listac": _numbers,
    "listnpanxx": _listnpanxx,
    "listdids": _numbers,
    "listonhold": _numbers,
}
