"""JSON snapshot of a :class:`FaxageSim` account (pure: text in, text out).

Jobs keep their current status; schedule steps still to come are dropped,
so a job pending at shutdown completes at the next start's first tick.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hwsim.faxage.state import FaxageSim, Job, ReceivedFax, Step

__all__ = ["load_state", "save_state"]

_SCALARS = ("next_jobid", "next_recvid", "next_uid", "incoming_now", "incoming_allocated")


def save_state(sim: FaxageSim) -> str:
    data: dict[str, Any] = {name: getattr(sim, name) for name in _SCALARS}
    data.update(
        dids=sim.dids,
        inventory=sim.inventory,
        on_hold=sim.on_hold,
        folders=sim.folders,
        users={str(k): v for k, v in sim.users.items()},
        line_emails=sorted(sim.line_emails),
        line_perms=[[u, line, p] for (u, line), p in sim.line_perms.items()],
        lowspeed=[[s, d, v] for (s, d), v in sim.lowspeed.items()],
        blacklist=sorted(sim.blacklist),
        donotfax=sim.donotfax_list,
        cdrs=sim.cdrs,
        busy_calls=sim.busy_calls,
        ports=sim.ports,
        faxes=[
            {**{k: v for k, v in vars(f).items() if k != "data"}, "data": base64.b64encode(f.data).decode()}
            for f in sim.faxes.values()
        ],
        jobs=[{k: v for k, v in vars(j).items() if k not in ("steps", "files")} for j in sim.jobs.values()],
    )
    return json.dumps(data, indent=1, sort_keys=True)


def load_state(sim: FaxageSim, text: str) -> None:
    data = json.loads(text)
    for name in _SCALARS:
        setattr(sim, name, int(data[name]))
    sim.dids = {str(k): bool(v) for k, v in data["dids"].items()}
    sim.inventory = {k: (v[0], v[1]) for k, v in data["inventory"].items()}
    sim.on_hold = {k: float(v) for k, v in data["on_hold"].items()}
    sim.folders = {int(k): v for k, v in data["folders"].items()}
    sim.users = {int(k): v for k, v in data["users"].items()}
    sim.line_emails = {(int(u), line) for u, line in data["line_emails"]}
    sim.line_perms = {(int(u), line): int(p) for u, line, p in data["line_perms"]}
    sim.lowspeed = {(s, d): v for s, d, v in data["lowspeed"]}
    sim.blacklist = {(c, d) for c, d in data["blacklist"]}
    sim.donotfax_list = data["donotfax"]
    sim.cdrs = [tuple(c) for c in data["cdrs"]]
    sim.busy_calls = [tuple(b) for b in data["busy_calls"]]
    sim.ports = [tuple(p) for p in data["ports"]]
    sim.faxes = {}
    for f in data["faxes"]:
        fax = ReceivedFax(**{**f, "data": base64.b64decode(f["data"])})
        sim.faxes[fax.recvid] = fax
    sim.jobs = {}
    for j in data["jobs"]:
        job = Job(**{**j, "steps": []})
        if job.completetime is None:
            job.steps = [Step(0.0, "success", "Success")]
        sim.jobs[job.jobid] = job
