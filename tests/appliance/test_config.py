"""Configuration parsing: defaults, and errors that name the file, the key and
the problem without echoing secrets."""

from __future__ import annotations

import pytest

from appliance.config import ConfigError, load, parse

GOOD = """
data_dir = "/srv/fax"
[storage]
url = "postgresql://fax@db/fax"
[radius]
listen = "0.0.0.0"
auth_port = 11812
acct_port = 11813
[[radius.clients]]
address = "10.1.0.0/16"
secret = "s3cret-value-0123456789"
[[radius.clients]]
address = "192.0.2.7"
secret = "short"
allow_short_secret = true
require_message_authenticator = false
[faxage]
username = "u"
company = 12345
password = "fax-pass"
"""


def test_good_config():
    """A full config parses into typed values with secure defaults."""
    c = parse(GOOD, "site.toml")
    assert c.storage.url == "postgresql://fax@db/fax"
    assert (c.radius.listen, c.radius.auth_port, c.radius.acct_port) == ("0.0.0.0", 11812, 11813)
    first, second = c.radius.clients
    assert str(first.network) == "10.1.0.0/16" and first.require_message_authenticator is True
    assert first.secret.reveal() == b"s3cret-value-0123456789" and not first.allow_short_secret
    assert second.require_message_authenticator is False and second.allow_short_secret
    assert c.faxage.company == "12345" and c.faxage.configured


def test_defaults():
    """An empty file gives SQLite under ./var and RADIUS on loopback 1812/1813."""
    c = parse("", "empty.toml", base_dir="/etc/fax")
    assert c.storage.url == "sqlite:////etc/fax/var/faxappliance.db"
    assert (c.radius.listen, c.radius.auth_port, c.radius.acct_port) == ("127.0.0.1", 1812, 1813)


@pytest.mark.parametrize(
    "text,key,problem",
    [
        ("[radius]\nauth_port = 70000", "radius.auth_port", "out of range"),
        ("[radius]\nauth_port = '1812'", "radius.auth_port", "must be an int"),
        ("[radius]\nlisten = 'localhost'", "radius.listen", "not an IP address"),
        ("[radius]\nauth_port = 5\nacct_port = 5", "radius.acct_port", "must differ"),
        ("[[radius.clients]]\nsecret = 'x'", "radius.clients[0].address", "is required"),
        ("[[radius.clients]]\naddress = '10.0.0.300'\nsecret = 'x'", "radius.clients[0].address", "not an IP"),
        ("[[radius.clients]]\naddress = '10.0.0.1'", "radius.clients[0].secret", "is required"),
        (
            "[[radius.clients]]\naddress = '10.0.0.1'\nsecret = 'xxxxxxxxxxxxxxxx'\nsceret = 'y'",
            "radius.clients[0].sceret",
            "unknown key",
        ),
        ("[storage]\nurl = 'mysql://x'", "storage.url", "sqlite:///"),
        ("[radius]\nuuid_format = 'base64'", "radius.uuid_format", "one of binary, hex, dash"),
        ("[faxage]\npoll_interval = 0", "faxage.poll_interval", "greater than 0"),
        ("[radius]\ndecision_cache_seconds = -1", "radius.decision_cache_seconds", "between 0 (off) and 60"),
        ("colour = 'blue'", "colour", "unknown key"),
        ("[radius]\nreject_delay = 5.5", "radius.reject_delay", "between 0 (off) and 5 seconds"),
        ("[radius]\nreject_delay = -1", "radius.reject_delay", "between 0 (off) and 5 seconds"),
        (
            "[[radius.clients]]\naddress = '10.0.0.1'\nsecret = 'abcdefghijklmno'",
            "radius.clients[0].secret",
            "shorter than 16 characters",
        ),
        (
            "[[radius.clients]]\naddress = '10.0.0.1'\nsecret = 'abcde'\nallow_short_secret = 'yes'",
            "radius.clients[0].allow_short_secret",
            "must be a bool",
        ),
    ],
)
def test_errors_name_file_key_problem(text, key, problem):
    """Each bad value is reported with the file name, the dotted key and the problem."""
    with pytest.raises(ConfigError) as info:
        parse(text, "/etc/fax/site.toml")
    err = info.value
    assert err.source == "/etc/fax/site.toml" and err.key == key and problem in err.problem
    assert str(err).startswith(f"/etc/fax/site.toml: {key}: ")


def test_secret_never_in_errors_or_repr():
    """A secret of the wrong type is reported without its value; repr hides secrets."""
    with pytest.raises(ConfigError) as info:
        parse("[[radius.clients]]\naddress = '10.0.0.1'\nsecret = 'ok'\nrequire_message_authenticator = 'yes'", "f")
    assert "ok" not in str(info.value).replace("yes", "")
    c = parse(GOOD, "site.toml")
    assert "s3cret-value" not in repr(c) and "fax-pass" not in repr(c)


def test_invalid_toml_and_missing_file(tmp_path):
    """Syntax errors and unreadable files name the file."""
    with pytest.raises(ConfigError, match=r"site\.toml: not valid TOML"):
        parse("[radius", "site.toml")
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load(tmp_path / "missing.toml")


def test_reject_delay_default_and_limits():
    """reject_delay defaults to 1 s; 0 (off) and 5 s are accepted."""
    assert parse("", "f").radius.reject_delay == 1.0
    assert parse("[radius]\nreject_delay = 0", "f").radius.reject_delay == 0.0
    assert parse("[radius]\nreject_delay = 5", "f").radius.reject_delay == 5.0


def test_short_secret_refused_by_config_check(tmp_path):
    """`config check` refuses a 5-character client secret naming file and key, never the secret;
    allow_short_secret = true lets it through; 16 characters pass without the flag."""
    import io

    from appliance.cli import CliIO, main

    path = tmp_path / "site.toml"
    path.write_text("[[radius.clients]]\naddress = '10.0.0.1'\nsecret = 'Zq7#x'\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["config", "check", str(path)], CliIO(stdout=out, stderr=err)) == 2
    assert f"{path}: radius.clients[0].secret: is shorter than 16 characters" in err.getvalue()
    assert "Zq7#x" not in err.getvalue() + out.getvalue() and "Traceback" not in err.getvalue()
    path.write_text("[[radius.clients]]\naddress = '10.0.0.1'\nsecret = 'Zq7#x'\nallow_short_secret = true\n")
    assert main(["config", "check", str(path)], CliIO(stdout=out, stderr=err)) == 0
    path.write_text("[[radius.clients]]\naddress = '10.0.0.1'\nsecret = 'Zq7#x-Zq7#x-Zq7#'\n")
    assert main(["config", "check", str(path)], CliIO(stdout=out, stderr=err)) == 0
    assert parse(path.read_text(), "f").radius.clients[0].allow_short_secret is False
