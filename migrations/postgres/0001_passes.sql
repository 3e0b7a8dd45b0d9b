-- Passes, devices, registrations, the device log and admin API keys.
-- Times are unix milliseconds; passes.last_modified is unix seconds (HTTP resolution).

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('pass_version', 0);

CREATE TABLE passes (
    serial_number        TEXT PRIMARY KEY,
    template             TEXT NOT NULL,
    data                 JSONB NOT NULL,
    authentication_token TEXT NOT NULL,
    share_token          TEXT NOT NULL UNIQUE,
    version              BIGINT NOT NULL,
    last_modified        BIGINT NOT NULL,
    voided               BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX passes_template ON passes (template, serial_number);
CREATE INDEX passes_updated_at ON passes (updated_at);

CREATE TABLE devices (
    device_library_id TEXT PRIMARY KEY,
    push_token        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE registrations (
    device_library_id TEXT NOT NULL REFERENCES devices (device_library_id) ON DELETE CASCADE,
    serial_number     TEXT NOT NULL REFERENCES passes (serial_number) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (device_library_id, serial_number)
);
CREATE INDEX registrations_serial ON registrations (serial_number);

CREATE TABLE device_logs (
    id          BIGSERIAL PRIMARY KEY,
    received_at BIGINT NOT NULL,
    message     TEXT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
