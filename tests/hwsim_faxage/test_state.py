"""The simulated FAXAGE account (pure core): documented replies and error
codes, scheduled job progress with callbacks, the 30-day on-hold rule,
and the JSON state file."""

from __future__ import annotations

from typing import Any

from hwsim.faxage.persist import load_state, save_state
from hwsim.faxage.state import FaxageSim, Step

CREDS = {"username": ["sim"], "company": ["12345"], "password": ["simpass"]}


def call(sim: FaxageSim, op: str, now: float = 100.0, path: str = "httpsfax.php", **fields: Any) -> str:
    form = {**CREDS, "operation": [op]}
    form.update({k: v if isinstance(v, list) else [str(v)] for k, v in fields.items()})
    return sim.handle(path, form, now).body.decode("latin-1")


def send(sim: FaxageSim, now: float = 100.0, faxno: str = "3035550123", **extra: Any) -> int:
    reply = call(
        sim,
        "sendfax",
        now,
        faxno=faxno,
        recipname="Bob",
        **{"faxfilenames[]": ["a.txt"], "faxfiledata[]": ["aGk="]},
        **extra,
    )
    assert reply.startswith("JOBID: "), reply
    return int(reply.split()[1])


def test_login_and_unknown_operation() -> None:
    """Wrong credentials answer ERR02; an unknown operation ERR08 with the POST echoed; provision ERR03."""
    sim = FaxageSim()
    assert (
        sim.handle("httpsfax.php", {**CREDS, "password": ["x"], "operation": ["listlines"]}, 0).body
        == b"ERR02: Login incorrect"
    )
    assert call(sim, "bogus").startswith("ERR08: Unknown operation specified or bad POST username=sim")
    assert call(sim, "bogus", path="provision.php") == "ERR03: unknown operation"


def test_job_schedule_and_callback() -> None:
    """A job moves pending → success on its schedule and queues one url_notify callback with the documented fields."""
    sim = FaxageSim()
    jobid = send(sim, url_notify="http://me/n/t")
    assert "\tpending\tWaiting for conversion\t" in call(sim, "status", 100.1, jobid=jobid)
    sim.advance(100.6)
    assert "\tpending\tIn Queue\t" in call(sim, "status", 100.6, jobid=jobid)
    sim.advance(102.5)
    (callback,) = sim.take_callbacks()
    fields = dict(callback.fields)
    assert callback.url == "http://me/n/t"
    assert list(fields) == [
        "jobid",
        "commid",
        "destname",
        "destnum",
        "shortstatus",
        "longstatus",
        "sendtime",
        "completetime",
        "xmittime",
        "pagecount",
        "xmitpages",
        "csid",
    ]
    assert fields["shortstatus"] == "success" and fields["jobid"] == str(jobid)
    assert sim.take_callbacks() == []


def test_scripted_failure_and_resend_clear() -> None:
    """A scripted destination fails; resend makes a new job; clear removes completed jobs only."""
    sim = FaxageSim()
    sim.script("2125550111", (Step(1.0, "failure", "Busy"),))
    jobid = send(sim, faxno="2125550111")
    assert call(sim, "clear", jobid=jobid).startswith("ERR07")
    sim.advance(105)
    assert "\tfailure\tBusy\t" in call(sim, "status", 105, jobid=jobid)
    again = call(sim, "resend", 105, jobid=jobid)
    assert again.startswith("JOBID: ") and int(again.split()[1]) != jobid
    assert call(sim, "clear", 105, jobid=jobid) == f"{jobid} cleared"
    assert call(sim, "resend", 105, jobid=9) == "ERR40: JobID 9 not found or does not belong to you"


def test_stopfax() -> None:
    """A queued job can be stopped once; a completed one answers ERR20."""
    sim = FaxageSim()
    jobid = send(sim)
    assert call(sim, "stopfax", jobid=jobid) == f"{jobid} stopped"
    assert call(sim, "stopfax", jobid=jobid).startswith("ERR20")
    assert call(sim, "stopfax", jobid=1) == "ERR19: JOB ID 1 not found or does not belong to you"
    assert call(sim, "stopfax") == "ERR18: No jobid specified"


def test_sendfax_errors() -> None:
    """Invalid and blocked numbers and missing files answer ERR04, ERR05, ERR03."""
    sim = FaxageSim()
    assert call(sim, "sendfax", faxno="123", recipname="x").startswith("ERR04")
    assert call(sim, "sendfax", faxno="3035551212", recipname="x").startswith("ERR05")
    assert call(sim, "sendfax", faxno="3035550123", recipname="x") == "ERR03: No files to fax"


def test_receiving() -> None:
    """Injected faxes list, download, handle (ERR39 on double), move and delete as documented."""
    sim = FaxageSim()
    recvid = sim.inject_fax(now=50, dnis="3035550100", cid="2125550123", data=b"%PDF-1.4", pagecount=3)
    line = call(sim, "listfax", unhandled=1, filename=1, pagecount=1)
    assert line.split("\t")[2:] == ["(212)555-0123", "(303)555-0100", f"fax{recvid}.pdf", "3\n"]
    reply = sim.handle("httpsfax.php", {**CREDS, "operation": ["getfax"], "faxid": [str(recvid)]}, 60)
    assert reply.body == b"%PDF-1.4" and reply.filename == f"fax{recvid}.pdf"
    assert call(sim, "handled", recvid=recvid, handled=1) == f"{recvid} marked handled"
    assert call(sim, "handled", recvid=recvid, handled=1) == f"ERR39: Attempt to double handle {recvid}"
    assert call(sim, "listfax", unhandled=1) == "ERR11: No incoming faxes available"
    assert call(sim, "handlecount") == "1~1"
    assert call(sim, "mvfax", folderid=2, recvid=recvid) == f"Recv ID: {recvid} moved to Folder ID: 2"
    assert call(sim, "mvfax", folderid=99, recvid=recvid).startswith("ERR27")
    assert call(sim, "delfax", faxid=recvid) == f"{recvid} Deleted"
    assert call(sim, "getfax", faxid=recvid).startswith("ERR12")


