"""Pure cores of the e-mail gateway: routing, T.37 addresses, MIME building and splitting, submissions."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from appliance.jobs.choices import DocumentFormat
from appliance.mail.message import (
    FaxDetails,
    ReceiptDetails,
    build_fax_mail,
    build_receipt,
    encoded_size,
    message_id,
    plan_parts,
)
from appliance.mail.routing import (
    Destination,
    FaxbackAnswer,
    Routes,
    RoutingError,
    parse_destination,
    parse_recipients_csv,
    route,
)
from appliance.mail.submission import SubmissionError, UnsupportedAttachment, parse_submission
from appliance.mail.t37 import T37Address, T37Error, parse_t37

E = Destination

ROUTES = Routes(
    global_route=(E("email", "all@example.com"),),
    lines={"line2": (E("printer", "office"), E("share", "/srv/fax"))},
    recipients={"5550001": (E("email", "a@example.com"), E("user"))},
    default_format="pdf",
)


# ------------------------------------------------------------------ routing


def test_faxback_address_wins():
    """An account with FB-Rcv-Email gets the fax there, in its FB-Rcv-Format."""
    got = route("5550001", "line2", FaxbackAnswer("demo", "demo@x.org", 2), ROUTES)
    assert got == (E("email", "demo@x.org", "tiff"),)


def test_recipients_table_before_line_and_global():
    """Without a FaxBack address the recipients table decides; user without address is left out."""
    assert route("5550001", "line2", FaxbackAnswer("demo"), ROUTES) == (E("email", "a@example.com", "pdf"),)
    assert route("5550009", "line2", None, ROUTES) == (E("printer", "office", "pdf"), E("share", "/srv/fax", "pdf"))
    assert route("5550009", "line1", None, ROUTES) == (E("email", "all@example.com", "pdf"),)
    assert route("5550009", "line1", None, Routes()) == ()


def test_user_destination_uses_account_address_and_trash_delivers_nothing():
    """``user`` is the account's FB-Rcv-Email; ``trash`` delivers nothing; duplicates collapse."""
    routes = Routes(global_route=(E("user"), E("trash"), E("email", "x@y.z"), E("email", "x@y.z")))
    assert route("1", "l", None, routes) == (E("email", "x@y.z", "pdf"),)
    both = Routes(recipients={"1": (E("user"), E("email", "x@y.z", "tiff"))})
    assert route("1", "l", FaxbackAnswer("acc", "", 0), both) == (E("email", "x@y.z", "tiff"),)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("email:a@b.example", E("email", "a@b.example")),
        ("user", E("user")),
        ("printer:office-2", E("printer", "office-2")),
        ("share:/srv/fax;format=tiff", E("share", "/srv/fax", "tiff")),
        ("TRASH", E("trash")),
    ],
)
def test_parse_destination(text, expected):
    """Destinations are written type:value with an optional format."""
    assert parse_destination(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "fax:1",
        "email:",
        "email:not-an-address",
        "printer:a b",
        "share:relative",
        "email:a@b.c;colour=red",
        "email:" + "a" * 260 + "@b.c",
    ],
)
def test_bad_destinations(text):
    """Bad destinations are refused with a reason."""
    with pytest.raises(RoutingError):
        parse_destination(text)


def test_recipients_csv():
    """FaxFinder's CSV: a header, several rows per extension, every destination type."""
    rows = parse_recipients_csv(
        "Extension,Name,Destination Type,Destination Value\n"
        "101,Sales,Email,sales@example.com\n101,Sales,Printer,sales-printer\n"
        "102,Ann,User,\n103,Void,Trash,\n"
    )
    table = Routes().with_recipients(rows).recipients
    assert table["101"] == (E("email", "sales@example.com"), E("printer", "sales-printer"))
    assert table["102"] == (E("user"),) and table["103"] == (E("trash"),)


@pytest.mark.parametrize(
    "text,problem",
    [
        ("101,Sales,Email\n", "4 fields"),
        ("abc,Sales,Email,a@b.c\n", "1-15 digits"),
        ("101,Sales,Pigeon,x\n", "pigeon"),
        ("1234567890123456,x,Trash,\n", "1-15 digits"),
    ],
)
def test_recipients_csv_errors_name_the_line(text, problem):
    """A bad CSV row is refused, naming its line."""
    with pytest.raises(RoutingError, match="line 1") as info:
        parse_recipients_csv(text)
    assert problem in str(info.value)


def test_recipients_csv_limits():
    """The CSV has a size limit."""
    with pytest.raises(RoutingError, match="larger"):
        parse_recipients_csv("1,a,Trash,\n" * 200000)


# ---------------------------------------------------------------------- T.37

D = ["localhost", "fax.example.com"]


