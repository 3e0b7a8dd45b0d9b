-- Console users and their sessions. Times are unix milliseconds.

-- role: hq_admin | hq_marketer | store_manager (store_id set for it); the password is an
-- Argon2id PHC string; failed_sign_ins counts failures since the last success, and
-- locked_until holds further attempts back after too many.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL,
    store_id        TEXT REFERENCES stores (id),
    language        TEXT,
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    disabled_at     INTEGER,
    last_sign_in_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- A session: the cookie carries a random token, stored here only as its SHA-256. The CSRF
-- token is the session's own (every form and state-changing request carries it).
CREATE TABLE user_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- One-time links that reset a forgotten password (the token only as its SHA-256).
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- Two-factor sign-in (TOTP, RFC 6238): the base-32 secret, set when the user starts turning it
-- on and enabled once they confirm a code; the last time step accepted (a code works once).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

-- One-time recovery codes for a lost authenticator (SHA-256 of each code).
CREATE TABLE user_recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
