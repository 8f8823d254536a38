"""What every console page handler gets: the app, the request, the caller and its anti-CSRF token."""

from __future__ import annotations

import dataclasses
from typing import Any

from twisted.web.http import Request as HttpRequest

from appliance.web.app import Reply, WebApp
from appliance.web.auth import Identity
from appliance.web.console import views
from appliance.web.console.pages import render

__all__ = ["HTML", "Page"]

HTML = "text/html; charset=utf-8"


@dataclasses.dataclass
class Page:
    """What every console page needs."""

    app: WebApp
    request: HttpRequest
    identity: Identity
    csrf: str
    path: str

    def html(self, template: str, title: str, status: int = 200, **context: Any) -> Reply:
        notice = self.query("notice")[:200]
        body = render(
            template,
            self.app.tz,
            title=title,
            nav=views.NAV,
            user=self.identity,
            current=self.path,
            now=self.app.now(),
            csrf=self.csrf,
            notice=notice,
            **context,
        )
        return Reply(status, body, HTML)

    def query(self, name: str) -> str:
        values = (self.request.args or {}).get(name.encode(), [b""])
        return values[-1].decode("utf-8", "replace")
