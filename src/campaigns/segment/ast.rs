//! The segment language's vocabulary: the fields members are picked by (and the SQL behind
//! each), operators, values and the expression tree the parser builds and `sql.rs` compiles.

/// How a known field is stored and therefore which literals and operators it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// A text column; the payload is the SQL expression.
    Text(&'static str),
    Integer(&'static str),
    /// SQLite 0/1 INTEGER, PostgreSQL BOOLEAN.
    Bool(&'static str),
    /// Unix milliseconds.
    Date(&'static str),
    Installed,
    Platform,
    /// A figure of the member's linked sales (returns never count), compiled with `now` and
    /// the shop's currency as bound values.
    Purchases(Purchases),
}

/// The purchase figures a segment can compare with numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purchases {
    /// Whole days since the latest sale; no value (matching no comparison) without one.
    DaysSinceLast,
    /// Sales in the last 90 days.
    Count90d,
    /// Their totals in the shop's currency (minor units); other currencies are not added.
    Spend90d,
    /// Offer redemptions in the last 90 days, those reversed at the till not counted.
    OffersRedeemed90d,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FieldDef {
    pub name: &'static str,
    pub kind: FieldKind,
}

/// The SQL expressions only ever come from this table, never from the input.
pub(crate) const FIELDS: &[FieldDef] = &[
    FieldDef { name: "tier", kind: FieldKind::Text("m.tier") },
    FieldDef { name: "points", kind: FieldKind::Integer("m.points") },
    FieldDef { name: "store", kind: FieldKind::Text("m.home_store_id") },
    FieldDef { name: "language", kind: FieldKind::Text("m.language") },
    FieldDef { name: "source_flyer", kind: FieldKind::Text("m.source_flyer") },
    FieldDef { name: "source_store", kind: FieldKind::Text("m.source_store") },
    FieldDef { name: "source_channel", kind: FieldKind::Text("m.source_channel") },
    FieldDef { name: "email_verified", kind: FieldKind::Bool("m.email_verified") },
    FieldDef { name: "phone_verified", kind: FieldKind::Bool("m.phone_verified") },
    FieldDef { name: "joined_at", kind: FieldKind::Date("m.created_at") },
    FieldDef {
        name: "last_purchase_at",
        // Returns are not purchases.
        kind: FieldKind::Date("(SELECT MAX(r.issued_at) FROM receipts r WHERE r.member_id = m.id AND r.kind = 'sale')"),
    },
    FieldDef { name: "days_since_last_purchase", kind: FieldKind::Purchases(Purchases::DaysSinceLast) },
    FieldDef { name: "purchases_90d", kind: FieldKind::Purchases(Purchases::Count90d) },
    FieldDef { name: "spend_90d", kind: FieldKind::Purchases(Purchases::Spend90d) },
    FieldDef { name: "offers_redeemed_90d", kind: FieldKind::Purchases(Purchases::OffersRedeemed90d) },
    FieldDef { name: "installed", kind: FieldKind::Installed },
    FieldDef { name: "platform", kind: FieldKind::Platform },
];

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Field {
    Known(&'static FieldDef),
    /// A key of `m.attributes`, already checked against `[A-Za-z0-9_]{1,64}`.
    Attribute(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl Op {
    pub(crate) fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::NotIn => "not in",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `now` shifted by this many milliseconds; resolved when compiling so a saved segment stays relative.
    Now(i64),
    /// An absolute instant in unix milliseconds.
    Timestamp(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Comparison {
    pub field: Field,
    pub op: Op,
    /// One value, or the list of an `in`/`not in`.
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Comparison),
    /// `bought("SKU", days)`: a linked sale with a line of that SKU within the last `days` days.
    Bought {
        sku: String,
        days: i64,
    },
}
