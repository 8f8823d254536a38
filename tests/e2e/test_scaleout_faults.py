"""Scale-out under faults: two appliance nodes (each with its RADIUS service
and two simulated lines) on one throwaway PostgreSQL, 200 one-page faxes.

(a) no faults; (b) random ``kill -9`` of either node, restarted after 2 s;
(c) a node killed and never restarted; (d) PostgreSQL stopped for 20 s.
Each run must settle without help: every fax ``sent`` and delivered to the
remote once (a fax whose call a kill interrupted between the receiver's
confirmation and its recording may arrive once more: counted, reported),
every accounting Start paired with one Stop, no entry left non-final.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.peers import require_postgres_bin
from tests.pg import PostgresCluster

from .chaos import Node, Outcome, _query, one_page_tiff, outcome, states, submit, wait_settled

pytestmark = [pytest.mark.slow, pytest.mark.interop]

FAXES = 200
REMOTES = 4  # remote numbers: calls to one number never overlap, so 4 lines need 4 numbers
LEASE = 5.0  # short, so that a node that is gone is replaced quickly; long enough for a loaded CI machine
SETTLE = float(os.environ.get("CHAOS_SETTLE_SECONDS", "240"))
RESULTS: list[Outcome] = []


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    """Our own cluster: the outage scenario stops it."""
    c = PostgresCluster(require_postgres_bin(), durable=True)  # a crash keeps what was committed
    c.start()
    try:
        yield c
    finally:
        c.stop()
        if RESULTS:
            print(
                "\n| scenario | faults | sent | lost | sent twice | stuck | Starts/Stops | calls recovered |"
                " results spooled | time |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|")
            for result in RESULTS:
                print(result.row())


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return one_page_tiff(tmp_path_factory.mktemp("doc"))


def _sent(url: str) -> int:
    try:
        return states(url).get("sent", 0)
    except Exception:
        return 0


def _run(
    name: str,
    cluster: PostgresCluster,
    base: Path,
    document: Path,
    chaos: Callable[[list[Node], str, Callable[[int], None]], int],
) -> Outcome:
    """Start two nodes; ``chaos(nodes, url, submit)`` submits the faxes (``submit(n)``) and injects faults."""
    url = cluster.create_database(f"chaos_{name}")
    nodes = [
        Node(base / "a", url, "node-a", remotes=REMOTES, lease=LEASE),
        Node(base / "b", url, "node-b", remotes=REMOTES, lease=LEASE),
    ]
    numbers = [f"5550{101 + i}" for i in range(REMOTES)]
    entries: dict[int, str] = {}

    def feed(count: int) -> None:
        entries.update(submit(url, document, count, numbers, first=len(entries)))

    started = time.monotonic()
    try:
        for node in nodes:  # one after the other: the first seeds the shared database
            node.start()
        faults = chaos(nodes, url, feed)
        assert len(entries) == FAXES
        for node in nodes:
            if not node.alive and node.starts and name != "gone":
                node.start()
        wait_settled(url, nodes, timeout=SETTLE)
        result = outcome(name, url, entries, nodes, started, faults)
    finally:
        for node in nodes:
            node.stop()
    RESULTS.append(result)
    print(result.row(), result.states)
    return result


def _check(result: Outcome) -> None:
    """Every fax sent and printed once; a fax may be printed once more only per call of it that a kill
    interrupted after the receiver had confirmed its last page but before the node recorded it."""
    assert result.sent == FAXES and result.stuck == 0, result
    assert result.lost == 0, result
    assert result.unpaired == [], result
    assert result.duplicates == result.duplicates_after_interruption, result
    assert result.unexplained == [], result


def _claims(url: str, node: str | None = None) -> set[int]:
    """Entries claimed now (by ``node``)."""
    sql = "SELECT entry_id FROM job_claims" + (f" WHERE node = '{node}'" if node else "")
    try:
        return {int(r[0]) for r in _query(url, sql)}
    except Exception:
        return set()


def _when_calling(url: str, node: str | None = None, timeout: float = 60) -> None:
    """Wait until ``node`` (any node) is making a call, so that the fault hits calls in progress."""
    deadline = time.monotonic() + timeout
    while not _claims(url, node) and time.monotonic() < deadline:
        time.sleep(0.01)


def _when_sent(url: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while _sent(url) < count and time.monotonic() < deadline:
        time.sleep(0.2)


def test_no_faults(cluster: PostgresCluster, tmp_path: Path, document: Path) -> None:
    """Two nodes, no faults: every fax once."""

    def chaos(nodes: list[Node], url: str, feed: Callable[[int], None]) -> int:
        feed(FAXES)
        return 0

    _check(_run("none", cluster, tmp_path, document, chaos))


def test_random_kill_9_with_restart(cluster: PostgresCluster, tmp_path: Path, document: Path) -> None:
    """Six kill -9 of a random node mid-run, each restarted after 2 s."""
    rng = random.Random(20261128)

    def chaos(nodes: list[Node], url: str, feed: Callable[[int], None]) -> int:
        kills = 0
        for batch in range(6):  # traffic keeps coming while nodes die
            feed(FAXES // 6 + (FAXES % 6 if batch == 5 else 0))
            time.sleep(rng.uniform(0.2, 1.0))
            node = rng.choice(nodes)
            _when_calling(url, node.node_id, timeout=5)
            node.kill9()
            kills += 1
            time.sleep(2.0)
            node.start()
        return kills

    result = _run("kill9", cluster, tmp_path, document, chaos)
    assert result.faults >= 5
    _check(result)


def test_node_killed_and_never_restarted(cluster: PostgresCluster, tmp_path: Path, document: Path) -> None:
    """A node dies for good: the other recovers its claims once their leases expire, and finishes the queue."""

    orphaned: set[int] = set()

    def chaos(nodes: list[Node], url: str, feed: Callable[[int], None]) -> int:
        feed(FAXES // 2)
        _when_sent(url, 40)
        _when_calling(url, "node-b")
        nodes[1].kill9()
        orphaned.update(_claims(url, "node-b"))
        feed(FAXES - FAXES // 2)
        return 1

    result = _run("gone", cluster, tmp_path, document, chaos)
    _check(result)
    # node-b's calls were taken over by node-a once their leases expired
    assert result.recovered >= len(orphaned), (result, orphaned)


def test_database_down_for_20_seconds(cluster: PostgresCluster, tmp_path: Path, document: Path) -> None:
    """PostgreSQL stopped (immediate) for 20 s mid-run: results are spooled and written later, nothing is resent."""

    def chaos(nodes: list[Node], url: str, feed: Callable[[int], None]) -> int:
        feed(FAXES // 2)
        _when_sent(url, 40)
        _when_calling(url)
        cluster.halt()
        time.sleep(20)
        cluster.resume()
        feed(FAXES - FAXES // 2)
        return 1

    _check(_run("dbdown", cluster, tmp_path, document, chaos))
