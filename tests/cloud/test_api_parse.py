"""Contract tests for the pure FAXAGE reply parsers: every documented reply, typed
results and typed errors."""

from __future__ import annotations

import pytest

from appliance.cloud import api
from appliance.cloud.errors import (
    AlreadyExists,
    BadPost,
    BlockedDestination,
    FaxageProtocolError,
    FaxageTransportError,
    InvalidArgument,
    LoginIncorrect,
    NoRecords,
    NotConverted,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
)
from appliance.cloud.records import (
    Ack,
    BlacklistEntry,
    BusyCall,
    CallCounts,
    CdrRecord,
    Document,
    FaxRecord,
    Folder,
    HandleCount,
    JobSubmitted,
    NpaNxx,
    PortRequest,
    QueueEntry,
    ShortStatus,
    User,
)
from tests.cloud.contract import CREDS, minimal_params


def _parse(
    operation: str, body: bytes, params: dict[str, object] | None = None, headers: dict[str, str] | None = None
) -> object:
    return api.parse(
        api.build(operation, minimal_params(operation) if params is None else params),
        200,
        body,
        headers,  # type: ignore[arg-type]
        secrets=CREDS.secrets(),
    )


STATUS_LINE = b"1234\t5678\tBob\t3035550123\tsuccess\tSuccess\t2017-11-03 10:00:00\t2017-11-03 10:01:00\t00:00:42"


def test_parse_sendfax_and_resend() -> None:
    """'JOBID: n' becomes JobSubmitted."""
    assert _parse("sendfax", b"JOBID: 1234") == JobSubmitted(jobid=1234)
    assert _parse("resend", b"JOBID: 99\n") == JobSubmitted(jobid=99)


def test_parse_status_optional_columns() -> None:
    """Status columns follow the document; optional ones appear in order for the flags sent."""
    plain = _parse("status", STATUS_LINE + b"\n", {"jobid": 1234})
    assert plain[0].shortstatus is ShortStatus.SUCCESS and plain[0].pagecount is None  # type: ignore[index]
    full = _parse("status", STATUS_LINE + b"\t3\tREMOTE CSID\tamy\t3\t2\n", minimal_params("status"))
    rec = full[0]  # type: ignore[index]
    assert (rec.pagecount, rec.csid, rec.login, rec.xmitpages, rec.tries) == (3, "REMOTE CSID", "amy", 3, 2)
    only_tries = _parse("status", STATUS_LINE + b"\t4\n", {"showtries": 1})
    assert only_tries[0].tries == 4 and only_tries[0].pagecount is None  # type: ignore[index]


def test_parse_status_wrong_column_count() -> None:
    """A status line with the wrong number of columns is a protocol error, not a guess."""
    with pytest.raises(FaxageProtocolError, match="tab-separated"):
        _parse("status", STATUS_LINE + b"\t3\n", {"jobid": 1})


def test_parse_empty_listings() -> None:
    """ERR06 for all jobs and ERR11 for listfax are empty results; ERR06 for one jobid is NoRecords."""
    assert _parse("status", b"ERR06: No jobs to display or job id specified not found", {"useronly": 1}) == ()
    assert _parse("listfax", b"ERR11: No incoming faxes available", {}) == ()
    with pytest.raises(NoRecords):
        _parse("status", b"ERR06: No jobs to display or job id specified not found", {"jobid": 3})


def test_parse_listfax_columns() -> None:
    """listfax optional columns (starttime, filename, pagecount, tsid) come from the flags sent."""
    line = b"77\t2017-11-03 10:00:00\t2017-11-03 09:59:00\t(303)555-0100\t(303)555-0101\tfax77.pdf\t2\tREMOTE TSID\n"
    (rec,) = _parse("listfax", line, minimal_params("listfax"))  # type: ignore[misc]
    assert rec == FaxRecord(
        recvid=77,
        recvdate="2017-11-03 10:00:00",
        starttime="2017-11-03 09:59:00",
        cid="(303)555-0100",
        dnis="(303)555-0101",
        filename="fax77.pdf",
        pagecount=2,
        tsid="REMOTE TSID",
    )
    (short,) = _parse("listfax", b"78\t2017-11-03 10:00:00\tUnavailable\t(303)555-0101\n", {})  # type: ignore[misc]
    assert short.cid == "Unavailable" and short.starttime is None


