-- Purchases as columns, for segments and campaign results: a receipt's kind ('sale' or
-- 'return'), its total (minor units, negative for a return) and currency, and its lines (SKU,
-- quantity, amount in minor units; line_no counts from 1 in the order the till sent them).
-- Existing receipts are filled in from their JSON body.

ALTER TABLE receipts ADD COLUMN kind TEXT NOT NULL DEFAULT 'sale' CHECK (kind IN ('sale', 'return'));
ALTER TABLE receipts ADD COLUMN total BIGINT;
ALTER TABLE receipts ADD COLUMN currency TEXT;
UPDATE receipts SET total = (body::jsonb -> 'totals' ->> 'total')::BIGINT,
    currency = COALESCE(body::jsonb -> 'totals' ->> 'currency', '');
ALTER TABLE receipts ALTER COLUMN total SET NOT NULL;
ALTER TABLE receipts ALTER COLUMN currency SET NOT NULL;

CREATE TABLE receipt_lines (
    receipt_id TEXT NOT NULL REFERENCES receipts (id) ON DELETE CASCADE,
    line_no    INTEGER NOT NULL,
    sku        TEXT,
    quantity   BIGINT NOT NULL,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (receipt_id, line_no)
);
INSERT INTO receipt_lines (receipt_id, line_no, sku, quantity, amount)
SELECT r.id, l.ord::INTEGER, l.value ->> 'sku', (l.value ->> 'quantity')::BIGINT, (l.value ->> 'total')::BIGINT
FROM receipts r CROSS JOIN LATERAL jsonb_array_elements(r.body::jsonb -> 'lines') WITH ORDINALITY AS l (value, ord);

-- A member's purchases in a time window (segments, campaign results) read the index alone.
DROP INDEX receipts_member;
CREATE INDEX receipts_member ON receipts (member_id, issued_at, kind, currency, total);
CREATE INDEX receipt_lines_sku ON receipt_lines (sku, receipt_id);
