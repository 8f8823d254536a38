"""Several appliance nodes (``faxappliance run`` embedded default with
simulated lines) on one PostgreSQL database: start, kill, count.

Used by the scale-out fault tests and by ``bench/scaleout.py``.  Deliveries
are counted at the remote fax machines (``<data_dir>/remote/<number>/printed.jsonl``:
a fax's last page printed, noted before the remote confirmed it; ``remote_id`` is
the TSID the fax was sent with, unique per fax),
accounting Starts and Stops in the ``accounting`` table.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .harness import RunningAppliance, make_pdf, wait_for

TERMINAL = {"sent", "failed", "dead", "aborted"}


class Node(RunningAppliance):
    """One appliance node: its own simulated lines and remote machines, the shared database."""

    def __init__(
        self,
        base: Path,
        url: str,
        node_id: str,
        *,
        remotes: int = 4,
        lease: float = 3.0,
        fast: bool = True,
        max_tries: int = 20,
    ) -> None:
        base.mkdir(parents=True, exist_ok=True)
        node = f'id = "{node_id}"\nlease_seconds = {lease}\nheartbeat_seconds = {lease / 3:.2f}'
        super().__init__(
            base,
            "--storage-url",
            url,
            "--node",
            node,
            "--max-tries",
            str(max_tries),
            "--remotes",
            str(remotes),
            "--routing",
            "local_only",
            fast=fast,
        )
        self.node_id = node_id
        self.db_url = url
        self.remotes = remotes
        self.alive = False

    def online_lines(self) -> int:
        return 2 + self.remotes

    def start(self) -> Node:
        super().start()
        self.alive = True
        return self

    def kill9(self) -> None:
        super().kill9()
        self.alive = False

    def stop(self) -> int | None:
        self.alive = False
        return super().stop()

    def deliveries(self) -> Counter[str]:
        """remote_id (the sender's TSID) -> faxes whose last page a remote machine
        printed (noted before it confirmed the page to the sender)."""
        found: Counter[str] = Counter()
        for path in (self.data_dir / "remote").glob("*/printed.jsonl"):
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut by kill -9 (never confirmed to the sender)
                if record.get("last"):
                    found[record["remote_id"]] += 1
        return found

    def spooled(self) -> int:
        """Accounting Stops and job results this node still holds."""
        return sum(1 for _ in (self.data_dir / "acct-spool").glob("*.json")) + sum(
            1 for _ in (self.data_dir / "result-spool").glob("*.json")
        )


def one_page_tiff(directory: Path) -> Path:
    """A one-page TIFF-F document (converted once, sent many times)."""
    from modem.document import PageSize, Resolution, render
    from modem.tiff import write_tiff_f

    target = directory / "page.tif"
    write_tiff_f(render([str(make_pdf(directory / "page.pdf", 1))], Resolution.FINE, PageSize.A4), target)
    return target


def submit(url: str, document: Path, count: int, numbers: list[str], first: int = 0) -> dict[int, str]:
    """``count`` one-page faxes, round robin over ``numbers``; entry id -> TSID."""
    from appliance.jobs import FaxSpec, Recipient, open_job_store

    store = open_job_store(url, init=False)
    try:
        out = {}
        for i in range(first, first + count):
            tsid = f"C{i:05d}"
            _, entries = store.submit(
                FaxSpec(owner="demo", account="demo", documents=(str(document),), pages=1, tsid=tsid),
                [Recipient(fax_number=numbers[i % len(numbers)])],
                time.time(),
            )
            out[entries[0].id] = tsid
        return out
    finally:
        store.close()


def _query(url: str, sql: str) -> list[Any]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return list(conn.execute(sql).fetchall())


def states(url: str) -> Counter[str]:
    return Counter(
        {state: int(n) for state, n in _query(url, "SELECT state, COUNT(*) FROM job_entries GROUP BY state")}
    )


def sessions(url: str) -> tuple[Counter[str], Counter[str]]:
    """Accounting Starts and Stops per session id."""
    starts: Counter[str] = Counter()
    stops: Counter[str] = Counter()
    for status, session in _query(url, "SELECT status_type, session_id FROM accounting WHERE status_type IN (1, 2)"):
        (starts if status == 1 else stops)[session] += 1
    return starts, stops


def interrupted_entries(url: str) -> Counter[int]:
    """Entry id -> its calls that recovery settled (the node making them died)."""
    return Counter(
        {
            int(r[0]): int(r[1])
            for r in _query(
                url,
                "SELECT entry_id, COUNT(*) FROM job_attempts WHERE cause = 'interrupted'"
                " OR details LIKE '%\"recovered\": true%' GROUP BY entry_id",
            )
        }
    )


@dataclass
class Outcome:
    """The table row of one run."""

    name: str
    faxes: int
    sent: int = 0
    lost: int = 0  # faxes that never reached the remote
    recovered: int = 0  # faxes with a call settled by recovery (interrupted by a kill)
    spooled: int = 0  # results written from a node's spool after the database came back
    duplicates: int = 0  # deliveries beyond the first
    duplicates_after_interruption: int = 0  # of which the fax's call had been interrupted by a kill
    unexplained: list[int] = field(default_factory=list)  # entries delivered more often than 1 + interrupted calls
    stuck: int = 0  # entries not final once the run settled
    starts: int = 0
    stops: int = 0
    unpaired: list[str] = field(default_factory=list)
    seconds: float = 0.0
    faults: int = 0
    states: dict[str, int] = field(default_factory=dict)

    def row(self) -> str:
        return (
            f"| {self.name} | {self.faults} | {self.sent} | {self.lost} | {self.duplicates} | {self.stuck} | "
            f"{self.starts}/{self.stops} | {self.recovered} | {self.spooled} | {self.seconds:.0f} s |"
        )


def settled(url: str, nodes: Iterable[Node]) -> bool:
    """Every entry final, no claim left, every live node's spools empty, Starts and Stops paired."""
    try:
        counts = states(url)
        claims = _query(url, "SELECT COUNT(*) FROM job_claims")[0][0]
        starts, stops = sessions(url)
    except Exception:  # the database is restarting
        return False
    if any(state not in TERMINAL for state in counts) or claims:
        return False
    if any(node.spooled() for node in nodes if node.alive):
        return False
    return set(starts) == set(stops)


def outcome(name: str, url: str, entries: dict[int, str], nodes: list[Node], started: float, faults: int) -> Outcome:
    counts = states(url)
    delivered: Counter[str] = Counter()
    for node in nodes:
        delivered.update(node.deliveries())
    starts, stops = sessions(url)
    sent_ids = {int(r[0]) for r in _query(url, "SELECT id FROM job_entries WHERE state = 'sent'")}
    interrupted = interrupted_entries(url)
    out = Outcome(
        name,
        len(entries),
        sent=len(sent_ids & set(entries)),
        faults=faults,
        states=dict(counts),
        seconds=time.monotonic() - started,
    )
    for entry_id, tsid in entries.items():
        n = delivered.get(tsid, 0)
        if n == 0:
            out.lost += 1
        elif n > 1:
            out.duplicates += n - 1
            if entry_id in interrupted:
                out.duplicates_after_interruption += n - 1
            if n > 1 + interrupted.get(entry_id, 0):
                out.unexplained.append(entry_id)
    out.recovered = sum(n for entry_id, n in interrupted.items() if entry_id in entries)
    out.spooled = sum(
        log.read_text(errors="replace").count("(spooled result)")
        for node in nodes
        for log in node.base.glob("run*.log")
    )
    out.stuck = sum(n for state, n in counts.items() if state not in TERMINAL)
    out.starts, out.stops = len(starts), len(stops)
    out.unpaired = sorted(set(starts) ^ set(stops))
    return out


def diagnose(url: str, nodes: list[Node]) -> str:
    """What keeps a run from settling."""
    try:
        starts, stops = sessions(url)
        claims = _query(url, "SELECT entry_id, node, lease_until, pages_done, session <> '' FROM job_claims")
        sending = _query(
            url,
            "SELECT id, state, node, tries FROM job_entries WHERE state NOT IN"
            " ('sent', 'failed', 'dead', 'aborted') LIMIT 10",
        )
        return (
            f"states {dict(states(url))}; claims {claims[:10]}; non-final {sending}; "
            f"spooled {[(n.node_id, n.alive, n.spooled()) for n in nodes]}; "
            f"Starts without Stop {sorted(set(starts) - set(stops))[:10]}; "
            f"Stops without Start {sorted(set(stops) - set(starts))[:10]}"
        )
    except Exception as exc:
        return f"cannot diagnose: {exc}"


def wait_settled(url: str, nodes: list[Node], timeout: float) -> None:
    try:
        wait_for(lambda: settled(url, nodes), timeout, "the run settles", interval=1.0)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {diagnose(url, nodes)}") from None
