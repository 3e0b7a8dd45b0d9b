-- Stores (the retailer's own ids, e.g. paris-01) and the flyers whose QR codes lead to /join/{code}.
-- Times are unix milliseconds; timezone is an IANA name such as Europe/Paris.

CREATE TABLE stores (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    address    TEXT,
    latitude   DOUBLE PRECISION NOT NULL,
    longitude  DOUBLE PRECISION NOT NULL,
    timezone   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE flyers (
    code       TEXT PRIMARY KEY,
    store_id   TEXT NOT NULL REFERENCES stores (id),
    label      TEXT,
    template   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX flyers_store ON flyers (store_id);
