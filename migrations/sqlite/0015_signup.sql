-- Sign-up hardening. Times are unix milliseconds.
--
-- Each sign-up form token (its random id) works once: its id is kept until it would have
-- expired anyway.
CREATE TABLE join_form_tokens (
    id         TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX join_form_tokens_expiry ON join_form_tokens (expires_at);

-- A card given at sign-up to a contact already on file: a contactless member record (so a till
-- credits it by card number like any card) whose owner is the member on file, told by e-mail.
-- Merged into the owner's account through the mailed link (only the SHA-256 of its token is
-- stored), or voided after PASSERELLE_PROVISIONAL_CARD_DAYS.
CREATE TABLE provisional_cards (
    member_id        TEXT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    owner_member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    merge_token_hash TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    mailed_at        INTEGER,
    merged_at        INTEGER,
    voided_at        INTEGER
);
CREATE INDEX provisional_cards_owner ON provisional_cards (owner_member_id, mailed_at);
CREATE INDEX provisional_cards_open ON provisional_cards (created_at) WHERE merged_at IS NULL AND voided_at IS NULL;
