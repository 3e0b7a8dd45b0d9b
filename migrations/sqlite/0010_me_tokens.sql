-- Member tokens gain the purpose `me`: the private "My receipts" link on the back of the
-- loyalty pass (no expiry; revoked by setting `used_at`). SQLite cannot change a CHECK, so
-- the table is rebuilt (nothing references it).

CREATE TABLE member_tokens_new (
    token_hash TEXT PRIMARY KEY,
    member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'withdraw_consent', 'me')),
    email      TEXT,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
INSERT INTO member_tokens_new (token_hash, member_id, purpose, email, created_at, used_at)
    SELECT token_hash, member_id, purpose, email, created_at, used_at FROM member_tokens;
DROP TABLE member_tokens;
ALTER TABLE member_tokens_new RENAME TO member_tokens;
CREATE INDEX member_tokens_member ON member_tokens (member_id, purpose);
