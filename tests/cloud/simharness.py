"""Shared loopback harness: the simulated FAXAGE service on 127.0.0.1,
a url_notify receiver, and the client bridged to Twisted through a real
thread pool."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.web.resource import Resource
from twisted.web.server import Site

from appliance.cloud.api import Credentials
from appliance.cloud.client import FaxageClient, RetryPolicy, TwistedFaxage, make_http_client
from appliance.cloud.notify import NotifyResource, NotifyTracker
from appliance.cloud.records import StatusRecord
from appliance.config import Secret
from hwsim.faxage import FaxageSim, FaxageSimulator, Step

__all__ = ["FAST", "POLICY", "Harness", "reactor", "until", "wait"]

reactor: Any = _reactor
FAST = (Step(0.2, "pending", "In Queue"), Step(0.3, "success", "Success"))
POLICY = RetryPolicy(attempts=3, base_delay=0.05, jitter=0.0, reconcile_checks=2, reconcile_delay=0.05)


class Harness:
    """The simulator, a notify receiver and the bridged client, on loopback."""

    def __init__(self) -> None:
        self.sim = FaxageSim()
        self.sim.schedule = FAST
        self.simulator = FaxageSimulator(self.sim, reactor, tick=0.05)
        self.port = reactor.listenTCP(0, self.simulator.site(), interface="127.0.0.1")
        self.simulator.start()
        self.finals: list[StatusRecord] = []
        self.tracker = NotifyTracker("http://127.0.0.1:0/notify", random.Random(3).randbytes)
        notify_root = Resource()
        notify_root.putChild(b"notify", NotifyResource(self.tracker, self.finals.append))
        self.notify_port = reactor.listenTCP(0, Site(notify_root), interface="127.0.0.1")
        self.tracker._base_url = f"http://127.0.0.1:{self.notify_port.getHost().port}/notify"
        self.pool = TwistedFaxage.start_threadpool(reactor, 4)
        self.client = FaxageClient(
            make_http_client(),
            f"http://127.0.0.1:{self.port.getHost().port}",
            Credentials("sim", "12345", Secret("simpass")),
            sleep=time.sleep,
            rng=random.Random(5),
            retry=POLICY,
        )
        self.faxage = TwistedFaxage(self.client, reactor, self.pool)

    @pytest_twisted.inlineCallbacks
    def close(self) -> Iterator[Deferred[Any]]:
        self.simulator.stop()
        self.client.close()
        self.pool.stop()
        yield self.port.stopListening()
        yield self.notify_port.stopListening()


def wait(seconds: float) -> Deferred[None]:
    return deferLater(reactor, seconds, lambda: None)


@pytest_twisted.inlineCallbacks
def until(predicate: Any, limit: float = 10.0) -> Iterator[Deferred[Any]]:
    waited = 0.0
    while not predicate():
        assert waited < limit, "condition not reached in time"
        yield wait(0.05)
        waited += 0.05
