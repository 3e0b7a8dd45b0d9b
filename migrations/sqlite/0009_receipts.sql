-- Till receipts and their receipt passes. A receipt names its customer by card number (linked
-- at once) or by phone/e-mail, linked only to a member who verified that contact; until then
-- it keeps HMAC-SHA256 (server secret) lookup keys of the normalised contact, never the contact
-- itself. `body` is the JSON of lines, totals and payment (amounts in minor units).
-- `issued_at`, `created_at`: unix milliseconds.

CREATE TABLE receipts (
    id              TEXT PRIMARY KEY,
    receipt_number  TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    issued_at       INTEGER NOT NULL,
    body            TEXT NOT NULL,
    member_id       TEXT REFERENCES members (id) ON DELETE SET NULL,
    idempotency_key TEXT UNIQUE,
    email_hmac      TEXT,
    phone_hmac      TEXT,
    pass_serial     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (store_id, receipt_number)
);
CREATE INDEX receipts_number ON receipts (receipt_number);
CREATE INDEX receipts_member ON receipts (member_id, issued_at);
CREATE INDEX receipts_email_hmac ON receipts (email_hmac) WHERE member_id IS NULL;
CREATE INDEX receipts_phone_hmac ON receipts (phone_hmac) WHERE member_id IS NULL;
