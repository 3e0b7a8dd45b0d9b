//! Whom a campaign may reach: every member (`hq`) or one store's (`store:<id>`), as stored on
//! the campaign.

use std::fmt;

/// A campaign's audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Head office's: every member.
    Hq,
    /// One store's own members (its campaigns wait for head office's approval).
    Store(String),
}

impl Audience {
    /// Parses `hq` or `store:<id>`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hq" => Some(Self::Hq),
            _ => text.strip_prefix("store:").filter(|id| !id.is_empty()).map(|id| Self::Store(id.to_owned())),
        }
    }

    pub fn store_id(&self) -> Option<&str> {
        match self {
            Self::Hq => None,
            Self::Store(id) => Some(id),
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hq => f.write_str("hq"),
            Self::Store(id) => write!(f, "store:{id}"),
        }
    }
}
