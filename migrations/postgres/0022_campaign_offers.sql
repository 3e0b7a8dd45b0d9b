-- A campaign may carry an offer: at its start every treated holder (never the holdout group)
-- gets an instance of it, issued under the campaign's id (one instance per holder and issue,
-- so a retried start issues nothing twice). `offer_issued_at` is set once every treated holder
-- has been given theirs; the fan-out waits for it, so the push brings the offer.
ALTER TABLE campaigns ADD COLUMN offer_id TEXT REFERENCES offers (id);
ALTER TABLE campaigns ADD COLUMN offer_issued_at BIGINT;
CREATE INDEX campaigns_offer_due ON campaigns (status) WHERE offer_id IS NOT NULL AND offer_issued_at IS NULL;
