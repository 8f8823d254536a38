"""Simulated httpsfax.php receiving operations (pure)."""

from __future__ import annotations

from collections.abc import Callable

from hwsim.faxage._records import Account, Form, Reply, paren, stamp


def _one(form: Form, name: str) -> str:
    return form.get(name, [""])[0]


def _id(form: Form, name: str) -> int:
    value = _one(form, name)
    return int(value) if value.isdigit() else 0


def listfax(sim: Account, form: Form, now: float) -> Reply:
    faxes = list(sim.faxes.values())
    if _one(form, "unhandled") == "1":
        faxes = [f for f in faxes if not f.handled]
    if _one(form, "idgt"):
        faxes = [f for f in faxes if f.recvid > _id(form, "idgt")]
    if _one(form, "begin"):
        faxes = [f for f in faxes if stamp(f.recvdate) > _one(form, "begin")]
    if _one(form, "didnumber"):
        faxes = [f for f in faxes if f.dnis == _one(form, "didnumber")]
    if _one(form, "idasc") == "1":
        faxes.sort(key=lambda f: f.recvid)
    else:
        faxes.sort(key=lambda f: (f.dnis, -f.recvdate, -f.recvid))
    if not faxes:
        return Reply.text("ERR11: No incoming faxes available")
    lines = []
    for fax in faxes:
        cols = [str(fax.recvid), stamp(fax.recvdate)]
        if _one(form, "starttime") == "1":
            cols.append(stamp(fax.starttime))
        cols += [paren(fax.cid), paren(fax.dnis)]
        if _one(form, "filename") == "1":
            cols.append(fax.filename)
        if _one(form, "pagecount") == "1":
            cols.append(str(fax.pagecount))
        if _one(form, "showtsid") == "1":
            cols.append(fax.tsid)
        lines.append("\t".join(cols))
    return Reply.text("\n".join(lines) + "\n")


def getfax(sim: Account, form: Form, now: float) -> Reply:
    fax = sim.faxes.get(_id(form, "faxid"))
    if fax is None:
        return Reply.text(f"ERR12: FAX ID {_one(form, 'faxid')} not found or does not belong to you")
    return Reply(fax.data, "application/octet-stream", fax.filename)


def delfax(sim: Account, form: Form, now: float) -> Reply:
    faxid = _id(form, "faxid")
    if faxid not in sim.faxes:
        return Reply.text(f"ERR14: FAX ID {_one(form, 'faxid')} not found or does not belong to you")
    del sim.faxes[faxid]
    return Reply.text(f"{faxid} Deleted")


def handled(sim: Account, form: Form, now: float) -> Reply:
    recvid, flag = _one(form, "recvid"), _one(form, "handled")
    if not recvid or flag not in ("0", "1"):
        return Reply.text("ERR38: Either recvid or handled variable not set")
    fax = sim.faxes.get(_id(form, "recvid"))
    if fax is None:
        return Reply.text(f"ERR37: {recvid} does not appear to be one of your faxes")
    if flag == "1" and fax.handled:
        return Reply.text(f"ERR39: Attempt to double handle {recvid}")
    fax.handled = flag == "1"
    return Reply.text(f"{recvid} marked {'handled' if fax.handled else 'unhandled'}")


def listfolder(sim: Account, form: Form, now: float) -> Reply:
    return Reply.text("".join(f"{fid}\t{name}\n" for fid, name in sorted(sim.folders.items())))


def mvfax(sim: Account, form: Form, now: float) -> Reply:
    folderid, recvid = _id(form, "folderid"), _id(form, "recvid")
    if not folderid:
        return Reply.text("ERR24: Folder ID does not appear to be valid")
    if not recvid:
        return Reply.text("ERR25: Recv ID does not appear to be valid")
    if recvid not in sim.faxes:
        return Reply.text(f"ERR26: Recv ID {recvid} not found or does not belong to you")
    if folderid not in sim.folders:
        return Reply.text(f"ERR27: Folder ID {folderid} not found or does not belong to you")
    sim.faxes[recvid].folderid = folderid
    return Reply.text(f"Recv ID: {recvid} moved to Folder ID: {folderid}")


def handlecount(sim: Account, form: Form, now: float) -> Reply:
    return Reply.text(f"{len(sim.faxes)}~{sum(1 for f in sim.faxes.values() if f.handled)}")


HANDLERS: dict[str, Callable[[Account, Form, float], Reply]] = {
    "listfax": listfax,
    "getfax": getfax,
    "delfax": delfax,
    "handled": handled,
    "listfolder": listfolder,
    "mvfax": mvfax,
    "handlecount": handlecount,
}
