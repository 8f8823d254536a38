"""`faxappliance run` serves HTTPS with a configured certificate (HSTS when
asked), and warns when it serves plain HTTP beyond loopback."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.harness import ENV, free_port
from tests.tls_certs import make_cert


def config(tmp: Path, web: str) -> Path:
    auth, acct = free_port(), free_port()
    path = tmp / "f.toml"
    path.write_text(
        f'data_dir = "{tmp / "var"}"\n[radius]\nlisten = "127.0.0.1"\nauth_port = {auth}\n'
        f'acct_port = {acct}\n[[radius.clients]]\naddress = "127.0.0.1"\nsecret = "s3cret-1-long-enough-x"\n'
        f'[portserver]\n[[portserver.servers]]\naddress = "127.0.0.1"\nauth_port = {auth}\n'
        f'acct_port = {acct}\nsecret = "s3cret-1-long-enough-x"\n[web]\n{web}\n',
        encoding="utf-8",
    )
    return path


def running(tmp: Path, cfg: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "--config", str(cfg), "run"],
        cwd=tmp,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("RADIUS auth on"):
        proc.kill()
        raise AssertionError(f"did not start: {line!r} {proc.communicate()[1][-2000:]}")
    return proc


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    return proc.communicate(timeout=20)[1]


def test_https_with_a_self_signed_certificate_and_hsts(tmp_path: Path):
    """The web service answers over HTTPS with the configured certificate and sends Strict-Transport-Security."""
    cert, key = make_cert(tmp_path / "tls")
    key.chmod(0o600)
    port = free_port()
    proc = running(
        tmp_path,
        config(
            tmp_path,
            f'listen = "127.0.0.1"\nport = {port}\ncertificate = "{cert}"\n'
            f'key = "{key}"\nhsts = true\nhsts_max_age = 86400',
        ),
    )
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        response = httpx.get(f"https://127.0.0.1:{port}/ffws/v1/status", verify=trust, timeout=20)
        assert response.status_code == 401  # it answered over TLS; credentials are checked through RADIUS
        assert response.headers["strict-transport-security"] == "max-age=86400"
    finally:
        err = stop(proc)
    assert "plain HTTP" not in err and "Traceback" not in err


def test_plain_http_beyond_loopback_is_warned_about_once(tmp_path: Path):
    """listen = 0.0.0.0 without a certificate: one warning at start; no HSTS over plain HTTP."""
    port = free_port()
    proc = running(tmp_path, config(tmp_path, f'listen = "0.0.0.0"\nport = {port}'))
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/ffws/v1/status", timeout=20)
        assert response.status_code == 401 and "strict-transport-security" not in response.headers
    finally:
        err = stop(proc)
    warnings = [ln for ln in err.splitlines() if "plain HTTP" in ln]
    assert len(warnings) == 1 and f"0.0.0.0:{port}, beyond loopback" in warnings[0]
