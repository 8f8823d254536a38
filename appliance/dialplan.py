"""The dial plan: the one check every fax number passes on its way in
(FFWS, UAPI, the dashboard, ``faxappliance send``, the e-mail gateway).

Pure: text and a :class:`DialPlan` in, a dial string out, or an
:class:`InvalidNumber` naming the (escaped) number and the problem.

``dial_string(raw, plan)``:

1. ``raw`` may hold ASCII digits, ``*``, ``#``, one leading ``+`` and the
   separators space ``.`` ``-`` ``(`` ``)`` ``/`` only, and at most
   :data:`MAX_INPUT` characters.  Letters, AT command text, ``;``, ``,``,
   control characters and non-ASCII digits (``５``) are refused.
2. Separators are removed.  The number must then have 1..:data:`MAX_DIGITS`
   (E.164: 15) digits, ``*`` and ``#`` counted.
3. A leading ``+`` (international form): ``+<country_code><rest>`` is our own
   country and becomes ``national_prefix + rest``; any other ``+<digits>``
   becomes ``international_prefix + digits``.
4. The dialing rules (FaxFinder style) run in order; the first whose pattern
   matches decides: ``accept`` (the number is rewritten by the pattern's
   ``<strip>`` and ``{prepend}`` parts) or ``reject``.  No match: ``unmatched``.
5. ``outside_prefix`` is put in front (a PBX outside line, e.g. ``9,``).

Patterns: a digit, ``*`` or ``#`` matches itself; ``X`` matches any digit;
a final ``.`` matches one or more further digits; ``<…>`` matches its
contents and removes them; ``{…}`` (digits, ``*``, ``#``, ``,``) matches
nothing and is put in its place.  ``{9}XXXXXXX`` dials 9 before a 7-digit
number; ``<1>XXXXXXXXXX`` drops a leading 1 from an 11-digit one.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from appliance.config_reader import Section
from appliance.logsafe import safe_for_log

__all__ = [
    "DIAL_CHARACTERS",
    "MAX_DIAL_STRING",
    "MAX_DIGITS",
    "MAX_INPUT",
    "DialAction",
    "DialPlan",
    "DialRule",
    "InvalidNumber",
    "RejectedNumber",
    "dial_string",
    "parse_dialplan",
    "parse_rule",
]

MAX_DIGITS = 15  # E.164
MAX_INPUT = 64  # characters of raw text, separators included
MAX_PREFIX = 8  # characters of each configured prefix
MAX_DIAL_STRING = 40  # the whole dial string: modems take ATD lines of about this much
DIAL_CHARACTERS = frozenset("0123456789*#,")  # what a dial string (and a prefix or {…}) may hold
_SEPARATORS = frozenset(" .-()/")
_NUMBER_CHARACTERS = frozenset("0123456789*#")


class DialAction(enum.StrEnum):
    """What a matching dialing rule (or ``unmatched``) does with a number."""

    ACCEPT = "accept"
    REJECT = "reject"


class _Piece(enum.StrEnum):
    KEEP = "keep"  # a matched digit of the number
    PUT = "put"  # text of a {…} part


ACTIONS: tuple[DialAction, ...] = tuple(DialAction)


def _quoted(raw: str) -> str:
    return f"'{safe_for_log(raw, 24)}'"


class InvalidNumber(ValueError):
    """A fax number that cannot be dialled: ``number`` is the raw text, ``reason`` the problem."""

    def __init__(self, number: str, reason: str) -> None:
        self.number = number
        self.reason = reason
        super().__init__(f"fax number {_quoted(number)} is not valid: {reason}")

    @property
    def message(self) -> str:
        return str(self)


class RejectedNumber(InvalidNumber):
    """A well-formed number that a dialing rule (or ``unmatched = "reject"``) refuses."""


@dataclass(frozen=True)
class DialRule:
    """One dialing rule: ``pattern`` (see the module text) and ``accept``/``reject``."""

    pattern: str
    action: DialAction = DialAction.ACCEPT
    regex: re.Pattern[str] | None = None  # compiled from pattern by parse_rule
    template: tuple[tuple[_Piece, str], ...] = ()  # (KEEP|PUT, text) pieces of the dial string

    def apply(self, number: str) -> str | None:
        """The rewritten number when the rule matches ``number``, else None."""
        match = self.regex.fullmatch(number) if self.regex is not None else None
        if match is None:
            return None
        out = []
        groups = iter(match.groups())
        for kind, text in self.template:
            out.append(text if kind is _Piece.PUT else next(groups))
        return "".join(out)


@dataclass(frozen=True)
class DialPlan:
    """The ``[dialplan]`` section; the defaults accept any well-formed number as written."""

    international_prefix: str = ""  # dialled in place of "+"
    country_code: str = ""  # "+<country_code>…" is a national number
    national_prefix: str = ""  # dialled before such a national number
    outside_prefix: str = ""  # dialled before every number
    rules: tuple[DialRule, ...] = ()
    unmatched: DialAction = DialAction.ACCEPT  # when no rule matches

    def __post_init__(self) -> None:
        object.__setattr__(self, "unmatched", DialAction(self.unmatched))


def parse_rule(pattern: str, action: DialAction | str = DialAction.ACCEPT) -> DialRule:
    """A :class:`DialRule`; raises ValueError saying what is wrong with ``pattern``."""
    if action not in ACTIONS:
        raise ValueError(f"action must be accept or reject, not {action!r}")
    if not pattern or len(pattern) > MAX_DIAL_STRING:
        raise ValueError(f"a pattern has 1..{MAX_DIAL_STRING} characters")
    regex: list[str] = []
    template: list[tuple[_Piece, str]] = []
    i = matched = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch in "<{":
            end = pattern.find(">" if ch == "<" else "}", i)
            inner = pattern[i + 1 : end] if end > 0 else ""
            allowed = _NUMBER_CHARACTERS if ch == "<" else DIAL_CHARACTERS
            if end < 0 or not inner or any(c not in allowed for c in inner):
                raise ValueError(
                    f"{ch}…{'>' if ch == '<' else '}'} at {i + 1} must close and hold "
                    f"{'digits, * or #' if ch == '<' else 'digits, *, # or ,'}"
                )
            if ch == "<":
                regex.append(re.escape(inner))
                matched += len(inner)
            else:
                template.append((_Piece.PUT, inner))
            i = end + 1
            continue
        if ch == "." and i == len(pattern) - 1 and matched:
            regex.append("([0-9*#]+)")
        elif ch in "Xx":
            regex.append("([0-9])")
        elif ch in _NUMBER_CHARACTERS:
            regex.append(f"({re.escape(ch)})")
        else:
            raise ValueError(f"{ch!r} at {i + 1} is not a digit, *, #, X, <…>, {{…}} or a final .")
        template.append((_Piece.KEEP, ""))
        matched += 1
        i += 1
    if not matched:
        raise ValueError("the pattern matches no digits")
    return DialRule(pattern, DialAction(action), re.compile("".join(regex)), tuple(template))


def _number(raw: str) -> tuple[bool, str]:
    """(international, the digits) of ``raw``; raises InvalidNumber."""
    if len(raw) > MAX_INPUT:
        raise InvalidNumber(raw, f"too long ({len(raw)} characters; at most {MAX_INPUT})")
    for ch in raw:
        if ch not in _NUMBER_CHARACTERS and ch not in _SEPARATORS and ch != "+":
            if not ch.isprintable():
                what = "a control character"
            elif ch.isdigit():
                what = "a non-ASCII digit"
            elif ch.isalpha():
                what = "a letter"
            else:
                what = "a character"
            raise InvalidNumber(
                raw, f"{what} {ch!r} is not allowed (digits, * #, a leading + and the separators . - ( ) / space)"
            )
    text = raw.strip(" ")
    international = text.startswith("+")
    if "+" in text[1:]:
        raise InvalidNumber(raw, "a + may only come first")
    digits = "".join(ch for ch in text if ch in _NUMBER_CHARACTERS)
    if not any(ch.isdigit() for ch in digits):
        raise InvalidNumber(raw, "there is no number")
    if len(digits) > MAX_DIGITS:
        raise InvalidNumber(raw, f"too many digits ({len(digits)}; at most {MAX_DIGITS})")
    if international and not digits.isdigit():
        raise InvalidNumber(raw, "an international number (+…) holds digits only")
    return international, digits


def dial_string(raw: object, plan: DialPlan) -> str:
    """The dial string for the fax number ``raw`` under ``plan``; raises :class:`InvalidNumber`."""
    if not isinstance(raw, str):
        raise InvalidNumber(str(raw)[: MAX_INPUT + 1], "a fax number must be text")
    international, number = _number(raw)
    if international:
        cc = plan.country_code
        if cc and number.startswith(cc) and len(number) > len(cc):
            number = plan.national_prefix + number[len(cc) :]
        else:
            number = plan.international_prefix + number
    for index, rule in enumerate(plan.rules, start=1):
        rewritten = rule.apply(number)
        if rewritten is None:
            continue
        if rule.action is DialAction.REJECT:
            raise RejectedNumber(raw, f"refused by dialing rule {index} ({rule.pattern})")
        number = rewritten
        break
    else:
        if plan.unmatched is DialAction.REJECT:
            raise RejectedNumber(raw, "no dialing rule accepts it")
    dial = plan.outside_prefix + number
    if len(dial) > MAX_DIAL_STRING:
        raise InvalidNumber(raw, f"the dial string would be {len(dial)} characters (at most {MAX_DIAL_STRING})")
    return dial


# ------------------------------------------------------------------ config


def parse_dialplan(source: str, table: object) -> DialPlan:
    """Parse the ``[dialplan]`` table (None: the defaults); errors are ConfigError naming the key."""
    sec = Section(source, "dialplan", table)
    prefixes = {}
    for key in ("international_prefix", "country_code", "national_prefix", "outside_prefix"):
        sec.seen.add(key)
        value = sec.table.get(key, "")
        allowed = "0123456789" if key == "country_code" else "0123456789*#,"
        if not isinstance(value, str) or len(value) > MAX_PREFIX or any(c not in allowed for c in value):
            raise sec.fail(key, f"must be text of at most {MAX_PREFIX} characters from {' '.join(allowed)}")
        prefixes[key] = value
    sec.seen.add("unmatched")
    unmatched = sec.table.get("unmatched", "accept")
    if unmatched not in ACTIONS:
        raise sec.fail("unmatched", f"must be accept or reject, not {unmatched!r}")
    sec.seen.add("rules")
    rules_table = sec.table.get("rules", [])
    if not isinstance(rules_table, list) or len(rules_table) > 1000:
        raise sec.fail("rules", 'must be a list of at most 1000 {pattern = "…", action = "accept|reject"} tables')
    sec.check_unknown()
    rules = []
    for i, item in enumerate(rules_table):
        if not isinstance(item, dict) or set(item) - {"pattern", "action"} or not isinstance(item.get("pattern"), str):
            raise sec.fail(f"rules[{i}]", 'must be a table {pattern = "…", action = "accept|reject"}')
        try:
            rules.append(parse_rule(item["pattern"], item.get("action", "accept")))
        except ValueError as exc:
            raise sec.fail(f"rules[{i}]", str(exc)) from None
    return DialPlan(rules=tuple(rules), unmatched=DialAction(unmatched), **prefixes)
