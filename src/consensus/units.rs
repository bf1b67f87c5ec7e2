//! Small consensus value types: block heights and FLUX amounts with checked arithmetic.

use std::fmt;

/// A block height (genesis is 0).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct Height(pub u32);

impl Height {
    /// The genesis height.
    pub const GENESIS: Height = Height(0);

    /// The height as a `u32`.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The parent's height, or `None` at genesis.
    pub fn prev(self) -> Option<Height> {
        self.0.checked_sub(1).map(Height)
    }

    /// The next height.
    pub fn next(self) -> Height {
        Height(self.0 + 1)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An amount in zatoshi (1 FLUX = 10^8 zatoshi). Arithmetic is checked: `None` on overflow.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct Amount(i64);

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);
    /// One FLUX (`COIN`).
    ///
    /// # Consensus
    /// fluxd `src/amount.h` (`COIN = 100000000`).
    pub const COIN: Amount = Amount(100_000_000);
    /// `MAX_MONEY`: a per-amount range check, not a supply cap.
    ///
    /// # Consensus
    /// fluxd `src/amount.h:31`; spec §10.7.
    pub const MAX_MONEY: Amount = Amount(440_000_000 * 100_000_000);

    /// From zatoshi.
    pub const fn from_zat(zat: i64) -> Self {
        Amount(zat)
    }

    /// Whole FLUX.
    pub const fn from_flux(flux: i64) -> Self {
        Amount(flux * 100_000_000)
    }

    /// In zatoshi.
    pub const fn to_zat(self) -> i64 {
        self.0
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// `self − other`, `None` on overflow.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// `self × n`, `None` on overflow.
    pub fn checked_mul(self, n: i64) -> Option<Amount> {
        self.0.checked_mul(n).map(Amount)
    }

    /// Whether `0 ≤ self ≤ MAX_MONEY` (`MoneyRange`).
    pub fn is_in_money_range(self) -> bool {
        (0..=Self::MAX_MONEY.0).contains(&self.0)
    }
}

impl fmt::Display for Amount {
    /// `12.34500000` (FLUX with eight decimals).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:08}", abs / 100_000_000, abs % 100_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_displays_flux_with_eight_decimals() {
        assert_eq!(Amount::from_zat(562_500_000).to_string(), "5.62500000");
        assert_eq!(Amount::from_zat(-1).to_string(), "-0.00000001");
    }

    #[test]
    fn amount_arithmetic_is_checked() {
        assert_eq!(
            Amount::from_zat(i64::MAX).checked_add(Amount::from_zat(1)),
            None
        );
        assert_eq!(
            Amount::from_zat(i64::MIN).checked_sub(Amount::from_zat(1)),
            None
        );
        assert!(!Amount::from_zat(-1).is_in_money_range());
    }
}
