"""Rows <-> records for the job tables (column orders in ``_schema``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from appliance.jobs.choices import CloudState
from appliance.jobs.model import Attempt, Entry, EntryState, Fax, FaxSpec, Recipient

__all__ = ["attempt_from_row", "entry_from_row", "fax_from_row", "fax_row", "new_entry_row"]


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def fax_row(spec: FaxSpec, max_tries: int, now: float, entry_count: int) -> tuple[Any, ...]:
    """Values for every fax column but ``id``."""
    return (
        spec.owner,
        spec.account,
        json.dumps(list(spec.documents)),
        int(spec.pages),
        spec.resolution.value,
        spec.agent,
        spec.tsid,
        spec.cover_url,
        int(spec.cover_enabled),
        spec.cover_subject,
        spec.cover_comments,
        spec.sender_name,
        spec.sender_organization,
        spec.sender_phone_number,
        spec.sender_fax_number,
        spec.sender_email_address,
        int(max_tries),
        int(spec.priority),
        spec.try_interval,
        spec.receipt.value,
        spec.receipt_attachment.value,
        spec.schedule_at,
        0,  # needs_approval: unused (no approval step)
        int(spec.preprocessing),
        float(now),
        "",  # approver: unused
        None,  # approval_time: unused
        int(entry_count),
    )


def fax_from_row(row: Sequence[Any]) -> Fax:
    (
        fax_id,
        owner,
        account,
        documents,
        pages,
        resolution,
        agent,
        tsid,
        cover_url,
        cover_enabled,
        cover_subject,
        cover_comments,
        sender_name,
        sender_organization,
        sender_phone,
        sender_fax,
        sender_email,
        max_tries,
        priority,
        try_interval,
        receipt,
        receipt_attachment,
        schedule_at,
        _needs_approval,
        preprocessing,
        created,
        _approver,
        _approval_time,
        entry_count,
    ) = row
    return Fax(
        id=int(fax_id),
        owner=owner,
        account=account,
        documents=tuple(json.loads(documents)),
        pages=int(pages),
        resolution=resolution,
        agent=agent,
        tsid=tsid,
        cover_url=cover_url,
        cover_enabled=bool(cover_enabled),
        cover_subject=cover_subject,
        cover_comments=cover_comments,
        sender_name=sender_name,
        sender_organization=sender_organization,
        sender_phone_number=sender_phone,
        sender_fax_number=sender_fax,
        sender_email_address=sender_email,
        max_tries=int(max_tries),
        priority=int(priority),
        try_interval=None if try_interval is None else int(try_interval),
        receipt=receipt,
        receipt_attachment=receipt_attachment,
        schedule_at=_opt_float(schedule_at),
        preprocessing=bool(preprocessing),
        created=float(created),
        entry_count=int(entry_count),
    )


def new_entry_row(
    fax_id: int,
    index: int,
    state: EntryState,
    now: float,
    due: float,
    priority: int,
    max_tries: int,
    recipient: Recipient,
    key: str,
) -> tuple[Any, ...]:
    """Values for every entry column but ``id``, for a new entry."""
    return (
        fax_id,
        index,
        state.value,
        "New fax entry",
        float(now),
        float(due),
        0,
        int(priority),
        int(max_tries),
        recipient.fax_number,
        recipient.name,
        recipient.organization,
        recipient.phone_number,
        recipient.route_pin,
        None,
        None,
        None,
        None,
        None,
        None,
        0,
        0,
        0.0,
        "",
        None,
        "",
        "",
        float(now),
        key,
    )


def entry_from_row(row: Sequence[Any]) -> Entry:
    (
        entry_id,
        fax_id,
        idx,
        state,
        message,
        created,
        due_at,
        tries,
        priority,
        max_tries,
        fax_number,
        name,
        organization,
        phone_number,
        route_pin,
        node,
        route,
        claimed_at,
        completed_at,
        cloud_job_id,
        cloud_state,
        abort_requested,
        pages_sent,
        duration,
        remote_csid,
        last_cause,
        hangup_code,
        hangup_text,
        updated_at,
        _key,
    ) = row
    return Entry(
        id=int(entry_id),
        fax_id=int(fax_id),
        index=int(idx),
        state=EntryState(state),
        schedule_message=message,
        created=float(created),
        due_at=float(due_at),
        tries=int(tries),
        priority=int(priority),
        max_tries=int(max_tries),
        recipient=Recipient(
            fax_number=fax_number, name=name, organization=organization, phone_number=phone_number, route_pin=route_pin
        ),
        node=node,
        route=route,
        claimed_at=_opt_float(claimed_at),
        completed_at=_opt_float(completed_at),
        cloud_job_id=cloud_job_id,
        cloud_state=CloudState(cloud_state) if cloud_state else None,
        abort_requested=bool(abort_requested),
        pages_sent=int(pages_sent),
        duration=float(duration),
        remote_csid=remote_csid,
        last_cause=last_cause,
        hangup_code=hangup_code,
        hangup_text=hangup_text,
        updated_at=float(updated_at),
    )


def attempt_from_row(row: Sequence[Any]) -> Attempt:
    (
        entry_id,
        number,
        started_at,
        ended_at,
        node,
        route,
        outcome,
        cause,
        pages,
        duration,
        remote_csid,
        hangup_code,
        hangup_text,
        details,
    ) = row
    return Attempt(
        entry_id=int(entry_id),
        number=int(number),
        started_at=float(started_at),
        ended_at=float(ended_at),
        node=node,
        route=route,
        outcome=outcome,
        cause=cause,
        pages=int(pages),
        duration=float(duration),
        remote_csid=remote_csid,
        hangup_code=hangup_code,
        hangup_text=hangup_text,
        details=json.loads(details),
    )
