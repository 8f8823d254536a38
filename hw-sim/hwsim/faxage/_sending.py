"""Simulated httpsfax.php sending operations (pure)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from hwsim.faxage._records import Account, Form, Reply, stamp

EXTENSIONS = frozenset(
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
BLOCKED = re.compile(r"\d{3}555\d{4}|911\d{7}|\d{3}911\d{4}|0\d{9}|1\d{9}")
# 555-01XX numbers are the fictional-use range; the simulator lets them through.
FICTIONAL = re.compile(r"\d{3}55501\d\d")
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 24
PDF = b"%PDF-1.4\n% simulated transmittal page\n%%EOF\n"


def _one(form: Form, name: str) -> str:
    return form.get(name, [""])[0]


def _count_pages(files: list[tuple[str, bytes]]) -> int:
    pages = 0
    for _, data in files:
        pages += max(1, data.count(b"/Type /Page") - data.count(b"/Type /Pages")) if data.startswith(b"%PDF") else 1
    return max(1, pages)


def sendfax(sim: Account, form: Form, now: float) -> Reply:
    faxno = _one(form, "faxno")
    if not re.fullmatch(r"\d{10}", faxno):
        return Reply.text(f"ERR04: Fax number {faxno} appears to be invalid")
    if BLOCKED.fullmatch(faxno) and not FICTIONAL.fullmatch(faxno):
        return Reply.text("ERR05: Destination is blocked or outside the service area")
    if sim.donotfax_list and faxno in sim.donotfax_list:
        return Reply.text(f"ERR05: {faxno} is on your do not fax list")
    names, datas = form.get("faxfilenames[]", []), form.get("faxfiledata[]", [])
    urls = form.get("faxurls[]", []) or form.get("faxurl", [])
    files: list[tuple[str, bytes]] = []
    for name, data in zip(names, datas):
        if name.rsplit(".", 1)[-1].lower() not in EXTENSIONS:
            continue
        try:
            files.append((name, base64.b64decode(data, validate=True)))
        except (binascii.Error, ValueError):
            continue
    if not files and not urls:
        return Reply.text("ERR03: No files to fax")
    if not _one(form, "recipname"):
        return Reply.text("ERR08: Unknown operation specified or bad POST recipname missing")
    job = sim.new_job(now, form, _count_pages(files) if files else len(urls), files)
    return Reply.text(f"JOBID: {job.jobid}")


_STATUS_OPTIONAL = (
    ("pagecount", "pagecount"),
    ("csid", "csid"),
    ("showlogin", "login"),
    ("xmitpages", "xmitpages"),
    ("showtries", "tries"),
)
_BASE = ("jobid", "commid", "destname", "destnum", "shortstatus", "longstatus", "sendtime", "completetime", "xmittime")


def status(sim: Account, form: Form, now: float) -> Reply:
    wanted = [int(j) for j in form.get("jobids[]", []) + form.get("jobid", []) if j.isdigit()]
    jobs = [sim.jobs[j] for j in wanted if j in sim.jobs] if wanted or "jobid" in form else list(sim.jobs.values())
    if _one(form, "useronly") == "1":
        jobs = [j for j in jobs if j.login == _one(form, "username")]

    begin, end = _one(form, "begin"), _one(form, "end")
    jobs = [j for j in jobs if (not begin or stamp(j.sendtime) >= begin) and (not end or stamp(j.sendtime) <= end)]
    if not jobs:
        return Reply.text("ERR06: No jobs to display or job id specified not found")
    names = list(_BASE) + [name for flag, name in _STATUS_OPTIONAL if _one(form, flag) == "1"]
    lines = []
    for job in jobs:
        values = job.status_fields()
        if _one(form, "extqueue") == "1" and job.shortstatus == "pending":
            values["longstatus"] += f" Tries: {job.tries} Status: {job.longstatus}"
        lines.append("\t".join(values[n] for n in names))
    return Reply.text("\n".join(lines) + "\n")


def dlstatus(sim: Account, form: Form, now: float) -> Reply:
    job = sim.jobs.get(int(_one(form, "jobid") or 0))
    if job is None:
        return Reply.text("ERR06: No jobs to display or job id specified not found")
    if job.longstatus == "Waiting for conversion":
        return Reply.text("ERR24: File is not yet converted")
    if job.longstatus == "Failed Conversion":
        return Reply.text("ERR25: File does not exist")
    if _one(form, "viewtype") == "pdf":
        return Reply(PDF, "application/pdf", f"job{job.jobid}.pdf")
    return Reply(TIFF, "image/tiff", f"job{job.jobid}.tif")


def dltrans(sim: Account, form: Form, now: float) -> Reply:
    jobid = _one(form, "jobid")
    job = sim.jobs.get(int(jobid) if jobid.isdigit() else 0)
    if job is None or job.completetime is None:
        return Reply.text(f"ERR28: JOB ID: {jobid} does not exist")
    return Reply(PDF, "application/pdf", f"trans{job.jobid}.pdf")


def clear(sim: Account, form: Form, now: float) -> Reply:
    jobid = _one(form, "jobid")
    job = sim.jobs.get(int(jobid) if jobid.isdigit() else 0)
    if job is None or job.completetime is None:
        return Reply.text(
            f"ERR07: Job ID: {jobid} not found, does not belong to you or is pending and cannot be cleared yet"
        )
    del sim.jobs[job.jobid]
    return Reply.text(f"{job.jobid} cleared")


def stopfax(sim: Account, form: Form, now: float) -> Reply:
    jobid = _one(form, "jobid")
    if not jobid.isdigit():
        return Reply.text("ERR18: No jobid specified")
    job = sim.jobs.get(int(jobid))
    if job is None:
        return Reply.text(f"ERR19: JOB ID {jobid} not found or does not belong to you")
    if job.completetime is not None:
        return Reply.text(f"ERR20: Job ID - {jobid} - is not In Queue")
    if job.longstatus.startswith("Transmitting"):
        return Reply.text(f"ERR22: Job ID - {jobid} - is in transmission")
    job.shortstatus, job.longstatus = "failure", "Stopped by user"
    sim.complete(job, now)
    job.stopped = True
    return Reply.text(f"{jobid} stopped")


def resend(sim: Account, form: Form, now: float) -> Reply:
    jobid = _one(form, "jobid")
    old = sim.jobs.get(int(jobid) if jobid.isdigit() else 0)
    if old is None:
        return Reply.text(f"ERR40: JobID {jobid} not found or does not belong to you")
    if old.completetime is None or old.longstatus == "Failed Conversion":
        return Reply.text(f"ERR41: JobID {jobid} is not eligible for resend")
    # options are not retained from the original sendfax (the document says so)
    new_form = {**form, "faxno": [old.destnum], "recipname": [old.destname]}
    job = sim.new_job(now, new_form, old.pagecount, old.files)
    return Reply.text(f"JOBID: {job.jobid}")


def pendcount(sim: Account, form: Form, now: float) -> Reply:
    return Reply.text(str(sum(1 for j in sim.jobs.values() if j.completetime is None)))


def qstatus(sim: Account, form: Form, now: float) -> Reply:
    lines = [
        f"{j.jobid}\t{j.callerid}\t{j.destnum}\t{7000 + j.jobid % 2}\t{j.pagecount}"
        for j in sim.jobs.values()
        if j.completetime is None
    ]
    return Reply.text("\n".join(lines) + ("\n" if lines else ""))


HANDLERS: dict[str, Callable[[Account, Form, float], Reply]] = {
    "sendfax": sendfax,
    "status": status,
    "dlstatus": dlstatus,
    "dltrans": dltrans,
    "clear": clear,
    "stopfax": stopfax,
    "resend": resend,
    "pendcount": pendcount,
    "qstatus": qstatus,
}
