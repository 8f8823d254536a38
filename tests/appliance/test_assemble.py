"""make_service / make_appliance: which parts a configuration gets, built on a
``MemoryReactorClock`` (nothing is started or opened)."""

from __future__ import annotations

from pathlib import Path

from twisted.internet.testing import MemoryReactorClock

from appliance.config import parse
from appliance.wiring.assemble import ProcessServices, make_appliance, make_service
from appliance.wiring.controller import ApplianceService
from radius.store import open_store

LINE = '[[lines]]\nname = "l1"\ndevice = "/dev/null"\ndid = "5550001"\n'


def _config(tmp_path: Path, extra: str = ""):
    return parse(f'data_dir = "{tmp_path}/var"\n{extra}', str(tmp_path / "site.toml"))


def test_lines_only_route_to_the_lines_and_rings_reach_the_inbound_router(tmp_path: Path) -> None:
    config = _config(tmp_path, LINE)
    store = open_store(config.storage.url)
    appliance = make_appliance(config, MemoryReactorClock(), store=store, node_id="node-a")
    try:
        assert appliance.node_id == "node-a" and appliance.cloud is None and appliance.pollers == []
        assert appliance.pool is not None and appliance.pool.names == ["l1"]
        assert appliance.scheduler.route_filter == "line"  # no cloud: "any" narrows to the lines
        assert appliance.inbound is not None and appliance.pool.on_ring == appliance.inbound.on_ring
        assert appliance.portserver is None
        # the outbound and inbound routers are waited for at stop; idle, they answer at once
        assert len(appliance.stop_hooks) == 2
        for hook in appliance.stop_hooks:
            d = hook()
            assert d is not None and d.called and d.result is None
    finally:
        appliance.jobs.close()
        store.close()


def test_a_configuration_without_controller_parts_has_no_appliance(tmp_path: Path) -> None:
    config = _config(tmp_path)
    store = open_store(config.storage.url)
    try:
        top = make_service(config, MemoryReactorClock(), store=store)
        assert isinstance(top, ProcessServices) and top.appliance is None and top.mail is None
        assert list(top) == []
    finally:
        store.close()


def test_lines_get_the_appliance_service_and_no_web_without_a_portserver(tmp_path: Path) -> None:
    config = _config(tmp_path, LINE)
    store = open_store(config.storage.url)
    top = make_service(config, MemoryReactorClock(), store=store, node_id="node-b")
    try:
        assert top.appliance is not None and top.appliance.node_id == "node-b"
        kinds = [type(s) for s in top]
        assert kinds[0] is ApplianceService
        assert not any(t.__module__.startswith("appliance.web") for t in kinds)  # credentials need [portserver]
    finally:
        assert top.appliance is not None
        top.appliance.jobs.close()
        store.close()
