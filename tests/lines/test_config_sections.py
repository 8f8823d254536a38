"""The controller's config sections: [[lines]], [routing], [retry], [web],
[portserver]; errors name the file and the key."""

from __future__ import annotations

import pytest

from appliance.config import ConfigError, parse
from appliance.jobs.model import Cause

GOOD = """
[[lines]]
name = "l1"
device = "/dev/ttyS0"
class = "2.0"
did = "5035551234"
direction = "in"

[routing]
policy = "local_only"
overflow_after_failures = 2

[retry]
max_tries = 5
busy = 30

[portserver]
[[portserver.servers]]
address = "127.0.0.1"
secret = "s3cret"
"""


def test_sections_parse() -> None:
    """A complete file gives lines, routing, a retry policy and the port-server servers."""
    c = parse(GOOD, "site.toml")
    assert c.lines[0].name == "l1" and c.lines[0].receives and not c.lines[0].sends
    assert c.routing.policy == "local_only" and c.routing.overflow_after_failures == 2
    policy = c.retry.policy()
    assert policy.max_tries == 5 and policy.intervals[Cause.BUSY] == 30.0
    assert c.portserver.servers[0].address == "127.0.0.1"


@pytest.mark.parametrize(
    "text, key",
    [
        ('[[lines]]\nname = "a"\n', "lines[0].device"),
        ('[[lines]]\ndevice = "sim"\ndirection = "sideways"\n', "lines[0].direction"),
        ('[[lines]]\ndevice = "sim"\ndid = "55x"\n', "lines[0].did"),
        ('[[lines]]\ndevice = "sim"\nname = "a"\n[[lines]]\ndevice = "sim"\nname = "a"\n', "lines[1].name"),
        ('[routing]\npolicy = "sometimes"\n', "routing.policy"),
        ('[routing]\npolicy = "cloud_only"\n', "routing.policy"),
        ("[retry]\nbusy = -1\n", "retry.busy"),
        ('[portserver]\n[[portserver.servers]]\naddress = "127.0.0.1"\n', "portserver.servers[0].secret"),
    ],
)
def test_errors_name_the_key(text: str, key: str) -> None:
    """Each bad value is reported with the file name and its dotted key."""
    with pytest.raises(ConfigError) as info:
        parse(text, "site.toml")
    assert info.value.source == "site.toml" and info.value.key == key


def test_config_check_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`faxappliance config check` says OK for a good file and exits 2 naming the key for a bad one."""
    import io

    from appliance.cli import CliIO, main

    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    out, err = io.StringIO(), io.StringIO()
    assert main(["config", "check", str(good)], CliIO(stdout=out, stderr=err)) == 0
    assert "OK" in out.getvalue()
    bad = tmp_path / "bad.toml"
    bad.write_text('[routing]\npolicy = "x"\n')
    assert main(["config", "check", str(bad)], CliIO(stdout=out, stderr=err)) == 2
    assert "bad.toml: routing.policy" in err.getvalue()
