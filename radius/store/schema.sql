-- The account/DID/CDR store schema, shared by SQLite and PostgreSQL.
-- Placeholders filled per dialect: {ident} (auto-increment primary key),
-- {bytes} (binary column).  Booleans are SMALLINT 0/1 in both dialects.
-- Statements are separated by a line holding only ";".

CREATE TABLE IF NOT EXISTS store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
;
CREATE TABLE IF NOT EXISTS accounts (
    name_key TEXT PRIMARY KEY,              -- name.casefold()
    name TEXT NOT NULL,                     -- as the admin spelled it
    password_hash TEXT NOT NULL DEFAULT '',
    uuid {bytes} NOT NULL UNIQUE,
    account_type INTEGER NOT NULL DEFAULT 0,
    send_enabled SMALLINT NOT NULL DEFAULT 1,
    receive_enabled SMALLINT NOT NULL DEFAULT 1,
    send_time_expired SMALLINT NOT NULL DEFAULT 0,
    receive_time_expired SMALLINT NOT NULL DEFAULT 0,
    call_ahead_mode INTEGER NOT NULL DEFAULT 1,
    save_cdr SMALLINT NOT NULL DEFAULT 1,
    send_on_behalf_of SMALLINT NOT NULL DEFAULT 0,
    upload_logs INTEGER NOT NULL DEFAULT 0,
    snd_ani TEXT NOT NULL DEFAULT '',
    snd_tsid TEXT NOT NULL DEFAULT '',
    rcv_csid TEXT NOT NULL DEFAULT '',
    rcv_email TEXT NOT NULL DEFAULT '',
    rcv_format INTEGER NOT NULL DEFAULT 0,
    rcv_failover_account TEXT NOT NULL DEFAULT '',
    rcv_failover_mode INTEGER NOT NULL DEFAULT 0,
    rule_group TEXT NOT NULL DEFAULT '',
    login_group TEXT NOT NULL DEFAULT '',
    cdr_info TEXT NOT NULL DEFAULT '',
    customer TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    queue_profile TEXT NOT NULL DEFAULT '',
    last_modified BIGINT NOT NULL DEFAULT 0
)
;
CREATE TABLE IF NOT EXISTS dids (
    did TEXT PRIMARY KEY,                   -- normalise_did()
    account_key TEXT REFERENCES accounts (name_key) ON DELETE SET NULL,
    enabled SMALLINT NOT NULL DEFAULT 1,
    line_id TEXT NOT NULL DEFAULT '',
    line_num INTEGER NOT NULL DEFAULT 0,
    snd_ani TEXT NOT NULL DEFAULT '',
    queue_profile TEXT NOT NULL DEFAULT ''
)
;
CREATE INDEX IF NOT EXISTS dids_account ON dids (account_key, did)
;
CREATE TABLE IF NOT EXISTS devices (
    kind TEXT NOT NULL CHECK (kind IN ('mac', 'serial')),
    identifier TEXT NOT NULL,               -- normalise_mac() / normalise_serial()
    account_key TEXT NOT NULL REFERENCES accounts (name_key) ON DELETE CASCADE,
    fax_ata_type INTEGER,                   -- NULL = any type
    provisioning_arg TEXT NOT NULL DEFAULT '',
    queue_profile TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, identifier)
)
;
CREATE INDEX IF NOT EXISTS devices_account ON devices (account_key)
;
CREATE TABLE IF NOT EXISTS sender_emails (
    address_key TEXT PRIMARY KEY,           -- address.casefold()
    address TEXT NOT NULL,
    account_key TEXT NOT NULL REFERENCES accounts (name_key) ON DELETE CASCADE
)
;
CREATE INDEX IF NOT EXISTS sender_emails_account ON sender_emails (account_key)
;
CREATE TABLE IF NOT EXISTS group_members (
    group_key TEXT NOT NULL REFERENCES accounts (name_key) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    member_key TEXT NOT NULL REFERENCES accounts (name_key) ON DELETE CASCADE,
    PRIMARY KEY (group_key, position),
    UNIQUE (group_key, member_key)
)
;
CREATE INDEX IF NOT EXISTS group_members_member ON group_members (member_key)
;
CREATE TABLE IF NOT EXISTS called_numbers (
    number TEXT PRIMARY KEY,                -- normalise_did()
    last_result INTEGER NOT NULL,
    voice_error_seen SMALLINT NOT NULL,
    results BIGINT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
)
;
CREATE TABLE IF NOT EXISTS accounting (
    id {ident},
    dedupe_key TEXT NOT NULL UNIQUE,
    received_at DOUBLE PRECISION NOT NULL,
    client TEXT NOT NULL,
    status_type INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    attributes TEXT NOT NULL,               -- JSON object
    raw_attributes TEXT NOT NULL            -- JSON list of [vendor, type, hex]
)
;
CREATE INDEX IF NOT EXISTS accounting_received ON accounting (received_at, id)
;
CREATE INDEX IF NOT EXISTS accounting_session ON accounting (session_id)
