"""Parsers of the controller's sections: ``[[lines]]``, ``[routing]``,
and ``[retry]`` (pure; errors name the file, the key and the problem).

```toml
[[lines]]
name = "line1"
device = "/dev/ttyS0"        # or "sim" for a simulated line
class = "2.0"                # "2.0", "2" or "auto"
init = ["ATQ0V1", "ATE0"]
did = "5035551234"           # the number this line answers
caller_id = "5035551234"     # ANI when sending
tsid = "+1 503 555 1234"     # fax ID (TSI/CSI), at most 20 characters
direction = "both"           # in | out | both

[routing]
policy = "local_first"       # local_first | local_only | cloud_only
overflow_after_failures = 3  # a line failing N times in a row is skipped for a while

[retry]
max_tries = 3
busy = 180                   # seconds before the next try, per cause
no_answer = 300
protocol = 60
other = 300
```
"""

from __future__ import annotations

import re
from typing import Any

from appliance.config.core import LineClass, LineConfig, LineDirection, RetryConfig, RoutingConfig, RoutingPolicy
from appliance.config_reader import ConfigError, Section

__all__ = ["parse_lines", "parse_retry", "parse_routing"]

_NUMBER = re.compile(r"^[0-9*#+]*$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def _line(source: str, index: int, table: object) -> LineConfig:
    sec = Section(source, f"lines[{index}]", table)
    name = sec.get("name", str, f"line{index + 1}")
    if not _NAME.match(name) or name == "cloud":
        raise sec.fail("name", f"{name!r} is not a line name (1-32 letters, digits, _ . -; not 'cloud')")
    device = sec.get("device", str, None)
    if not device:
        raise sec.fail("device", 'is required (a device path such as /dev/ttyS0, or "sim")')
    if device != "sim" and not device.startswith("/"):
        raise sec.fail("device", f'{device!r} is neither an absolute device path nor "sim"')
    raw_class = str(sec.get("class", (str, int, float), "auto"))
    if raw_class not in set(LineClass):
        raise sec.fail("class", f'must be "2.0", "2" or "auto", got {raw_class!r}')
    fax_class = LineClass(raw_class)
    raw_init = sec.get("init", (list, str), ["ATQ0V1", "ATE0"])
    init: list[Any] = [raw_init] if isinstance(raw_init, str) else raw_init
    if not all(isinstance(i, str) and i.upper().startswith("AT") for i in init):
        raise sec.fail("init", "must be a list of AT command strings")
    numbers = {}
    for key in ("did", "caller_id"):
        value = str(sec.get(key, (str, int), ""))
        if not _NUMBER.match(value):
            raise sec.fail(key, f"{value!r} is not a phone number (digits, * # +)")
        numbers[key] = value
    tsid = sec.get("tsid", str, "")
    if len(tsid) > 20:
        raise sec.fail("tsid", "must be at most 20 characters")
    direction = sec.choice("direction", LineDirection, LineDirection.BOTH)
    speed = sec.get("speed", int, 19200)
    rings = sec.get("rings", int, 1)
    if rings < 1:
        raise sec.fail("rings", "must be at least 1")
    sec.check_unknown()
    return LineConfig(
        name, device, fax_class, tuple(init), numbers["did"], numbers["caller_id"], tsid, direction, speed, rings
    )


def parse_lines(source: str, tables: list[object]) -> tuple[LineConfig, ...]:
    lines = tuple(_line(source, i, t) for i, t in enumerate(tables))
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.name in seen:
            raise ConfigError(source, f"lines[{i}].name", f"{line.name!r} is also the name of lines[{seen[line.name]}]")
        seen[line.name] = i
    return lines


def parse_routing(source: str, table: object) -> RoutingConfig:
    sec = Section(source, "routing", table)
    policy = sec.choice("policy", RoutingPolicy, RoutingPolicy.LOCAL_FIRST)
    failures = sec.get("overflow_after_failures", int, 3)
    if failures < 0:
        raise sec.fail("overflow_after_failures", "must not be negative (0 = never)")
    rest = sec.positive("line_rest_seconds", 300.0)
    slots = sec.get("cloud_slots", int, 4)
    if slots < 1:
        raise sec.fail("cloud_slots", "must be at least 1")
    sec.check_unknown()
    return RoutingConfig(policy, failures, rest, slots)


def parse_retry(source: str, table: object) -> RetryConfig:
    sec = Section(source, "retry", table)
    max_tries = sec.get("max_tries", int, 3)
    if max_tries < 1:
        raise sec.fail("max_tries", "must be at least 1")
    values = {}
    for key, default in (("busy", 180.0), ("no_answer", 300.0), ("protocol", 60.0), ("other", 300.0)):
        value = sec.get(key, float, default)
        if value < 0:
            raise sec.fail(key, "must not be negative (seconds before the next try)")
        values[key] = float(value)
    sec.check_unknown()
    return RetryConfig(max_tries, **values)
