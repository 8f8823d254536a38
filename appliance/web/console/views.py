"""The web console's pure rules: who sees what, form values checked into
typed values, filters, the CDR of each try, and the effective settings with
secrets hidden.  No I/O: the handlers gather the data and call these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit, urlunsplit

from appliance.jobs.model import TERMINAL, Entry, EntryState, Fax
from appliance.web.deps import InboxRecord
from appliance.web.model import WebError
from radius.store.api import AccountingRecord

__all__ = [
    "ADMIN_PAGES",
    "MAX_RECIPIENTS_FIELD",
    "NAV",
    "STATE_FILTERS",
    "attempt_session",
    "cdrs_for_attempt",
    "check_account",
    "check_did",
    "filter_entries",
    "hidden_settings",
    "owns",
    "parse_numbers",
    "parse_priority",
    "parse_when",
    "start_of_day",
    "today_counts",
]

#: (path, title, admin only) of the console's pages, in menu order
NAV: tuple[tuple[str, str, bool], ...] = (
    ("/console/", "Overview", False),
    ("/console/send", "Send", False),
    ("/console/outbox", "Outbox", False),
    ("/console/inbox", "Inbox", False),
    ("/console/contacts", "Contacts", False),
    ("/console/accounts", "Accounts & DIDs", True),
    ("/console/users", "Users", True),
    ("/console/routes", "Routes", True),
    ("/console/settings", "Settings", True),
)
ADMIN_PAGES = frozenset(path.rsplit("/", 1)[-1] for path, _, admin in NAV if admin)
STATE_FILTERS = (
    "",
    "active",
    "preprocessing",
    "approval_pending",
    "pending",
    "sending",
    "sent",
    "failed",
    "dead",
    "aborted",
)
MAX_RECIPIENTS_FIELD = 4000  # characters of the recipients box
SECRET_WORDS = ("secret", "password", "passwd", "token", "credential", "api_key", "apikey")
HIDDEN = "(hidden)"


def owns(owner: str, username: str, admin: bool) -> bool:
    """Whether a user may see a fax/received fax of ``owner``: admins see all, users their own."""
    return admin or owner == username


def parse_numbers(text: str, limit: int) -> list[str]:
    """Fax numbers from a box (commas, semicolons or new lines between them).

    Raises WebError 400 naming a number without digits, or when there are
    more than ``limit``."""
    if len(text) > MAX_RECIPIENTS_FIELD:
        raise WebError(400, f"the recipients box takes at most {MAX_RECIPIENTS_FIELD} characters")
    numbers = [n.strip() for n in re.split(r"[,;\n\r]+", text) if n.strip()]
    for number in numbers:
        if not re.search(r"[0-9]", number) or len(number) > 40 or not re.fullmatch(r"[0-9+()*#.\- /wWpP,]+", number):
            raise WebError(400, f"{number[:40]!r} is not a fax number")
    if len(numbers) > limit:
        raise WebError(400, f"a fax may have at most {limit} recipients, not {len(numbers)}")
    return numbers


def parse_when(text: str, tz: tzinfo) -> float | None:
    """A ``datetime-local`` value (``YYYY-MM-DDTHH:MM``, local time ``tz``) as unix time; "" is None (now)."""
    text = text.strip()
    if not text:
        return None
    try:
        when = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S" if len(text) > 16 else "%Y-%m-%dT%H:%M")
    except ValueError:
        raise WebError(400, f"the schedule time {text[:30]!r} is not YYYY-MM-DDTHH:MM") from None
    return when.replace(tzinfo=tz).timestamp()


def parse_priority(text: str) -> int | None:
    """0 (highest) .. 5 (lowest); "" is None (the user's default)."""
    if not text.strip():
        return None
    if not re.fullmatch(r"[0-5]", text.strip()):
        raise WebError(400, f"priority must be 0 (highest) to 5 (lowest), not {text[:10]!r}")
    return int(text)


def start_of_day(now: float, tz: tzinfo) -> float:
    """Unix time of today's local midnight."""
    local = datetime.fromtimestamp(now, UTC).astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def today_counts(done: Iterable[Entry], received: Iterable[InboxRecord], since: float) -> dict[str, int]:
    """Today's sent, failed (failed/dead/aborted) and received faxes."""
    counts = {"sent": 0, "failed": 0, "received": 0}
    for entry in done:
        if (entry.completed_at or 0) >= since:
            counts["sent" if entry.state is EntryState.SENT else "failed"] += 1
    counts["received"] = sum(1 for r in received if r.received_at >= since)
    return counts


def filter_entries(rows: Sequence[tuple[Entry, Fax]], state: str, query: str) -> list[tuple[Entry, Fax]]:
    """(entry, fax) rows in ``state`` ("" any, "active" not finished) whose number, name, key or owner has ``query``."""
    if state and state not in STATE_FILTERS:
        raise WebError(400, f"state must be one of {', '.join(s for s in STATE_FILTERS if s)}, not {state[:20]!r}")
    wanted = query.strip().casefold()
    out = []
    for entry, fax in rows:
        if state == "active" and entry.state in TERMINAL:
            continue
        if state not in ("", "active") and entry.state.value != state:
            continue
        if wanted and not any(
            wanted in str(v).casefold()
            for v in (entry.recipient.fax_number, entry.recipient.name, f"{fax.id:08X}", fax.owner)
        ):
            continue
        out.append((entry, fax))
    return out


def attempt_session(node: str, fax_id: int, index: int, number: int) -> str:
    """The Acct-Session-Id a try was accounted under (see ``appliance.outbound``)."""
    return f"{node}-{fax_id:08X}{index:04X}-{number}"


def cdrs_for_attempt(
    cdrs: Sequence[AccountingRecord], node: str, fax_id: int, index: int, number: int
) -> list[AccountingRecord]:
    """The accounting records (Start, Stop, …) of one try."""
    session = attempt_session(node, fax_id, index, number)
    return [c for c in cdrs if c.session_id == session]


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def _hide_url_password(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.password is None or not parts.scheme:
        return value
    netloc = f"{parts.username or ''}:{HIDDEN}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _hide_dsn_password(value: str) -> str:
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", rf"\1{HIDDEN}", value, flags=re.IGNORECASE)


def hidden_settings(raw: Mapping[str, object], prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, shown value) of a parsed configuration file, secrets replaced by "(hidden)"."""
    rows: list[tuple[str, str]] = []
    for key, value in raw.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            rows += hidden_settings(value, name)
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for n, item in enumerate(value):
                rows += hidden_settings(item, f"{name}[{n}]")
        elif _secret_key(str(key)):
            rows.append((name, HIDDEN))
        else:
            shown = str(value)
            if isinstance(value, str):
                shown = _hide_dsn_password(_hide_url_password(value))
            rows.append((name, shown))
    return rows


@dataclass(frozen=True)
class AccountForm:
    name: str
    password: str


def check_account(name: str, password: str) -> AccountForm:
    """A new RADIUS account from the form: a name of letters, digits and ``._@-``, a password of 6+ characters."""
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z0-9._@+\-]{1,64}", name):
        raise WebError(400, "an account name is 1 to 64 letters, digits or . _ @ + -")
    if not 6 <= len(password) <= 128:
        raise WebError(400, "a password has 6 to 128 characters")
    return AccountForm(name, password)


def check_did(did: str, account: str) -> tuple[str, str]:
    """(digits of the DID, account name) from the form."""
    digits = re.sub(r"[\s().\-]", "", did.strip())
    if not re.fullmatch(r"\+?[0-9]{1,20}", digits):
        raise WebError(400, f"a DID is 1 to 20 digits, not {did.strip()[:30]!r}")
    account = account.strip()
    if account and not re.fullmatch(r"[A-Za-z0-9._@+\-]{1,64}", account):
        raise WebError(400, f"no account {account[:64]!r}")
    return digits.lstrip("+"), account
