"""How ``send --wait`` and ``status`` show a call's progress (pure): a bar
for a terminal, plain lines otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appliance.progress import CallDirection, eta

__all__ = ["bar", "busy_suffix", "fmt_seconds", "plain"]


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    total = max(0, round(seconds))
    return (
        f"{total // 60:02d}:{total % 60:02d}"
        if total < 3600
        else f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    )


def _numbers(call: Mapping[str, Any], now: float) -> tuple[int, int, float, float | None]:
    done = int(call.get("first_page", 0)) + int(call.get("pages_sent", 0))
    total = int(call.get("pages_total", 0))
    elapsed = now - float(call.get("started_at") or now)
    this_call = int(call.get("pages_sent", 0))
    connect = call.get("connect_time")
    pace_from = float(connect) if isinstance(connect, (int, float)) else float(call.get("started_at") or now)
    left = eta(this_call, total - int(call.get("first_page", 0)), now - pace_from)
    return done, total, elapsed, left


def bar(key: str, call: Mapping[str, Any], now: float, width: int = 24) -> str:
    """``0000002A/0000 [#######.....] 2/5 pages 14400 bit/s 00:41 elapsed, ~01:02 left``"""
    done, total, elapsed, left = _numbers(call, now)
    filled = int(width * done / total) if total else 0
    rate = f" {call['baud_rate']} bit/s" if call.get("baud_rate") else ""
    phase = call.get("phase", "")
    doing = f" page {call.get('page')}" if phase == "page" and call.get("page") else f" {phase}" if phase else ""
    return (
        f"{key} [{'#' * filled}{'.' * (width - filled)}] {done}/{total or '?'} pages{rate}{doing}"
        f"  {fmt_seconds(elapsed)} elapsed, ~{fmt_seconds(left)} left"
    )


def plain(key: str, call: Mapping[str, Any], now: float, previous: Mapping[str, Any] | None) -> list[str]:
    """The lines worth printing since ``previous``: dialing, connected, pages confirmed, page under way."""
    out = []
    before = previous or {}
    if call.get("phase") == "dialing" and before.get("phase") != "dialing":
        out.append(f"{key}: dialing {call.get('number', '')}")
    if call.get("baud_rate") and not before.get("baud_rate"):
        out.append(
            f"{key}: connected to {call.get('remote_id') or 'unknown'} at {call.get('baud_rate')} bit/s "
            f"{call.get('resolution', '')}".rstrip()
        )
    first = int(call.get("first_page", 0))
    for n in range(int(before.get("pages_sent", 0)) + 1, int(call.get("pages_sent", 0)) + 1):
        out.append(
            f"{key}: page {first + n}/{call.get('pages_total') or '?'} confirmed (MCF) {call.get('baud_rate', 0)} bit/s"
        )
    if call.get("page") != before.get("page") and call.get("page") and call.get("phase") == "page":
        out.append(f"{key}: sending page {call['page']}/{call.get('pages_total') or '?'}")
    return out


def busy_suffix(call: Mapping[str, Any] | None) -> str:
    """What ``status`` adds to a busy line: number, remote, page."""
    if not call or call.get("ended_at") is not None:
        return ""
    total = call.get("pages_total") or "?"
    sending = call.get("direction") == CallDirection.SEND  # the status JSON gives the value
    receiving = call.get("direction") == CallDirection.RECEIVE
    page = call.get("page") or (int(call.get("pages_sent", 0)) + 1 if receiving else 0)
    parts = [f"{'to' if sending else 'for'} {call.get('number', '')}".rstrip()]
    if call.get("remote_id"):
        parts.append(f"remote {call['remote_id']}")
    if page:
        parts.append(f"page {page}/{total}" if sending else f"page {page}")
    if call.get("baud_rate"):
        parts.append(f"{call['baud_rate']} bit/s")
    return "  " + ", ".join(parts)
