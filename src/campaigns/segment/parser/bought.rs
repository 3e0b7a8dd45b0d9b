//! `bought("SKU", days)`: the one call of the segment language, a condition of its own (no
//! operator; `not bought(...)` for the members who did not).

use super::{Parser, err};
use crate::campaigns::segment::SegmentError;
use crate::campaigns::segment::ast::Expr;
use crate::campaigns::segment::lexer::Tok;

/// The longest look-back `bought` accepts, in days (ten years).
pub(crate) const MAX_BOUGHT_DAYS: i64 = 3_660;

const USAGE: &str = "write bought(\"SKU\", days), e.g. bought(\"LAMP-1\", 30)";

impl Parser {
    /// After the name `bought` at `pos`, with `(` next.
    pub(super) fn bought(&mut self, pos: usize) -> Result<Expr, SegmentError> {
        self.next();
        let sku = self.next();
        let Tok::Str(sku_text) = sku.tok else {
            return Err(err(sku.pos, format!("expected the SKU in double quotes, found {}; {USAGE}", sku.describe())));
        };
        if sku_text.is_empty() {
            return Err(err(sku.pos, format!("the SKU is empty; {USAGE}")));
        }
        let comma = self.next();
        if comma.tok != Tok::Comma {
            return Err(err(
                comma.pos,
                format!("expected \",\" and a number of days, found {}; {USAGE}", comma.describe()),
            ));
        }
        let days = self.next();
        let Tok::Int(n) = days.tok else {
            return Err(err(days.pos, format!("expected a whole number of days, found {}; {USAGE}", days.describe())));
        };
        if !(1..=MAX_BOUGHT_DAYS).contains(&n) {
            return Err(err(days.pos, format!("the number of days must be from 1 to {MAX_BOUGHT_DAYS}")));
        }
        let close = self.next();
        if close.tok != Tok::RParen {
            return Err(err(
                close.pos,
                format!("expected \")\" to close the \"(\" of bought at position {pos}, found {}", close.describe()),
            ));
        }
        Ok(Expr::Bought { sku: sku_text, days: n })
    }
}
