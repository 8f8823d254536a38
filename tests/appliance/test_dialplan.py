"""The dial plan core: what a fax number may be, how it is normalised, the
FaxFinder-style dialing rules, the ``[dialplan]`` section and log escaping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.config import ConfigError, parse
from appliance.dialplan import (
    MAX_DIAL_STRING,
    DialPlan,
    InvalidNumber,
    RejectedNumber,
    dial_string,
    parse_dialplan,
    parse_rule,
)
from appliance.logsafe import safe_for_log
from modem.dialect import dial_string_problem

#: (raw number, what the error names) -- shared by the front-door tests
BAD_NUMBERS = [
    ("0" * 10_000, "too long (10000 characters"),
    ("1" * 16, "too many digits (16; at most 15)"),
    ("5550101\rATZ", "a control character '\\r'"),
    ("5550101\nATZ", "a control character '\\n'"),
    ("ATDT5550101", "a letter 'A'"),
    ("555;0101", "a character ';'"),
    ("", "there is no number"),
    ("   ", "there is no number"),
    ("five five five", "a letter 'f'"),
    ("1-800-FLOWERS", "a letter 'F'"),
    ("５５５０１０１", "a non-ASCII digit '５'"),
    ("555\x000101", "a control character '\\x00'"),
    ("555\x1b[2J", "a control character '\\x1b'"),
    ("555\u20280101", "a control character '\\u2028'"),
    ("555,0101", "a character ','"),
    ("555+0101", "a + may only come first"),
    ("+", "there is no number"),
    ("*#", "there is no number"),
    ("+1*5550101", "an international number (+…) holds digits only"),
]

#: (raw, dial string under the default plan)
GOOD_NUMBERS = [
    ("5550101", "5550101"),
    ("555-0101", "5550101"),
    ("555.0101", "5550101"),
    ("(503) 555-0123", "5035550123"),
    ("+1 (503) 555-0123", "15035550123"),
    ("  +44 20 7946 0000 ", "442079460000"),
    ("503/555 01 23", "5035550123"),
    ("*67 555 0101", "*675550101"),
    ("123456789012345", "123456789012345"),
    (" 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 ", "123456789012345"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_NUMBERS)
def test_bad_numbers_are_refused_naming_them(raw: str, reason: str) -> None:
    """Each bad number raises InvalidNumber whose one-line message names it (escaped) and the problem."""
    with pytest.raises(InvalidNumber) as caught:
        dial_string(raw, DialPlan())
    message = str(caught.value)
    assert reason in message
    assert message.startswith(f"fax number '{safe_for_log(raw, 24)}")
    assert message.isprintable() and len(message) < 300
    assert caught.value.number == raw


@pytest.mark.parametrize(("raw", "dialled"), GOOD_NUMBERS)
def test_good_numbers_are_normalised(raw: str, dialled: str) -> None:
    """Separators go, a leading + is dropped under the default plan, digits stay in order."""
    assert dial_string(raw, DialPlan()) == dialled


def test_non_text_is_refused() -> None:
    """Only text is a number (a JSON number is converted by its front door first)."""
    with pytest.raises(InvalidNumber, match="must be text"):
        dial_string(5550101, DialPlan())


def test_international_form_under_a_national_plan() -> None:
    """+<own country> dials the national prefix; other countries the international prefix; 15 digits before it."""
    plan = DialPlan(international_prefix="011", country_code="1", national_prefix="1")
    assert dial_string("+1 503 555 0123", plan) == "15035550123"
    assert dial_string("+44 20 7946 0000", plan) == "011442079460000"
    assert dial_string("+" + "4" * 15, plan) == "011" + "4" * 15
    with pytest.raises(InvalidNumber, match="too many digits"):
        dial_string("+" + "4" * 16, plan)
    uk = DialPlan(international_prefix="00", country_code="44", national_prefix="0")
    assert dial_string("+44 20 7946 0000", uk) == "02079460000"
    assert dial_string("+1 503 555 0123", uk) == "0015035550123"
    assert dial_string("020 7946 0000", uk) == "02079460000"


def test_outside_prefix_comes_first_and_counts_apart() -> None:
    """The outside-line prefix is put before every number and does not count against the 15 digits."""
    plan = DialPlan(outside_prefix="9,")
    assert dial_string("555-0101", plan) == "9,5550101"
    assert dial_string("1" * 15, plan) == "9," + "1" * 15


RULES = [
    ("1900XXXXXXX", "reject"),
    ("<1503>XXXXXXX", "accept"),
    ("{1503}XXXXXXX", "accept"),
    ("<011>.", "accept"),
    ("{9,}1XXXXXXXXXX", "accept"),
    ("911", "reject"),
]


@pytest.mark.parametrize(
    ("raw", "dialled"),
    [
        ("1 503 555 0123", "5550123"),  # <1503> strips our own area code
        ("555-0123", "15035550123"),  # {1503} prepends it to a 7-digit number
        ("1 212 555 0000", "9,12125550000"),  # long distance through the PBX
        ("011 44 20 7946 0000", "442079460000"),  # <011>. strips and keeps the rest, any length
        ("5035550123", "5035550123"),  # no rule matches: unmatched = accept
        ("55501234", "55501234"),  # a pattern matches its own length only
    ],
)
def test_dialing_rules_rewrite(raw: str, dialled: str) -> None:
    """The first matching accept rule rewrites the number by its <strip> and {prepend} parts."""
    plan = DialPlan(rules=tuple(parse_rule(p, a) for p, a in RULES))
    assert dial_string(raw, plan) == dialled


@pytest.mark.parametrize("raw", ["1-900-555-1234", "911"])
def test_dialing_rules_reject(raw: str) -> None:
    """A reject rule (blacklist) refuses the number, naming the rule."""
    plan = DialPlan(rules=tuple(parse_rule(p, a) for p, a in RULES))
    with pytest.raises(RejectedNumber, match=r"refused by dialing rule \d"):
        dial_string(raw, plan)


def test_whitelist_with_unmatched_reject() -> None:
    """With unmatched = reject only numbers an accept rule matches are dialled."""
    plan = DialPlan(rules=(parse_rule("555XXXX"), parse_rule("{9}1800XXXXXXX")), unmatched="reject")
    assert dial_string("555-0101", plan) == "5550101"
    assert dial_string("1 800 555 0199", plan) == "918005550199"
    with pytest.raises(RejectedNumber, match="no dialing rule accepts it"):
        dial_string("666-0101", plan)


def test_rules_see_the_number_after_international_handling() -> None:
    """Rules match the national/international form, so +1 numbers and 1 numbers are treated alike."""
    plan = DialPlan(
        international_prefix="011", country_code="1", national_prefix="1", rules=(parse_rule("1900XXXXXXX", "reject"),)
    )
    with pytest.raises(RejectedNumber):
        dial_string("+1 900 555 1234", plan)


def test_dial_string_limit() -> None:
    """A dial string longer than MAX_DIAL_STRING (rules and prefixes included) is refused."""
    plan = DialPlan(outside_prefix="9,,,,,,,", rules=(parse_rule("{" + "1" * 20 + "}X."),))
    with pytest.raises(InvalidNumber, match=f"at most {MAX_DIAL_STRING}"):
        dial_string("5" * 15, plan)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "1..40"),
        ("X" * 41, "1..40"),
        ("55A", "'A' at 3"),
        ("<55", "must close"),
        ("{9", "must close"),
        ("<>XXX", "must close and hold"),
        ("{9;}XXX", "must close and hold"),
        ("X.X", "'.' at 2"),
        ("{9}", "matches no digits"),
        (".", "'.' at 1"),
    ],
)
def test_bad_patterns(pattern: str, problem: str) -> None:
    """A pattern that cannot be used is refused with the reason."""
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(".", r"\.")):
        parse_rule(pattern)


def test_config_section() -> None:
    """[dialplan] parses into a DialPlan; absent, the config has the default plan."""
    config = parse("""