def test_parse_binary_replies() -> None:
    """getfax/dlstatus/dltrans return Documents; an ERRnn body is still an error, not a file."""
    doc = _parse(
        "getfax",
        b"%PDF-1.4 data",
        {"faxid": 1},
        {"Content-Type": "application/octet-stream", "Content-Disposition": 'attachment; filename="f1.pdf"'},
    )
    assert doc == Document(data=b"%PDF-1.4 data", content_type="application/pdf", filename="f1.pdf")
    tiff = _parse("dlstatus", b"II*\x00rest", {"jobid": 1})
    assert tiff.content_type == "image/tiff"  # type: ignore[attr-defined]
    with pytest.raises(NotConverted):
        _parse("dlstatus", b"ERR24: File is not yet converted", {"jobid": 1})
    with pytest.raises(NotFound):
        _parse("dltrans", b"ERR28: JOB ID: 5 does not exist", {"jobid": 5})


ACKS = [
    ("clear", b"1234 cleared", "1234"),
    ("stopfax", b"1234 stopped", "1234"),
    ("delfax", b"9 Deleted", "9"),
    ("handled", b"9 marked unhandled", "9"),
    ("mvfax", b"Recv ID: 9 moved to Folder ID: 2", "9"),
    ("disabledid", b"Disabled 3035550100", "3035550100"),
    ("enabledid", b"Enabled 3035550100", "3035550100"),
    ("adduser", b"UID: 42", "42"),
    ("remuser", b"3 removed", "3"),
    ("changepass", b"3 password changed", "3"),
    ("changeemail", b"3 email changed to b@x", "3"),
    ("addlineemail", b"3 email routing added to 3035550100", "3"),
    ("remlineemail", b"3 email routing removed from 3035550100", "3"),
    ("addlineperm", b"3 permission added to 3035550100 level 2", "3"),
    ("remlineperm", b"3 permission removed from 3035550100", "3"),
    ("donotfax", b"2125550123 added", "2125550123"),
    ("provdid", b"3035551212 provisioned", "3035551212"),
    ("deprovidid", b"3035551212 deprovisioned", "3035551212"),
    ("provonhold", b"3035551212 provisioned", "3035551212"),
    ("lowspeed", b"Calls from 2125550123 to 3035550100 set to lowlow", "2125550123"),
]


@pytest.mark.parametrize(("operation", "body", "subject"), ACKS, ids=[a[0] for a in ACKS])
def test_parse_acks(operation: str, body: bytes, subject: str) -> None:
    """One-line confirmations become Acks naming their subject; other text is a protocol error."""
    ack = _parse(operation, body)
    assert isinstance(ack, Ack) and ack.subject == subject
    with pytest.raises(FaxageProtocolError):
        _parse(operation, b"something else entirely")


def test_parse_lists_and_counts() -> None:
    """Tab- and tilde-separated information replies parse into typed records by position."""
    assert _parse("listfolder", b"1\tInbox\n2\tBilling\n") == (
        Folder(folderid=1, name="Inbox"),
        Folder(folderid=2, name="Billing"),
    )
    assert _parse("listlines", b"3035550100\n3035550101\n") == ("3035550100", "3035550101")
    assert _parse("listlines", b"") == ()
    assert _parse("portable", b"1") is True and _parse("checkline", b"0") is False
    assert _parse("listusers", b"3\tamy\ta@x\n") == (User(uid=3, login="amy", email="a@x"),)
    assert _parse("lowspeed", b"low", {"src": "1", "dst": "3035550100", "qtype": "check"}) == "low"
    assert _parse("blacklist", b"2125550123\t0000000000\n") == (
        BlacklistEntry(cidnumber="2125550123", didnumber="0000000000"),
    )
    added = _parse(
        "blacklist",
        b"Entry for cidnumber 2125550123 to didnumber 3035550100 added",
        {"cidnumber": "2125550123", "didnumber": "3035550100", "activity": "add"},
    )
    assert isinstance(added, Ack)
    assert _parse("handlecount", b"10~4") == HandleCount(total=10, handled=4)
    assert _parse("incomingcalls", b"1~4") == CallCounts(incoming=1, allocated=4)
    assert _parse("pendcount", b"7") == 7
    assert _parse("qstatus", b"5\t3035550100\t2125550123\t70\t2\n") == (
        QueueEntry(jobid=5, callerid="3035550100", destination="2125550123", lineid=70, pagecount=2),
    )
    assert _parse("busycalls", b"No records") == ()
    assert _parse("busycalls", b"3035550100\t2125550123\t2017-11-03 10:00:00\n") == (
        BusyCall(number_called="3035550100", number_calling="2125550123", time="2017-11-03 10:00:00"),
    )
    assert _parse("portstatus", b"3035550177\t2017-10-01\t2017-10-15\t0000-00-00\tSOA PEND\tok\tNo\n") == (
        PortRequest(
            number="3035550177",
            request_date="2017-10-01",
            due_date="2017-10-15",
            complete_date="0000-00-00",
            status="SOA PEND",
            comment="ok",
            complete=False,
        ),
    )
    (audit,) = _parse("auditlog", b"9\t2017-11-03 10:00:00\tamy\t10.0.0.1\tAPI\t\tsendfax\t1\treq\tJOBID: 5\n")  # type: ignore[misc]
    assert audit.audit_id == 9 and audit.response_detail == "JOBID: 5"


