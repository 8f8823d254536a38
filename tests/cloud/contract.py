"""The exact form fields every FAXAGE operation sends (the request contract), shared by
tests/cloud/test_api_build.py and test_api_parse.py."""

from __future__ import annotations

from appliance.cloud import api
from appliance.config import Secret

CREDS = api.Credentials("acme", "12345", Secret("hunter2"))
HEAD = [("username", "acme"), ("company", "12345"), ("password", "hunter2")]

# operation, params, the variables after username/company/password/operation
CONTRACT: list[tuple[str, dict[str, object], list[tuple[str, str]]]] = [
    (
        "sendfax",
        {
            "recipname": "Bob",
            "faxno": "3035550123",
            "faxurl": "https://example.com/a.html",
            "tagname": "ACME",
            "tagnumber": "1.303.555.0100",
            "callerid": "3035550100",
            "em_notify": 1,
            "url_notify": "https://me/n/abc",
            "resolution": 1,
            "contrastalgo": 2,
            "priority": "low",
            "jobtz": 4,
            "retryplan": 30,
            "ditheralgo": 2,
            "async": 1,
        },
        [
            ("recipname", "Bob"),
            ("faxno", "3035550123"),
            ("faxurl", "https://example.com/a.html"),
            ("tagname", "ACME"),
            ("tagnumber", "1.303.555.0100"),
            ("callerid", "3035550100"),
            ("em_notify", "1"),
            ("url_notify", "https://me/n/abc"),
            ("jobtz", "4"),
            ("retryplan", "30"),
            ("ditheralgo", "2"),
            ("resolution", "1"),
            ("contrastalgo", "2"),
            ("priority", "low"),
            ("async", "1"),
        ],
    ),
    (
        "sendfax",
        {
            "recipname": "Bob",
            "faxno": "3035550123",
            "faxurls[]": ["http://a/x.asp", "http://a/y"],
            "faxurltypes[]": ["DOC", "html"],
        },
        [
            ("recipname", "Bob"),
            ("faxno", "3035550123"),
            ("faxurls[]", "http://a/x.asp"),
            ("faxurls[]", "http://a/y"),
            ("faxurltypes[]", "doc"),
            ("faxurltypes[]", "html"),
        ],
    ),
    (
        "status",
        {
            "jobids[]": [1, 2],
            "pagecount": 1,
            "useronly": 1,
            "extqueue": 1,
            "csid": 1,
            "showlogin": 1,
            "xmitpages": 1,
            "showtries": 1,
            "begin": "2017-01-01 00:00:00",
            "end": "2017-01-02 00:00:00",
        },
        [
            ("jobids[]", "1"),
            ("jobids[]", "2"),
            ("pagecount", "1"),
            ("useronly", "1"),
            ("extqueue", "1"),
            ("csid", "1"),
            ("showlogin", "1"),
            ("xmitpages", "1"),
            ("showtries", "1"),
            ("begin", "2017-01-01 00:00:00"),
            ("end", "2017-01-02 00:00:00"),
        ],
    ),
    ("dlstatus", {"jobid": 7, "viewtype": "pdf"}, [("jobid", "7"), ("viewtype", "pdf")]),
    ("dltrans", {"jobid": 7, "jobtz": 8}, [("jobid", "7"), ("jobtz", "8")]),
    ("clear", {"jobid": 7}, [("jobid", "7")]),
    ("stopfax", {"jobid": 7}, [("jobid", "7")]),
    (
        "resend",
        {"jobid": 7, "url_notify": "http://me/x", "retryplan": 5},
        [("jobid", "7"), ("url_notify", "http://me/x"), ("retryplan", "5")],
    ),
    (
        "listfax",
        {
            "useronly": 1,
            "idasc": 1,
            "filename": 1,
            "starttime": 1,
            "unhandled": 1,
            "pagecount": 1,
            "showtsid": 1,
            "begin": "2017-01-01 00:00:00",
            "idgt": 0,
            "didnumber": "3035550100",
        },
        [
            ("useronly", "1"),
            ("idasc", "1"),
            ("filename", "1"),
            ("starttime", "1"),
            ("unhandled", "1"),
            ("pagecount", "1"),
            ("showtsid", "1"),
            ("begin", "2017-01-01 00:00:00"),
            ("idgt", "0"),
            ("didnumber", "3035550100"),
        ],
    ),
    (
        "getfax",
        {"faxid": 9, "resolution": 1, "informat": "tiff"},
        [("faxid", "9"), ("resolution", "1"), ("informat", "tiff")],
    ),
    ("delfax", {"faxid": 9}, [("faxid", "9")]),
    ("handled", {"recvid": 9, "handled": False}, [("recvid", "9"), ("handled", "0")]),
    ("listfolder", {}, []),
    ("mvfax", {"folderid": 2, "recvid": 9}, [("folderid", "2"), ("recvid", "9")]),
    ("disabledid", {"didnumber": "3035550100"}, [("didnumber", "3035550100")]),
    ("enabledid", {"didnumber": "3035550100"}, [("didnumber", "3035550100")]),
    ("portable", {"didnumber": "3035550100"}, [("didnumber", "3035550100")]),
    ("listlines", {}, []),
    ("checkline", {"checknum": "3035550100"}, [("checknum", "3035550100")]),
    (
        "adduser",
        {"ulogin": "amy", "upasswd": "pw", "ufullname": "Amy A", "uemail": "a@x"},
        [("ulogin", "amy"), ("upasswd", "pw"), ("ufullname", "Amy A"), ("uemail", "a@x")],
    ),
    ("remuser", {"uid": 3}, [("uid", "3")]),
    ("changepass", {"uid": 3, "upasswd": "pw2"}, [("uid", "3"), ("upasswd", "pw2")]),
    ("changeemail", {"uid": 3, "uemail": "b@x"}, [("uid", "3"), ("uemail", "b@x")]),
    ("listusers", {}, []),
    ("addlineemail", {"uid": 3, "linenumber": "3035550100"}, [("uid", "3"), ("linenumber", "3035550100")]),
    ("remlineemail", {"uid": 3, "linenumber": "3035550100"}, [("uid", "3"), ("linenumber", "3035550100")]),
    (
        "addlineperm",
        {"uid": 3, "linenumber": "3035550100", "permlevel": 2},
        [("uid", "3"), ("linenumber", "3035550100"), ("permlevel", "2")],
    ),
    ("remlineperm", {"uid": 3, "linenumber": "3035550100"}, [("uid", "3"), ("linenumber", "3035550100")]),
    (
        "lowspeed",
        {"src": "2125550123", "dst": "3035550100", "qtype": "set", "setspeed": "lowlow"},
        [("src", "2125550123"), ("dst", "3035550100"), ("qtype", "set"), ("setspeed", "lowlow")],
    ),
    ("blacklist", {"didnumber": "0000000000", "activity": "list"}, [("didnumber", "0000000000"), ("activity", "list")]),
    (
        "donotfax",
        {"number": "2125550123", "activity": "add", "name": "Spam", "comment": "no"},
        [("number", "2125550123"), ("activity", "add"), ("name", "Spam"), ("comment", "no")],
    ),
    ("handlecount", {}, []),
    ("pendcount", {}, []),
    ("qstatus", {}, []),
    ("incomingcalls", {}, []),
    ("busycalls", {}, []),
    ("portstatus", {}, []),
    (
        "auditlog",
        {"begin": "2017-01-01 00:00:00", "audtidgt": 5, "auditop": "sendfax", "audituser": "amy", "opstat": 2},
        [
            ("begin", "2017-01-01 00:00:00"),
            ("audtidgt", "5"),
            ("auditop", "sendfax"),
            ("audituser", "amy"),
            ("opstat", "2"),
        ],
    ),
    (
        "getcdr",
        {"nuidgt": 10, "nuidshow": 1, "didnumber": "3035550100"},
        [("nuidshow", "1"), ("nuidgt", "10"), ("didnumber", "3035550100")],
    ),
    ("listac", {}, []),
    ("listnpanxx", {"ac": "303"}, [("ac", "303")]),
    ("listdids", {"ac": "303", "npanxx": "303991"}, [("ac", "303"), ("npanxx", "303991")]),
    ("provdid", {"didnumber": "3035551212"}, [("didnumber", "3035551212")]),
    ("deprovidid", {"didnumber": "3035551212"}, [("didnumber", "3035551212")]),
    ("listonhold", {}, []),
    ("provonhold", {"didnumber": "3035551212"}, [("didnumber", "3035551212")]),
]


def minimal_params(operation: str) -> dict[str, object]:
    """The parameters of ``operation``'s contract case (valid, and enough to build it)."""
    for op, params, _ in CONTRACT:
        if op == operation:
            return params
    raise KeyError(operation)
