"""Fax numbers entering through the web service pass the dial plan
(:mod:`appliance.dialplan`); a bad one is a 400 naming it, before anything
is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from appliance.dialplan import DialPlan, InvalidNumber, dial_string
from appliance.jobs.model import Recipient
from appliance.web.model import WebError

__all__ = ["check_contact", "dial_recipients"]


def dial_recipients(recipients: Sequence[Recipient], plan: DialPlan) -> list[Recipient]:
    """``recipients`` with their numbers as dial strings; WebError 400 naming the first bad one."""
    out = []
    for index, recipient in enumerate(recipients, start=1):
        try:
            out.append(replace(recipient, fax_number=dial_string(recipient.fax_number, plan)))
        except InvalidNumber as exc:
            raise WebError(400, f"recipient {index}: {exc}") from None
    return out


def check_contact(fields: dict[str, str], plan: DialPlan) -> None:
    """WebError 400 when a contact's ``fax_number`` (if given) cannot be dialled; it is kept as written."""
    number = fields.get("fax_number", "")
    if number:
        try:
            dial_string(number, plan)
        except InvalidNumber as exc:
            raise WebError(400, f"contact <fax_number>: {exc}") from None