[dialplan]
international_prefix = "011"
country_code = "1"
national_prefix = "1"
outside_prefix = "9,"
unmatched = "reject"
rules = [
  { pattern = "1900XXXXXXX", action = "reject" },
  { pattern = "{1503}XXXXXXX" },
]
""")
    plan = config.dialplan
    assert (
        plan.international_prefix,
        plan.country_code,
        plan.national_prefix,
        plan.outside_prefix,
        plan.unmatched,
    ) == ("011", "1", "1", "9,", "reject")
    assert [(r.pattern, r.action) for r in plan.rules] == [("1900XXXXXXX", "reject"), ("{1503}XXXXXXX", "accept")]
    assert dial_string("555-0123", plan) == "9,15035550123"
    assert parse("").dialplan == DialPlan()


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[dialplan]\nprefix = "9"', "dialplan.prefix", "unknown key"),
        ('[dialplan]\noutside_prefix = "9w"', "dialplan.outside_prefix", "at most 8 characters"),
        ('[dialplan]\noutside_prefix = "123456789"', "dialplan.outside_prefix", "at most 8 characters"),
        ('[dialplan]\ncountry_code = "+1"', "dialplan.country_code", "at most 8 characters"),
        ("[dialplan]\ninternational_prefix = 11", "dialplan.international_prefix", "must be text"),
        ('[dialplan]\nunmatched = "maybe"', "dialplan.unmatched", "accept or reject"),
        ('[dialplan]\nrules = "X"', "dialplan.rules", "must be a list"),
        ("[dialplan]\nrules = [1]", "dialplan.rules[0]", "must be a table"),
        ('[dialplan]\nrules = [{pattern = "X", why = "?"}]', "dialplan.rules[0]", "must be a table"),
        ('[dialplan]\nrules = [{pattern = "X", action = "drop"}]', "dialplan.rules[0]", "accept or reject"),
        ('[dialplan]\nrules = [{pattern = "9<1"}]', "dialplan.rules[0]", "must close"),
        ('dialplan = "x"', "dialplan", "must be a"),
    ],
)
def test_config_errors_name_the_key(text: str, key: str, problem: str) -> None:
    """Every bad [dialplan] key is a ConfigError naming it."""
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert caught.value.key == key and problem in caught.value.problem


def test_config_rule_count_limit() -> None:
    """At most 1000 rules."""
    rules = [{"pattern": "X"}] * 1001
    with pytest.raises(ConfigError, match="at most 1000"):
        parse_dialplan("<test>", {"rules": rules})
    assert len(parse_dialplan("<test>", {"rules": rules[:1000]}).rules) == 1000


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ("5550101\r\nATZ", "5550101\\r\\nATZ"),
        ("name\x00\x1b[31m", "name\\x00\\x1b[31m"),
        ("a\u2028b\x85c", "a\\u2028b\\x85c"),
        ("back\\slash", "back\\\\slash"),
        ("Zoë 555 0101", "Zoë 555 0101"),
        (12, "12"),
    ],
)
def test_safe_for_log(raw: object, logged: str) -> None:
    """Control and unprintable characters become repr-style escapes; printable text is kept."""
    assert safe_for_log(raw) == logged


def test_safe_for_log_cuts() -> None:
    """Long text is cut and says how much was left out."""
    assert safe_for_log("7" * 10_000, 10) == "7777777777…(+9990 characters)"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.text(alphabet=st.sampled_from("0123456789+*#,;()-./ \r\n\x00\x1bATDZ５\u2028"), max_size=30)
    | st.text(max_size=80)
)
def test_any_text_is_refused_or_a_dial_string_the_modem_takes(raw: str) -> None:
    """Whatever comes in, the plan either refuses it or gives a dial string the modem driver accepts."""
    plan = DialPlan(
        international_prefix="011",
        country_code="1",
        national_prefix="1",
        outside_prefix="9,",
        rules=(parse_rule("{1503}XXXXXXX"), parse_rule("<011>.")),
    )
    try:
        dialled = dial_string(raw, plan)
    except InvalidNumber as exc:
        assert str(exc).isprintable()
        return
    assert dial_string_problem(dialled) is None
    assert set(dialled) <= set("0123456789*#,")
