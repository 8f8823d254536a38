"""One case per FAXAGE operation for tests/cloud/test_every_operation.py: how to set
the simulator up, the valid variables to send, and how the typed result must agree
with the simulator's state afterwards."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from appliance.cloud.records import (
    Ack,
    AuditRecord,
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
    StatusRecord,
    User,
)
from hwsim.faxage import FaxageSim, Step

Ctx = dict[str, Any]
B64 = base64.b64encode(b"%PDF-1.4\n1 0 obj << /Type /Page >>\n").decode()
FAXNO = "3035550123"
LINE = "3035550100"


@dataclass(frozen=True)
class Case:
    setup: Callable[[FaxageSim, float], Ctx]
    params: Callable[[Ctx], dict[str, Any]]
    check: Callable[[Any, Ctx, FaxageSim], None]


def nothing(sim: FaxageSim, now: float) -> Ctx:
    return {}


def job(sim: FaxageSim, now: float, *, done: bool, faxno: str = FAXNO) -> int:
    steps = (
        (Step(0, "success", "Success"),) if done else (Step(0, "pending", "In Queue"), Step(1e6, "success", "Success"))
    )
    sim.script(faxno, steps)
    made = sim.new_job(now, {"faxno": [faxno], "recipname": ["Bob"], "username": ["sim"]}, 2, [("a.pdf", b"%PDF")])
    sim.advance(now)
    return made.jobid


def done_job(sim: FaxageSim, now: float) -> Ctx:
    return {"jobid": job(sim, now, done=True)}


def pending_job(sim: FaxageSim, now: float) -> Ctx:
    return {"jobid": job(sim, now, done=False)}


def two_jobs(sim: FaxageSim, now: float) -> Ctx:
    return {"jobids": [job(sim, now, done=True), job(sim, now, done=False, faxno="2125550111")]}


def faxes(sim: FaxageSim, now: float) -> Ctx:
    ids = [sim.inject_fax(now=now - 60 + i, dnis=LINE, cid="2125550123", pagecount=3, tsid="TSID") for i in range(2)]
    return {"recvid": ids[0], "recvids": ids}


def user(sim: FaxageSim, now: float) -> Ctx:
    sim.users[10] = {"login": "amy", "passwd": "old", "fullname": "Amy", "email": "amy@example.com"}
    sim.next_uid = 11
    return {"uid": 10}


def user_with_line(sim: FaxageSim, now: float) -> Ctx:
    ctx = user(sim, now)
    sim.line_emails.add((10, LINE))
    sim.line_perms[(10, LINE)] = 2
    return ctx


def on_hold(sim: FaxageSim, now: float) -> Ctx:
    del sim.dids["3035550101"]
    sim.on_hold["3035550101"] = now + 30 * 24 * 3600.0
    return {}


def is_ack(subject: str) -> Callable[[Any, Ctx, FaxageSim], None]:
    def check(result: Any, ctx: Ctx, sim: FaxageSim) -> None:
        assert isinstance(result, Ack) and result.subject == subject.format(**ctx), result

    return check


def check_status_full(result: Any, ctx: Ctx, sim: FaxageSim) -> None:
    (record,) = result
    assert isinstance(record, StatusRecord) and record.jobid == ctx["jobid"]
    assert record.shortstatus is ShortStatus.SUCCESS and (record.pagecount, record.xmitpages) == (2, 2)
    assert (record.csid, record.login, record.tries) == ("SIM REMOTE", "sim", 1)


def check_listfax(result: Any, ctx: Ctx, sim: FaxageSim) -> None:
    assert all(isinstance(r, FaxRecord) for r in result) and [r.recvid for r in result] == ctx["recvids"]
    first = result[0]
    assert (first.pagecount, first.tsid, first.filename) == (3, "TSID", f"fax{ctx['recvid']}.pdf")
    assert first.cid == "(212)555-0123" and first.starttime is not None


CASES: dict[str, Case] = {
    "sendfax": Case(
        nothing,
        lambda c: {
            "recipname": "Bob",
            "faxno": FAXNO,
            "faxfilenames[]": ["a.pdf"],
            "faxfiledata[]": [B64],
            "tagname": "ACME",
            "tagnumber": "1.303.555.0100",
            "callerid": LINE,
            "em_notify": 1,
            "resolution": "1",
            "contrastalgo": "2",
            "priority": "high",
            "jobtz": "3",
            "retryplan": "10",
            "ditheralgo": "1",
        },
        lambda r, c, s: (
            (isinstance(r, JobSubmitted) and s.jobs[r.jobid].callerid == LINE and s.jobs[r.jobid].pagecount == 1)
            or pytest.fail(repr(r))
        ),
    ),
    "sendfax:urls": Case(
        nothing,
        lambda c: {
            "recipname": "Bob",
            "faxno": FAXNO,
            "faxurls[]": ["http://example.com/a", "http://example.com/b"],
            "faxurltypes[]": ["pdf", "html"],
            "async": 1,
        },
        lambda r, c, s: (isinstance(r, JobSubmitted) and s.jobs[r.jobid].pagecount == 2) or pytest.fail(repr(r)),
    ),
    "status": Case(
        done_job,
        lambda c: {"jobid": c["jobid"], "pagecount": 1, "csid": 1, "showlogin": 1, "xmitpages": 1, "showtries": 1},
        check_status_full,
    ),
    "status:jobids": Case(
        two_jobs,
        lambda c: {"jobids[]": c["jobids"], "extqueue": 1, "useronly": 1},
        lambda r, c, s: (
            ([x.jobid for x in r] == c["jobids"] and r[1].shortstatus is ShortStatus.PENDING) or pytest.fail(repr(r))
        ),
    ),
    "status:window": Case(
        two_jobs,
        lambda c: {"begin": "1970-01-01 00:00:00", "end": "2999-12-31 23:59:59"},
        lambda r, c, s: [x.jobid for x in r] == c["jobids"] or pytest.fail(repr(r)),
    ),
    "dlstatus": Case(
        pending_job,
        lambda c: {"jobid": c["jobid"], "viewtype": "pdf"},
        lambda r, c, s: (isinstance(r, Document) and r.content_type == "application/pdf") or pytest.fail(repr(r)),
    ),
    "dlstatus:tiff": Case(
        pending_job,
        lambda c: {"jobid": c["jobid"], "viewtype": "tiff"},
        lambda r, c, s: r.content_type == "image/tiff" or pytest.fail(repr(r)),
    ),
    "dltrans": Case(
        done_job,
        lambda c: {"jobid": c["jobid"], "jobtz": "2"},
        lambda r, c, s: (
            (r.content_type, r.filename) == ("application/pdf", f"trans{c['jobid']}.pdf") or pytest.fail(repr(r))
        ),
    ),
    "clear": Case(
        done_job,
        lambda c: {"jobid": c["jobid"]},
        lambda r, c, s: (is_ack("{jobid}")(r, c, s), c["jobid"] not in s.jobs),
    ),
    "stopfax": Case(
        pending_job,
        lambda c: {"jobid": c["jobid"]},
        lambda r, c, s: (
            is_ack("{jobid}")(r, c, s),
            s.jobs[c["jobid"]].shortstatus == "failure" or pytest.fail("not stopped"),
        ),
    ),
    "resend": Case(
        done_job,
        lambda c: {"jobid": c["jobid"], "tagname": "ACME"},
        lambda r, c, s: (
            (isinstance(r, JobSubmitted) and r.jobid != c["jobid"] and s.jobs[r.jobid].destnum == FAXNO)
            or pytest.fail(repr(r))
        ),
    ),
    "listfax": Case(
        faxes,
        lambda c: {
            "idasc": 1,
            "filename": 1,
            "starttime": 1,
            "unhandled": 1,
            "pagecount": 1,
            "showtsid": 1,
            "useronly": 1,
            "idgt": 0,
            "didnumber": LINE,
            "begin": "1970-01-01 00:00:00",
        },
        check_listfax,
    ),
    "getfax": Case(
        faxes,
        lambda c: {"faxid": c["recvid"], "informat": "pdf", "resolution": 1},
        lambda r, c, s: (
            (r.data == s.faxes[c["recvid"]].data and r.filename == f"fax{c['recvid']}.pdf") or pytest.fail(repr(r))
        ),
    ),
    "delfax": Case(
        faxes,
        lambda c: {"faxid": c["recvid"]},
        lambda r, c, s: (is_ack("{recvid}")(r, c, s), c["recvid"] not in s.faxes or pytest.fail("kept")),
    ),
    "handled": Case(
        faxes,
        lambda c: {"recvid": c["recvid"], "handled": 1},
        lambda r, c, s: (r.extra == (("state", "handled"),) and s.faxes[c["recvid"]].handled) or pytest.fail(repr(r)),
    ),
    "handled:undo": Case(
        faxes,
        lambda c: {"recvid": c["recvid"], "handled": 0},
        lambda r, c, s: r.extra == (("state", "unhandled"),) or pytest.fail(repr(r)),
    ),
    "listfolder": Case(
        nothing,
        lambda c: {},
        lambda r, c, s: (
            r == (Folder(folderid=1, name="Inbox archive"), Folder(folderid=2, name="Billing")) or pytest.fail(repr(r))
        ),
    ),
    "mvfax": Case(
        faxes,
        lambda c: {"folderid": 2, "recvid": c["recvid"]},
        lambda r, c, s: (
            (r.extra == (("folderid", "2"),) and s.faxes[c["recvid"]].folderid == 2) or pytest.fail(repr(r))
        ),
    ),
    "disabledid": Case(
        nothing,
        lambda c: {"didnumber": LINE},
        lambda r, c, s: (is_ack(LINE)(r, c, s), s.dids[LINE] is False or pytest.fail("enabled")),
    ),
    "enabledid": Case(
        lambda s, n: (s.dids.update({LINE: False}), {})[1],
        lambda c: {"didnumber": LINE},
        lambda r, c, s: (is_ack(LINE)(r, c, s), s.dids[LINE] is True or pytest.fail("disabled")),
    ),
    "portable": Case(nothing, lambda c: {"didnumber": "3039990000"}, lambda r, c, s: r is True or pytest.fail(repr(r))),
    "portable:no": Case(
        nothing, lambda c: {"didnumber": "6125550000"}, lambda r, c, s: r is False or pytest.fail(repr(r))
    ),
    "listlines": Case(nothing, lambda c: {}, lambda r, c, s: r == (LINE, "3035550101") or pytest.fail(repr(r))),
    "checkline": Case(nothing, lambda c: {"checknum": LINE}, lambda r, c, s: r is True or pytest.fail(repr(r))),
    "adduser": Case(
        nothing,
        lambda c: {"ulogin": "bob", "upasswd": "pw-secret", "ufullname": "Bob B", "uemail": "bob@example.com"},
        lambda r, c, s: s.users[int(r.subject)]["login"] == "bob" or pytest.fail(repr(r)),
    ),
    "remuser": Case(
        user,
        lambda c: {"uid": c["uid"]},
        lambda r, c, s: (is_ack("10")(r, c, s), 10 not in s.users or pytest.fail("kept")),
    ),
    "changepass": Case(
        user,
        lambda c: {"uid": 10, "upasswd": "new-secret"},
        lambda r, c, s: s.users[10]["passwd"] == "new-secret" or pytest.fail(repr(r)),
    ),
    "changeemail": Case(
        user,
        lambda c: {"uid": 10, "uemail": "a@example.org"},
        lambda r, c, s: r.extra == (("uemail", "a@example.org"),) or pytest.fail(repr(r)),
    ),
    "listusers": Case(
        user,
        lambda c: {},
        lambda r, c, s: r == (User(uid=10, login="amy", email="amy@example.com"),) or pytest.fail(repr(r)),
    ),
    "addlineemail": Case(
        user,
        lambda c: {"uid": 10, "linenumber": LINE},
        lambda r, c, s: (10, LINE) in s.line_emails or pytest.fail(repr(r)),
    ),
    "remlineemail": Case(
        user_with_line,
        lambda c: {"uid": 10, "linenumber": LINE},
        lambda r, c, s: (10, LINE) not in s.line_emails or pytest.fail(repr(r)),
    ),
    "addlineperm": Case(
        user,
        lambda c: {"uid": 10, "linenumber": LINE, "permlevel": "3"},
        lambda r, c, s: (
            (r.extra == (("linenumber", LINE), ("permlevel", "3")) and s.line_perms[(10, LINE)] == 3)
            or pytest.fail(repr(r))
        ),
    ),
    "remlineperm": Case(
        user_with_line,
        lambda c: {"uid": 10, "linenumber": LINE},
        lambda r, c, s: (10, LINE) not in s.line_perms or pytest.fail(repr(r)),
    ),
    "lowspeed": Case(
        nothing,
        lambda c: {"src": "2125550123", "dst": LINE, "qtype": "set", "setspeed": "lowlow"},
        lambda r, c, s: s.lowspeed[("2125550123", LINE)] == "lowlow" or pytest.fail(repr(r)),
    ),
    "lowspeed:check": Case(
        lambda s, n: (s.lowspeed.update({("2125550123", LINE): "low"}), {})[1],
        lambda c: {"src": "2125550123", "dst": LINE, "qtype": "check"},
        lambda r, c, s: r == "low" or pytest.fail(repr(r)),
    ),
    "blacklist": Case(
        nothing,
        lambda c: {"cidnumber": "2125550123", "didnumber": LINE, "activity": "add"},
        lambda r, c, s: ("2125550123", LINE) in s.blacklist or pytest.fail(repr(r)),
    ),
    "blacklist:list": Case(
        lambda s, n: (s.blacklist.add(("2125550123", LINE)), {})[1],
        lambda c: {"didnumber": "0000000000", "activity": "list"},
        lambda r, c, s: r == (BlacklistEntry(cidnumber="2125550123", didnumber=LINE),) or pytest.fail(repr(r)),
    ),
    "blacklist:del": Case(
        lambda s, n: (s.blacklist.add(("2125550123", LINE)), {})[1],
        lambda c: {"cidnumber": "2125550123", "didnumber": LINE, "activity": "del"},
        lambda r, c, s: not s.blacklist or pytest.fail(repr(r)),
    ),
    "donotfax": Case(
        nothing,
        lambda c: {"number": "2125550177", "activity": "add", "name": "X", "comment": "asked"},
        lambda r, c, s: (
            is_ack("2125550177")(r, c, s),
            s.donotfax_list == {"2125550177": ("X", "asked")} or pytest.fail("missing"),
        ),
    ),
    "donotfax:del": Case(
        lambda s, n: (s.donotfax_list.update({"2125550177": ("", "")}), {})[1],  # type: ignore
        lambda c: {"number": "2125550177", "activity": "del"},
        lambda r, c, s: r.extra == (("activity", "deleted"),) or pytest.fail(repr(r)),
    ),
    "handlecount": Case(
        lambda s, n: (faxes(s, n), s.faxes[min(s.faxes)].__setattr__("handled", True), {})[2],
        lambda c: {},
        lambda r, c, s: r == HandleCount(total=2, handled=1) or pytest.fail(repr(r)),
    ),
    "pendcount": Case(two_jobs, lambda c: {}, lambda r, c, s: r == 1 or pytest.fail(repr(r))),
    "qstatus": Case(
        pending_job,
        lambda c: {},
        lambda r, c, s: (
            (len(r) == 1 and isinstance(r[0], QueueEntry) and r[0].jobid == c["jobid"] and r[0].pagecount == 2)
            or pytest.fail(repr(r))
        ),
    ),
    "incomingcalls": Case(
        nothing, lambda c: {}, lambda r, c, s: r == CallCounts(incoming=0, allocated=4) or pytest.fail(repr(r))
    ),
    "busycalls": Case(
        lambda s, n: (s.busy_calls.append((LINE, "2125550123", 0.0)), {})[1],
        lambda c: {},
        lambda r, c, s: (
            r == (BusyCall(number_called=LINE, number_calling="2125550123", time="1970-01-01 00:00:00"),)
            or pytest.fail(repr(r))
        ),
    ),
    "busycalls:none": Case(nothing, lambda c: {}, lambda r, c, s: r == () or pytest.fail(repr(r))),
    "portstatus": Case(
        lambda s, n: (
            s.ports.append((LINE, "2017-10-01", "2017-10-15", "2017-10-14", "Complete", "ported", "Yes")),
            {},
        )[1],
        lambda c: {},
        lambda r, c, s: (len(r) == 1 and isinstance(r[0], PortRequest) and r[0].complete) or pytest.fail(repr(r)),
    ),
    "auditlog": Case(
        lambda s, n: (
            s.handle(
                "httpsfax.php",
                {"username": ["sim"], "company": ["12345"], "password": ["simpass"], "operation": ["listlines"]},
                n,
            ),
            {},
        )[1],
        lambda c: {
            "auditop": "listlines",
            "opstat": "1",
            "audtidgt": 0,
            "audituser": "sim",
            "begin": "1970-01-01 00:00:00",
            "end": "2999-12-31 23:59:59",
        },
        lambda r, c, s: (
            (
                len(r) == 1
                and isinstance(r[0], AuditRecord)
                and r[0].auditop == "listlines"
                and "simpass" not in r[0].request_detail
            )
            or pytest.fail(repr(r))
        ),
    ),
    "getcdr": Case(
        faxes,
        lambda c: {"nuidgt": 0, "nuidshow": 1, "didnumber": LINE},
        lambda r, c, s: (
            ([x.nuid for x in r] == [1, 2] and all(isinstance(x, CdrRecord) and x.direction == "IN" for x in r))
            or pytest.fail(repr(r))
        ),
    ),
    "getcdr:window": Case(
        faxes,
        lambda c: {"begin": "1970-01-01 00:00:00", "end": "2999-12-31 23:59:59"},
        lambda r, c, s: (len(r) == 2 and r[0].nuid is None) or pytest.fail(repr(r)),
    ),
    "listac": Case(nothing, lambda c: {}, lambda r, c, s: r == ("303", "415", "800") or pytest.fail(repr(r))),
    "listnpanxx": Case(
        nothing,
        lambda c: {"ac": "303"},
        lambda r, c, s: (
            r
            == (
                NpaNxx(npanxx="303555", rcname="Denver", rcstate="CO"),
                NpaNxx(npanxx="303991", rcname="Denver", rcstate="CO"),
            )
            or pytest.fail(repr(r))
        ),
    ),
    "listdids": Case(
        nothing,
        lambda c: {"ac": "303", "npanxx": "303991"},
        lambda r, c, s: r == ("3039915555",) or pytest.fail(repr(r)),
    ),
    "provdid": Case(
        nothing,
        lambda c: {"didnumber": "4155550199"},
        lambda r, c, s: (is_ack("4155550199")(r, c, s), "4155550199" in s.dids or pytest.fail("no")),
    ),
    "deprovidid": Case(
        nothing,
        lambda c: {"didnumber": "3035550101"},
        lambda r, c, s: ("3035550101" in s.on_hold and "3035550101" not in s.dids) or pytest.fail(repr(r)),
    ),
    "listonhold": Case(on_hold, lambda c: {}, lambda r, c, s: r == ("3035550101",) or pytest.fail(repr(r))),
    "provonhold": Case(
        on_hold,
        lambda c: {"didnumber": "3035550101"},
        lambda r, c, s: ("3035550101" in s.dids and not s.on_hold) or pytest.fail(repr(r)),
    ),
}
