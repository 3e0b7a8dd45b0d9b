-- Offers, their holders' instances with single-use codes, issues and redemptions at the till.
-- An offer's texts, reward and stores are JSON text (`stores` NULL: every store). `status` is
-- pending_approval (a store's offer waiting for HQ), approved or rejected. `redeemed` counts
-- the redemptions not reversed (the `max_redemptions` budget), updated under the offer's lock.
-- An instance is `live`, `redeemed` or `holdout` (a holder drawn into an issue's holdout
-- group: recorded for measurement, no code, no pass). Times: unix milliseconds.

CREATE TABLE offers (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    store_id         TEXT REFERENCES stores (id),
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    terms            TEXT NOT NULL,
    reward           TEXT NOT NULL,
    valid_from       BIGINT NOT NULL,
    valid_until      BIGINT NOT NULL,
    stores           TEXT,
    max_per_holder   BIGINT NOT NULL,
    max_redemptions  BIGINT,
    redeemed         BIGINT NOT NULL DEFAULT 0,
    issued           BIGINT NOT NULL DEFAULT 0,
    first_issued_at  BIGINT,
    reject_reason    TEXT,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX offers_status ON offers (status, id);

CREATE TABLE offer_issues (
    id              TEXT PRIMARY KEY,
    offer_id        TEXT NOT NULL REFERENCES offers (id),
    segment         TEXT,
    holdout_percent BIGINT NOT NULL,
    issued          BIGINT NOT NULL,
    holdout         BIGINT NOT NULL,
    skipped         BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX offer_issues_offer ON offer_issues (offer_id);

CREATE TABLE offer_instances (
    id          TEXT PRIMARY KEY,
    offer_id    TEXT NOT NULL REFERENCES offers (id),
    member_id   TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    issue_id    TEXT NOT NULL,
    code        TEXT UNIQUE,
    state       TEXT NOT NULL,
    pass_serial TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (issue_id, member_id)
);
CREATE INDEX offer_instances_member ON offer_instances (member_id, state);
CREATE INDEX offer_instances_offer ON offer_instances (offer_id, member_id);

CREATE TABLE offer_redemptions (
    id             TEXT PRIMARY KEY,
    instance_id    TEXT NOT NULL REFERENCES offer_instances (id) ON DELETE CASCADE,
    offer_id       TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    store_id       TEXT NOT NULL,
    receipt_id     TEXT,
    receipt_number TEXT,
    redeemed_at    BIGINT NOT NULL,
    reversed_at    BIGINT
);
CREATE INDEX offer_redemptions_instance ON offer_redemptions (instance_id, redeemed_at);
CREATE INDEX offer_redemptions_member ON offer_redemptions (member_id, redeemed_at);
CREATE INDEX offer_redemptions_offer ON offer_redemptions (offer_id, store_id);
CREATE INDEX offer_redemptions_receipt ON offer_redemptions (receipt_id) WHERE receipt_id IS NOT NULL;
CREATE INDEX offer_instances_pass ON offer_instances (pass_serial) WHERE pass_serial IS NOT NULL;
