"""Child process for the crash tests: claims work, records cloud intents,
says "ready" and waits to be killed (``kill -9``)."""

from __future__ import annotations

import sys
import time

from appliance.jobs import CLOUD, open_job_store


def main(url: str, now: float) -> None:
    store = open_job_store(url)
    claims = store.claim("node-a", now, "any", ["L1"], 4)
    cloud = [c.entry.id for c in claims if c.route == CLOUD]
    store.cloud_submitting(cloud[0], now=now)
    store.cloud_submitted(cloud[0], "J1", now=now)  # accepted by the cloud
    store.cloud_submitting(cloud[1], now=now)  # the submit never came back
    print(" ".join(f"{c.entry.id}:{c.route}" for c in claims), flush=True)
    time.sleep(60)  # killed long before this ends


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
