-- Campaigns: a message to the pass holders a segment picks, under pressure rules and (for a
-- store's own campaigns) HQ approval. Times are unix milliseconds.
-- api_keys.scope: 'hq' (everything) or 'store:<id>' (a till or store manager).

ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'hq';

-- status: pending_approval -> approved -> sending -> sent; or rejected.
CREATE TABLE campaigns (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    segment       TEXT NOT NULL,
    scope         TEXT NOT NULL,
    messages      TEXT NOT NULL,
    priority      TEXT NOT NULL DEFAULT 'normal',
    status        TEXT NOT NULL,
    send_at       BIGINT,
    reject_reason TEXT,
    google_class  TEXT,
    google_class_sent_at BIGINT,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT
);
CREATE INDEX campaigns_status ON campaigns (status, send_at);

-- Every transition, who made it and when.
CREATE TABLE campaign_events (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, id);

-- One row per targeted holder, written when the campaign starts; the fan-out turns each
-- pending row into a pass change (state sent) or a held-back row in the same transaction, so
-- a crash never skips nor repeats a holder. A holder delayed by quiet hours stays pending
-- with held_rule 'quiet_hours' and run_at at the end of the quiet hours.
CREATE TABLE campaign_recipients (
    campaign_id   TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    member_id     TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    language      TEXT,
    timezone      TEXT,
    state         TEXT NOT NULL DEFAULT 'pending',
    held_rule     TEXT,
    run_at        BIGINT NOT NULL,
    sent_version  BIGINT,
    sent_at       BIGINT,
    fetched_at    BIGINT,
    PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX campaign_recipients_due ON campaign_recipients (state, run_at);
-- The pressure rules count each holder's recent campaign notifications.
CREATE INDEX campaign_recipients_sent ON campaign_recipients (member_id, sent_at) WHERE state = 'sent';
CREATE INDEX campaign_recipients_unfetched ON campaign_recipients (serial_number) WHERE state = 'sent' AND fetched_at IS NULL;

-- Delivery counters (apple.accepted, apple.rejected.<reason>, google.accepted, google.failed).
CREATE TABLE campaign_counters (
    campaign_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, name)
);

-- Which campaign a queued push or Google sync carries (for its delivery counters), and the
-- Google message id is derived from the campaign (so a retry never shows it twice).
ALTER TABLE push_jobs ADD COLUMN campaign_id TEXT;
ALTER TABLE google_jobs ADD COLUMN campaign_id TEXT;