def test_t37_every_option():
    """Every FaxFinder option is read; names are case-insensitive."""
    got = parse_t37(
        "FAX=+1-555.0101/COVER-PAGE-ENABLED=true/COVER-PAGE-NAME=std/ATTN=Bob/ORG=Acme/"
        "fax-priority=0/INLINE-COMMENTS=false/RECEIPT=Always/T33S=42@Fax.Example.com",
        D,
    )
    assert got == T37Address(
        "+1-555.0101",
        cover_enabled=True,
        cover_name="std",
        attn="Bob",
        org="Acme",
        priority=0,
        inline_comments=False,
        receipt="always",
        t33s="42",
    )


def test_t37_plain_and_quoted():
    """``<number>@domain`` and a quoted local part are accepted."""
    assert parse_t37("5550101@localhost", D) == T37Address("5550101")
    assert parse_t37('"FAX=5550101/ATTN=Bob Smith"@localhost', D).attn == "Bob Smith"


@pytest.mark.parametrize(
    "address,problem",
    [
        ("FAX=1@elsewhere.org", "domain"),
        ("bob@localhost", "FAX="),
        ("ATTN=x@localhost", "FAX="),
        ("FAX=1/FAX-PRIORITY=9@localhost", "0..5"),
        ("FAX=1/RECEIPT=sometimes@localhost", "RECEIPT"),
        ("FAX=1/COVER-PAGE-ENABLED=perhaps@localhost", "true or false"),
        ("FAX=1/COLOR=red@localhost", "unknown"),
        ("FAX=1/ATTN=a/ATTN=b@localhost", "twice"),
        ("FAX=1/T33S=abc@localhost", "T33S"),
        ("FAX=1/ATTN@localhost", "OPTION"),
        ("localhost", "local part"),
        ("FAX=" + "1" * 300 + "@localhost", "longer"),
    ],
)
def test_t37_bad_forms(address, problem):
    """Malformed addresses are refused with the reason."""
    with pytest.raises(T37Error, match=problem):
        parse_t37(address, D)


# ---------------------------------------------------------------- MIME building

DETAILS = FaxDetails(
    fax_id=7,
    account="demo",
    called="5550001",
    line="line1",
    remote_id="ACME FAX",
    caller_id="5550101",
    received_at=1_700_000_000.0,
    pages=3,
    duration=42.0,
)


def test_fax_mail_headers_body_and_attachment():
    """The fax mail: sender, recipient, subject with CSID and called number, details, the PDF attached."""
    raw = build_fax_mail(
        DETAILS,
        sender="fax@example.com",
        to="ann@example.com",
        document=b"%PDF-1.4 test",
        fmt=DocumentFormat.PDF,
        msgid=message_id("fax", "7.ann@example.com.pdf", 1, "example.com"),
    )
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert msg["From"] == "fax@example.com" and msg["To"] == "ann@example.com"
    assert "ACME FAX" in msg["Subject"] and "5550001" in msg["Subject"]
    assert msg["Message-ID"] == "<fax.7.ann_example.com.pdf.1@example.com>"
    body = msg.get_body(("plain",)).get_content()
    for text in ("Pages:     3", "Duration:  42 s", "Line:      line1", "5550101", "2023"):
        assert text in body
    (att,) = list(msg.iter_attachments())
    assert att.get_content_type() == "application/pdf" and att.get_content() == b"%PDF-1.4 test"
    assert b"\r\n" in raw and all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_header_injection_is_neutralised():
    """A remote CSID with CR/LF cannot add headers."""
    evil = FaxDetails(**{**DETAILS.__dict__, "remote_id": "X\r\nBcc: victim@example.com"})
    tiff = DocumentFormat.TIFF
    raw = build_fax_mail(evil, sender="f@e.com", to="a@e.com", document=b"II*\x00", fmt=tiff, msgid="<1@e>")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert msg["Bcc"] is None and next(iter(msg.iter_attachments())).get_content_type() == "image/tiff"


def test_message_id_is_stable():
    """The same fax, destination and part always get the same Message-ID."""
    assert (
        message_id("fax", "7.a", 2, "e.com")
        == message_id("fax", "7.a", 2, "e.com")
        != message_id("fax", "7.a", 1, "e.com")
    )


def test_plan_parts_keeps_each_mail_under_the_limit():
    """Pages are grouped in order so every mail (encoded) fits; a huge page goes alone."""
    sizes = [30_000] * 10
    limit = encoded_size(90_000) + 4096
    parts = plan_parts(sizes, limit)
    assert parts == [(0, 3), (3, 6), (6, 9), (9, 10)]
    for a, b in parts:
        assert encoded_size(sum(sizes[a:b])) + 4096 <= limit
    assert plan_parts([10, 10**6, 10], 50_000) == [(0, 1), (1, 2), (2, 3)]
    assert plan_parts(sizes, 0) == [(0, 10)] and plan_parts([], 100) == []


