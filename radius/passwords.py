"""Password hashing for accounts: only hashes are ever stored.

Format: ``scrypt$N$r$p$salt_hex$hash_hex`` (hashlib.scrypt, memory-hard).

A check costs one scrypt run with the configured parameters whatever is
stored: an unknown account (no hash), an account without a password and a
malformed hash are checked against a dummy hash, so the time of a login
does not tell whether the account exists.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1
_DKLEN = 32
_scrypt = hashlib.scrypt  # the one place scrypt is called (tests count calls here)


def hash_password(password: str, salt: bytes) -> str:
    """Hash ``password`` with ``salt`` (16 random bytes, supplied by the caller)."""
    digest = _scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches the ``stored`` hash.

    False for no hash (None: the account does not exist) or a malformed one,
    after the same work as a real check.
    """
    try:
        scheme, n, r, p, salt_hex, digest_hex = (stored or "").split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        salt, cost, block, parallel = bytes.fromhex(salt_hex), int(n), int(r), int(p)
    except (ValueError, TypeError):
        _dummy_check(password)
        return False
    try:
        digest = _scrypt(password.encode("utf-8"), salt=salt, n=cost, r=block, p=parallel, dklen=len(digest_hex) // 2)
    except (ValueError, TypeError, MemoryError):  # parameters scrypt refuses
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def _dummy_check(password: str) -> None:
    digest = _scrypt(password.encode("utf-8"), salt=bytes(16), n=_N, r=_R, p=_P, dklen=_DKLEN)
    hmac.compare_digest(digest, bytes(_DKLEN))
