"""Benchmark: the FAXAGE client submitting faxes and polling them to
completion against the simulated service on loopback.

Two ways, each against a fresh simulator (``hwsim faxage`` in a
subprocess, jobs finishing within a few tens of milliseconds):

* **ours**: the appliance's way.  :class:`TwistedFaxage` keeps several
  sends in flight through its thread pool; every submitted job is watched by
  a :class:`NotifyTracker` and a :class:`StatusPoller` asks ``status`` with
  ``jobids[]`` batches every ``--poll-interval`` seconds.
* **serial**: one request at a time: send one fax, poll its ``status`` with
  ``jobid`` every ``--poll-interval`` seconds until it is final, then the next.

HTTP requests are counted by the simulator (``/_sim/state``).  Prints jobs/s
and HTTP requests per completed job for both and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hw-sim")]

from appliance.cloud.api import Credentials  # noqa: E402
from appliance.cloud.client import FaxageClient, RetryPolicy, TwistedFaxage, make_http_client  # noqa: E402
from appliance.config import Secret  # noqa: E402

CREDENTIALS = Credentials("sim", "12345", Secret("simpass"))
FILE = ("memo.txt", b"Benchmark page.\n")


@dataclass
class Outcome:
    mode: str
    jobs: int
    seconds: float
    requests: int
    failed: int

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.seconds

    @property
    def requests_per_job(self) -> float:
        return self.requests / self.jobs


class Simulator:
    """``hwsim faxage`` on a free loopback port, in a subprocess."""

    def __init__(self, schedule: str, tick: float) -> None:
        hwsim = Path(sys.executable).parent / "hwsim"
        command = [str(hwsim), "faxage", "--port", "0", "--tick", str(tick), "--schedule", schedule]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "hw-sim")])}
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and not line.startswith("listening on port"):
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("hwsim faxage exited before listening")
        if not line.startswith("listening on port"):
            self.stop()
            raise RuntimeError("hwsim faxage did not start within 30 s")
        self.url = f"http://127.0.0.1:{int(line.split()[-1])}"

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_sim/state", timeout=10) as reply:
            result: dict[str, Any] = json.load(reply)
            return result

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def faxno(i: int) -> str:
    return f"30355501{i % 100:02d}"  # the fictional 555-01XX range


def client(url: str, connections: int) -> FaxageClient:
    return FaxageClient(
        make_http_client(max_connections=connections),
        url,
        CREDENTIALS,
        sleep=time.sleep,
        rng=random.Random(1),
        retry=RetryPolicy(attempts=3, base_delay=0.05),
    )


def run_serial(url: str, jobs: int, poll_interval: float) -> tuple[float, int]:
    """One request at a time; returns (seconds, failed jobs)."""
    c = client(url, 1)
    failed = 0
    start = time.perf_counter()
    for i in range(jobs):
        jobid = c.sendfax(faxno(i), f"Serial {i}", [FILE]).jobid
        while True:
            time.sleep(poll_interval)
            (record,) = c.status([jobid])
            if record.shortstatus.final:
                failed += record.shortstatus.value != "success"
                break
    seconds = time.perf_counter() - start
    c.close()
    return seconds, failed


def run_ours(url: str, jobs: int, poll_interval: float, threads: int, batch: int) -> tuple[float, int]:
    """The appliance's way on a Twisted reactor; returns (seconds, failed jobs)."""
    from twisted.internet import reactor
    from twisted.internet.defer import DeferredList, DeferredSemaphore

    from appliance.cloud.notify import NotifyTracker, StatusPoller

    r: Any = reactor
    c = client(url, threads)
    pool = TwistedFaxage.start_threadpool(r, threads)
    faxage = TwistedFaxage(c, r, pool)
    tracker = NotifyTracker("http://127.0.0.1:1/notify", random.Random(2).randbytes)
    finals: dict[int, str] = {}
    times: dict[str, float] = {}
    errors: list[str] = []

    def final(record: Any) -> None:
        finals[record.jobid] = record.shortstatus.value
        if len(finals) == jobs:
            times["end"] = time.perf_counter()
            poller.stop()
            r.stop()

    poller = StatusPoller(tracker, faxage, r, interval=poll_interval, batch_size=batch, on_final=final)
    gate = DeferredSemaphore(threads)

    def submit(i: int) -> Any:
        d = gate.run(faxage.sendfax, faxno(i), f"Ours {i}", [FILE])
        d.addCallback(lambda job: tracker.watch(job.jobid))
        d.addErrback(lambda f: errors.append(f.getErrorMessage()))
        return d

    def begin() -> None:
        times["start"] = time.perf_counter()
        poller.start()
        DeferredList([submit(i) for i in range(jobs)])

    r.callWhenRunning(begin)
    r.callLater(600, r.stop)  # hard limit
    r.run()
    if not pool.joined:
        pool.stop()
    c.close()
    if errors or "end" not in times:
        raise RuntimeError(f"ours: {len(finals)}/{jobs} jobs completed; errors: {errors[:3]}")
    return times["end"] - times["start"], sum(1 for v in finals.values() if v != "success")


