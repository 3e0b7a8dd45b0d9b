-- Holdout groups: the part of a campaign's audience deliberately not notified, drawn at the
-- start by a hash of (campaign id, member id); its recipients rows have state 'holdout'. The
-- conversion window runs `conversion_days` from `started_at`, for both groups.
ALTER TABLE campaigns ADD COLUMN holdout_percent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN conversion_days INTEGER NOT NULL DEFAULT 7;
