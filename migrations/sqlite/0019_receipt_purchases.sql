-- Purchases as columns, for segments and campaign results: a receipt's kind ('sale' or
-- 'return'), its total (minor units, negative for a return) and currency, and its lines (SKU,
-- quantity, amount in minor units; line_no counts from 1 in the order the till sent them).
-- Existing receipts are filled in from their JSON body. SQLite cannot add a NOT NULL column
-- without a default: the defaults below only serve the backfill, every insert sets them.

ALTER TABLE receipts ADD COLUMN kind TEXT NOT NULL DEFAULT 'sale' CHECK (kind IN ('sale', 'return'));
ALTER TABLE receipts ADD COLUMN total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receipts ADD COLUMN currency TEXT NOT NULL DEFAULT '';
UPDATE receipts SET total = CAST(json_extract(body, '$.totals.total') AS INTEGER),
    currency = COALESCE(json_extract(body, '$.totals.currency'), '');

CREATE TABLE receipt_lines (
    receipt_id TEXT NOT NULL REFERENCES receipts (id) ON DELETE CASCADE,
    line_no    INTEGER NOT NULL,
    sku        TEXT,
    quantity   INTEGER NOT NULL,
    amount     INTEGER NOT NULL,
    PRIMARY KEY (receipt_id, line_no)
);
INSERT INTO receipt_lines (receipt_id, line_no, sku, quantity, amount)
SELECT r.id, CAST(l.key AS INTEGER) + 1, json_extract(l.value, '$.sku'),
       CAST(json_extract(l.value, '$.quantity') AS INTEGER), CAST(json_extract(l.value, '$.total') AS INTEGER)
FROM receipts r, json_each(r.body, '$.lines') l;

-- A member's purchases in a time window (segments, campaign results) read the index alone.
DROP INDEX receipts_member;
CREATE INDEX receipts_member ON receipts (member_id, issued_at, kind, currency, total);
CREATE INDEX receipt_lines_sku ON receipt_lines (sku, receipt_id);
