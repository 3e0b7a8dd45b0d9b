-- Unique flyer scans: one row per flyer, UTC day (days since 1970-01-01) and visitor (the
-- SHA-256 of the enrollment page's visitor cookie, never the cookie itself). Counting the rows
-- of a flyer gives its unique scans; flyer_scans keeps counting every page view.

CREATE TABLE flyer_visitors (
    code    TEXT NOT NULL REFERENCES flyers (code) ON DELETE CASCADE,
    day     BIGINT NOT NULL,
    visitor TEXT NOT NULL,
    PRIMARY KEY (code, day, visitor)
);
