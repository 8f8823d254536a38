"""The ``[portserver]`` config section: defaults, every key, and errors that
name the file and key without echoing a secret."""

from __future__ import annotations

import tomllib

import pytest

from appliance.config import ConfigError
from appliance.portserver.config import PortServerConfig, parse_portserver

FULL = """
[portserver]
timeout = 1.5
retries = 2
dead_time = 10
nas_identifier = "node-1"
transfer_type = "queue"
interim_interval = 60
spool_dir = "/var/spool/acct"

[[portserver.servers]]
address = "192.0.2.10"
secret = "first-secret"

[[portserver.servers]]
address = "192.0.2.11"
auth_port = 11812
acct_port = 11813
secret = "second-secret"
require_message_authenticator_in_replies = false
name = "backup"
"""


def test_defaults():
    """An empty section gives the documented defaults."""
    assert parse_portserver("f.toml", {}) == PortServerConfig()
    cfg = parse_portserver("f.toml", {})
    assert (cfg.timeout, cfg.retries, cfg.transfer_type, cfg.servers) == (3.0, 3, 1, ())


def test_every_key():
    """Every key is read, servers keep their order, secrets stay hidden in reprs."""
    cfg = parse_portserver("f.toml", tomllib.loads(FULL)["portserver"])
    assert (cfg.timeout, cfg.retries, cfg.dead_time) == (1.5, 2, 10.0)
    assert (cfg.nas_identifier, cfg.transfer_type, cfg.interim_interval, cfg.spool_dir) == (
        "node-1",
        2,
        60.0,
        "/var/spool/acct",
    )
    first, second = cfg.server_specs()
    assert (first.host, first.auth_port, first.acct_port, first.secret) == ("192.0.2.10", 1812, 1813, b"first-secret")
    assert first.require_message_authenticator_in_replies and first.label == "192.0.2.10"
    assert (second.auth_port, second.acct_port, second.label) == (11812, 11813, "backup")
    assert not second.require_message_authenticator_in_replies
    assert "first-secret" not in repr(cfg) and "second-secret" not in repr(cfg.server_specs())


@pytest.mark.parametrize(
    "table, key, problem",
    [
        ({"timeout": 0}, "portserver.timeout", "greater than 0"),
        ({"retries": "3"}, "portserver.retries", "must be an int"),
        ({"retries": -1}, "portserver.retries", "between 0 and 20"),
        ({"transfer_type": "fax"}, "portserver.transfer_type", "real-time"),
        ({"colour": 1}, "portserver.colour", "unknown key"),
        ({"servers": [{"secret": "x"}]}, "portserver.servers[0].address", "is required"),
        (
            {"servers": [{"address": "radius.example", "secret": "x"}]},
            "portserver.servers[0].address",
            "not an IP address",
        ),
        ({"servers": [{"address": "10.0.0.1"}]}, "portserver.servers[0].secret", "is required"),
        (
            {"servers": [{"address": "10.0.0.1", "secret": "x", "auth_port": 70000}]},
            "portserver.servers[0].auth_port",
            "out of range",
        ),
        (
            {"servers": [{"address": "10.0.0.1", "secret": "hush", "require_message_authenticator_in_replies": 1}]},
            "portserver.servers[0].require_message_authenticator_in_replies",
            "must be a bool",
        ),
        ({"servers": "10.0.0.1"}, "portserver.servers", "must be a list"),
    ],
)
def test_errors_name_file_and_key(table, key, problem):
    """A bad value is reported with the file, the dotted key and the problem."""
    with pytest.raises(ConfigError) as info:
        parse_portserver("site.toml", table)
    assert info.value.source == "site.toml" and info.value.key == key and problem in info.value.problem
    assert "hush" not in str(info.value)
