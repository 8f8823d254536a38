"""The web console: server-rendered pages (Jinja2 templates, autoescaped)
for sending, the outbox and inbox, per-fax details, lines, accounts and
DIDs, users, contacts, routes and settings.

* :mod:`views` — pure rules: ownership, form values, filters, settings with secrets hidden;
* :mod:`pages` — the templates and static files;
* :mod:`handler` — the routes (blocking reads in the thread pool);
* :mod:`files` — page thumbnails and PDF downloads of sent and received faxes.
"""

from appliance.web.console.handler import handle

__all__ = ["handle"]
