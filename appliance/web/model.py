"""Records of the web service's directory: user profiles, contacts, contact
groups and UAPI tokens.  Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GLOBAL", "Contact", "ContactGroup", "TokenRecord", "UserProfile", "WebError"]

#: the owner segment of the shared address book
GLOBAL = "global_contact_list"


class WebError(Exception):
    """A request that cannot be served: HTTP ``status`` and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status} {message}")


@dataclass(frozen=True, kw_only=True)
class UserProfile:
    """An FFWS user's profile and send defaults (the password lives in RADIUS)."""

    username: str
    name: str = ""
    email_address: str = ""
    phone_number: str = ""
    fax_number: str = ""
    organization: str = ""
    priority: int = 3
    max_attempts: int = 3
    interval: int = 180
    receipt: str = "failure"
    receipt_attachment: str = "none"


USER_TEXT_FIELDS = (
    "name",
    "email_address",
    "phone_number",
    "fax_number",
    "organization",
    "receipt",
    "receipt_attachment",
)
USER_INT_FIELDS = ("priority", "max_attempts", "interval")


@dataclass(frozen=True, kw_only=True)
class Contact:
    id: int = 0
    owner: str = ""
    name: str = ""
    fax_number: str = ""
    phone_number: str = ""
    organization: str = ""


CONTACT_FIELDS = ("name", "fax_number", "phone_number", "organization")


@dataclass(frozen=True, kw_only=True)
class ContactGroup:
    id: int = 0
    owner: str = ""
    name: str = ""
    description: str = ""
    members: tuple[tuple[str, int], ...] = field(default_factory=tuple)  # (owner, contact id)


GROUP_FIELDS = ("name", "description")


@dataclass(frozen=True, kw_only=True)
class TokenRecord:
    id: int
    username: str
    label: str
    created: float
    revoked: bool = False
