"""The one config reader: every section follows the same rules (types, ports
1-65535, unknown keys, "FILE: key: problem"), ``parse`` carries every
section typed, and the section modules import only the reader."""

from __future__ import annotations

import ast
import enum
from pathlib import Path

import pytest

from appliance.config import (
    ConfigError,
    LineClass,
    LineDirection,
    RoutingPolicy,
    Section,
    UuidFormat,
    parse,
)
from appliance.config.web import Accounts, PageSize
from appliance.mail.config import StartTls

ROOT = Path(__file__).resolve().parents[2]
SERVER = '[[portserver.servers]]\naddress = "10.0.0.1"\nsecret = "a-long-enough-secret"\n'


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text, "/etc/fax/site.toml")
    assert str(info.value).startswith(f"/etc/fax/site.toml: {info.value.key}: "), str(info.value)
    return info.value


# ------------------------------------------------------------------ the reader


def test_section_types() -> None:
    """An int is accepted where a float is expected; a boolean is never a number; the wording is one."""
    sec = Section("f.toml", "s", {"n": 3, "b": True, "t": "x", "sub": {"k": 1}})
    assert sec.number("n", 0.0) == 3.0 and isinstance(sec.number("n", 0.0), float)
    assert sec.number("absent", 2.5) == 2.5
    with pytest.raises(ConfigError, match=r"^f\.toml: s\.b: must be a float, got bool$"):
        sec.number("b", 0.0)
    with pytest.raises(ConfigError, match=r"^f\.toml: s\.b: must be an int, got bool$"):
        sec.integer("b", 0)
    with pytest.raises(ConfigError, match=r"^f\.toml: s\.t: must be a bool, got str$"):
        sec.flag("t", False)
    with pytest.raises(ConfigError, match=r"^f\.toml: s\.n: must be a table, got int$"):
        sec.get("n", dict, None)
    assert sec.sub("sub").integer("k", 0) == 1
    sec.check_unknown()  # every key was read


def test_section_ranges_and_unknown_keys() -> None:
    sec = Section("f.toml", "s", {"n": 0, "p": 0, "q": 65536, "zz": 1})
    with pytest.raises(ConfigError, match=r"s\.n: must be between 1 and 9, got 0$"):
        sec.integer("n", 1, 1, 9)
    with pytest.raises(ConfigError, match=r"s\.n: must be at least 1, got 0$"):
        sec.integer("n", 1, low=1)
    for key in ("p", "q"):
        with pytest.raises(ConfigError, match=rf"s\.{key}: port \d+ is out of range 1-65535$"):
            sec.port(key, 80)
    with pytest.raises(ConfigError, match=r"s\.zz: unknown key$"):
        sec.check_unknown()


def test_section_absent_and_not_a_table() -> None:
    assert Section("f.toml", "s", None).table == {}
    with pytest.raises(ConfigError, match=r"^f\.toml: s: must be a table$"):
        Section("f.toml", "s", [1])


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


def test_section_choice() -> None:
    sec = Section("f.toml", "s", {"a": "blue", "b": "green", "c": 1})
    assert sec.choice("a", Colour, Colour.RED) is Colour.BLUE
    assert sec.choice("absent", Colour, Colour.RED) is Colour.RED
    with pytest.raises(ConfigError, match=r"s\.b: must be one of red, blue, got 'green'$"):
        sec.choice("b", Colour, Colour.RED)
    with pytest.raises(ConfigError, match=r"s\.c: must be one of red, blue, got 1$"):
        sec.choice("c", Colour, Colour.RED)


def test_secret_value_never_in_an_error() -> None:
    sec = Section("f.toml", "s", {"password": 12345678})
    with pytest.raises(ConfigError) as info:
        sec.secret("password", required=True)
    assert "12345678" not in str(info.value) and "must be a string" in str(info.value)


