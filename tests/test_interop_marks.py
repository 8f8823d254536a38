"""Every test that runs a peer program carries the ``interop`` mark: the peer lookups of
tests/peers.py fail a test that is not marked (tests/conftest.py tells them which test runs)."""

from __future__ import annotations

import pytest

from tests import peers


class _Item:
    nodeid = "tests/x.py::test_y"

    def __init__(self, *marks: str) -> None:
        self.marks = marks

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.marks else None


def test_an_unmarked_test_may_not_run_a_peer() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"tests/x\.py::test_y runs the peer program efax but is not"):
        peers.check_marked(_Item(), "efax")
    peers.check_marked(_Item("interop"), "efax")
    peers.check_marked(None, "efax")  # outside a test (bench/) nothing is checked


def test_the_lookup_knows_the_running_test_and_refuses_it_unmarked() -> None:
    assert (
        peers.current_test is not None
        and peers.current_test.name == "test_the_lookup_knows_the_running_test_and_refuses_it_unmarked"
    )
    with pytest.raises(pytest.fail.Exception, match=r"not marked @pytest\.mark\.interop"):
        peers.require_program("sh", "dash")
    with pytest.raises(pytest.fail.Exception, match=r"not marked @pytest\.mark\.interop"):
        peers.require_postgres_bin()


@pytest.mark.interop
def test_a_marked_test_gets_the_program() -> None:
    assert peers.require_program("sh", "dash").endswith("/sh")
