"""``/api/v1/inbox`` and ``/api/v1/jobs``: the operator JSON API (README
"Operator API").  The same operations as ``faxappliance inbox|jobs``
(:mod:`appliance.operator`), for the caller's own faxes (admins: all).

The resource (:mod:`appliance.web.resources`) has checked the origin and the
credentials (HTTP Basic through RADIUS, with the login throttle) before
:func:`handle` runs; a POST body must be ``application/json`` (415).
"""

from __future__ import annotations

import json

from appliance.inbound.inbox import Inbox
from appliance.jobs.choices import DocumentFormat
from appliance.operator import Caller, JobAction, Operations, OperatorError, parse_date, parse_states
from appliance.web.app import Call, Reply, WebApp
from appliance.web.model import WebError

__all__ = ["JSON", "error_reply", "handle"]

JSON = "application/json"
MAX_BODY = 4096  # a reschedule body is tiny
_JOB_ACTIONS = frozenset(JobAction)
FILES = {"fax.pdf": (DocumentFormat.PDF, "application/pdf"), "fax.tif": (DocumentFormat.TIFF, "image/tiff")}


def _json(status: int, data: object) -> Reply:
    return Reply(status, json.dumps(data, indent=1).encode("utf-8") + b"\n", JSON)


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    reply = _json(status, {"error": {"status": status, "message": message}})
    reply.headers.update(headers or {})
    return reply


def _inbox_store(app: WebApp) -> Inbox:
    store: Inbox | None = getattr(app, "store_inbox", None) or getattr(app.inbox, "inbox", None)
    if store is None:
        raise WebError(404, "this appliance keeps no inbox")
    return store


def _ops(app: WebApp, call: Call, inbox: bool) -> Operations:
    return Operations(app.jobs, _inbox_store(app) if inbox else None, call.base)


def _int(query: dict[str, str], name: str, default: int) -> int:
    text = query.get(name, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise OperatorError(400, f"{name} must be a whole number, not {text!r}") from None


def _range(query: dict[str, str]) -> tuple[float | None, float | None]:
    since, until = query.get("since", ""), query.get("until", "")
    return (parse_date(since, "since") if since else None, parse_date(until, "until") if until else None)


def _file(data: bytes, name: str, content_type: str) -> Reply:
    return Reply(200, data, content_type, {"Content-Disposition": f'attachment; filename="{name}"'})


def _at(body: bytes) -> float | None:
    if not body.strip():
        return None
    if len(body) > MAX_BODY:
        raise OperatorError(413, f"a reschedule body must be at most {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise OperatorError(400, "the body is not valid JSON") from None
    at = data.get("at", "now") if isinstance(data, dict) else None
    if not isinstance(at, str):
        raise OperatorError(400, 'the body must be {"at": "now" or "YYYY-MM-DDTHH:MM:SSZ"}')
    return None if at in ("", "now") else parse_date(at, "at")


async def handle(app: WebApp, call: Call) -> Reply:
    """Dispatch ``/api/v1/<segments>``; errors become JSON error replies."""
    try:
        return await _dispatch(app, call)
    except OperatorError as exc:
        return error_reply(exc.status, exc.message)
    except WebError as exc:
        return error_reply(exc.status, exc.message, getattr(exc, "headers", {}))


async def _dispatch(app: WebApp, call: Call) -> Reply:
    segments, method = call.segments, call.method
    caller = Caller(call.identity.username, call.identity.admin)
    if not segments or segments[0] not in ("inbox", "jobs") or len(segments) > 3:
        raise WebError(404, "no such resource (see /api/v1/inbox and /api/v1/jobs)")
    kind, rest = segments[0], segments[1:]
    ops = _ops(app, call, kind == "inbox")
    q = call.query
    if kind == "inbox":
        if not rest and method == "GET":
            since, until = _range(q)
            items, more = await app.run(
                lambda: ops.list_inbox(
                    caller,
                    account=q.get("account") or None,
                    since=since,
                    until=until,
                    limit=_int(q, "limit", 100),
                    offset=_int(q, "offset", 0),
                )
            )
            return _json(200, {"items": items, "next_offset": more})
        if len(rest) == 1 and method == "GET":
            return _json(200, await app.run(ops.show_item, caller, rest[0]))
        if len(rest) == 1 and method == "DELETE":
            await app.run(ops.delete_item, caller, rest[0])
            return Reply(204, b"", JSON)
        if len(rest) == 2 and rest[1] in FILES and method == "GET":
            what, content_type = FILES[rest[1]]
            data, name = await app.run(ops.item_file, caller, rest[0], what)
            return _file(data, name, content_type)
    else:
        if not rest and method == "GET":
            since, until = _range(q)
            states = parse_states(q.get("state", ""))
            jobs, more = await app.run(
                lambda: ops.list_jobs(
                    caller,
                    owner=q.get("owner") or None,
                    states=states,
                    since=since,
                    until=until,
                    limit=_int(q, "limit", 100),
                    offset=_int(q, "offset", 0),
                )
            )
            return _json(200, {"jobs": jobs, "next_offset": more})
        if len(rest) == 1 and method == "GET":
            found = await app.run(ops.show_job, caller, rest[0])
            return _json(200, found[0] if len(found) == 1 else {"jobs": found})
        if len(rest) == 2 and rest[1] in FILES and method == "GET":
            what, content_type = FILES[rest[1]]
            data, name = await app.run(ops.job_file, caller, rest[0], what)
            return _file(data, name, content_type)
        if len(rest) == 2 and rest[1] in _JOB_ACTIONS and method == "POST":
            action = JobAction(rest[1])
            now = app.now()
            if action is JobAction.CANCEL:
                found = await app.run(ops.cancel, caller, rest[0], now)
            elif action is JobAction.RETRY:
                found = await app.run(ops.retry, caller, rest[0], now)
                app.poke()
            else:
                at = _at(call.body)
                found = await app.run(ops.reschedule, caller, rest[0], at, now)
                app.poke()
            return _json(200, found[0] if len(found) == 1 else {"jobs": found})
    raise WebError(405 if rest else 404, f"{method} /api/v1/{'/'.join(segments)} is not allowed")
