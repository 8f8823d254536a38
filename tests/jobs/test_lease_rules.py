"""The pure rules: when a lease counts as expired, what recovery does with
recorded progress, outage log lines, and the ``[node]`` section."""

from __future__ import annotations

import pytest

from appliance.config import ConfigError, parse
from appliance.jobs.lease import Interrupted, interrupted_call, lease_expired, recovery_grace
from appliance.jobs.outage import Outage
from appliance.node_config import NodeConfig, default_node_id, parse_node


def test_lease_expired_needs_the_database_up_long_enough() -> None:
    """Right after a database restart nobody's lease is expired: owners get time to renew."""
    assert recovery_grace(3.0) == 6.0
    assert not lease_expired(100.0, 99.0, 0.0, 3.0)
    assert lease_expired(100.0, 100.5, 0.0, 3.0)
    assert not lease_expired(100.0, 130.0, 125.0, 3.0)  # up for 5 s only
    assert lease_expired(100.0, 131.0, 125.0, 3.0)


@pytest.mark.parametrize(
    "done,total,decision",
    [
        (0, 1, Interrupted.RETRY),
        (1, 1, Interrupted.DELIVERED),
        (2, 3, Interrupted.RESUME),
        (3, 3, Interrupted.DELIVERED),
        (0, 0, Interrupted.RETRY),
        (5, 3, Interrupted.DELIVERED),
    ],
)
def test_interrupted_call_decision(done: int, total: int, decision: Interrupted) -> None:
    assert interrupted_call(done, total) is decision


def test_outage_logs_one_line_at_each_end() -> None:
    outage = Outage("the job store")
    assert outage.succeeded(1.0) is None
    assert outage.failed(10.0, "connection refused") == "the job store unreachable: connection refused"
    assert outage.failed(11.0, "connection refused") is None and outage.down
    assert outage.succeeded(30.5) == "the job store reachable again after 20.5 s"
    assert outage.succeeded(31.0) is None and not outage.down


def test_node_section() -> None:
    assert parse_node("f", None) == NodeConfig()
    assert parse_node("f", {"id": "fax-a", "lease_seconds": 6}) == NodeConfig("fax-a", 6.0, 2.0)
    assert parse_node("f", {"lease_seconds": 30, "heartbeat_seconds": 5}).heartbeat_seconds == 5.0
    assert default_node_id("host.example.com", "/var/lib/fax") == default_node_id("host", "/var/lib/fax")
    assert default_node_id("host", "/a") != default_node_id("host", "/b")
    assert default_node_id("host", "/a").startswith("host-")


@pytest.mark.parametrize(
    "table,key,problem",
    [
        ({"id": "has space"}, "node.id", "letters, digits"),
        ({"id": "x" * 41}, "node.id", "1-40"),
        ({"lease_seconds": 0}, "node.lease_seconds", "greater than 0"),
        ({"lease_seconds": "5"}, "node.lease_seconds", "must be a float"),
        ({"lease_seconds": 6, "heartbeat_seconds": 4}, "node.heartbeat_seconds", "at most half"),
        ({"colour": "red"}, "node.colour", "unknown key"),
    ],
)
def test_node_section_errors(table: dict[str, object], key: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as err:
        parse_node("f.toml", table)
    assert err.value.key == key


def test_config_check_validates_the_node_section() -> None:
    with pytest.raises(ConfigError, match=r"node\.lease_seconds"):
        parse("[node]\nlease_seconds = -1\n", "f.toml")
    parse('[node]\nid = "a"\n', "f.toml")


@pytest.mark.parametrize(
    "path",
    ["appliance/jobs/lease.py", "appliance/jobs/outage.py", "appliance/node_config.py", "appliance/jobs/model.py"],
)
def test_rules_are_pure(path: str) -> None:
    """The lease, recovery and outage rules import nothing that does I/O or reads clocks."""
    import ast
    from pathlib import Path

    from tests.test_architecture import FORBIDDEN, ROOT

    imported: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{path} imports {sorted(imported & FORBIDDEN)}"
    assert Path(ROOT / path).exists()


def test_node_settings_default_and_override(tmp_path: object) -> None:
    """The service's node id: [node] id, else host name + data directory hash, stable across restarts."""
    import dataclasses
    import socket

    from appliance.config import default_config
    from appliance.wiring.assemble import node_settings

    config = default_config(data_dir=str(tmp_path))
    first, again = node_settings(config), node_settings(default_config(data_dir=str(tmp_path)))
    assert first.id == again.id and first.id.startswith(socket.gethostname().split(".")[0][:24].strip("-.")[:3])
    assert node_settings(config, "override").id == "override"
    named = dataclasses.replace(config, node=parse_node("f.toml", {"id": "fax-b", "lease_seconds": 9}))
    assert (node_settings(named).id, node_settings(named).lease_seconds) == ("fax-b", 9.0)
