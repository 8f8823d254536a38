"""Benchmark of the job queue: time to claim and complete an entry with
1,000, 10,000 and 100,000 entries queued, on SQLite and PostgreSQL, and the
controller's overhead per fax relative to the line time.

Run ``bench/jobs [--sizes 1000,10000,100000] [--ops 300] [--only sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appliance.jobs import FaxSpec, JobStore, Recipient, Result, open_job_store  # noqa: E402

#: a 1-page fax at 14,400 bit/s: dialling, handshake, one page, hangup
LINE_SECONDS = 30.0
BATCH = 400  # recipients per fax while queueing


def queue(store: JobStore, start: int, count: int) -> float:
    """Queue ``count`` entries (distinct numbers); returns seconds taken."""
    began = time.perf_counter()
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        recipients = [Recipient(fax_number=f"555{start + done + i:07d}", name="r") for i in range(n)]
        store.submit(FaxSpec(owner="bench", pages=1, documents=("p.tif",)), recipients, time.time() - 60)
        done += n
    return time.perf_counter() - began


def measure(store: JobStore, ops: int) -> dict[str, list[float]]:
    """``ops`` rounds of claim (one line) + complete (sent): milliseconds per step."""
    times: dict[str, list[float]] = {"claim": [], "complete": [], "history": [], "total": []}
    for _ in range(ops):
        t0 = time.perf_counter()
        (claim,) = store.claim("bench", time.time(), "line", ["L1"], 1)
        t1 = time.perf_counter()
        store.complete(claim.entry.id, Result.ok(1, LINE_SECONDS, "REMOTE"), time.time())
        t2 = time.perf_counter()
        store.attempts(claim.entry.id)
        t3 = time.perf_counter()
        for key, value in (("claim", t1 - t0), ("complete", t2 - t1), ("history", t3 - t2), ("total", t3 - t0)):
            times[key].append(value * 1000)
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def explain(store: JobStore, postgres: bool) -> str:
    """The plan of the claim's candidate query."""
    sql = (
        "SELECT id, number_key, route_pin FROM job_entries e WHERE e.state = 'pending' AND e.due_at <= ?"
        " AND NOT EXISTS (SELECT 1 FROM job_calls c WHERE c.number_key = e.number_key)"
        " AND (e.route_pin IS NULL OR e.route_pin IN (?)) ORDER BY e.priority, e.due_at, e.id LIMIT ?"
    )
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    with store._db._reader() as conn:
        rows = conn.execute(store._db._sql(prefix + sql + store.lock_skip), (time.time(), "L1", 9)).fetchall()
    return "\n".join("    " + " ".join(str(c) for c in row[-1:]) for row in rows)


def run_backend(name: str, open_url: Callable[[], str], sizes: list[int], ops: int) -> list[dict[str, Any]]:
    url = open_url()
    store = open_job_store(url)
    results = []
    queued = 0
    try:
        for size in sizes:
            took = queue(store, queued, size - queued)
            print(
                f"{name}: queued {size - queued:,} entries in {took:.1f} s "
                f"({(size - queued) / max(took, 1e-9):,.0f}/s)",
                flush=True,
            )
            queued = size
            store.claim("warm", time.time(), "line", ["L0"], 1)  # warm caches, prepared statements
            times = measure(store, ops)
            queued_now = store.count_by_state()
            results.append({"backend": name, "queued": size, **{k: v for k, v in times.items()}, "pending": queued_now})
            print(
                f"{name}: {size:>7,} queued  claim {statistics.median(times['claim']):.2f} ms  "
                f"complete {statistics.median(times['complete']):.2f} ms  "
                f"history {statistics.median(times['history']):.2f} ms  "
                f"total median {statistics.median(times['total']):.2f} ms  p95 {p95(times['total']):.2f} ms",
                flush=True,
            )
        print(f"{name}: claim query plan at {queued:,} queued:\n{explain(store, name == 'postgresql')}")
    finally:
        store.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"load average at start: {os.getloadavg()}")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="jobsbench-") as tmp:
        if args.only in (None, "sqlite"):
            results += run_backend("sqlite", lambda: f"sqlite:///{tmp}/jobs.db", sizes, args.ops)
        if args.only in (None, "postgresql"):
            from tests.peers import require_postgres_bin
            from tests.pg import PostgresCluster

            cluster = PostgresCluster(require_postgres_bin(), durable=True)
            cluster.start()
            try:
                results += run_backend("postgresql", lambda: cluster.create_database("jobs"), sizes, args.ops)
            finally:
                cluster.stop()
    print(
        "\nsummary (median ms per entry; overhead = claim+complete+history / "
        f"{LINE_SECONDS:.0f} s line time of a 1-page fax at 14,400 bit/s)"
    )
    print(
        f"{'backend':<11} {'queued':>8} {'claim':>7} {'complete':>9} {'history':>8} {'total':>7} {'p95':>7} "
        f"{'overhead':>9}"
    )
    for r in results:
        total = statistics.median(r["total"])
        print(
            f"{r['backend']:<11} {r['queued']:>8,} {statistics.median(r['claim']):>7.2f} "
            f"{statistics.median(r['complete']):>9.2f} {statistics.median(r['history']):>8.2f} {total:>7.2f} "
            f"{p95(r['total']):>7.2f} {total / 1000 / LINE_SECONDS * 100:>8.4f}%"
        )
    for backend in sorted({r["backend"] for r in results}):
        rows = [statistics.median(r["total"]) for r in results if r["backend"] == backend]
        print(f"{backend}: largest/smallest queue time per entry = {rows[-1] / rows[0]:.2f}x (flat is ~1)")
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
