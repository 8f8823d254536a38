"""`faxappliance config check` verifies the HTTPS certificate and key:
they exist, load and belong together; errors name the key and the file."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest

from appliance.cli import CliIO, main
from tests.tls_certs import make_cert


def check(tmp: Path, web: str) -> tuple[int, str, str]:
    path = tmp / "f.toml"
    path.write_text(f"[web]\n{web}\n", encoding="utf-8")
    io = CliIO(stdout=StringIO(), stderr=StringIO())
    code = main(["config", "check", str(path)], io)
    return code, io.stdout.getvalue(), io.stderr.getvalue()  # type: ignore[attr-defined]


def tls(cert: Path, key: Path, extra: str = "") -> str:
    return f'certificate = "{cert}"\nkey = "{key}"\n{extra}'


def test_good_certificate_and_key_pass(tmp_path: Path):
    """A matching certificate and private key (0600) pass without warnings."""
    cert, key = make_cert(tmp_path)
    key.chmod(0o600)
    code, out, err = check(tmp_path, tls(cert, key, "hsts = true\nhsts_max_age = 600"))
    assert (code, err) == (0, "") and ": OK" in out


def test_missing_certificate_is_named(tmp_path: Path):
    """A certificate path that does not exist fails with web.certificate and the path."""
    _, key = make_cert(tmp_path)
    code, out, err = check(tmp_path, tls(tmp_path / "nope.crt", key))
    assert code == 2 and out == ""
    assert "web.certificate" in err and f"{tmp_path / 'nope.crt'} does not exist" in err


def test_key_of_another_certificate_is_named(tmp_path: Path):
    """A key that does not belong to the certificate fails naming web.key and both files."""
    cert, _ = make_cert(tmp_path, "a")
    _, other = make_cert(tmp_path, "b")
    code, _, err = check(tmp_path, tls(cert, other))
    assert code == 2 and "web.key" in err and f"{other} does not match the certificate in {cert}" in err


@pytest.mark.parametrize("which", ["certificate", "key"])
def test_file_that_is_not_pem_is_named(tmp_path: Path, which: str):
    """Garbage in either file is reported against that key."""
    cert, key = make_cert(tmp_path)
    (cert if which == "certificate" else key).write_text("hello\n")
    code, _, err = check(tmp_path, tls(cert, key))
    assert code == 2 and f"web.{which}" in err and "no PEM" in err


def test_encrypted_key_is_refused(tmp_path: Path):
    """A passphrase-protected key cannot be used unattended: named as such."""
    cert, key = make_cert(tmp_path, password=b"secret-pass")
    code, _, err = check(tmp_path, tls(cert, key))
    assert code == 2 and "web.key" in err and "encrypted" in err and "secret-pass" not in err


def test_expired_certificate_and_open_key_warn(tmp_path: Path):
    """An expired certificate and a key readable by others pass with warnings on stderr."""
    cert, key = make_cert(tmp_path, days=1, offset_days=-10)
    key.chmod(0o644)
    code, _, err = check(tmp_path, tls(cert, key))
    assert code == 0 and "expired on" in err and "readable by other users" in err


def test_oversized_file_is_refused(tmp_path: Path):
    """A certificate file larger than any PEM chain is refused unread."""
    cert, key = make_cert(tmp_path)
    cert.write_bytes(b"-" * (1024 * 1024 + 1))
    code, _, err = check(tmp_path, tls(cert, key))
    assert code == 2 and "web.certificate" in err and "larger than" in err


def test_hsts_needs_https(tmp_path: Path):
    """hsts = true without a certificate and key is a configuration error."""
    code, _, err = check(tmp_path, "hsts = true")
    assert code == 2 and "web.hsts" in err and "needs HTTPS" in err


def test_plain_http_beyond_loopback_warns(tmp_path: Path):
    """Plain HTTP on 0.0.0.0 passes with a warning; on loopback without one."""
    code, _, err = check(tmp_path, 'listen = "0.0.0.0"')
    assert code == 0 and "web.listen: 0.0.0.0 serves plain HTTP beyond loopback" in err
    assert check(tmp_path, 'listen = "::1"')[2] == "" and check(tmp_path, 'listen = "localhost"')[2] == ""


@pytest.mark.parametrize("value, problem", [(0, "at least 1"), (316224001, "at most 316224000")])
def test_hsts_max_age_is_bounded(tmp_path: Path, value: int, problem: str):
    """hsts_max_age is 1 s .. ten years."""
    cert, key = make_cert(tmp_path)
    code, _, err = check(tmp_path, tls(cert, key, f"hsts = true\nhsts_max_age = {value}"))
    assert code == 2 and "web.hsts_max_age" in err and problem in err
