"""HTTPS for the web service: checking ``[web] certificate`` / ``key``
before anything listens, and telling when plain HTTP serves the network.

The certificate file is PEM: the server certificate first, optionally
followed by intermediate certificates.  The key file is an unencrypted PEM
private key matching that certificate.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.config import ConfigError
from appliance.config.web import WebConfig

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PublicKeyTypes

__all__ = ["MAX_PEM_BYTES", "check_tls", "exposed_without_tls"]

MAX_PEM_BYTES = 1024 * 1024


def _read(source: str, key: str, name: str) -> bytes:
    path = Path(name)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PEM_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(source, key, f"{name} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(source, key, f"{name} is a directory, not a PEM file") from None
    except OSError as exc:
        raise ConfigError(source, key, f"cannot read {name}: {exc.strerror or exc}") from None
    if len(data) > MAX_PEM_BYTES:
        raise ConfigError(source, key, f"{name} is larger than {MAX_PEM_BYTES} bytes: not a PEM file")
    return data


def _public(key: CertificatePublicKeyTypes | PublicKeyTypes) -> bytes:
    from cryptography.hazmat.primitives import serialization  # cryptography only with HTTPS (CLI start-up)

    return bytes(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def check_tls(source: str, web: WebConfig, now: datetime | None = None) -> list[str]:
    """Check that the certificate and key of ``web`` (a ``WebConfig``) exist,
    load, and belong together.  Raises :class:`ConfigError` naming
    ``web.certificate`` or ``web.key`` and the file; returns warnings
    (expired or not yet valid certificate).  Nothing to do without HTTPS."""
    if not web.https:
        return []
    # cryptography loads only when HTTPS is configured: the CLI imports this module at start-up
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    cert_pem = _read(source, "web.certificate", web.certificate)
    key_pem = _read(source, "web.key", web.key)
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise ConfigError(
            source, "web.certificate", f"{web.certificate} holds no PEM certificate (BEGIN CERTIFICATE)"
        ) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise ConfigError(
            source,
            "web.key",
            f"{web.key} is encrypted; the web service needs an unencrypted key (readable only by the appliance's user)",
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        kind = (
            "holds no PEM private key (BEGIN PRIVATE KEY)"
            if b"PRIVATE KEY" not in key_pem
            else f"cannot be loaded: {type(exc).__name__}"
        )
        raise ConfigError(source, "web.key", f"{web.key} {kind}") from None
    cert = chain[0]
    if _public(cert.public_key()) != _public(key.public_key()):
        raise ConfigError(source, "web.key", f"{web.key} does not match the certificate in {web.certificate}")
    moment = now or datetime.now(UTC)
    warnings = []
    if cert.not_valid_after_utc < moment:
        warnings.append(f"web.certificate: {web.certificate} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    elif cert.not_valid_before_utc > moment:
        warnings.append(
            f"web.certificate: {web.certificate} is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )
    try:
        if Path(web.key).stat().st_mode & 0o077:
            warnings.append(f"web.key: {web.key} is readable by other users; make it private (chmod 600)")
    except OSError:
        pass
    return warnings


def exposed_without_tls(web: WebConfig) -> bool:
    """Whether the web service serves plain HTTP beyond the loopback interface."""
    if web.https:
        return False
    listen = web.listen.strip().strip("[]")
    if listen.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(listen.split("%", 1)[0]).is_loopback
    except ValueError:
        return True  # a host name or "": assume it is reachable
