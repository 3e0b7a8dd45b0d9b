//! The SQL dialect, each piece written once with its SQLite and its PostgreSQL text side by
//! side; `pick!`, defined by the including backend (`sqlite.rs`, `postgres.rs`), keeps one at
//! compile time. SQLite needs no row locks: its write transactions (`BEGIN IMMEDIATE`) hold the
//! database's write lock. PostgreSQL locks rows until commit and shares queues with `SKIP LOCKED`.

/// A row lock for the rest of the transaction: on PostgreSQL a writer's lock that leaves
/// foreign-key checks alone, so a concurrent change waits, then reads this one's result.
macro_rules! lock_rows {
    () => {
        pick! { sqlite: [""] postgres: [" FOR NO KEY UPDATE"] }
    };
}

/// Claims rows no other claim holds (several processes share a queue; none takes a row twice);
/// `skip_locked!("r")` claims only the rows of `r` in a join. SQLite has one writer.
macro_rules! skip_locked {
    () => {
        pick! { sqlite: [""] postgres: [" FOR UPDATE SKIP LOCKED"] }
    };
    ($t:literal) => {
        pick! { sqlite: [""] postgres: [concat!(" FOR UPDATE OF ", $t, " SKIP LOCKED")] }
    };
}

/// Names the index SQLite must use (its planner picks a worse one there); PostgreSQL chooses well.
macro_rules! indexed_by {
    ($i:literal) => {
        pick! { sqlite: [concat!(" INDEXED BY ", $i)] postgres: [""] }
    };
}

/// A bound JSON parameter: text on SQLite, JSONB on PostgreSQL.
macro_rules! jsonb {
    ($($p:tt)*) => {
        pick! { sqlite: [concat!($($p)*)] postgres: [concat!("CAST(", $($p)*, " AS JSONB)")] }
    };
}

/// A JSON column read as text, under its own name.
macro_rules! json_text {
    ($c:literal) => {
        pick! { sqlite: [$c] postgres: [concat!($c, "::text AS ", $c)] }
    };
}

/// The larger of its arguments.
macro_rules! greatest {
    () => {
        pick! { sqlite: ["MAX"] postgres: ["GREATEST"] }
    };
}

/// The rows of a bound JSON array of arrays, as table `j`; `jv!(i)` is the `i`th cell of a row.
/// On PostgreSQL JSONB, parsed once: a JSON row would be parsed again for every cell read (a
/// batch of 2,000 holders' updates took twice as long).
macro_rules! json_rows {
    ($p:literal) => {
        pick! {
            sqlite: [concat!("json_each(", $p, ") AS j")]
            postgres: [concat!("jsonb_array_elements(CAST(", $p, " AS JSONB)) AS j (value)")]
        }
    };
}

/// Cell `i` of a `json_rows!` row (text on PostgreSQL; a JSON `null` is SQL NULL).
macro_rules! jv {
    ($i:literal) => {
        pick! { sqlite: [concat!("json_extract(j.value, '$[", $i, "]')")] postgres: [concat!("(j.value->>", $i, ")")] }
    };
}

/// One row per `key` in an `INSERT … SELECT … ON CONFLICT DO UPDATE`: PostgreSQL refuses to
/// update a row twice in one statement, and the fixed order makes concurrent enqueues lock
/// waiting jobs alike; SQLite applies the rows one by one under its write lock and needs
/// neither (the grouping cost it a third more on a 20,000-device enqueue).
macro_rules! one_row_per {
    ($key:literal) => {
        pick! { sqlite: [""] postgres: [concat!(" GROUP BY ", $key, " ORDER BY ", $key)] }
    };
}

/// A column of a `one_row_per!` select: any of the group's values (they agree) on PostgreSQL.
macro_rules! any_of {
    ($($c:tt)*) => {
        pick! { sqlite: [concat!($($c)*)] postgres: [concat!("MAX(", $($c)*, ")")] }
    };
}
