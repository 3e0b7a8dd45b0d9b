-- Campaign drafts: status 'draft' (before pending_approval or approved; never picked by the
-- scheduler, which starts approved campaigns only), and the card a draft's test sends go to.
ALTER TABLE campaigns ADD COLUMN test_card_number TEXT;
