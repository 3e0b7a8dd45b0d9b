-- The store report reads each store's figures over a period through an index per figure:
-- members who joined a home store (by date), linked receipts at a store (by date, with what
-- the revenue sums), redemptions at a store (by date), and campaigns by scope and start.
DROP INDEX members_home_store;
CREATE INDEX members_home_store ON members (home_store_id, created_at);
CREATE INDEX receipts_store_issued ON receipts (store_id, issued_at, currency, total) WHERE member_id IS NOT NULL;
CREATE INDEX offer_redemptions_store ON offer_redemptions (store_id, redeemed_at);
CREATE INDEX campaigns_scope_started ON campaigns (scope, started_at);
