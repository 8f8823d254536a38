"""The job tables (prefixed ``job_``, so they can share the account store's
database).  ``{ident}`` and ``{real}`` are filled per dialect."""

from __future__ import annotations

__all__ = ["ATTEMPT_COLUMNS", "CLAIM_COLUMNS", "ENTRY_COLUMNS", "FAX_COLUMNS", "SCHEMA"]

# needs_approval, approver and approval_time belong to an approval step this appliance does not
# have: they stay so that databases of earlier versions still open, are written as 0, "" and NULL,
# and are never read.
FAX_COLUMNS = (
    "id",
    "owner",
    "account",
    "documents",
    "pages",
    "resolution",
    "agent",
    "tsid",
    "cover_url",
    "cover_enabled",
    "cover_subject",
    "cover_comments",
    "sender_name",
    "sender_organization",
    "sender_phone_number",
    "sender_fax_number",
    "sender_email_address",
    "max_tries",
    "priority",
    "try_interval",
    "receipt",
    "receipt_attachment",
    "schedule_at",
    "needs_approval",  # unused, as are approver and approval_time (see above)
    "preprocessing",
    "created",
    "approver",
    "approval_time",
    "entry_count",
)

ENTRY_COLUMNS = (
    "id",
    "fax_id",
    "idx",
    "state",
    "schedule_message",
    "created",
    "due_at",
    "tries",
    "priority",
    "max_tries",
    "fax_number",
    "name",
    "organization",
    "phone_number",
    "route_pin",
    "node",
    "route",
    "claimed_at",
    "completed_at",
    "cloud_job_id",
    "cloud_state",
    "abort_requested",
    "pages_sent",
    "duration",
    "remote_csid",
    "last_cause",
    "hangup_code",
    "hangup_text",
    "updated_at",
    "number_key",
)

ATTEMPT_COLUMNS = (
    "entry_id",
    "number",
    "started_at",
    "ended_at",
    "node",
    "route",
    "outcome",
    "cause",
    "pages",
    "duration",
    "remote_csid",
    "hangup_code",
    "hangup_text",
    "details",
)

CLAIM_COLUMNS = ("entry_id", "node", "claimed_at", "lease_until", "first_page", "pages_done", "pages_total", "session")

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_faxes (
    id {ident},
    owner TEXT NOT NULL,
    account TEXT NOT NULL,
    documents TEXT NOT NULL,
    pages INTEGER NOT NULL,
    resolution TEXT NOT NULL,
    agent TEXT NOT NULL,
    tsid TEXT NOT NULL,
    cover_url TEXT NOT NULL,
    cover_enabled INTEGER NOT NULL,
    cover_subject TEXT NOT NULL,
    cover_comments TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    sender_organization TEXT NOT NULL,
    sender_phone_number TEXT NOT NULL,
    sender_fax_number TEXT NOT NULL,
    sender_email_address TEXT NOT NULL,
    max_tries INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    try_interval INTEGER,
    receipt TEXT NOT NULL,
    receipt_attachment TEXT NOT NULL,
    schedule_at {real},
    needs_approval INTEGER NOT NULL,
    preprocessing INTEGER NOT NULL,
    created {real} NOT NULL,
    approver TEXT NOT NULL,
    approval_time {real},
    entry_count INTEGER NOT NULL
)
;
CREATE INDEX IF NOT EXISTS job_faxes_owner ON job_faxes (owner, id)
;
CREATE TABLE IF NOT EXISTS job_entries (
    id {ident},
    fax_id BIGINT NOT NULL REFERENCES job_faxes (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    state TEXT NOT NULL,
    schedule_message TEXT NOT NULL,
    created {real} NOT NULL,
    due_at {real} NOT NULL,
    tries INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    max_tries INTEGER NOT NULL,
    fax_number TEXT NOT NULL,
    name TEXT NOT NULL,
    organization TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    route_pin TEXT,
    node TEXT,
    route TEXT,
    claimed_at {real},
    completed_at {real},
    cloud_job_id TEXT,
    cloud_state TEXT,
    abort_requested INTEGER NOT NULL,
    pages_sent INTEGER NOT NULL,
    duration {real} NOT NULL,
    remote_csid TEXT NOT NULL,
    last_cause TEXT,
    hangup_code TEXT NOT NULL,
    hangup_text TEXT NOT NULL,
    updated_at {real} NOT NULL,
    number_key TEXT NOT NULL,
    UNIQUE (fax_id, idx)
)
;
CREATE INDEX IF NOT EXISTS job_entries_due ON job_entries (priority, due_at, id) WHERE state = 'pending'
;
CREATE INDEX IF NOT EXISTS job_entries_sending ON job_entries (node) WHERE state = 'sending'
;
CREATE TABLE IF NOT EXISTS job_calls (
    number_key TEXT PRIMARY KEY,
    entry_id BIGINT NOT NULL
)
;
CREATE TABLE IF NOT EXISTS job_attempts (
    id {ident},
    entry_id BIGINT NOT NULL REFERENCES job_entries (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    started_at {real} NOT NULL,
    ended_at {real} NOT NULL,
    node TEXT NOT NULL,
    route TEXT NOT NULL,
    outcome TEXT NOT NULL,
    cause TEXT,
    pages INTEGER NOT NULL,
    duration {real} NOT NULL,
    remote_csid TEXT NOT NULL,
    hangup_code TEXT NOT NULL,
    hangup_text TEXT NOT NULL,
    details TEXT NOT NULL
)
;
CREATE INDEX IF NOT EXISTS job_attempts_entry ON job_attempts (entry_id, number)
;
CREATE TABLE IF NOT EXISTS job_claims (
    entry_id BIGINT PRIMARY KEY,
    node TEXT NOT NULL,
    claimed_at {real} NOT NULL,
    lease_until {real} NOT NULL,
    first_page INTEGER NOT NULL,
    pages_done INTEGER NOT NULL,
    pages_total INTEGER NOT NULL,
    session TEXT NOT NULL
)
;
CREATE INDEX IF NOT EXISTS job_claims_node ON job_claims (node)
;
CREATE TABLE IF NOT EXISTS job_resume (
    entry_id BIGINT PRIMARY KEY,
    first_page INTEGER NOT NULL
)
;
CREATE TABLE IF NOT EXISTS job_nodes (
    node TEXT PRIMARY KEY,
    started_at {real} NOT NULL,
    seen_at {real} NOT NULL
)
"""
