"""The closed sets of choices of the job queue: which routes a node claims, what a
sender's receipt mail looks like, and how far a cloud send got (pure)."""

from __future__ import annotations

import enum

__all__ = [
    "CloudState",
    "DocumentFormat",
    "FaxResolution",
    "Receipt",
    "ReceiptAttachment",
    "RouteFilter",
    "parse_route_filter",
]


class RouteFilter(enum.StrEnum):
    """Which routes a node claims work for: its own lines, the cloud, or both."""

    LINE = "line"
    CLOUD = "cloud"
    ANY = "any"


class DocumentFormat(enum.StrEnum):
    """The file format a fax document is handed out in (mail attachments, shares, downloads)."""

    PDF = "pdf"
    TIFF = "tiff"


class FaxResolution(enum.StrEnum):
    """The vertical resolution a fax is sent in (FINE 196 lpi, NORMAL 98 lpi)."""

    FINE = "fine"
    NORMAL = "normal"


class Receipt(enum.StrEnum):
    """When the sender gets a receipt mail (FFWS ``<receipt>``)."""

    ALWAYS = "always"
    FAILURE = "failure"
    SUCCESS = "success"
    NEVER = "never"


class ReceiptAttachment(enum.StrEnum):
    """What a receipt mail carries (FFWS ``<receipt_attachment>``)."""

    NONE = "none"
    PDF = "pdf"
    TIFF = "tiff"


class CloudState(enum.StrEnum):
    """The write-ahead record of a cloud send (None before the submit)."""

    SUBMITTING = "submitting"  # the submit is about to leave
    SUBMITTED = "submitted"  # the cloud accepted it (cloud_job_id is set)


def parse_route_filter(value: RouteFilter | str, error: type[Exception]) -> RouteFilter:
    """``value`` as a RouteFilter; ``error`` naming the choices when it is none of them."""
    try:
        return RouteFilter(value)
    except ValueError:
        choices = ", ".join(RouteFilter)
        raise error(f"route_filter must be one of {choices}, not {value!r}") from None
