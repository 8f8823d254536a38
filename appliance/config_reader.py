"""The one reader of typed TOML sections (pure).

Every section parser of the configuration file (the core sections in
:mod:`appliance.config`, and the sections owned by their features: ``[web]``,
``[smtp]``/``[email_gateway]``/``[inbound_routes]``, ``[limits]``, ``[node]``,
``[retention]``, ``[portserver]``, ``[dialplan]``) reads its table through
:class:`Section`, so one set of rules holds everywhere:

- a section that is absent reads as an empty table; a value that is not a
  table where one is expected is "must be a table";
- a value of the wrong type is "must be a/an <type>, got <type>" (an integer
  is accepted where a float is expected; a boolean is never a number);
- ports are 1-65535;
- a key the parser did not read is an "unknown key";
- every error is a :class:`ConfigError` worded ``FILE: section.key: problem``,
  and a secret's value never appears in one.

This module imports no section module, so every section module can import it
without an import circle.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from radius.clients import Secret

__all__ = ["ConfigError", "Section", "article"]

E = TypeVar("E", bound=enum.StrEnum)
T = TypeVar("T")

MIN_PORT, MAX_PORT = 1, 65535


class ConfigError(Exception):
    """A configuration file is unusable; names the file, the key and the problem."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


def article(noun: str) -> str:
    """``"an int"``, ``"a str"``."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join("table" if k is dict else k.__name__ for k in kinds)


class Section:
    """Typed access to one TOML table, reporting bad keys by their dotted name.

    ``prefix`` is the table's dotted name (``"radius"``, ``"lines[0]"``,
    ``""`` for the top level).  ``table`` None (the section is absent) reads
    as an empty table.
    """

    def __init__(self, source: str, prefix: str, table: object) -> None:
        if table is None:
            table = {}
        if not isinstance(table, dict):
            raise ConfigError(source, prefix, "must be a table")
        self.source = source
        self.prefix = prefix
        self.table: dict[str, Any] = table
        self.seen: set[str] = set()

    # ------------------------------------------------------------ naming

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), problem)

    def sub(self, name: str) -> Section:
        """The sub-table ``name`` (absent: empty) as a section of its own."""
        self.seen.add(name)
        return Section(self.source, self.key(name), self.table.get(name))

    # ------------------------------------------------------------ typed values

    def get(self, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        """The value of ``name`` checked to be of ``kind`` (``default`` when absent)."""
        self.seen.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in kinds):
            raise self.fail(name, f"must be {article(_kind_name(kind))}, got {type(value).__name__}")
        return value

    def text(self, name: str, default: str) -> str:
        return str(self.get(name, str, default))

    def flag(self, name: str, default: bool) -> bool:
        return bool(self.get(name, bool, default))

    def integer(self, name: str, default: int, low: int | None = None, high: int | None = None) -> int:
        """A whole number, optionally within ``low``..``high``."""
        value = int(self.get(name, int, default))
        self._within(name, value, low, high, "")
        return value

    def number(
        self, name: str, default: float, low: float | None = None, high: float | None = None, unit: str = ""
    ) -> float:
        """A number (an integer is accepted), optionally within ``low``..``high``."""
        value = float(self.get(name, float, default))
        self._within(name, value, low, high, unit)
        return value

    def _within(self, name: str, value: float, low: float | None, high: float | None, unit: str) -> None:
        unit = f" {unit}" if unit else ""
        if low is not None and high is not None and not low <= value <= high:
            raise self.fail(name, f"must be between {low:g} and {high:g}{unit}, got {value:g}")
        if low is not None and high is None and value < low:
            problem = "must not be negative" if low == 0 else f"must be at least {low:g}{unit}"
            raise self.fail(name, f"{problem}, got {value:g}")
        if high is not None and low is None and value > high:
            raise self.fail(name, f"must be at most {high:g}{unit}, got {value:g}")

    def positive(self, name: str, default: float) -> float:
        value = float(self.get(name, float, default))
        if value <= 0:
            raise self.fail(name, "must be greater than 0")
        return value

    def port(self, name: str, default: int) -> int:
        value = int(self.get(name, int, default))
        if not MIN_PORT <= value <= MAX_PORT:
            raise self.fail(name, f"port {value} is out of range {MIN_PORT}-{MAX_PORT}")
        return value

    def secret(self, name: str, required: bool) -> Secret:
        """A secret; its value never appears in an error."""
        self.seen.add(name)
        value = self.table.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return Secret("")
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {type(value).__name__}")
        if required and not value:
            raise self.fail(name, "must not be empty")
        return Secret(value)

    def choice(self, name: str, choices: type[E], default: E, aliases: Mapping[object, E] | None = None) -> E:
        """One member of the string enum ``choices`` (or an ``aliases`` key)."""
        self.seen.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        key = value.lower() if isinstance(value, str) and aliases else value
        if aliases and not isinstance(key, bool) and key in aliases:
            return aliases[key]
        if isinstance(value, str):
            try:
                return choices(value)
            except ValueError:
                pass
        names = ", ".join(m.value for m in choices)
        raise self.fail(name, f"must be one of {names}, got {value!r}")

    def strings(self, name: str, default: Iterable[str], what: str = "non-empty strings") -> tuple[str, ...]:
        """A list of non-empty strings."""
        value = self.get(name, list, list(default))
        if not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, f"must be a list of {what}")
        return tuple(value)

    def tables(self, name: str) -> list[Any]:
        """An array of tables (each checked by its own :class:`Section`)."""
        return list(self.get(name, list, []))

    # ------------------------------------------------------------ completeness

    def check_unknown(self, allowed_extra: Iterable[str] = ()) -> None:
        allowed = set(allowed_extra)
        for name in self.table:
            if name not in self.seen and name not in allowed:
                raise self.fail(name, "unknown key")
