"""The simulated FAXAGE account's records (pure: no I/O, time passed in as ``now``).

:class:`Account` holds jobs, received faxes, DIDs and settings;
:meth:`Account.advance` moves jobs along their scripted schedules and
collects the url_notify callbacks that became due.  The operations
(:mod:`hwsim.faxage._sending`, ``_receiving``, ``_account``) work on it;
:class:`hwsim.faxage.state.FaxageSim` adds the dispatch of a POST to them.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_SCHEDULE", "Account", "Callback", "Form", "Job", "ReceivedFax", "Reply", "Step", "paren", "stamp"]

Form = dict[str, list[str]]

ON_HOLD_SECONDS = 30 * 24 * 3600.0
ZERO_TIME = "0000-00-00 00:00:00"


def stamp(now: float) -> str:
    """``YYYY-MM-DD HH:MM:SS`` for ``now`` (seconds since the epoch, UTC)."""
    return _dt.datetime.fromtimestamp(now, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Reply:
    body: bytes
    content_type: str = "text/html; charset=UTF-8"
    filename: str | None = None

    @staticmethod
    def text(text: str) -> Reply:
        return Reply(text.encode("utf-8"))


@dataclass(frozen=True)
class Step:
    """After ``delay`` seconds (from the previous step) the job shows
    ``shortstatus``/``longstatus``."""

    delay: float
    shortstatus: str
    longstatus: str


DEFAULT_SCHEDULE: tuple[Step, ...] = (
    Step(0.5, "pending", "In Queue"),
    Step(1.5, "success", "Success"),
)


@dataclass(frozen=True)
class Callback:
    url: str
    fields: tuple[tuple[str, str], ...]


@dataclass
class Job:
    jobid: int
    commid: int
    destname: str
    destnum: str
    callerid: str
    login: str
    sendtime: float
    pagecount: int
    url_notify: str
    steps: list[Step]
    files: list[tuple[str, bytes]] = field(default_factory=list)
    shortstatus: str = "pending"
    longstatus: str = "Waiting for conversion"
    next_at: float = 0.0
    completetime: float | None = None
    tries: int = 0
    xmitpages: int = 0
    csid: str = ""
    stopped: bool = False

    def status_fields(self) -> dict[str, str]:
        xmit = int(self.completetime - self.sendtime) if self.completetime is not None else 0
        return {
            "jobid": str(self.jobid),
            "commid": str(self.commid),
            "destname": self.destname,
            "destnum": self.destnum,
            "shortstatus": self.shortstatus,
            "longstatus": self.longstatus,
            "sendtime": stamp(self.sendtime),
            "completetime": stamp(self.completetime) if self.completetime is not None else ZERO_TIME,
            "xmittime": f"{xmit // 3600:02d}:{xmit // 60 % 60:02d}:{xmit % 60:02d}",
            "pagecount": str(self.pagecount),
            "csid": self.csid,
            "login": self.login,
            "xmitpages": str(self.xmitpages),
            "tries": str(self.tries),
        }


@dataclass
class ReceivedFax:
    recvid: int
    recvdate: float
    starttime: float
    cid: str
    dnis: str
    data: bytes
    pagecount: int
    tsid: str
    handled: bool = False
    folderid: int = 0

    @property
    def filename(self) -> str:
        return f"fax{self.recvid}.pdf" if self.data.startswith(b"%PDF") else f"fax{self.recvid}.tif"


def paren(number: str) -> str:
    """``(XXX)XXX-XXXX`` as listfax shows CID and DNIS."""
    if len(number) == 10 and number.isdigit():
        return f"({number[:3]}){number[3:6]}-{number[6:]}"
    return number or "Unavailable"


class Account:
    """One FAXAGE account with its state; see the module docstring."""

    def __init__(
        self,
        *,
        username: str = "sim",
        company: str = "12345",
        password: str = "simpass",
        manager: bool = True,
        dids: tuple[str, ...] = ("3035550100", "3035550101"),
        inventory: dict[str, tuple[str, str]] | None = None,
        epoch: float = 0.0,
    ) -> None:
        self.username = username
        self.company = company
        self.password = password
        self.manager = manager
        self.schedule: tuple[Step, ...] = DEFAULT_SCHEDULE
        self.scripts: dict[str, tuple[Step, ...]] = {}
        self.jobs: dict[int, Job] = {}
        self.next_jobid = 1000
        self.faxes: dict[int, ReceivedFax] = {}
        self.next_recvid = 500
        self.dids: dict[str, bool] = {d: True for d in dids}  # did -> enabled
        self.inventory: dict[str, tuple[str, str]] = dict(
            inventory
            if inventory is not None
            else {
                "3035551212": ("Denver", "CO"),
                "3035551234": ("Denver", "CO"),
                "3039915555": ("Denver", "CO"),
                "4155550199": ("San Francisco", "CA"),
                "8005550111": ("Toll-Free", "Toll-Free"),
            }
        )
        self.on_hold: dict[str, float] = {}  # did -> time it returns to the inventory
        self.portable_ratecenters = {"303", "415", "720", "202"}
        self.users: dict[int, dict[str, str]] = {}
        self.next_uid = 10
        self.line_emails: set[tuple[int, str]] = set()
        self.line_perms: dict[tuple[int, str], int] = {}
        self.folders: dict[int, str] = {1: "Inbox archive", 2: "Billing"}
        self.lowspeed: dict[tuple[str, str], str] = {}
        self.blacklist: set[tuple[str, str]] = set()
        self.donotfax_list: dict[str, tuple[str, str]] | None = {}  # None: list not created
        self.cdrs: list[tuple[float, str, str, str, int]] = []
        self.audit: list[tuple[Any, ...]] = []
        self.busy_calls: list[tuple[str, str, float]] = []
        self.incoming_now = 0
        self.incoming_allocated = 4
        self.ports: list[tuple[str, ...]] = []
        self.epoch = epoch
        self.pending_callbacks: list[Callback] = []

    # ------------------------------------------------------------ scripting

    def script(self, faxno: str, steps: tuple[Step, ...]) -> None:
        """Jobs to ``faxno`` follow ``steps`` instead of the default schedule."""
        self.scripts[faxno] = steps

    def inject_fax(
        self,
        *,
        now: float,
        dnis: str,
        cid: str = "",
        data: bytes = b"%PDF-1.4\n%sim\n",
        pagecount: int = 1,
        tsid: str = "",
        duration: float = 30.0,
    ) -> int:
        """A fax arrives on ``dnis``; returns its recvid."""
        recvid = self.next_recvid
        self.next_recvid += 1
        self.faxes[recvid] = ReceivedFax(recvid, now, now - duration, cid, dnis, data, pagecount, tsid)
        self.cdrs.append((now - duration, "IN", cid or "Unavailable", dnis, int(duration)))
        return recvid

    # ------------------------------------------------------------ progression

    def advance(self, now: float) -> None:
        """Apply every schedule step due by ``now`` (callbacks that become
        due collect until :meth:`take_callbacks`)."""
        for job in self.jobs.values():
            while job.steps and job.next_at <= now and not job.stopped:
                step = job.steps.pop(0)
                job.shortstatus, job.longstatus = step.shortstatus, step.longstatus
                job.tries += 1 if step.shortstatus != "pending" or "Try" in step.longstatus else 0
                if step.shortstatus != "pending":
                    self.complete(job, job.next_at)
                elif job.steps:
                    job.next_at += job.steps[0].delay

    def take_callbacks(self) -> list[Callback]:
        """The url_notify callbacks due so far (each returned once)."""
        due, self.pending_callbacks = self.pending_callbacks, []
        return due

    def complete(self, job: Job, when: float) -> None:
        job.completetime = when
        job.steps = []
        if job.shortstatus == "success":
            job.xmitpages, job.csid = job.pagecount, "SIM REMOTE"
            self.cdrs.append((job.sendtime, "OUT", job.callerid, job.destnum, max(1, int(when - job.sendtime))))
        if job.url_notify:
            values = job.status_fields()
            names = (
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
            )
            self.pending_callbacks.append(Callback(job.url_notify, tuple((n, values[n]) for n in names)))

    def new_job(self, now: float, form: Form, pages: int, files: list[tuple[str, bytes]]) -> Job:
        jobid = self.next_jobid
        self.next_jobid += 1
        faxno = form["faxno"][0]
        steps = list(self.scripts.get(faxno, self.schedule))
        job = Job(
            jobid,
            90000 + jobid,
            form["recipname"][0][:32],
            faxno,
            form.get("callerid", [self.default_callerid()])[0],
            form["username"][0],
            now,
            pages,
            form.get("url_notify", [""])[0],
            steps,
            files,
        )
        job.next_at = now + (steps[0].delay if steps else 0.0)
        self.jobs[jobid] = job
        return job

    def default_callerid(self) -> str:
        return next(iter(self.dids), "0000000000")

    # ------------------------------------------------------------ dispatch

    def authorized(self, form: Form) -> bool:
        return (
            form.get("username", [""])[0] == self.username
            and form.get("company", [""])[0] == self.company
            and form.get("password", [""])[0] == self.password
        )
