-- One job queue for every kind of background delivery: push (APNs, one waiting job per
-- device), google (sync a pass's object, one waiting job per pass), webhook (one event),
-- and the kinds to come. Written in the transaction of the change that causes it.
-- key: what a waiting job is unique for (device, pass serial, event id);
-- payload: what the handler sends (push token, Google message, webhook body).
-- state: pending (waiting for run_at), leased (a worker holds it until run_at, then it may
-- be taken again), dead (out of attempts, or refused for good; kept with its error).

CREATE TABLE jobs (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    payload     TEXT,
    campaign_id TEXT,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    BIGINT NOT NULL DEFAULT 0,
    run_at      BIGINT NOT NULL,
    lease_id    TEXT,
    last_error  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- One waiting job per key and kind: ten changes in a second give a device one push.
CREATE UNIQUE INDEX jobs_one_pending ON jobs (kind, key) WHERE state = 'pending';
CREATE INDEX jobs_due ON jobs (kind, state, run_at);
CREATE INDEX jobs_campaign ON jobs (campaign_id) WHERE campaign_id IS NOT NULL;

INSERT INTO jobs (kind, key, payload, campaign_id, state, attempts, run_at, lease_id, last_error, created_at, updated_at)
SELECT 'push', device_library_id, push_token, campaign_id, state, attempts, run_at, lease_id, last_error, created_at, updated_at
FROM push_jobs ORDER BY id;
INSERT INTO jobs (kind, key, payload, campaign_id, state, attempts, run_at, lease_id, last_error, created_at, updated_at)
SELECT 'google', serial_number, message, campaign_id, state, attempts, run_at, lease_id, last_error, created_at, updated_at
FROM google_jobs ORDER BY id;
INSERT INTO jobs (kind, key, payload, campaign_id, state, attempts, run_at, lease_id, last_error, created_at, updated_at)
SELECT 'webhook', event_id, body, NULL, state, attempts, run_at, lease_id, last_error, created_at, updated_at
FROM webhook_jobs ORDER BY id;

DROP TABLE push_jobs;
DROP TABLE google_jobs;
DROP TABLE webhook_jobs;
