"""Text from outside (fax numbers, names, user names, remote CSID/TSI, peer
messages) made fit for one log line.  Pure."""

from __future__ import annotations

__all__ = ["safe_for_log"]


def safe_for_log(value: object, limit: int = 200) -> str:
    """``value`` as text fit for one log line: control and other unprintable
    characters (CR, LF, NUL, ESC, U+2028, …) escaped repr-style (``\\r``,
    ``\\x00``), backslashes doubled, and cut to ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    escaped = "".join(ch if ch.isprintable() and ch != "\\" else repr(ch)[1:-1] for ch in text[:limit])
    return f"{escaped}…(+{len(text) - limit} characters)" if len(text) > limit else escaped
