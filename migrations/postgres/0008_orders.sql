-- Click & collect orders and their reservation passes. Times are unix milliseconds.
-- `status`: placed, ready, collected, cancelled or expired.

CREATE TABLE orders (
    order_number TEXT PRIMARY KEY,
    store_id     TEXT NOT NULL,
    customer     JSONB NOT NULL,
    items        JSONB NOT NULL,
    pickup_from  BIGINT NOT NULL,
    pickup_until BIGINT NOT NULL,
    status       TEXT NOT NULL,
    pass_serial  TEXT UNIQUE REFERENCES passes (serial_number),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- The expiry sweep looks for open orders whose window has passed.
CREATE INDEX orders_open_until ON orders (pickup_until) WHERE status IN ('placed', 'ready');
