//! The SQL of the purchase fields and of `bought`, from the receipts linked to the member
//! (`r.member_id = m.id`; the columns and indexes of migration 0019). Only sales count: a
//! return is never a purchase. `offers_redeemed_90d` counts the member's offer redemptions
//! (`offer_redemptions (member_id, redeemed_at)`, migration 0020) not reversed. `now`, the
//! window's start, the currency and the SKU arrive as placeholders, never as text.

use super::ast::Purchases;

const DAY_MS: i64 = 86_400_000;

/// The look-back of `purchases_90d`, `spend_90d` and `offers_redeemed_90d`.
pub(crate) const WINDOW_MS: i64 = 90 * DAY_MS;

/// The linked sales of member `m`, issued from `since` up to `now` (placeholders).
fn sales_between(since: &str, now: &str) -> String {
    format!("r.member_id = m.id AND r.kind = 'sale' AND r.issued_at >= {since} AND r.issued_at <= {now}")
}

/// The placeholders each figure needs, in the order `figure` takes them.
pub(crate) fn needs(field: Purchases) -> &'static [Needed] {
    match field {
        Purchases::DaysSinceLast => &[Needed::Now],
        Purchases::Count90d => &[Needed::Since, Needed::Now],
        Purchases::Spend90d => &[Needed::Since, Needed::Now, Needed::Currency],
        Purchases::OffersRedeemed90d => &[Needed::Since, Needed::Now],
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Needed {
    Now,
    Since,
    Currency,
}

/// The figure's SQL expression; `p` holds the placeholders `needs(field)` asked for.
pub(crate) fn figure(field: Purchases, p: &[String]) -> String {
    match field {
        // Whole days, rounded down; NULL (matching nothing) for a member who never bought.
        Purchases::DaysSinceLast => format!(
            "((CAST({} AS BIGINT) - (SELECT MAX(r.issued_at) FROM receipts r \
             WHERE r.member_id = m.id AND r.kind = 'sale')) / {DAY_MS})",
            p[0]
        ),
        Purchases::Count90d => format!("(SELECT COUNT(*) FROM receipts r WHERE {})", sales_between(&p[0], &p[1])),
        Purchases::Spend90d => format!(
            "(SELECT COALESCE(SUM(r.total), 0) FROM receipts r WHERE {} AND r.currency = {})",
            sales_between(&p[0], &p[1]),
            p[2]
        ),
        Purchases::OffersRedeemed90d => format!(
            "(SELECT COUNT(*) FROM offer_redemptions o WHERE o.member_id = m.id AND o.reversed_at IS NULL \
             AND o.redeemed_at >= {} AND o.redeemed_at <= {})",
            p[0], p[1]
        ),
    }
}

/// `bought(sku, days)`: placeholders of the SKU, the window's start and now.
pub(crate) fn bought(sku: &str, since: &str, now: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM receipt_lines l JOIN receipts r ON r.id = l.receipt_id \
         WHERE l.sku = {sku} AND {}))",
        sales_between(since, now)
    )
}

/// `days` days in milliseconds.
pub(crate) fn days_ms(days: i64) -> i64 {
    days.saturating_mul(DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::super::{Dialect, SqlParam, parse};

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn figures_bind_now_the_window_and_the_currency() {
        let segment = parse("days_since_last_purchase >= 60 and spend_90d > 5000 and purchases_90d >= 2").unwrap();
        let pg = segment.to_sql(Dialect::Postgres, NOW, "CHF", 1);
        let since = NOW - 90 * 86_400_000;
        assert_eq!(
            pg.params,
            vec![
                SqlParam::Int(NOW),
                SqlParam::Int(60),
                SqlParam::Int(since),
                SqlParam::Int(NOW),
                SqlParam::Text("CHF".into()),
                SqlParam::Int(5000),
                SqlParam::Int(since),
                SqlParam::Int(NOW),
                SqlParam::Int(2),
            ]
        );
        assert!(pg.sql.contains("r.currency = $5"), "{}", pg.sql);
        assert!(pg.sql.contains("r.kind = 'sale'"), "returns never count: {}", pg.sql);
        assert!(segment.to_sql(Dialect::Sqlite, NOW, "EUR", 1).sql.contains("CAST(?1 AS BIGINT)"));
    }

    #[test]
    fn offers_redeemed_binds_its_window() {
        let segment = parse("offers_redeemed_90d >= 1").unwrap();
        let pg = segment.to_sql(Dialect::Postgres, NOW, "EUR", 1);
        assert_eq!(pg.params, vec![SqlParam::Int(NOW - 90 * 86_400_000), SqlParam::Int(NOW), SqlParam::Int(1)]);
        assert!(pg.sql.contains("o.reversed_at IS NULL"), "reversed redemptions never count: {}", pg.sql);
    }

    #[test]
    fn bought_keeps_its_sku_a_value() {
        let hostile = r#"bought("x' OR 1=1 --", 30) or not bought("a\"); DROP TABLE members; --", 7)"#;
        let segment = parse(hostile).unwrap();
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let filter = segment.to_sql(dialect, NOW, "EUR", 1);
            assert!(!filter.sql.contains("1=1") && !filter.sql.contains("DROP"), "{}", filter.sql);
            assert_eq!(filter.params[0], SqlParam::Text("x' OR 1=1 --".into()));
            assert_eq!(filter.params[1], SqlParam::Int(NOW - 30 * 86_400_000));
            assert_eq!(filter.params[3], SqlParam::Text("a\"); DROP TABLE members; --".into()));
        }
    }

    #[test]
    fn bought_mistakes_are_pointed_at() {
        let at = |input: &str| parse(input).unwrap_err().position;
        assert_eq!(at("bought(LAMP, 30)"), 8);
        assert_eq!(at(r#"bought("LAMP" 30)"#), 15);
        assert_eq!(at(r#"bought("LAMP", 0)"#), 16);
        assert_eq!(at(r#"bought("LAMP", 3661)"#), 16);
        assert_eq!(at(r#"bought("LAMP", 30"#), 18);
        assert_eq!(at(r#"bought("", 30)"#), 8);
        assert!(parse("days_since_last_purchase >= \"x\"").is_err(), "a number is expected");
        assert!(parse("spend_90d in (1, 2)").is_ok());
    }
}
