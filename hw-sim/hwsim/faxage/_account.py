"""Simulated account operations: numbers, users, settings, information,
getcdr.php and provision.php (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

from hwsim.faxage._records import ON_HOLD_SECONDS, Account, Form, Reply, stamp

Handler = Callable[["Account", Form, float], Reply]


def _one(form: Form, name: str) -> str:
    return form.get(name, [""])[0]


def _ten(value: str) -> bool:
    return re.fullmatch(r"\d{10}", value) is not None


def _uid(form: Form) -> int:
    value = _one(form, "uid")
    return int(value) if value.isdigit() else 0


def _lines(rows: list[str]) -> Reply:
    return Reply.text("".join(row + "\n" for row in rows))


# ------------------------------------------------------------ numbers


def _did_toggle(enable: bool) -> Handler:
    def handler(sim: Account, form: Form, now: float) -> Reply:
        did = _one(form, "didnumber")
        if not _ten(did):
            return Reply.text(f"ERR16: invalid DID number - {did}")
        if did not in sim.dids:
            return Reply.text(f"ERR17: DID {did} not found or doesn't belong to you")
        sim.dids[did] = enable
        return Reply.text(f"{'Enabled' if enable else 'Disabled'} {did}")

    return handler


def portable(sim: Account, form: Form, now: float) -> Reply:
    did = _one(form, "didnumber")
    return Reply.text("1" if _ten(did) and did[:3] in sim.portable_ratecenters else "0")


def listlines(sim: Account, form: Form, now: float) -> Reply:
    return _lines(sorted(sim.dids))


def checkline(sim: Account, form: Form, now: float) -> Reply:
    return Reply.text("1" if _one(form, "checknum") in sim.dids else "0")


# ------------------------------------------------------------ users


def _manager(handler: Handler) -> Handler:
    def wrapped(sim: Account, form: Form, now: float) -> Reply:
        if not sim.manager:
            return Reply.text("ERR50: No permission")
        return handler(sim, form, now)

    return wrapped


@_manager
def adduser(sim: Account, form: Form, now: float) -> Reply:
    values = [_one(form, n) for n in ("ulogin", "upasswd", "ufullname", "uemail")]
    if not all(values):
        return Reply.text("ERR51: Missing data")
    if any(u["login"] == values[0] for u in sim.users.values()):
        return Reply.text("ERR52: Duplicate user")
    uid = sim.next_uid
    sim.next_uid += 1
    sim.users[uid] = dict(zip(("login", "passwd", "fullname", "email"), values))
    return Reply.text(f"UID: {uid}")


def _user_op(action: Callable[[Account, int, Form], Reply]) -> Handler:
    @_manager
    def handler(sim: Account, form: Form, now: float) -> Reply:
        uid = _uid(form)
        if uid not in sim.users:
            return Reply.text("ERR53: User not found or does not belong to you")
        return action(sim, uid, form)

    return handler


def _remuser(sim: Account, uid: int, form: Form) -> Reply:
    del sim.users[uid]
    sim.line_emails = {e for e in sim.line_emails if e[0] != uid}
    sim.line_perms = {k: v for k, v in sim.line_perms.items() if k[0] != uid}
    return Reply.text(f"{uid} removed")


def _changepass(sim: Account, uid: int, form: Form) -> Reply:
    if not _one(form, "upasswd"):
        return Reply.text("ERR51: Missing data")
    sim.users[uid]["passwd"] = _one(form, "upasswd")
    return Reply.text(f"{uid} password changed")


def _changeemail(sim: Account, uid: int, form: Form) -> Reply:
    if not _one(form, "uemail"):
        return Reply.text("ERR51: Missing data")
    sim.users[uid]["email"] = _one(form, "uemail")
    return Reply.text(f"{uid} email changed to {_one(form, 'uemail')}")


@_manager
def listusers(sim: Account, form: Form, now: float) -> Reply:
    return _lines([f"{uid}\t{u['login']}\t{u['email']}" for uid, u in sorted(sim.users.items())])


def _line_op(action: Callable[[Account, int, str, Form], Reply]) -> Handler:
    def line_action(sim: Account, uid: int, form: Form) -> Reply:
        line = _one(form, "linenumber")
        if line not in sim.dids:
            return Reply.text("ERR55: Line not found or does not belong to you")
        return action(sim, uid, line, form)

    return _user_op(line_action)


def _addlineemail(sim: Account, uid: int, line: str, form: Form) -> Reply:
    if (uid, line) in sim.line_emails:
        return Reply.text("ERR56: Unspecified error")
    sim.line_emails.add((uid, line))
    return Reply.text(f"{uid} email routing added to {line}")


def _remlineemail(sim: Account, uid: int, line: str, form: Form) -> Reply:
    if (uid, line) not in sim.line_emails:
        return Reply.text("ERR56: Unspecified error")
    sim.line_emails.discard((uid, line))
    return Reply.text(f"{uid} email routing removed from {line}")


def _addlineperm(sim: Account, uid: int, line: str, form: Form) -> Reply:
    level = _one(form, "permlevel")
    if level not in ("1", "2", "3"):
        return Reply.text("ERR51: Missing data")
    sim.line_perms[(uid, line)] = int(level)
    return Reply.text(f"{uid} permission added to {line} level {level}")


def _remlineperm(sim: Account, uid: int, line: str, form: Form) -> Reply:
    if sim.line_perms.pop((uid, line), None) is None:
        return Reply.text("ERR56: Unspecified error")
    return Reply.text(f"{uid} permission removed from {line}")


# ------------------------------------------------------------ settings


def lowspeed(sim: Account, form: Form, now: float) -> Reply:
    qtype, src, dst = _one(form, "qtype"), _one(form, "src"), _one(form, "dst")
    if qtype not in ("check", "set"):
        return Reply.text("ERR35: unknown qtype or qtype not set")
    if dst not in sim.dids:
        return Reply.text(f"ERR36: {dst} does not appear to be one of your DIDs")
    if qtype == "check":
        return Reply.text(sim.lowspeed.get((src, dst), "none"))
    speed = _one(form, "setspeed")
    if speed not in ("none", "low", "lowlow"):
        return Reply.text("ERR34: setspeed must be one of low or lowlow")
    if speed == "none":
        sim.lowspeed.pop((src, dst), None)
    else:
        sim.lowspeed[(src, dst)] = speed
    return Reply.text(f"Calls from {src} to {dst} set to {speed}")


def blacklist(sim: Account, form: Form, now: float) -> Reply:
    activity, cid, did = _one(form, "activity"), _one(form, "cidnumber"), _one(form, "didnumber")
    if activity not in ("add", "del", "list"):
        return Reply.text(f"ERR60: unknown activity {activity}")
    if did != "0000000000" and did not in sim.dids:
        return Reply.text(f"ERR61: didnumber {did} not found or does not belong to you")
    if activity == "list":
        rows = sorted(e for e in sim.blacklist if did == "0000000000" or e[1] == did)
        return _lines([f"{c}\t{d}" for c, d in rows])
    if not _ten(cid):
        return Reply.text(f"ERR59: cidnumber {cid} does not appear to be valid")
    entry = f"Entry for cidnumber {cid} to didnumber {did}"
    if activity == "add":
        if (cid, did) in sim.blacklist:
            return Reply.text(f"ERR62: {entry} already exists")
        sim.blacklist.add((cid, did))
        return Reply.text(f"{entry} added")
    if (cid, did) not in sim.blacklist:
        return Reply.text(f"ERR63: {entry} does not exist")
    sim.blacklist.discard((cid, did))
    return Reply.text(f"{entry} deleted")


def donotfax(sim: Account, form: Form, now: float) -> Reply:
    if sim.donotfax_list is None:
        return Reply.text("ERR29: do not fax list not found on account")
    number, activity = _one(form, "number"), _one(form, "activity")
    if activity == "add":
        if number in sim.donotfax_list:
            return Reply.text(f"ERR31: {number} is already on your do not fax list")
        sim.donotfax_list[number] = (_one(form, "name"), _one(form, "comment"))
        return Reply.text(f"{number} added")
    if activity == "del":
        if sim.donotfax_list.pop(number, None) is None:
            return Reply.text(f"ERR30: {number} is not on your do not fax list")
        return Reply.text(f"{number} deleted")
    return Reply.text("ERR08: Unknown operation specified or bad POST activity=" + activity)


# ------------------------------------------------------------ information


def incomingcalls(sim: Account, form: Form, now: float) -> Reply:
    return Reply.text(f"{sim.incoming_now}~{sim.incoming_allocated}")


def busycalls(sim: Account, form: Form, now: float) -> Reply:
    if not sim.busy_calls:
        return Reply.text("No records")
    return _lines([f"{a}\t{b}\t{stamp(t)}" for a, b, t in sim.busy_calls])


def portstatus(sim: Account, form: Form, now: float) -> Reply:
    return _lines(["\t".join(p) for p in sim.ports])


def auditlog(sim: Account, form: Form, now: float) -> Reply:
    rows = []
    for aid, when, login, op, opstat, request, response in sim.audit:
        ts = stamp(when)
        if (_one(form, "begin") and ts <= _one(form, "begin")) or (_one(form, "end") and ts >= _one(form, "end")):
            continue
        if _one(form, "audtidgt").isdigit() and aid <= int(_one(form, "audtidgt")):
            continue
        if (
            (_one(form, "auditop") and op != _one(form, "auditop"))
            or (_one(form, "audituser") and login != _one(form, "audituser"))
            or (_one(form, "opstat") and str(opstat) != _one(form, "opstat"))
        ):
            continue
        request = re.sub(r"password=[^&]*", "password=***", request)
        rows.append("\t".join([str(aid), ts, login, "127.0.0.1", "API", "", op, str(opstat), request, response]))
    return _lines(rows)


def getcdr(sim: Account, form: Form, now: float) -> Reply:
    begin, end, nuidgt = _one(form, "begin"), _one(form, "end"), _one(form, "nuidgt")
    if not ((begin and end) or nuidgt):
        return Reply.text("")
    show = _one(form, "nuidshow") == "1"
    rows = []
    for nuid, (when, direction, src, dst, duration) in sorted(enumerate(sim.cdrs, 1), key=lambda x: x[1][0]):
        ts = stamp(when)
        if begin and end and not (begin <= ts <= end):
            continue
        if nuidgt and nuid <= int(nuidgt or 0):
            continue
        if _one(form, "didnumber") and not (direction == "IN" and dst == _one(form, "didnumber")):
            continue
        rows.append(f"{ts},{direction},{src},{dst},{duration}" + (f",{nuid}" if show else ""))
    return _lines(rows)


# ------------------------------------------------------------ provision.php


def _release_holds(sim: Account, now: float) -> None:
    for did, until in list(sim.on_hold.items()):
        if until <= now:
            del sim.on_hold[did]
            sim.inventory[did] = sim.inventory.get(did, ("Unknown", "XX"))


def listac(sim: Account, form: Form, now: float) -> Reply:
    _release_holds(sim, now)
    return _lines(sorted({d[:3] for d in sim.inventory}))


def listnpanxx(sim: Account, form: Form, now: float) -> Reply:
    _release_holds(sim, now)
    ac = _one(form, "ac")
    rows = sorted({(d[:6], rc, st) for d, (rc, st) in sim.inventory.items() if not ac or d.startswith(ac)})
    return _lines(["\t".join(r) for r in rows])


def listdids(sim: Account, form: Form, now: float) -> Reply:
    _release_holds(sim, now)
    prefix = _one(form, "npanxx") or _one(form, "ac")
    return _lines(sorted(d for d in sim.inventory if d.startswith(prefix)))


def provdid(sim: Account, form: Form, now: float) -> Reply:
    _release_holds(sim, now)
    did = _one(form, "didnumber")
    if not _ten(did):
        return Reply.text(f"ERR04: Invalid DID number, {did}")
    if did not in sim.inventory:
        return Reply.text(f"ERR05: {did} does not appear to be available")
    del sim.inventory[did]
    sim.dids[did] = True
    return Reply.text(f"{did} provisioned")


def deprovidid(sim: Account, form: Form, now: float) -> Reply:
    did = _one(form, "didnumber")
    if not _ten(did):
        return Reply.text(f"ERR04: Invalid DID number, {did}")
    if did not in sim.dids:
        return Reply.text(f"ERR05: {did} is invalid or does not belong to you")
    del sim.dids[did]
    sim.on_hold[did] = now + ON_HOLD_SECONDS  # the 30-day on-hold rule
    return Reply.text(f"{did} deprovisioned")


def listonhold(sim: Account, form: Form, now: float) -> Reply:
    _release_holds(sim, now)
    return _lines(sorted(sim.on_hold))


def provonhold(sim: Account, form: Form, now: float) -> Reply:
    _release_holds(sim, now)
    did = _one(form, "didnumber")
    if not _ten(did):
        return Reply.text(f"ERR04: Invalid DID number, {did}")
    if did not in sim.on_hold:
        return Reply.text(f"ERR05: {did} does not appear to be available")
    del sim.on_hold[did]
    sim.dids[did] = True
    return Reply.text(f"{did} provisioned")


HANDLERS: dict[str, Handler] = {
    "disabledid": _did_toggle(False),
    "enabledid": _did_toggle(True),
    "portable": portable,
    "listlines": listlines,
    "checkline": checkline,
    "adduser": adduser,
    "remuser": _user_op(_remuser),
    "changepass": _user_op(_changepass),
    "changeemail": _user_op(_changeemail),
    "listusers": listusers,
    "addlineemail": _line_op(_addlineemail),
    "remlineemail": _line_op(_remlineemail),
    "addlineperm": _line_op(_addlineperm),
    "remlineperm": _line_op(_remlineperm),
    "lowspeed": lowspeed,
    "blacklist": blacklist,
    "donotfax": donotfax,
    "incomingcalls": incomingcalls,
    "busycalls": busycalls,
    "portstatus": portstatus,
    "auditlog": auditlog,
}

PROVISION: dict[str, Handler] = {
    "listac": listac,
    "listnpanxx": listnpanxx,
    "listdids": listdids,
    "provdid": provdid,
    "deprovidid": deprovidid,
    "listonhold": listonhold,
    "provonhold": provonhold,
}