def test_users_and_permissions() -> None:
    """Users are added, routed, permitted, listed and removed; non-managers get ERR50."""
    sim = FaxageSim()
    assert call(sim, "adduser", ulogin="amy", upasswd="p", ufullname="Amy", uemail="a@x") == "UID: 10"
    assert call(sim, "adduser", ulogin="amy", upasswd="p", ufullname="Amy", uemail="a@x") == "ERR52: Duplicate user"
    assert call(sim, "addlineemail", uid=10, linenumber="3035550100") == "10 email routing added to 3035550100"
    assert (
        call(sim, "addlineperm", uid=10, linenumber="3035550100", permlevel=3)
        == "10 permission added to 3035550100 level 3"
    )
    assert call(sim, "addlineperm", uid=10, linenumber="9999999999", permlevel=3).startswith("ERR55")
    assert call(sim, "listusers") == "10\tamy\ta@x\n"
    assert call(sim, "remuser", uid=10) == "10 removed"
    assert call(sim, "changepass", uid=10, upasswd="x").startswith("ERR53")
    sim.manager = False
    assert call(sim, "listusers") == "ERR50: No permission"


def test_settings_lists() -> None:
    """Lowspeed, blacklist and do-not-fax entries are set, checked, listed and removed."""
    sim = FaxageSim()
    assert (
        call(sim, "lowspeed", src="2125550123", dst="3035550100", qtype="set", setspeed="low")
        == "Calls from 2125550123 to 3035550100 set to low"
    )
    assert call(sim, "lowspeed", src="2125550123", dst="3035550100", qtype="check") == "low"
    assert call(sim, "blacklist", cidnumber="2125550123", didnumber="0000000000", activity="add").endswith("added")
    assert call(sim, "blacklist", cidnumber="2125550123", didnumber="0000000000", activity="add").startswith("ERR62")
    assert call(sim, "blacklist", didnumber="0000000000", activity="list") == "2125550123\t0000000000\n"
    assert call(sim, "donotfax", number="2125550123", activity="add") == "2125550123 added"
    assert call(sim, "sendfax", faxno="2125550123", recipname="x").startswith("ERR05")
    assert call(sim, "donotfax", number="2125550123", activity="del") == "2125550123 deleted"
    sim.donotfax_list = None
    assert call(sim, "donotfax", number="2125550123", activity="add").startswith("ERR29")


def test_provisioning_on_hold_rule() -> None:
    """A de-provisioned DID is on hold for 30 days: not in listdids, provonhold gets it back, then it returns."""
    sim = FaxageSim()
    assert call(sim, "provdid", path="provision.php", didnumber="3035551212") == "3035551212 provisioned"
    assert "3035551212" in call(sim, "listlines")
    assert call(sim, "provdid", path="provision.php", didnumber="3035551212").startswith("ERR05")
    assert call(sim, "deprovidid", 200, path="provision.php", didnumber="3035551212") == "3035551212 deprovisioned"
    assert "3035551212" not in call(sim, "listdids", 201, path="provision.php")
    assert call(sim, "listonhold", 201, path="provision.php") == "3035551212\n"
    assert call(sim, "provonhold", 202, path="provision.php", didnumber="3035551212") == "3035551212 provisioned"
    call(sim, "deprovidid", 300, path="provision.php", didnumber="3035551212")
    later = 300 + 30 * 24 * 3600 + 1
    assert "3035551212" in call(sim, "listdids", later, path="provision.php")
    assert call(sim, "listonhold", later, path="provision.php") == ""


def test_getcdr_and_auditlog() -> None:
    """Completed jobs and received faxes produce CDRs; every API call is audited without the password."""
    sim = FaxageSim()
    send(sim)
    sim.advance(200)
    sim.inject_fax(now=300, dnis="3035550100", cid="2125550123")
    rows = call(sim, "getcdr", 400, path="getcdr.php", nuidgt=0, nuidshow=1).splitlines()
    assert [r.split(",")[1] for r in rows] == ["OUT", "IN"] and rows[0].endswith(",1")
    assert call(sim, "getcdr", path="getcdr.php") == ""
    audit = call(sim, "auditlog", auditop="sendfax")
    assert "\tsendfax\t1\t" in audit and "simpass" not in audit


def test_debug_url_echoes_post() -> None:
    """httpsfax-debug.php prefixes the reply with the POST as print_r."""
    body = call(FaxageSim(), "listlines", path="httpsfax-debug.php")
    assert body.startswith("Array\n(\n    [username] => sim\n") and body.endswith("3035550100\n3035550101\n")


def test_state_file_round_trip() -> None:
    """save_state/load_state keep jobs, faxes, DIDs, users and holds; pending jobs complete after reload."""
    sim = FaxageSim()
    jobid = send(sim)
    recvid = sim.inject_fax(now=5, dnis="3035550100", data=b"II*\x00tiff")
    call(sim, "adduser", ulogin="amy", upasswd="p", ufullname="Amy", uemail="a@x")
    call(sim, "deprovidid", path="provision.php", didnumber="3035550101")
    again = FaxageSim()
    load_state(again, save_state(sim))
    assert again.faxes[recvid].data == b"II*\x00tiff" and 10 in again.users
    assert "3035550101" in again.on_hold and again.next_jobid == sim.next_jobid
    again.advance(1000)
    assert again.jobs[jobid].shortstatus == "success"
