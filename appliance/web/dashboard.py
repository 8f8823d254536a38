"""``/`` and ``/dashboard``: the old dashboard's addresses, kept so existing
links work.  The pages moved to the web console (:mod:`appliance.web.console`):
``/`` and ``/dashboard`` redirect to its overview, the old thumbnail
addresses to the console's.
"""

from __future__ import annotations

import re

from appliance.web.app import Reply
from appliance.web.model import WebError

__all__ = ["redirect"]


def redirect(parts: list[str]) -> Reply:
    """Where an old dashboard address (``parts`` after ``/dashboard``) lives in the console (303/301)."""
    if not parts:
        return Reply(303, b"", "text/plain; charset=utf-8", {"Location": "/console/"})
    if (
        len(parts) == 3
        and parts[0] in ("fax", "inbox")
        and re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", parts[1])
        and re.fullmatch(r"[0-9]{1,4}\.png", parts[2])
    ):
        return Reply(301, b"", "text/plain; charset=utf-8", {"Location": f"/console/{parts[0]}/{parts[1]}/{parts[2]}"})
    raise WebError(404, "the dashboard moved to /console/")
