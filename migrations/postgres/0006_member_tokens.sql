-- One-time links sent to members (e-mail verification, marketing consent withdrawal).
-- Only the SHA-256 of a token is stored. `email` is the address a verification link went to:
-- the link verifies that address only. Times are unix milliseconds.

CREATE TABLE member_tokens (
    token_hash TEXT PRIMARY KEY,
    member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'withdraw_consent')),
    email      TEXT,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX member_tokens_member ON member_tokens (member_id, purpose);