# ------------------------------------------------------------------ every section, one rule set


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[radius]\nauth_port = 0", "radius.auth_port"),
        ("[web]\nport = 0", "web.port"),
        ("[web]\nport = 65536", "web.port"),
        ("[email_gateway]\nport = 0", "email_gateway.port"),
        (
            '[[portserver.servers]]\naddress = "10.0.0.1"\nsecret = "s"\nacct_port = 0',
            "portserver.servers[0].acct_port",
        ),
    ],
)
def test_ports_are_1_to_65535_everywhere(text: str, key: str) -> None:
    err = _error(text)
    assert err.key == key and "out of range 1-65535" in err.problem


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[storage]\ncolour = 1", "storage.colour"),
        ("[radius]\ncolour = 1", "radius.colour"),
        ("[faxage]\ncolour = 1", "faxage.colour"),
        ('[[lines]]\ndevice = "sim"\ncolour = 1', "lines[0].colour"),
        ("[routing]\ncolour = 1", "routing.colour"),
        ("[retry]\ncolour = 1", "retry.colour"),
        ("[web]\ncolour = 1", "web.colour"),
        ("[dialplan]\ncolour = 1", "dialplan.colour"),
        ("[limits]\ncolour = 1", "limits.colour"),
        ("[node]\ncolour = 1", "node.colour"),
        ("[retention]\ncolour = 1", "retention.colour"),
        ("[portserver]\ncolour = 1", "portserver.colour"),
        (SERVER + "colour = 1", "portserver.servers[0].colour"),
        ("[smtp]\ncolour = 1", "smtp.colour"),
        ("[email_gateway]\ncolour = 1", "email_gateway.colour"),
        ("[inbound_routes]\ncolour = 1", "inbound_routes.colour"),
        ("colour = 1", "colour"),
    ],
)
def test_unknown_keys_are_refused_in_every_section(text: str, key: str) -> None:
    err = _error(text)
    assert (err.key, err.problem) == (key, "unknown key")


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[web]\nmax_files = "3"', "web.max_files", "must be an int, got str"),
        ("[smtp]\ntimeout = true", "smtp.timeout", "must be a float, got bool"),
        ('[node]\nlease_seconds = "5"', "node.lease_seconds", "must be a float, got str"),
        ('[retention]\nsent = "a"', "retention.sent", "must be an int, got str"),
        ('[portserver]\ndead_time = "x"', "portserver.dead_time", "must be a float, got str"),
        ("[limits]\nworkers = 1.5", "limits.workers", "must be an int, got float"),
        ("web = 3", "web", "must be a table, got int"),
        ("smtp = 3", "smtp", "must be a table, got int"),
        ("node = 3", "node", "must be a table, got int"),
        ("retention = 3", "retention", "must be a table, got int"),
    ],
)
def test_one_type_wording_in_every_section(text: str, key: str, problem: str) -> None:
    err = _error(text)
    assert (err.key, err.problem) == (key, problem)


# ------------------------------------------------------------------ Config carries every section, typed


def test_every_section_is_parsed_once_and_typed() -> None:
    config = parse(
        '[radius]\nuuid_format = "hex"\n'
        '[[lines]]\ndevice = "sim"\nclass = 2\ndirection = "out"\n'
        '[routing]\npolicy = "local_only"\n'
        '[web]\npage_size = "a4"\naccounts = "local"\n'
        '[smtp]\nstarttls = "off"\n'
        '[node]\nid = "fax-a"\nlease_seconds = 12\n'
        "[retention]\nsent = 5\n"
        "[limits]\nmax_pages = 7\n" + SERVER,
        "site.toml",
    )
    assert config.radius.uuid_format is UuidFormat.HEX
    line = config.lines[0]
    assert line.fax_class is LineClass.CLASS2 and line.direction is LineDirection.OUT
    assert line.sends and not line.receives
    assert config.routing.policy is RoutingPolicy.LOCAL_ONLY
    assert config.web.page_size is PageSize.A4 and config.web.accounts is Accounts.LOCAL
    assert config.mail.smtp.starttls is StartTls.OFF
    assert (config.node.id, config.node.lease_seconds, config.node.heartbeat_seconds) == ("fax-a", 12.0, 4.0)
    assert config.retention.sent == 5 and config.limits.max_pages == 7
    assert config.portserver is not None and config.portserver.servers[0].address == "10.0.0.1"


def test_defaults_of_every_section() -> None:
    config = parse("", "site.toml")
    assert config.web.port == 8080 and config.mail.smtp.relay == "" and not config.mail.gateway.enabled
    assert config.node.id == "" and config.retention.sent == 30 and config.limits.workers == 2
    assert config.portserver is None and config.lines == ()


# ------------------------------------------------------------------ the import graph


SECTION_MODULES = [
    "appliance/node_config.py",
    "appliance/retention.py",
    "appliance/render/limits.py",
    "appliance/portserver/config.py",
    "appliance/dialplan.py",
    "appliance/mail/config.py",
    "appliance/config/web.py",
]


def _appliance_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("appliance"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("appliance")}
    return names


def test_the_reader_imports_no_section() -> None:
    assert _appliance_imports(ROOT / "appliance/config_reader.py") == set()


@pytest.mark.parametrize("path", [p for p in SECTION_MODULES if (ROOT / p).exists()])
def test_section_modules_do_not_import_the_config_package(path: str) -> None:
    """A section module reads through the reader; importing appliance.config back would be a circle."""
    imported = _appliance_imports(ROOT / path)
    assert "appliance.config_reader" in imported
    assert not {m for m in imported if m == "appliance.config" or m.startswith("appliance.config.")}, imported
