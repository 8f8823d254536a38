"""The SQL text both store implementations share, written with ``?``
parameters (a dialect with another parameter style translates it once), and
the schema version."""

from __future__ import annotations

from radius.store import _records as rec

SCHEMA_VERSION = 1

ACCOUNT_SELECT = "SELECT " + ", ".join(f"a.{c}" for c in rec.ACCOUNT_COLUMNS) + " FROM accounts a"
DID_SELECT = (
    "SELECT d.did, a.name, d.enabled, d.line_id, d.line_num, d.snd_ani, d.queue_profile"
    " FROM dids d LEFT JOIN accounts a ON a.name_key = d.account_key"
)
DEVICE_SELECT = (
    "SELECT v.kind, v.identifier, a.name, v.fax_ata_type, v.provisioning_arg, v.queue_profile"
    " FROM devices v JOIN accounts a ON a.name_key = v.account_key"
)
CDR_SELECT = "SELECT id, " + ", ".join(rec.CDR_COLUMNS) + " FROM accounting"
INSERT_ACCOUNT = (
    f"INSERT INTO accounts ({', '.join(rec.ACCOUNT_COLUMNS)}) VALUES ({', '.join('?' * len(rec.ACCOUNT_COLUMNS))})"
)
INSERT_DID = f"INSERT INTO dids ({', '.join(rec.DID_COLUMNS)}) VALUES ({', '.join('?' * len(rec.DID_COLUMNS))})"
INSERT_CDR = (
    f"INSERT INTO accounting ({', '.join(rec.CDR_COLUMNS)}) VALUES ({', '.join('?' * len(rec.CDR_COLUMNS))})"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)
UPSERT_CALLED = (
    "INSERT INTO called_numbers (number, last_result, voice_error_seen, results, updated_at)"
    " VALUES (?, ?, ?, 1, ?) ON CONFLICT (number) DO UPDATE SET"
    " last_result = excluded.last_result,"
    " voice_error_seen = CASE WHEN excluded.voice_error_seen = 1 THEN 1"
    " ELSE called_numbers.voice_error_seen END,"
    " results = called_numbers.results + 1,"
    " updated_at = excluded.updated_at"
)
# One statement per record (PostgreSQL): the CDR, and the Called Numbers
# update only when the CDR is new; answers 1 (new) or 0 (duplicate).
INSERT_CDR_AND_CALLED = (
    "WITH ins AS (" + INSERT_CDR + " RETURNING 1),"
    " called AS (INSERT INTO called_numbers (number, last_result, voice_error_seen, results, updated_at)"
    " SELECT CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS SMALLINT), 1, CAST(? AS DOUBLE PRECISION)"
    " WHERE EXISTS (SELECT 1 FROM ins) AND CAST(? AS TEXT) IS NOT NULL"
    " ON CONFLICT (number) DO UPDATE SET"
    " last_result = excluded.last_result,"
    " voice_error_seen = CASE WHEN excluded.voice_error_seen = 1 THEN 1"
    " ELSE called_numbers.voice_error_seen END,"
    " results = called_numbers.results + 1,"
    " updated_at = excluded.updated_at)"
    " SELECT COUNT(*) FROM ins"
)
# Strictly increasing, and the unix time when the clock is ahead.
BUMP_GROUP = (
    "UPDATE accounts SET last_modified = CASE WHEN last_modified + 1 > ? THEN last_modified + 1 ELSE ? END"
    " WHERE name_key = ?"
)