def measure(mode: str, args: argparse.Namespace) -> Outcome:
    sim = Simulator(args.schedule, args.tick)
    try:
        before = sim.state()["requests"]
        if mode == "ours":
            seconds, failed = run_ours(sim.url, args.jobs, args.poll_interval, args.threads, args.batch)
        else:
            seconds, failed = run_serial(sim.url, args.jobs, args.poll_interval)
        state = sim.state()
        requests = state["requests"] - before
        done = sum(1 for _, short in state["jobs"].values() if short != "pending")
        if done != args.jobs or len(state["jobs"]) != args.jobs:
            raise RuntimeError(f"{mode}: simulator holds {len(state['jobs'])} jobs, {done} final")
    finally:
        sim.stop()
    return Outcome(mode, args.jobs, seconds, requests, failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="faxes to submit (default 1000)")
    parser.add_argument("--threads", type=int, default=8, help="ours: sends in flight / pool size (default 8)")
    parser.add_argument("--batch", type=int, default=100, help="ours: jobids[] per status request (default 100)")
    parser.add_argument("--poll-interval", type=float, default=0.02, help="seconds between polls (default 0.02)")
    parser.add_argument(
        "--schedule",
        default="0.005:pending:In Queue,0.01:success:Success",
        help="simulator job schedule (hwsim faxage --schedule)",
    )
    parser.add_argument("--tick", type=float, default=0.01, help="simulator tick")
    parser.add_argument("--only", choices=("ours", "serial"), help="run one mode only")
    args = parser.parse_args(argv)
    print(
        f"load average at start: {os.getloadavg()[0]:.2f}; {args.jobs} jobs, schedule {args.schedule!r}, "
        f"poll every {args.poll_interval} s; ours: {args.threads} threads, jobids[] batches of {args.batch}"
    )
    outcomes = [measure(mode, args) for mode in ("ours", "serial") if args.only in (None, mode)]
    print(f"{'mode':<8} {'jobs':>6} {'seconds':>9} {'jobs/s':>9} {'HTTP requests':>14} {'req/job':>8} {'failed':>7}")
    for o in outcomes:
        print(
            f"{o.mode:<8} {o.jobs:>6} {o.seconds:>9.2f} {o.jobs_per_s:>9.1f} {o.requests:>14} "
            f"{o.requests_per_job:>8.2f} {o.failed:>7}"
        )
    if len(outcomes) == 2:
        ours, serial = outcomes
        print(
            f"ours/serial: {ours.jobs_per_s / serial.jobs_per_s:.1f}x jobs/s, "
            f"{ours.requests_per_job / serial.requests_per_job:.2f}x HTTP requests per job"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
