-- Google Wallet: each pass's object and sync jobs, the rate limit shared by every process,
-- and the nonces of callbacks already handled. Times are unix milliseconds.

CREATE TABLE google_objects (
    serial_number  TEXT PRIMARY KEY REFERENCES passes (serial_number) ON DELETE CASCADE,
    object_id      TEXT NOT NULL UNIQUE,
    synced_version BIGINT,
    saved          BOOLEAN NOT NULL DEFAULT FALSE,
    saved_at       BIGINT,
    removed_at     BIGINT,
    updated_at     BIGINT NOT NULL
);

-- One row per pass to write to Google (insert or patch the object, maybe add a message).
CREATE TABLE google_jobs (
    id            BIGSERIAL PRIMARY KEY,
    serial_number TEXT NOT NULL,
    message       TEXT,
    state         TEXT NOT NULL DEFAULT 'pending',
    attempts      BIGINT NOT NULL DEFAULT 0,
    run_at        BIGINT NOT NULL,
    lease_id      TEXT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX google_jobs_one_pending ON google_jobs (serial_number) WHERE state = 'pending';
CREATE INDEX google_jobs_due ON google_jobs (state, run_at);

-- Google's quota is per issuer: every process takes its turn from this row (GCRA).
CREATE TABLE rate_limits (
    name         TEXT PRIMARY KEY,
    next_free_at BIGINT NOT NULL
);

CREATE TABLE google_callback_nonces (
    nonce       TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
