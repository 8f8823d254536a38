"""Scale-out capacity: the same one-page faxes through 1 appliance node and
through 2 nodes (each with two simulated lines paced at the line rate) on one
throwaway PostgreSQL; prints faxes per minute and the ratio.

Run ``bench/scaleout [--faxes 16] [--remotes 8] [--fast]``.  Throughput is
measured from the first claim to the last completion (database times).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "hw-sim"))

from tests.e2e.chaos import Node, _query, one_page_tiff, states, submit  # noqa: E402
from tests.peers import require_postgres_bin  # noqa: E402
from tests.pg import PostgresCluster  # noqa: E402


def run(
    nodes_wanted: int, cluster: PostgresCluster, base: Path, document: Path, faxes: int, remotes: int, fast: bool
) -> float:
    url = cluster.create_database(f"scale{nodes_wanted}")
    nodes = [
        Node(base / f"n{nodes_wanted}-{i}", url, f"node-{i}", remotes=remotes, fast=fast, lease=30.0)
        for i in range(nodes_wanted)
    ]
    try:
        for node in nodes:
            node.start()
        submit(url, document, faxes, [f"5550{101 + i}" for i in range(remotes)])
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            counts = states(url)
            if sum(counts.get(s, 0) for s in ("sent", "failed", "dead", "aborted")) == faxes:
                break
            time.sleep(1.0)
        first, last = _query(url, "SELECT MIN(started_at), MAX(ended_at) FROM job_attempts")[0]
        sent = states(url).get("sent", 0)
        per_minute = sent / (float(last) - float(first)) * 60.0
        print(
            f"{nodes_wanted} node(s) x 2 lines: {sent}/{faxes} sent in {float(last) - float(first):.1f} s"
            f" = {per_minute:.1f} faxes/min",
            flush=True,
        )
        return per_minute
    finally:
        for node in nodes:
            node.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faxes", type=int, default=16)
    parser.add_argument("--remotes", type=int, default=8, help="remote numbers (one call per number at a time)")
    parser.add_argument("--fast", action="store_true", help="no line-rate pacing (measures the controller)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    cluster = PostgresCluster(require_postgres_bin())
    cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="scaleout-") as tmp:
            base = Path(tmp)
            document = one_page_tiff(base)
            one = run(1, cluster, base, document, args.faxes, args.remotes, args.fast)
            two = run(2, cluster, base, document, args.faxes, args.remotes, args.fast)
            print(f"2 nodes / 1 node: {two / one:.2f}x", flush=True)
    finally:
        cluster.stop()
    print(f"load average at end: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
