//! Loyalty: members, their cards and points, and the tier rules. Card numbers carry a Luhn
//! check digit (ISO/IEC 7812); phones are kept in E.164 (ITU-T) form, parsed with Google's
//! libphonenumber metadata; the member's loyalty pass shows the card number (in the barcode),
//! name, points and tier, and changes with them in the same transaction.

pub mod browse;
pub mod card;
pub mod consent;
pub mod contact;
mod input;
pub mod me;
pub mod members;
pub mod pass;
pub mod points;
pub mod provisional;
pub mod tiers;
pub mod verification;

use std::sync::Arc;

pub use contact::Country;
pub use tiers::TierRules;

use crate::mail::Mailer;
use crate::passes::Passes;
use crate::receipts::Receipts;

/// What the member life cycle works with: the passes, the receipts that wait for a verified
/// contact, the mailer, and the loyalty rules.
pub struct Loyalty {
    pub passes: Arc<Passes>,
    pub receipts: Arc<Receipts>,
    pub mailer: Arc<dyn Mailer>,
    /// The country of phone numbers written without one (PASSERELLE_DEFAULT_COUNTRY).
    pub default_country: Country,
    pub tiers: TierRules,
    /// PASSERELLE_POINTS_ALLOW_NEGATIVE.
    pub points_allow_negative: bool,
}
