-- The webhook outbox: one row per event for the configured URL, written in the transaction
-- that makes the event (an order's status change) or just after it (device registrations).
-- body is the exact JSON sent (its signature is computed on these bytes at each attempt).
-- state: pending (waiting for run_at), leased (a worker holds it until run_at), dead (out of attempts).

CREATE TABLE webhook_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL UNIQUE,
    event_type  TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_at      INTEGER NOT NULL,
    lease_id    TEXT,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX webhook_jobs_due ON webhook_jobs (state, run_at);
