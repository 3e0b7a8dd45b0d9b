//! Offer settings (`PASSERELLE_OFFER_*`).

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Offers {
    /// Minutes after a redemption during which the store that made it may reverse it (a sale cancelled at the till); 0: never.
    #[arg(
        id = "offer_reverse_minutes",
        long = "offer-reverse-minutes",
        value_name = "OFFER_REVERSE_MINUTES",
        env = "PASSERELLE_OFFER_REVERSE_MINUTES",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(0..=10_080),
        global = true
    )]
    pub reverse_minutes: u64,
}
