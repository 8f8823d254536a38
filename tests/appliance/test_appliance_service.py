"""ApplianceService on a ``task.Clock`` with fake parts: recovery at start,
resumed cloud jobs watched, and a stop that waits for the scheduler, the
parts' stop hooks and background work (at most STOP_TIMEOUT seconds) before
it closes the thread pool and the job store; Appliance.authenticate (the
e-mail gateway's SMTP AUTH) as an Account-Login."""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from appliance.jobs.model import RecoveryReport
from appliance.wiring.controller import STOP_TIMEOUT, Appliance, ApplianceService
from radius.client import Reply
from radius.model import A, Code, FbContext


class Parts:
    """The fakes, recording what happens to them in one list."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.recovery: Deferred[RecoveryReport] = Deferred()
        self.scheduler_stopped: Deferred[None] = Deferred()
        self.resumed: dict[int, Deferred[None]] = {}
        self.running = False
        self.on_recovered: Any = None

    # thread pool, job store
    def start(self) -> None:
        self.log.append("threadpool started")

    def stop(self) -> None:
        self.log.append("threadpool stopped")

    def close(self) -> None:
        self.log.append("jobs closed")

    # scheduler
    def settle(self, lookup: Any) -> Deferred[RecoveryReport]:
        return self.recovery

    def startService(self) -> None:
        self.running = True
        self.log.append("scheduler started")

    def stopService(self) -> Deferred[None]:
        self.running = False
        self.log.append("scheduler stopping")
        return self.scheduler_stopped

    def hold(self, entry_id: int) -> None:
        self.log.append(f"hold {entry_id}")

    def unhold(self, entry_id: int) -> None:
        self.log.append(f"unhold {entry_id}")

    # router
    def recovered_stops(self, report: RecoveryReport) -> None:
        self.log.append(f"{len(report.stops)} recovered stop(s)")

    async def resume(self, claim: Any) -> None:
        await self.resumed.setdefault(claim.entry.id, Deferred())
        self.log.append(f"resumed {claim.entry.id} done")


class _Entry:
    def __init__(self, id: int) -> None:
        self.id = id


class _Claim:
    def __init__(self, id: int) -> None:
        self.entry = _Entry(id)


def service(parts: Parts, **kw: Any) -> tuple[ApplianceService, task.Clock, list[dict[str, Any]]]:
    clock = task.Clock()
    appliance = Appliance(
        config=None,  # type: ignore[arg-type]
        store=None,  # type: ignore[arg-type]
        jobs=parts,  # type: ignore[arg-type]
        inbox=None,  # type: ignore[arg-type]
        pool=None,
        portserver=None,
        router=parts,  # type: ignore[arg-type]
        scheduler=parts,  # type: ignore[arg-type]
        cloud=None,
        inbound=None,
        threadpool=parts,  # type: ignore[arg-type]
        run_blocking=lambda *a: succeed(None),
        node_id="node-1",
        **kw,
    )
    svc = ApplianceService(appliance, clock)  # type: ignore[arg-type]
    events: list[dict[str, Any]] = []
    svc.log = Logger(namespace="test", observer=events.append)
    svc.pending.log = Logger(namespace="test", observer=events.append)
    return svc, clock, events


def failures(events: list[dict[str, Any]]) -> list[Any]:
    return [e["log_failure"] for e in events if e.get("log_failure") is not None]


def fired(d: Deferred[Any]) -> list[object]:
    out: list[object] = []
    d.addBoth(out.append)
    return out


def test_start_recovers_then_starts_the_scheduler() -> None:
    parts = Parts()
    svc, _, events = service(parts)
    svc.startService()
    assert parts.log == ["threadpool started"] and len(svc.pending) == 1  # recovery under way
    parts.recovery.callback(RecoveryReport())
    assert parts.log == ["threadpool started", "0 recovered stop(s)", "scheduler started"]
    assert len(svc.pending) == 0 and failures(events) == []


def test_stop_waits_for_the_scheduler_and_the_stop_hooks_before_closing() -> None:
    hook: Deferred[None] = Deferred()
    parts = Parts()
    svc, _, _ = service(parts, stop_hooks=[lambda: hook])
    svc.startService()
    parts.recovery.callback(RecoveryReport())
    stopped = fired(svc.stopService())
    assert parts.log[-1] == "scheduler stopping" and stopped == []
    parts.scheduler_stopped.callback(None)
    assert "jobs closed" not in parts.log and stopped == []  # the hook still runs
    hook.callback(None)
    assert parts.log[-2:] == ["threadpool stopped", "jobs closed"] and stopped == [None]


def test_a_hung_stop_hook_is_cancelled_after_the_timeout_and_the_stores_close() -> None:
    parts = Parts()
    hook: Deferred[None] = Deferred()
    svc, clock, events = service(parts, stop_hooks=[lambda: hook])
    svc.startService()
    parts.recovery.callback(RecoveryReport())
    parts.scheduler_stopped.callback(None)
    stopped = fired(svc.stopService())
    clock.advance(STOP_TIMEOUT - 0.5)
    assert stopped == [] and "jobs closed" not in parts.log
    clock.advance(0.5)
    assert stopped == [None] and parts.log[-1] == "jobs closed" and hook.called
    assert len(failures(events)) == 1  # the cancelled hook, logged once


def test_a_stop_hook_that_raises_is_logged_and_the_stop_goes_on() -> None:
    def broken() -> None:
        raise RuntimeError("router stop failed")

    parts = Parts()
    svc, _, events = service(parts, stop_hooks=[broken])
    svc.startService()
    parts.recovery.callback(RecoveryReport())
    parts.scheduler_stopped.callback(None)
    assert fired(svc.stopService()) == [None] and parts.log[-1] == "jobs closed"
    [failure] = failures(events)
    assert failure.check(RuntimeError)


def test_resumed_cloud_jobs_are_held_and_their_watch_ends_at_stop_without_waiting() -> None:
    parts = Parts()
    svc, _, events = service(parts)
    svc.startService()
    parts.recovery.callback(RecoveryReport(resumed=(_Claim(7), _Claim(8))))  # type: ignore[arg-type]
    assert {"hold 7", "hold 8"} <= set(parts.log) and len(svc.pending) == 2
    parts.resumed[8].callback(None)  # job 8's final status arrives
    assert "resumed 8 done" in parts.log and "unhold 8" in parts.log
    parts.scheduler_stopped.callback(None)
    stopped = fired(svc.stopService())
    assert stopped == [None] and "unhold 7" in parts.log and "resumed 7 done" not in parts.log
    assert failures(events) == []  # a watch cancelled by the stop is no failure


def test_a_failed_recovery_is_logged_and_the_scheduler_does_not_start() -> None:
    parts = Parts()
    svc, _, events = service(parts)
    svc.startService()
    parts.recovery.errback(RuntimeError("database gone"))
    assert "scheduler started" not in parts.log
    [failure] = failures(events)
    assert failure.check(RuntimeError)
    assert fired(svc.stopService()) == [None] and parts.log[-1] == "jobs closed"


def test_a_recovery_still_running_at_stop_is_waited_for_and_its_watches_end_at_once() -> None:
    parts = Parts()
    svc, _, events = service(parts)
    svc.startService()  # recovery under way: the scheduler has not started
    stopped = fired(svc.stopService())
    assert "scheduler stopping" not in parts.log and stopped == []
    parts.recovery.callback(RecoveryReport(resumed=(_Claim(9),)))  # type: ignore[arg-type]
    assert "scheduler started" not in parts.log  # stopped meanwhile
    assert "unhold 9" in parts.log and stopped == [None] and parts.log[-1] == "jobs closed"
    assert failures(events) == []


class _Client:
    """A port-server RADIUS client answering Account-Login with ``code``."""

    def __init__(self, code: Code) -> None:
        self.code = code
        self.sent: list[tuple[list[Any], str | None]] = []

    def access(self, attributes: list[Any], password: str | None = None) -> Deferred[Reply]:
        self.sent.append((list(attributes), password))
        return succeed(Reply(self.code, (), "local"))


class _PortServer:
    def __init__(self, client: _Client) -> None:
        self.client = client


def test_authenticate_is_an_account_login_through_the_port_server_role() -> None:
    parts = Parts()
    svc, _, _ = service(parts)
    appliance = svc.appliance
    assert fired(appliance.authenticate("demo", "pw")) == [False]  # no port-server role: nobody gets in
    accept, reject = _Client(Code.ACCESS_ACCEPT), _Client(Code.ACCESS_REJECT)
    appliance.portserver = _PortServer(accept)  # type: ignore[assignment]
    assert fired(appliance.authenticate("demo", "pw")) == [True]
    [(attributes, password)] = accept.sent
    assert password == "pw" and (A.USER_NAME.value, "demo") in attributes
    assert (A.FB_CONTEXT.value, int(FbContext.ACCOUNT_LOGIN)) in attributes
    appliance.portserver = _PortServer(reject)  # type: ignore[assignment]
    assert fired(appliance.authenticate("demo", "wrong")) == [False]