def test_split_mails_say_which_part():
    """A split fax says part n of m in the subject and the body."""
    raw = build_fax_mail(
        DETAILS,
        sender="f@e.com",
        to="a@e.com",
        document=b"%PDF",
        fmt=DocumentFormat.PDF,
        msgid="<1@e>",
        part=2,
        parts=3,
        first_page=2,
        last_page=2,
    )
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert msg["Subject"].endswith("[part 2 of 3]")
    assert "pages 2-2" in msg.get_body(("plain",)).get_content()
    assert next(iter(msg.iter_attachments())).get_filename() == "fax-000007-part2.pdf"


def test_receipt():
    """A receipt tells the state, pages, tries and last error, optionally with the document."""
    r = ReceiptDetails(
        fax_key="0000002A/0000",
        state="failed",
        number="5550101",
        name="Bob",
        pages=2,
        pages_sent=1,
        tries=3,
        message="Failed after 3 tries (busy)",
        completed_at=1.7e9,
        subject="Report",
    )
    msg = BytesParser(policy=policy.default).parsebytes(
        build_receipt(r, sender="f@e.com", to="s@e.com", msgid="<r@e>", document=b"%PDF-x")
    )
    assert msg["Subject"] == "Fax to Bob: failed (Report)"
    body = msg.get_body(("plain",)).get_content()
    assert "Tries:      3" in body and "busy" in body and "1 of 2" in body
    assert next(iter(msg.iter_attachments())).get_content() == b"%PDF-x"


# ------------------------------------------------------------------ submissions


def _mail(*attachments, text="Please call me.", subject="Quarterly"):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "demo@localhost", "FAX=1@localhost", subject
    if text is not None:
        msg.set_content(text)
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_submission_pages_in_order_comments_and_subject():
    """Attachments keep their order; the inline text is the comments; octet-stream is sniffed."""
    got = parse_submission(
        _mail(
            ("a.pdf", "application/octet-stream", b"%PDF-1.4 x"),
            ("b.png", "image/png", b"\x89PNG\r\n"),
            ("c.txt", "text/plain", b"hello"),
        )
    )
    assert [n for n, _ in got.attachments] == ["a.pdf", "b.png", "c.txt"]
    assert got.comments == "Please call me." and got.subject == "Quarterly"
    assert got.attachments[2][1] == b"hello"


def test_unsupported_attachment_lists_supported_types():
    """A Word document makes the whole mail unacceptable, naming the supported types."""
    with pytest.raises(UnsupportedAttachment, match="supported: PDF, TIFF, PNG, JPEG, GIF"):
        parse_submission(_mail(("a.pdf", "application/pdf", b"%PDF-1"), ("x.docx", "application/msword", b"PK\x03")))


def test_attachment_and_comment_limits():
    """More than 20 attachments are refused; the comments are cut to 4000 characters."""
    with pytest.raises(SubmissionError, match="more than 20 attachments"):
        parse_submission(_mail(*[(f"{i}.png", "image/png", b"\x89PNG") for i in range(21)]))
    assert len(parse_submission(_mail(text="x" * 5000)).comments) == 4000


def test_empty_mail_is_refused():
    """A mail with neither text nor attachments has nothing to fax."""
    with pytest.raises(SubmissionError, match="nothing to fax"):
        parse_submission(_mail(text=None))


def test_t37_options_become_the_fax():
    """Priority, receipt, cover page, inline comments and the subject map onto the queued fax."""
    from appliance.mail.submission import Submission
    from appliance.mail.submit import fax_spec

    sub = Submission("Quarterly", "Call me", [("a.pdf", b"%PDF-1")])
    spec, docs = fax_spec("s@x.org", "acct", T37Address("1", cover_enabled=True, priority=0, receipt="always"), sub)
    assert (spec.owner, spec.account, spec.agent, spec.sender_email_address) == ("acct", "acct", "T.37", "s@x.org")
    assert (spec.priority, spec.receipt, spec.cover_enabled) == (0, "always", True)
    assert (spec.cover_subject, spec.cover_comments, docs) == ("Quarterly", "Call me", [("a.pdf", b"%PDF-1")])
    spec, _ = fax_spec("s@x.org", "acct", T37Address("1", inline_comments=False), sub)
    assert (spec.cover_comments, spec.cover_enabled, spec.priority, spec.receipt) == ("", False, 3, "failure")
    _, docs = fax_spec("s@x.org", "acct", T37Address("1"), Submission("", "Just text", []))
    assert docs == [("message", b"Just text")]
