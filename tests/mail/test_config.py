"""[smtp], [email_gateway] and [inbound_routes]: defaults, values, errors naming the key."""

from __future__ import annotations

import tomllib

import pytest

from appliance.config import ConfigError
from appliance.mail.config import parse_mail
from appliance.mail.routing import Destination


def parse(text: str):
    return parse_mail("fax.toml", tomllib.loads(text))


def test_defaults_and_values():
    """No sections: Maildir, no listener, no routes; every key is read."""
    m = parse("")
    assert m.smtp.relay == "" and not m.gateway.enabled and m.routes.global_route == ()
    m = parse("""
[smtp]
relay = "mail.example.com:587"
starttls = "required"
username = "fax"
password = "s3cret-pass"
sender = "fax@example.com"
max_message_bytes = 1000000
[email_gateway]
listen = "0.0.0.0"
port = 25
domains = ["Fax.Example.com"]
[inbound_routes]
format = "tiff"
global = ["user"]
lines = { line1 = ["printer:office", "share:/srv/fax;format=pdf"] }
recipients = { "101" = "email:sales@example.com" }
""")
    assert m.smtp.host_port == ("mail.example.com", 587) and m.smtp.password.reveal_str() == "s3cret-pass"
    assert m.gateway.enabled and m.gateway.domains == ("fax.example.com",) and m.gateway.port == 25
    assert m.routes.default_format == "tiff" and m.routes.global_route == (Destination("user"),)
    assert m.routes.lines["line1"] == (Destination("printer", "office"), Destination("share", "/srv/fax", "pdf"))
    assert m.routes.recipients["101"] == (Destination("email", "sales@example.com"),)


@pytest.mark.parametrize(
    "text,key",
    [
        ('[smtp]\nrelay = "nohost"', "smtp.relay"),
        ('[smtp]\nstarttls = "maybe"', "smtp.starttls"),
        ('[smtp]\nsender = "nobody"', "smtp.sender"),
        ('[smtp]\nusername = "u"', "smtp.username"),
        ("[smtp]\nmax_message_bytes = -1", "smtp.max_message_bytes"),
        ("[smtp]\ncolour = 1", "smtp.colour"),
        ("[email_gateway]\ndomains = []", "email_gateway.domains"),
        ("[email_gateway]\nport = 70000", "email_gateway.port"),
        ('[inbound_routes]\nglobal = ["fax:1"]', "inbound_routes.global"),
        ('[inbound_routes]\nformat = "gif"', "inbound_routes.format"),
    ],
)
def test_errors_name_the_key(text, key):
    """A bad value is refused naming the file and the key."""
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.key == key and str(info.value).startswith("fax.toml: ")


def test_password_never_in_errors_or_repr():
    """The SMTP password is a Secret: not in repr, not in an error."""
    m = parse('[smtp]\nusername = "u"\npassword = "hunter2-hunter2"')
    assert "hunter2" not in repr(m)
    with pytest.raises(ConfigError) as info:
        parse('[smtp]\npassword = "hunter2-hunter2"')
    assert "hunter2" not in str(info.value)
