-- Loyalty members and their points ledger. Times are unix milliseconds.
-- `tier` is the tier in force (a manual `tier_manual` wins over the rules), so segments can filter on it.

CREATE TABLE members (
    id                TEXT PRIMARY KEY,
    card_number       TEXT NOT NULL UNIQUE,
    first_name        TEXT NOT NULL,
    last_name         TEXT,
    email             TEXT UNIQUE,
    phone             TEXT UNIQUE,
    email_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    phone_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    birthday          TEXT,
    language          TEXT,
    home_store_id     TEXT,
    consent_terms     BOOLEAN NOT NULL DEFAULT FALSE,
    consent_marketing BOOLEAN NOT NULL DEFAULT FALSE,
    consent_version   TEXT,
    consent_at        BIGINT,
    points            BIGINT NOT NULL DEFAULT 0,
    tier              TEXT NOT NULL,
    tier_manual       TEXT,
    attributes        JSONB NOT NULL DEFAULT '{}',
    source_flyer      TEXT,
    source_store      TEXT,
    source_channel    TEXT,
    pass_serial       TEXT UNIQUE REFERENCES passes (serial_number),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX members_home_store ON members (home_store_id);
CREATE INDEX members_source_flyer ON members (source_flyer);

CREATE TABLE points_ledger (
    id              BIGSERIAL PRIMARY KEY,
    member_id       TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    delta           BIGINT NOT NULL,
    reason          TEXT,
    store_id        TEXT,
    idempotency_key TEXT,
    balance_after   BIGINT NOT NULL,
    tier_after      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (member_id, idempotency_key)
);
CREATE INDEX points_ledger_member ON points_ledger (member_id, id);
