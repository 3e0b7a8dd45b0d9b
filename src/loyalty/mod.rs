//! Loyalty: members, their cards and points, and the tier rules. Card numbers carry a Luhn
//! check digit (ISO/IEC 7812); phones are kept in E.164 (ITU-T) form, parsed with Google's
//! libphonenumber metadata; the member's loyalty pass shows the card number (in the barcode),
//! name, points and tier, and changes with them in the same transaction.

pub mod card;
pub mod consent;
pub mod contact;
mod input;
pub mod me;
pub mod members;
pub mod pass;
pub mod tiers;
pub mod verification;

pub use contact::Country;
pub use tiers::TierRules;
