"""The FAXAGE operation table: every operation of the three URLs with its
POST variables and their checks (pure data + small check functions).

Differences between the 2014 and 2017 editions of the document (2017 wins):
- base URL ``https://api.faxage.com`` (2014: ``https://www.faxage.com``);
- provision.php de-provisioning is hard-coded ``deprovidid`` (2014: ``deprovdid``);
- status gained ``showtries`` (the number-of-tries column);
- the url_notify callback gained ``csid``;
- sendfax gained ``callerid``, ``jobtz``, ``retryplan``, ``ditheralgo`` and
  the WPS, WPD, PPT, PPTX and PNG file types;
- ``listonhold``/``provonhold`` appear only in the 2017 summary, with no
  detail section; their request shape follows ``provdid``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from appliance.cloud.errors import FaxageRequestError
from appliance.cloud.records import LowSpeed

__all__ = ["CREDENTIAL_VARS", "OPERATIONS", "SUPPORTED_EXTENSIONS", "Endpoint", "OpSpec", "Var"]

CREDENTIAL_VARS = ("username", "company", "password")


class Endpoint(enum.Enum):
    HTTPSFAX = "httpsfax.php"
    GETCDR = "getcdr.php"
    PROVISION = "provision.php"


# The 2017 "Supported File Types" table.
SUPPORTED_EXTENSIONS = frozenset(
    [
        "pdf",
        "ps",
        "doc",
        "docx",
        "dot",
        "wps",
        "wpd",
        "odt",
        "rtf",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "ods",
        "csv",
        "htm",
        "html",
        "bmp",
        "gif",
        "jpg",
        "jpeg",
        "tif",
        "tiff",
        "png",
        "pcl",
        "txt",
    ]
)

Check = Callable[[str, str, str], str]  # (operation, variable, value) -> value


def _pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(op: str, var: str, value: str) -> str:
        if not compiled.fullmatch(value):
            raise FaxageRequestError(op, var, f"must be {what}, got {value!r}")
        return value

    return check


def _choice(*allowed: str) -> Check:
    def check(op: str, var: str, value: str) -> str:
        if value not in allowed:
            raise FaxageRequestError(op, var, f"must be one of {', '.join(allowed)}, got {value!r}")
        return value

    return check


def _text(max_len: int = 0) -> Check:
    def check(op: str, var: str, value: str) -> str:
        if not value or any(c in value for c in "\x00\r\n"):
            raise FaxageRequestError(op, var, "must be non-empty text on one line")
        if max_len and len(value) > max_len:
            raise FaxageRequestError(op, var, f"must be at most {max_len} characters, got {len(value)}")
        return value

    return check


def _url(op: str, var: str, value: str) -> str:
    if not re.fullmatch(r"https?://\S+", value):
        raise FaxageRequestError(op, var, f"must be an absolute http:// or https:// URL, got {value!r}")
    return value


def _filename(op: str, var: str, value: str) -> str:
    ext = value.rsplit(".", 1)[-1].lower() if "." in value else ""
    if ext not in SUPPORTED_EXTENSIONS:
        raise FaxageRequestError(
            op, var, f"{value!r} does not end in a supported extension ({', '.join(sorted(SUPPORTED_EXTENSIONS))})"
        )
    return _text()(op, var, value)


def _extension(op: str, var: str, value: str) -> str:
    if value.lower() not in SUPPORTED_EXTENSIONS:
        raise FaxageRequestError(op, var, f"{value!r} is not a supported file type")
    return value.lower()


def _base64(op: str, var: str, value: str) -> str:
    if len(value) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", value):
        raise FaxageRequestError(op, var, "must be base64 text (the client encodes files itself)")
    return value


TEN_DIGITS = _pattern(r"\d{10}", "a 10-digit number, digits only")
ID = _pattern(r"[1-9]\d{0,18}", "a positive integer")
COUNTER = _pattern(r"\d{1,19}", "a non-negative integer")
FLAG = _choice("1")
DATETIME = _pattern(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "a YYYY-MM-DD HH:MM:SS timestamp")
PHONE = _pattern(r"\d{1,15}", "a phone number, digits only")
JOBTZ = _choice(*(str(i) for i in range(1, 10)))
RETRYPLAN = _choice("5", "10", "20", "30", "60", "120")


@dataclass(frozen=True)
class Var:
    name: str
    check: Check
    required: bool = False
    secret: bool = False
    help: str = ""

    @property
    def array(self) -> bool:
        return self.name.endswith("[]")


def _v(name: str, check: Check, help: str = "", *, required: bool = False, secret: bool = False) -> Var:
    return Var(name, check, required, secret, help)


def _r(name: str, check: Check, help: str = "", *, secret: bool = False) -> Var:
    return Var(name, check, True, secret, help)


CrossCheck = Callable[[str, dict[str, list[str]]], None]


@dataclass(frozen=True)
class OpSpec:
    name: str
    endpoint: Endpoint
    summary: str
    variables: tuple[Var, ...] = ()
    cross_check: CrossCheck | None = None
    binary: bool = False

    def var(self, name: str) -> Var | None:
        return next((v for v in self.variables if v.name == name), None)


# ------------------------------------------------------------ cross checks


def _fail(op: str, var: str, problem: str) -> None:
    raise FaxageRequestError(op, var, problem)


def _sendfax_modes(op: str, f: dict[str, list[str]]) -> None:
    modes = [m for m in ("faxfilenames[]", "faxurl", "faxurls[]") if f.get(m)]
    if len(modes) != 1:
        _fail(op, "", "give exactly one of faxfilenames[]/faxfiledata[] (files), faxurl or faxurls[]")
    if modes == ["faxfilenames[]"]:
        if len(f["faxfilenames[]"]) != len(f.get("faxfiledata[]", [])):
            _fail(op, "faxfiledata[]", "needs exactly one entry per faxfilenames[] entry")
        if f.get("async") or f.get("faxurltypes[]"):
            _fail(op, "async", "async and faxurltypes[] apply to URL mode only")
    elif f.get("faxfiledata[]"):
        _fail(op, "faxfiledata[]", "file data needs faxfilenames[]")
    if f.get("faxurltypes[]") and len(f["faxurltypes[]"]) != len(f.get("faxurls[]", [])):
        _fail(op, "faxurltypes[]", "needs exactly one entry per faxurls[] entry")


def _status_ids(op: str, f: dict[str, list[str]]) -> None:
    if f.get("jobid") and f.get("jobids[]"):
        _fail(op, "jobids[]", "give jobid or jobids[], not both")


def _getcdr_window(op: str, f: dict[str, list[str]]) -> None:
    if not (f.get("nuidgt") or (f.get("begin") and f.get("end"))):
        _fail(op, "", "give both begin and end, or nuidgt (the service returns nothing otherwise)")


def _lowspeed(op: str, f: dict[str, list[str]]) -> None:
    if f["qtype"] == ["set"] and not f.get("setspeed"):
        _fail(op, "setspeed", "is required when qtype is set")


def _blacklist(op: str, f: dict[str, list[str]]) -> None:
    if f["activity"] != ["list"] and not f.get("cidnumber"):
        _fail(op, "cidnumber", "is required for add and del")


# ------------------------------------------------------------ the table

_JOBID = _r("jobid", ID, "job id from sendfax")
_DID = _r("didnumber", TEN_DIGITS, "10-digit fax number")
_UID = _r("uid", ID, "numeric user id")
_LINE = _r("linenumber", TEN_DIGITS, "10-digit fax number")
_NOTIFY_OPTIONS = (
    _v("tagname", _text(), "name after From: in the page header"),
    _v("tagnumber", _text(14), "number in the page header, 1.XXX.XXX.XXXX"),
    _v("callerid", TEN_DIGITS, "caller ID to send"),
    _v("em_notify", FLAG, "1: e-mail the final status"),
    _v("url_notify", _url, "URL the final status is POSTed to"),
    _v("jobtz", JOBTZ, "time zone 1-9 for the header"),
    _v("retryplan", RETRYPLAN, "retry plan 5/10/20/30/60/120"),
    _v("ditheralgo", _choice("1", "2"), "1 text, 2 images"),
)
H, C, P = Endpoint.HTTPSFAX, Endpoint.GETCDR, Endpoint.PROVISION

_SPECS: tuple[OpSpec, ...] = (
    OpSpec(
        "sendfax",
        H,
        "send a fax (files or URLs)",
        (
            _r("recipname", _text(32), "recipient name, at most 32 characters"),
            _r("faxno", TEN_DIGITS, "destination, 10 digits"),
            _v("faxfilenames[]", _filename, "file names (supported extensions)"),
            _v("faxfiledata[]", _base64, "base64 file contents"),
            _v("faxurl", _url, "URL to fax"),
            _v("faxurls[]", _url, "URLs to fax"),
            *_NOTIFY_OPTIONS,
            _v("resolution", _choice("1", "2"), "1 fine, 2 hyperfine"),
            _v("contrastalgo", _choice("1", "2"), "1 default, 2 darker"),
            _v("priority", _choice("high", "low"), "queue priority"),
            _v("async", FLAG, "URL mode: fetch after replying"),
            _v("faxurltypes[]", _extension, "URL mode: file type per faxurls[]"),
        ),
        _sendfax_modes,
    ),
    OpSpec(
        "status",
        H,
        "status of sent jobs",
        (
            _v("jobid", ID, "one job"),
            _v("jobids[]", ID, "several jobs"),
            *(
                _v(flag, FLAG, "1: " + h)
                for flag, h in (
                    ("pagecount", "add the page count column"),
                    ("useronly", "only this login's jobs"),
                    ("extqueue", "extended queue status"),
                    ("csid", "add the remote CSID column"),
                    ("showlogin", "add the login column"),
                    ("xmitpages", "add the pages-sent column"),
                    ("showtries", "add the tries column"),
                )
            ),
            _v("begin", DATETIME, "from YYYY-MM-DD HH:MM:SS"),
            _v("end", DATETIME, "to YYYY-MM-DD HH:MM:SS"),
        ),
        _status_ids,
    ),
    OpSpec("dlstatus", H, "image of a sent fax", (_JOBID, _v("viewtype", _choice("tiff", "pdf"))), binary=True),
    OpSpec("dltrans", H, "transmittal page PDF of a sent fax", (_JOBID, _v("jobtz", JOBTZ)), binary=True),
    OpSpec("clear", H, "delete a completed job's record", (_JOBID,)),
    OpSpec("stopfax", H, "cancel a queued job", (_JOBID,)),
    OpSpec("resend", H, "resend a completed job", (_JOBID, *_NOTIFY_OPTIONS)),
    OpSpec(
        "listfax",
        H,
        "list received faxes",
        (
            *(
                _v(flag, FLAG, "1: " + h)
                for flag, h in (
                    ("useronly", "only faxes this login may see"),
                    ("idasc", "oldest first by recvid"),
                    ("filename", "add the filename column"),
                    ("starttime", "add the start time column"),
                    ("unhandled", "only faxes not marked handled"),
                    ("pagecount", "add the page count column"),
                    ("showtsid", "add the sender TSID column"),
                )
            ),
            _v("begin", DATETIME, "received after YYYY-MM-DD HH:MM:SS"),
            _v("idgt", COUNTER, "only recvids greater than this"),
            _v("didnumber", TEN_DIGITS, "only faxes to this DID"),
        ),
    ),
    OpSpec(
        "getfax",
        H,
        "download a received fax",
        (
            _r("faxid", ID, "recvid from listfax"),
            _v("resolution", FLAG, "1: force 204x196"),
            _v("informat", _choice("pdf", "tiff")),
        ),
        binary=True,
    ),
    OpSpec("delfax", H, "delete a received fax", (_r("faxid", ID, "recvid from listfax"),)),
    OpSpec(
        "handled",
        H,
        "mark a received fax (un)handled",
        (_r("recvid", ID), _r("handled", _choice("0", "1"), "1 handled, 0 unhandled")),
    ),
    OpSpec("listfolder", H, "list folders"),
    OpSpec("mvfax", H, "move a received fax to a folder", (_r("folderid", ID), _r("recvid", ID))),
    OpSpec("disabledid", H, "busy out a DID", (_DID,)),
    OpSpec("enabledid", H, "re-enable a DID", (_DID,)),
    OpSpec("portable", H, "is a number portable to FAXAGE", (_DID,)),
    OpSpec("listlines", H, "list the account's numbers"),
    OpSpec("checkline", H, "is a number on the account", (_r("checknum", TEN_DIGITS),)),
    OpSpec(
        "adduser",
        H,
        "add a user",
        (_r("ulogin", _text()), _r("upasswd", _text(), secret=True), _r("ufullname", _text()), _r("uemail", _text())),
    ),
    OpSpec("remuser", H, "remove a user", (_UID,)),
    OpSpec("changepass", H, "set a user's password", (_UID, _r("upasswd", _text(), secret=True))),
    OpSpec("changeemail", H, "set a user's e-mail", (_UID, _r("uemail", _text()))),
    OpSpec("listusers", H, "list users"),
    OpSpec("addlineemail", H, "e-mail a user a line's faxes", (_UID, _LINE)),
    OpSpec("remlineemail", H, "stop e-mailing a user a line's faxes", (_UID, _LINE)),
    OpSpec(
        "addlineperm",
        H,
        "grant a user a line permission",
        (_UID, _LINE, _r("permlevel", _choice("1", "2", "3"), "1 read+send, 2 +move/rename, 3 +delete")),
    ),
    OpSpec("remlineperm", H, "revoke a user's line permission", (_UID, _LINE)),
    OpSpec(
        "lowspeed",
        H,
        "check/set low speed answering",
        (
            _r("src", PHONE, "caller ID"),
            _r("dst", TEN_DIGITS, "your fax number"),
            _r("qtype", _choice("check", "set")),
            _v("setspeed", _choice(*LowSpeed)),
        ),
        _lowspeed,
    ),
    OpSpec(
        "blacklist",
        H,
        "add/del/list blacklist entries",
        (
            _v("cidnumber", TEN_DIGITS, "caller ID to block"),
            _r("didnumber", TEN_DIGITS, "your fax number, 0000000000 for all"),
            _r("activity", _choice("add", "del", "list")),
        ),
        _blacklist,
    ),
    OpSpec(
        "donotfax",
        H,
        "add/del do-not-fax entries",
        (_r("number", TEN_DIGITS), _r("activity", _choice("add", "del")), _v("name", _text()), _v("comment", _text())),
    ),
    OpSpec("handlecount", H, "received and handled totals"),
    OpSpec("pendcount", H, "number of pending outbound faxes"),
    OpSpec("qstatus", H, "pending faxes and their lines"),
    OpSpec("incomingcalls", H, "inbound calls now and allowed"),
    OpSpec("busycalls", H, "calls that got busy"),
    OpSpec("portstatus", H, "number port requests"),
    OpSpec(
        "auditlog",
        H,
        "audit log records",
        (
            _v("begin", DATETIME),
            _v("end", DATETIME),
            _v("audtidgt", COUNTER, "only audit ids greater than this (the document's spelling)"),
            _v("auditop", _text()),
            _v("audituser", _text()),
            _v("opstat", _choice("1", "2"), "1 success, 2 failure"),
        ),
    ),
    OpSpec(
        "getcdr",
        C,
        "call detail records",
        (
            _v("begin", DATETIME),
            _v("end", DATETIME),
            _v("nuidshow", FLAG, "1: add the nuid column"),
            _v("nuidgt", COUNTER, "only nuids greater than this"),
            _v("didnumber", TEN_DIGITS, "only calls to this DID"),
        ),
        _getcdr_window,
    ),
    OpSpec("listac", P, "area codes with DIDs available"),
    OpSpec("listnpanxx", P, "NPANXXs with DIDs available", (_v("ac", _pattern(r"\d{3}", "a 3-digit area code")),)),
    OpSpec(
        "listdids",
        P,
        "DIDs available",
        (_v("ac", _pattern(r"\d{3}", "a 3-digit area code")), _v("npanxx", _pattern(r"\d{6}", "6 digits"))),
    ),
    OpSpec("provdid", P, "provision a DID", (_DID,)),
    OpSpec("deprovidid", P, "de-provision a DID (on hold 30 days)", (_DID,)),
    OpSpec("listonhold", P, "DIDs on hold after de-provisioning"),
    OpSpec("provonhold", P, "provision a DID that is on hold", (_DID,)),
)

OPERATIONS: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}