def test_parse_provision_and_cdr() -> None:
    """provision.php lists and comma-separated CDRs (with nuid when nuidshow) parse by position."""
    assert _parse("listac", b"202\n303\n415\n") == ("202", "303", "415")
    assert _parse("listnpanxx", b"303991\tDenver\tCO\n") == (NpaNxx(npanxx="303991", rcname="Denver", rcstate="CO"),)
    assert _parse("listdids", b"3035551212\n3035551234\n") == ("3035551212", "3035551234")
    cdrs = _parse("getcdr", b"2017-11-03 10:00:00,OUT,3035550100,2125550123,42,17\n")
    assert cdrs == (
        CdrRecord(
            calldate="2017-11-03 10:00:00", direction="OUT", src="3035550100", dst="2125550123", duration=42, nuid=17
        ),
    )
    plain = _parse(
        "getcdr",
        b"2017-11-03 10:00:00,IN,2125550123,3035550100,30\n",
        {"begin": "2017-11-01 00:00:00", "end": "2017-11-04 00:00:00"},
    )
    assert plain[0].nuid is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("operation", "body", "kind", "code"),
    [
        ("sendfax", b"ERR01: Database connection failed", ServiceUnavailable, 1),
        ("listlines", b"ERR02: Login incorrect", LoginIncorrect, 2),
        ("sendfax", b"ERR04: Fax number 123 appears to be invalid", InvalidArgument, 4),
        ("sendfax", b"ERR05: outside the service area", BlockedDestination, 5),
        ("provdid", b"ERR05: 3035551212 does not appear to be available", NotFound, 5),
        ("listac", b"ERR03: unknown operation", BadPost, 3),
        ("mvfax", b"ERR24: Folder ID does not appear to be valid", InvalidArgument, 24),
        ("handled", b"ERR39: Attempt to double handle 9", AlreadyExists, 39),
        ("adduser", b"ERR50: No permission", PermissionDenied, 50),
        ("getcdr", b"ERR02: login incorrect", LoginIncorrect, 2),
    ],
)
def test_errors_are_typed(operation: str, body: bytes, kind: type, code: int) -> None:
    """Every ERRnn reply raises the class for (operation, code), carrying code, operation and text."""
    with pytest.raises(kind) as info:
        _parse(operation, body)
    assert info.value.code == code and info.value.operation == operation
    assert info.value.text == body.split(b": ", 1)[1].decode()


def test_err08_echo_is_redacted() -> None:
    """ERR08 echoes the POST; the password never reaches the exception text."""
    with pytest.raises(BadPost) as info:
        _parse("listlines", b"ERR08: Unknown operation specified or bad POST username=acme&password=hunter2&x=1")
    assert "hunter2" not in str(info.value) and "password=***" in str(info.value)


def test_debug_echo_is_stripped() -> None:
    """A httpsfax-debug.php reply's print_r echo is removed before parsing, password and all."""
    body = (
        b"Array\n(\n    [username] => acme\n    [password] => hunter2\n    [jobids] => Array\n"
        b"        (\n            [0] => 1\n        )\n\n)\n\nJOBID: 5"
    )
    echo, rest = api.strip_debug_echo(body)
    assert rest == b"JOBID: 5" and b"hunter2" in echo
    assert _parse("sendfax", body) == JobSubmitted(jobid=5)
    assert "hunter2" not in api.redact(echo.decode(), ())


def test_http_errors() -> None:
    """A non-200 status is a transport error carrying the status."""
    with pytest.raises(FaxageTransportError) as info:
        api.parse(api.build("listlines"), 404, b"nope")
    assert info.value.status == 404
