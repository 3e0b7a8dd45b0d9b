-- The push outbox: one row per delivery to a device, written in the transaction that
-- changes a pass. state: pending (waiting for run_at), leased (a worker holds it until
-- run_at, then it may be taken again), dead (out of attempts; kept with its error).

CREATE TABLE push_jobs (
    id                BIGSERIAL PRIMARY KEY,
    device_library_id TEXT NOT NULL,
    push_token        TEXT NOT NULL,
    state             TEXT NOT NULL DEFAULT 'pending',
    attempts          BIGINT  NOT NULL DEFAULT 0,
    run_at            BIGINT  NOT NULL,
    lease_id          TEXT,
    last_error        TEXT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
-- One waiting push per device: ten changes in a second give the device one push.
CREATE UNIQUE INDEX push_jobs_one_pending ON push_jobs (device_library_id) WHERE state = 'pending';
CREATE INDEX push_jobs_due ON push_jobs (state, run_at);

-- The design (hash of pass.json, template.toml and files) last published per template.
CREATE TABLE template_designs (
    template     TEXT PRIMARY KEY,
    design_hash  TEXT NOT NULL,
    published_at BIGINT  NOT NULL
);
