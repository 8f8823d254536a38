"""FAXAGE errors: one base class, split into local misuse, remote ``ERRnn``
replies, garbled replies and transport failures.

The ``ERRnn`` numbers are *per operation* in the FAXAGE document (ERR24 is
"file not yet converted" for dlstatus but "folder ID not valid" for mvfax;
ERR05 is a blocked destination for sendfax but an unavailable DID for
provdid), so the table is keyed by ``(operation, code)`` with a per-code
fallback.  Exceptions carry structured fields; their text never contains
credentials (the caller redacts server text before building one).
"""

from __future__ import annotations

__all__ = [
    "ERROR_TABLE",
    "AlreadyExists",
    "BadPost",
    "BlockedDestination",
    "FaxageError",
    "FaxageProtocolError",
    "FaxageRequestError",
    "FaxageTransportError",
    "FileUnavailable",
    "InternalServiceError",
    "InvalidArgument",
    "InvalidState",
    "LoginIncorrect",
    "NoRecords",
    "NotConverted",
    "NotFound",
    "PermissionDenied",
    "RemoteError",
    "SendOutcomeUnknown",
    "ServiceUnavailable",
    "error_class",
]


class FaxageError(Exception):
    """Base of every FAXAGE client error."""


class FaxageRequestError(FaxageError, ValueError):
    """We were asked to send something the document does not allow."""

    def __init__(self, operation: str, variable: str, problem: str) -> None:
        self.operation = operation
        self.variable = variable
        self.problem = problem
        where = f"{operation} {variable}" if variable else operation
        super().__init__(f"FAXAGE {where}: {problem}")


class FaxageProtocolError(FaxageError):
    """The service replied with something the document does not describe."""

    def __init__(self, operation: str, problem: str, excerpt: str = "") -> None:
        self.operation = operation
        self.problem = problem
        self.excerpt = excerpt[:200]
        tail = f": {self.excerpt!r}" if self.excerpt else ""
        super().__init__(f"FAXAGE {operation}: {problem}{tail}")


class FaxageTransportError(FaxageError):
    """The HTTP exchange failed (after any retries); ``status`` is the HTTP
    status when a reply arrived, else None."""

    def __init__(self, operation: str, problem: str, status: int | None = None) -> None:
        self.operation = operation
        self.problem = problem
        self.status = status
        super().__init__(f"FAXAGE {operation}: {problem}")


class SendOutcomeUnknown(FaxageError):
    """A sendfax failed ambiguously and reconciliation through ``status``
    could not tell which job (if any) it created; it was NOT resent."""

    def __init__(self, operation: str, problem: str, candidates: tuple[int, ...] = ()) -> None:
        self.operation = operation
        self.problem = problem
        self.candidates = candidates
        super().__init__(f"FAXAGE {operation}: {problem}")


class RemoteError(FaxageError):
    """An ``ERRnn: text`` reply.  ``code`` is the number, ``text`` the
    server's (redacted) message after the colon."""

    retryable = False

    def __init__(self, code: int, operation: str, text: str) -> None:
        self.code = code
        self.operation = operation
        self.text = text
        super().__init__(f"FAXAGE {operation}: ERR{code:02d}: {text}")


class ServiceUnavailable(RemoteError):
    """ERR01: the service's database is unreachable; safe to retry later."""

    retryable = True


class InternalServiceError(RemoteError):
    """An internal FAXAGE failure (ERR13, ERR15, ERR21, ERR23, ERR42, ERR56)."""


class LoginIncorrect(RemoteError):
    """ERR02: username, company or password wrong, or the account disabled."""


class BadPost(RemoteError):
    """ERR08 (or provision ERR03): unknown operation or malformed POST."""


class InvalidArgument(RemoteError):
    """A variable was missing or had a value the service refused."""


class NotFound(RemoteError):
    """The job, fax, DID, user, folder or entry does not exist or is not yours."""


class NoRecords(NotFound):
    """An empty listing (status ERR06, listfax ERR11)."""


class InvalidState(RemoteError):
    """The object exists but is in the wrong state for the operation."""


class AlreadyExists(InvalidState):
    """An add of something that is already there."""


class PermissionDenied(RemoteError):
    """ERR50: the credentials are not manager credentials."""


class NotConverted(InvalidState):
    """dlstatus ERR24: the fax has not been imaged yet."""


class FileUnavailable(RemoteError):
    """The image file does not exist or could not be opened."""


class BlockedDestination(RemoteError):
    """sendfax ERR05: the destination is outside the service area or blocked."""


# Per-code meaning shared by most operations of httpsfax.php.
_GENERIC: dict[int, type[RemoteError]] = {
    1: ServiceUnavailable,
    2: LoginIncorrect,
    3: InvalidArgument,  # sendfax: no files to fax
    4: InvalidArgument,  # invalid fax number / DID
    5: BlockedDestination,
    6: NoRecords,
    7: InvalidState,  # clear: not found or still pending
    8: BadPost,
    11: NoRecords,
    12: NotFound,
    13: FileUnavailable,
    14: NotFound,
    15: InternalServiceError,
    16: InvalidArgument,
    17: NotFound,
    18: InvalidArgument,
    19: NotFound,
    20: InvalidState,
    21: InternalServiceError,
    22: InvalidState,
    23: InternalServiceError,
    24: NotConverted,
    25: FileUnavailable,
    26: NotFound,
    27: NotFound,
    28: NotFound,
    29: NotFound,
    30: NotFound,
    31: AlreadyExists,
    34: InvalidArgument,
    35: InvalidArgument,
    36: NotFound,
    37: NotFound,
    38: InvalidArgument,
    39: AlreadyExists,
    40: NotFound,
    41: InvalidState,
    42: InternalServiceError,
    50: PermissionDenied,
    51: InvalidArgument,
    52: AlreadyExists,
    53: NotFound,
    55: NotFound,
    56: InternalServiceError,
    59: InvalidArgument,
    60: InvalidArgument,
    61: NotFound,
    62: AlreadyExists,
    63: NotFound,
}

# Where an operation gives a number its own meaning.
_BY_OPERATION: dict[tuple[str, int], type[RemoteError]] = {
    ("mvfax", 24): InvalidArgument,  # folder ID not valid
    ("mvfax", 25): InvalidArgument,  # recv ID not valid
    ("status", 6): NoRecords,
    ("dlstatus", 6): NotFound,
    ("listfax", 11): NoRecords,
    # provision.php numbers its errors independently of httpsfax.php
    ("listac", 3): BadPost,
    ("listnpanxx", 3): BadPost,
    ("listdids", 3): BadPost,
    ("provdid", 3): BadPost,
    ("deprovidid", 3): BadPost,
    ("listonhold", 3): BadPost,
    ("provonhold", 3): BadPost,
    ("provdid", 5): NotFound,
    ("provonhold", 5): NotFound,
    ("deprovidid", 5): NotFound,
}

ERROR_TABLE: dict[tuple[str, int], type[RemoteError]] = dict(_BY_OPERATION)


def error_class(operation: str, code: int) -> type[RemoteError]:
    """The exception class for ``ERRnn`` from ``operation``."""
    return _BY_OPERATION.get((operation, code)) or _GENERIC.get(code, RemoteError)
