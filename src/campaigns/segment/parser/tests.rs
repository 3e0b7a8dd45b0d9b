//! Parser tests: valid segments, and each mistake with its exact position.

use super::*;
use crate::campaigns::segment::ast::FIELDS;

fn field(name: &str) -> Field {
    resolve_field(name, 1).unwrap()
}

fn cmp(name: &str, op: Op, values: Vec<Value>) -> Expr {
    Expr::Cmp(Comparison { field: field(name), op, values })
}

fn error_at(input: &str) -> (usize, String) {
    let e = parse_expr(input).unwrap_err();
    (e.position, e.message)
}

#[test]
fn parses_the_marketing_example() {
    let expr = parse_expr(
        r#"tier = "premium" and points >= 300 and store in ("paris-01", "lyon-02") and installed = true and platform = "apple""#,
    )
    .unwrap();
    assert_eq!(
        expr,
        Expr::And(vec![
            cmp("tier", Op::Eq, vec![Value::Text("premium".into())]),
            cmp("points", Op::Ge, vec![Value::Int(300)]),
            cmp("store", Op::In, vec![Value::Text("paris-01".into()), Value::Text("lyon-02".into())]),
            cmp("installed", Op::Eq, vec![Value::Bool(true)]),
            cmp("platform", Op::Eq, vec![Value::Text("apple".into())]),
        ])
    );
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let expr = parse_expr(r#"tier = "a" or points > 1 and not installed = true"#).unwrap();
    assert_eq!(
        expr,
        Expr::Or(vec![
            cmp("tier", Op::Eq, vec![Value::Text("a".into())]),
            Expr::And(vec![
                cmp("points", Op::Gt, vec![Value::Int(1)]),
                Expr::Not(Box::new(cmp("installed", Op::Eq, vec![Value::Bool(true)]))),
            ]),
        ])
    );
}

#[test]
fn keywords_are_case_insensitive() {
    let lower = parse_expr(r#"tier = "a" and not (installed = true or email_verified = false)"#).unwrap();
    let upper = parse_expr(r#"tier = "a" AND NoT (installed = TRUE Or email_verified = False)"#).unwrap();
    assert_eq!(lower, upper);
    assert!(parse_expr(r#"joined_at > NOW - 3d"#).is_ok());
    assert!(parse_expr(r#"store NOT IN ("a")"#).is_ok());
}

#[test]
fn field_names_and_values_are_case_sensitive() {
    assert_eq!(error_at(r#"Tier = "a""#).0, 1);
    assert_eq!(parse_expr(r#"tier = "Premium""#).unwrap(), cmp("tier", Op::Eq, vec![Value::Text("Premium".into())]));
}

#[test]
fn parses_nested_parentheses_and_not_in() {
    let expr = parse_expr(r#"((store not in ("a", "b")) and ((points < -5.5)))"#).unwrap();
    assert_eq!(
        expr,
        Expr::And(vec![
            cmp("store", Op::NotIn, vec![Value::Text("a".into()), Value::Text("b".into())]),
            cmp("points", Op::Lt, vec![Value::Float(-5.5)]),
        ])
    );
    let deepest = format!("{}tier = \"a\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse_expr(&deepest).is_ok());
}

#[test]
fn parses_dates() {
    let day = 86_400_000;
    assert_eq!(
        parse_expr("last_purchase_at < now - 90d").unwrap(),
        cmp("last_purchase_at", Op::Lt, vec![Value::Now(-90 * day)])
    );
    assert_eq!(parse_expr("joined_at >= now + 2h").unwrap(), cmp("joined_at", Op::Ge, vec![Value::Now(7_200_000)]));
    assert_eq!(parse_expr("joined_at >= now").unwrap(), cmp("joined_at", Op::Ge, vec![Value::Now(0)]));
    assert_eq!(parse_expr("joined_at < now - 1w").unwrap(), cmp("joined_at", Op::Lt, vec![Value::Now(-7 * day)]));
    assert_eq!(
        parse_expr(r#"joined_at < "2026-01-31""#).unwrap(),
        cmp("joined_at", Op::Lt, vec![Value::Timestamp(1_769_817_600_000)])
    );
    assert_eq!(
        parse_expr(r#"joined_at < "2026-01-31T02:00:00+02:00""#).unwrap(),
        cmp("joined_at", Op::Lt, vec![Value::Timestamp(1_769_817_600_000)])
    );
    assert_eq!(
        parse_expr(r#"joined_at in ("2026-01-31", now - 30m)"#).unwrap(),
        cmp("joined_at", Op::In, vec![Value::Timestamp(1_769_817_600_000), Value::Now(-1_800_000)])
    );
}

#[test]
fn parses_attributes() {
    assert_eq!(
        parse_expr(r#"attributes.vip = true"#).unwrap(),
        Expr::Cmp(Comparison { field: Field::Attribute("vip".into()), op: Op::Eq, values: vec![Value::Bool(true)] })
    );
    assert!(parse_expr(r#"attributes.2fa_Level >= 2.5"#).is_ok());
    assert!(parse_expr(r#"attributes.city in ("Paris", "Lyon")"#).is_ok());
    let long = format!("attributes.{} = 1", "a".repeat(64));
    assert!(parse_expr(&long).is_ok());
    let too_long = format!("attributes.{} = 1", "a".repeat(65));
    assert_eq!(error_at(&too_long).0, 1);
}

#[test]
fn error_display_reads_well() {
    let e = parse_expr("points >=").unwrap_err();
    assert_eq!(e.to_string(), "at position 10: expected a value after \">=\", found end of input");
}

#[test]
fn reports_exact_positions() {
    let cases: &[(&str, usize)] = &[
        // unterminated string: points at the opening quote
        (r#"tier = "premium"#, 8),
        // unknown fields
        (r#"tiers = "a""#, 1),
        (r#"points > 3 and colour = "red""#, 16),
        // missing values
        ("points >=", 10),
        (r#"store in ("a", )"#, 16),
        (r#"store in ()"#, 11),
        (r#"tier ="#, 7),
        // missing operator
        (r#"tier "a""#, 6),
        // platform: bad operator and bad value
        (r#"platform > "apple""#, 10),
        (r#"platform = "windows""#, 12),
        (r#"platform in ("apple", "windows")"#, 23),
        // type mismatches point at the literal
        (r#"points = "x""#, 10),
        ("tier > 3", 8),
        (r#"installed = "yes""#, 13),
        (r#"email_verified = 1"#, 18),
        ("joined_at > 5", 13),
        (r#"joined_at > "yesterday""#, 13),
        ("tier = now", 8),
        // text fields offer equality only
        (r#"tier > "gold""#, 6),
        (r#"attributes.flag > true"#, 17),
        (r#"attributes.a in ("x", 1)"#, 23),
        // trailing garbage and unbalanced parentheses
        (r#"tier = "a" points > 3"#, 12),
        (r#"tier = "a")"#, 11),
        (r#"(tier = "a""#, 12),
        (r#"tier = "a" and"#, 15),
        // single quotes
        ("tier = 'gold'", 8),
        // bare word instead of text
        ("tier = premium", 8),
        // durations
        ("joined_at > now - 90", 19),
        ("joined_at > now - 3y", 20),
        ("joined_at > 90d", 13),
        // attribute names
        ("attributes.a;drop = 1", 13),
        ("attributes.a.b = 1", 1),
        ("attributes. = 1", 1),
        // empty
        ("", 1),
        ("   ", 4),
    ];
    for (input, position) in cases {
        let (got, message) = error_at(input);
        assert_eq!(got, *position, "input {input:?} gave: {message}");
    }
}

#[test]
fn limits_depth_length_and_list_size() {
    let too_deep = format!("{}tier = \"a\"{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_eq!(error_at(&too_deep).0, MAX_DEPTH + 1);
    let nots = format!("{}tier = \"a\"", "not ".repeat(MAX_DEPTH + 1));
    assert_eq!(error_at(&nots).0, MAX_DEPTH * 4 + 1);
    // Deep nesting far past the limit must fail cleanly, not overflow the stack.
    let very_deep = "(".repeat(3_999);
    assert_eq!(error_at(&very_deep).0, MAX_DEPTH + 1);

    let long = format!("tier = \"{}\"", "a".repeat(MAX_INPUT_CHARS));
    assert_eq!(error_at(&long).0, MAX_INPUT_CHARS + 1);
    let fits = format!("tier = \"{}\"", "a".repeat(MAX_INPUT_CHARS - 9));
    assert!(parse_expr(&fits).is_ok());

    let list = format!("points in ({})", vec!["1"; MAX_LIST_VALUES + 1].join(","));
    // "points in (" is 11 characters and each value takes two.
    assert_eq!(error_at(&list).0, 12 + 2 * MAX_LIST_VALUES);
    assert!(parse_expr(&format!("points in ({})", vec!["1"; MAX_LIST_VALUES].join(","))).is_ok());
}

#[test]
fn unknown_field_lists_known_fields() {
    let (_, message) = error_at(r#"colour = "red""#);
    for def in FIELDS {
        assert!(message.contains(def.name), "{message}");
    }
    assert!(message.contains("attributes.<name>"));
}
