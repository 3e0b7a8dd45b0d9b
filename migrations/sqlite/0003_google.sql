-- Google Wallet: each pass's object and sync jobs, the rate limit shared by every process,
-- and the nonces of callbacks already handled. Times are unix milliseconds.

CREATE TABLE google_objects (
    serial_number  TEXT PRIMARY KEY REFERENCES passes (serial_number) ON DELETE CASCADE,
    object_id      TEXT NOT NULL UNIQUE,
    synced_version INTEGER,
    saved          INTEGER NOT NULL DEFAULT 0,
    saved_at       INTEGER,
    removed_at     INTEGER,
    updated_at     INTEGER NOT NULL
);

-- One row per pass to write to Google (insert or patch the object, maybe add a message).
CREATE TABLE google_jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    serial_number TEXT NOT NULL,
    message       TEXT,
    state         TEXT NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        INTEGER NOT NULL,
    lease_id      TEXT,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX google_jobs_one_pending ON google_jobs (serial_number) WHERE state = 'pending';
CREATE INDEX google_jobs_due ON google_jobs (state, run_at);

-- Google's quota is per issuer: every process takes its turn from this row (GCRA).
CREATE TABLE rate_limits (
    name         TEXT PRIMARY KEY,
    next_free_at INTEGER NOT NULL
);

CREATE TABLE google_callback_nonces (
    nonce       TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL
);
