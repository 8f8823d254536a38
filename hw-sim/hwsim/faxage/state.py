"""The simulated FAXAGE account (pure: no I/O, time passed in as ``now``).

:meth:`FaxageSim.handle` answers one POST to one of the three URLs with the
document's success formats and ``ERRnn`` replies; :meth:`FaxageSim.advance`
moves jobs along their scripted schedules and returns the url_notify
callbacks that became due.  The records live in :mod:`hwsim.faxage._records`,
the operations in ``_sending``, ``_receiving`` and ``_account``.
"""

from __future__ import annotations

from collections.abc import Callable

from hwsim.faxage import _account, _receiving, _sending
from hwsim.faxage._records import (
    DEFAULT_SCHEDULE,
    Account,
    Callback,
    Form,
    Job,
    ReceivedFax,
    Reply,
    Step,
    stamp,
)

__all__ = ["DEFAULT_SCHEDULE", "Callback", "FaxageSim", "Job", "ReceivedFax", "Reply", "Step", "stamp"]


class FaxageSim(Account):
    """One FAXAGE account answering the API; see the module docstring."""

    def handle(self, path: str, form: Form, now: float) -> Reply:
        """Answer one POST to ``path`` (``httpsfax.php``, ``httpsfax-debug.php``,
        ``getcdr.php`` or ``provision.php``)."""
        self.advance(now)  # the state a caller sees is never behind the clock
        name = path.strip("/").rsplit("/", 1)[-1]
        if name == "getcdr.php":
            if not self.authorized(form):
                return Reply.text("ERR02: login incorrect")
            return _account.getcdr(self, form, now)
        if name == "provision.php":
            if not self.authorized(form):
                return Reply.text("ERR02: login incorrect")
            handler = _account.PROVISION.get(form.get("operation", [""])[0])
            return handler(self, form, now) if handler else Reply.text("ERR03: unknown operation")
        if name not in ("httpsfax.php", "httpsfax-debug.php"):
            return Reply.text("ERR08: Unknown operation specified or bad POST ")
        reply = self._httpsfax(form, now, {**_sending.HANDLERS, **_receiving.HANDLERS, **_account.HANDLERS})
        if name == "httpsfax-debug.php":
            return Reply(print_r(form) + b"\n" + reply.body, reply.content_type, reply.filename)
        return reply

    def _httpsfax(self, form: Form, now: float, handlers: dict[str, Callable[[Account, Form, float], Reply]]) -> Reply:
        op = form.get("operation", [""])[0]
        if not self.authorized(form):
            reply = Reply.text("ERR02: Login incorrect")
        elif op not in handlers:
            reply = Reply.text("ERR08: Unknown operation specified or bad POST " + echo(form))
        else:
            reply = handlers[op](self, form, now)
        ok = not reply.body.startswith(b"ERR")
        detail = reply.body[:60].decode("latin-1").split("\n")[0] if reply.content_type.startswith("text") else "<file>"
        self.audit.append(
            (
                len(self.audit) + 1,
                now,
                form.get("username", [""])[0],
                op,
                1 if ok else 2,
                echo(form, files=False),
                detail,
            )
        )
        return reply


def echo(form: Form, *, files: bool = False) -> str:
    """The POST contents as ERR08 returns them (file data elided)."""
    parts = []
    for name, values in form.items():
        for value in values:
            shown = value if files or name != "faxfiledata[]" else f"<{len(value)} bytes>"
            parts.append(f"{name}={shown}")
    return "&".join(parts)


def print_r(form: Form) -> bytes:
    """PHP ``print_r($_POST)`` of ``form`` (array variables nested)."""
    lines = ["Array", "("]
    for name, values in form.items():
        if name.endswith("[]"):
            lines += [
                f"    [{name[:-2]}] => Array",
                "        (",
                *(f"            [{i}] => {v}" for i, v in enumerate(values)),
                "        )",
                "",
            ]
        else:
            lines.append(f"    [{name}] => {values[0]}")
    lines += [")", ""]
    return "\n".join(lines).encode("utf-8")
