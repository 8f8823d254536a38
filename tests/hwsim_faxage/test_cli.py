"""``hwsim faxage`` options: the ``--schedule`` job schedule."""

from __future__ import annotations

import argparse

import pytest

from hwsim.faxage.cli import parse_schedule
from hwsim.faxage.state import Step


def test_schedule_parsed() -> None:
    """Comma-separated DELAY:SHORT:LONG steps become schedule steps."""
    assert parse_schedule("0.01:pending:In Queue,0.02:success:Success") == (
        Step(0.01, "pending", "In Queue"),
        Step(0.02, "success", "Success"),
    )


@pytest.mark.parametrize("text", ["", "1:pending:x", "a:success:Success", "1:done:x", "-1:success:x", "1:success"])
def test_bad_schedule_refused(text: str) -> None:
    """Malformed steps, unknown statuses and schedules that never finish are refused."""
    with pytest.raises(argparse.ArgumentTypeError):
        parse_schedule(text)
