"""The outbox as ``faxappliance status`` shows it (blocking: reads the store)."""

from __future__ import annotations

from typing import Any

from appliance.logsafe import safe_for_log
from appliance.mail.outbox import DeliveryState, open_mail_outbox

__all__ = ["mail_lines", "mail_snapshot"]


def mail_snapshot(url: str, limit: int = 10) -> dict[str, Any]:
    """Delivery counts by state and the latest deliveries not sent (queued or failed)."""
    outbox = open_mail_outbox(url)
    try:
        pending = [d for d in outbox.list(limit=200) if d.state is not DeliveryState.SENT][:limit]
        return {
            "counts": outbox.counts(),
            "unsent": [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "target": d.target,
                    "state": d.state,
                    "tries": d.tries,
                    "source": d.source,
                    "error": d.last_error,
                    "next_at": d.next_at,
                }
                for d in pending
            ],
        }
    finally:
        outbox.close()


def mail_lines(snap: dict[str, Any]) -> list[str]:
    out = ["MAIL  " + "  ".join(f"{k}={v}" for k, v in snap["counts"].items())]
    for d in snap["unsent"]:
        out.append(
            f"  #{d['id']:<5} {d['kind']:<8} {safe_for_log(d['target'], 40):<30} {d['state']:<7} "
            f"tries={d['tries']}  {d['source']}  {safe_for_log(d['error'] or '', 120)}".rstrip()
        )
    return out
