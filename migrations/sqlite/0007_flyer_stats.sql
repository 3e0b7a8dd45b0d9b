-- Flyer attribution: views of each flyer's enrollment page (sign-ups and wallet adds are
-- counted from members.source_flyer, registrations and google_objects). Times are unix milliseconds.

CREATE TABLE flyer_scans (
    code         TEXT PRIMARY KEY REFERENCES flyers (code) ON DELETE CASCADE,
    scans        INTEGER NOT NULL DEFAULT 0,
    last_scan_at INTEGER NOT NULL
);
