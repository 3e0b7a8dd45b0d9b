//! The connection cap fitted to the process's open-file limit (`ulimit -n`): connections past
//! it would fail to be accepted (EMFILE), and take the database's and APNs's sockets with them.

/// Descriptors kept for everything but client connections: the database pool, APNs, Google,
/// SMTP, webhooks, templates, logs.
const RESERVED: usize = 256;

/// The cap to use: `wanted`, or less when the soft open-file limit is known and smaller.
pub fn fit(wanted: usize) -> usize {
    let Some(limit) = soft_limit() else { return wanted };
    let room = limit.saturating_sub(RESERVED.min(limit / 2)).max(1);
    if room < wanted {
        tracing::info!(
            wanted,
            cap = room,
            open_file_limit = limit,
            "PASSERELLE_MAX_CONNECTIONS lowered to fit the open-file limit (raise `ulimit -n` to allow more)"
        );
        return room;
    }
    wanted
}

/// The soft "Max open files" of this process, on Linux (elsewhere: unknown).
fn soft_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cap_leaves_room_under_the_open_file_limit() {
        if let Some(limit) = super::soft_limit() {
            assert!(super::fit(usize::MAX) < limit);
            assert_eq!(super::fit(3), 3.min(super::fit(usize::MAX)));
        }
    }
}
