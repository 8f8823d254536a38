"""[radius] workers, read_model and change_feed_seconds: defaults, limits, errors."""

from __future__ import annotations

import pytest

from appliance.config import MAX_RADIUS_WORKERS, ConfigError, parse


def radius(extra: str):
    return parse(f"[radius]\n{extra}\n", "site.toml").radius


def test_defaults():
    r = radius("")
    assert (r.workers, r.read_model, r.change_feed_seconds) == (0, True, 1.0)


def test_values_are_taken():
    r = radius(f"workers = {MAX_RADIUS_WORKERS}\nread_model = false\nchange_feed_seconds = 0.05")
    assert (r.workers, r.read_model, r.change_feed_seconds) == (MAX_RADIUS_WORKERS, False, 0.05)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("workers = -1", "radius.workers: must be between 0 (one per core) and 64"),
        (f"workers = {MAX_RADIUS_WORKERS + 1}", "radius.workers: must be between 0 (one per core) and 64"),
        ("workers = 1.5", "radius.workers: must be an int"),
        ("change_feed_seconds = 0.01", "radius.change_feed_seconds: must be between 0.05 and 60"),
        ("change_feed_seconds = 61", "radius.change_feed_seconds: must be between 0.05 and 60"),
        ("read_model = 1", "radius.read_model: must be a bool"),
    ],
)
def test_limits(line, problem):
    with pytest.raises(ConfigError) as info:
        radius(line)
    assert problem in str(info.value)
