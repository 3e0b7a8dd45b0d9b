-- A campaign's results per store group its holders by their home store at the start (a
-- member who moves afterwards stays where the campaign found them), read from the recipients
-- row without reading each member's row.
ALTER TABLE campaign_recipients ADD COLUMN store_id TEXT;
UPDATE campaign_recipients SET store_id = (SELECT m.home_store_id FROM members m WHERE m.id = campaign_recipients.member_id);
