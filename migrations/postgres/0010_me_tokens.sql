-- Member tokens gain the purpose `me`: the private "My receipts" link on the back of the
-- loyalty pass (no expiry; revoked by setting `used_at`).

ALTER TABLE member_tokens DROP CONSTRAINT IF EXISTS member_tokens_purpose_check;
ALTER TABLE member_tokens ADD CONSTRAINT member_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'withdraw_consent', 'me'));
