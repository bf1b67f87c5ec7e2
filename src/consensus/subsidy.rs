//! Block subsidy at any height, the FluxNode tier amounts of each era, the PoN dev-fund minimum
//! and the one-off fund payments due at a height.

use super::params::{FundPayment, NetworkParams};
use super::units::{Amount, Height};

/// FluxNode tiers.
///
/// # Consensus
/// fluxd `src/fluxnode/fluxnode.h:123-129`; spec §10.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Tier 1 (formerly BASIC).
    Cumulus,
    /// Tier 2 (formerly SUPER).
    Nimbus,
    /// Tier 3 (formerly BAMF).
    Stratus,
}

impl Tier {
    /// All tiers, lowest first.
    pub const ALL: [Tier; 3] = [Tier::Cumulus, Tier::Nimbus, Tier::Stratus];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Cumulus => "cumulus",
            Tier::Nimbus => "nimbus",
            Tier::Stratus => "stratus",
        }
    }

    /// Pre-PoN share of the subsidy (before the ×2 of the FLUX upgrade).
    fn pow_percentage(self) -> f64 {
        match self {
            Tier::Cumulus => 0.0375,
            Tier::Nimbus => 0.0625,
            Tier::Stratus => 0.15,
        }
    }

    /// PoN numerator, in zatoshi, over 14 FLUX.
    fn pon_numerator(self) -> i64 {
        match self {
            Tier::Cumulus => 100_000_000,
            Tier::Nimbus => 350_000_000,
            Tier::Stratus => 900_000_000,
        }
    }
}

impl Tier {
    /// The V1 collateral (10,000 / 25,000 / 100,000 FLUX).
    ///
    /// # Consensus
    /// fluxd `src/fluxnode/fluxnode.h:57-59` (`V1_FLUXNODE_COLLAT_*`).
    pub const fn collateral_v1(self) -> Amount {
        match self {
            Tier::Cumulus => Amount::from_flux(10_000),
            Tier::Nimbus => Amount::from_flux(25_000),
            Tier::Stratus => Amount::from_flux(100_000),
        }
    }

    /// The V2 collateral (1,000 / 12,500 / 40,000 FLUX).
    ///
    /// # Consensus
    /// fluxd `src/fluxnode/fluxnode.h:61-63` (`V2_FLUXNODE_COLLAT_*`).
    pub const fn collateral_v2(self) -> Amount {
        match self {
            Tier::Cumulus => Amount::from_flux(1_000),
            Tier::Nimbus => Amount::from_flux(12_500),
            Tier::Stratus => Amount::from_flux(40_000),
        }
    }

    fn index(self) -> usize {
        match self {
            Tier::Cumulus => 0,
            Tier::Nimbus => 1,
            Tier::Stratus => 2,
        }
    }
}

/// The collateral amounts a `tier` node may lock at `height`: V1 before its transition window,
/// both inside it, V2 from its end.
///
/// # Consensus
/// fluxd `src/coins.cpp:774-809` (`GetCoinAmountsByTier`), `src/chainparams.cpp:308-315`.
pub fn collateral_amounts(params: &NetworkParams, height: Height, tier: Tier) -> Vec<Amount> {
    let w = params.collateral_transitions[tier.index()];
    if height < w.begin {
        vec![tier.collateral_v1()]
    } else if height < w.end {
        vec![tier.collateral_v1(), tier.collateral_v2()]
    } else {
        vec![tier.collateral_v2()]
    }
}

/// The tier a collateral `amount` makes a node at `height`, if any (exact amounts only).
///
/// # Consensus
/// fluxd `src/coins.cpp:754-772` (`GetCoinTierFromAmount`), called from
/// `CheckFluxnodeTxInput` (`:630-686`).
pub fn tier_from_collateral(
    params: &NetworkParams,
    height: Height,
    amount: Amount,
) -> Option<Tier> {
    // fluxd fills an amount → tier map in tier order, so a later tier wins a shared amount.
    Tier::ALL
        .into_iter()
        .rev()
        .find(|&t| collateral_amounts(params, height, t).contains(&amount))
}

/// The amount each tier must be paid at one height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierAmounts {
    /// Cumulus.
    pub cumulus: Amount,
    /// Nimbus.
    pub nimbus: Amount,
    /// Stratus.
    pub stratus: Amount,
}

impl TierAmounts {
    /// The amount of one tier.
    pub fn get(&self, tier: Tier) -> Amount {
        match tier {
            Tier::Cumulus => self.cumulus,
            Tier::Nimbus => self.nimbus,
            Tier::Stratus => self.stratus,
        }
    }

    /// The sum of the three.
    pub fn total(&self) -> Amount {
        Amount::from_zat(self.cumulus.to_zat() + self.nimbus.to_zat() + self.stratus.to_zat())
    }
}

/// The block subsidy (fees excluded) at `height`.
///
/// # Consensus
/// fluxd `src/main.cpp:2796-2853` (`GetBlockSubsidy`), `src/chainparams.cpp:156-158`;
/// spec §10.1–§10.2.
pub fn block_subsidy(params: &NetworkParams, height: Height) -> Amount {
    if params.is_pon_active(height) {
        return pon_subsidy(params, height);
    }
    let s = &params.subsidy;
    if let Some((h, premine)) = s.premine
        && h == height
    {
        return premine;
    }
    let base = s.pow_base.to_zat();
    let ssi = i64::from(s.slow_start_interval);
    let h = i64::from(height.0);
    if ssi > 0 && h < ssi / 2 {
        return Amount::from_zat(base / ssi * h);
    }
    if ssi > 0 && h < ssi {
        return Amount::from_zat(base / ssi * (h + 1));
    }
    let halvings = ((h - ssi / 2) / i64::from(s.halving_interval)).min(i64::from(s.max_halvings));
    Amount::from_zat(base >> halvings)
}

/// The PoN subsidy: 14 FLUX cut by 10 % (integer) for each completed reduction interval since
/// the PoN height, at most `pon_max_reductions` times.
///
/// # Consensus
/// fluxd `src/main.cpp:2796-2815`, `src/chainparams.cpp:156-158`; spec §10.2.
pub fn pon_subsidy(params: &NetworkParams, height: Height) -> Amount {
    let s = &params.subsidy;
    let since = (i64::from(height.0) - params.upgrades.pon.fluxd_height()).max(0);
    let reductions =
        (since / i64::from(s.pon_reduction_interval)).min(i64::from(s.pon_max_reductions));
    let mut v = s.pon_initial.to_zat();
    for _ in 0..reductions {
        v = v * 9 / 10;
    }
    Amount::from_zat(v)
}

/// The tier amounts at `height` for a block whose subsidy is `subsidy`, or `None` before
/// deterministic payouts are consensus.
///
/// Pre-PoN: subsidy × (percentage × multiple) in IEEE double, truncated; the multiple is 2 from
/// the FLUX upgrade. PoN: ⌊subsidy · {1, 3.5, 9}·COIN / 14·COIN⌋ in 64-bit integers.
///
/// # Consensus
/// fluxd `src/main.cpp:2886-2939` (`GetFluxnodeSubsidy`), `:3877-3885`; spec §10.3–§10.4.
pub fn tier_amounts(
    params: &NetworkParams,
    height: Height,
    subsidy: Amount,
) -> Option<TierAmounts> {
    if params.fluxnode_payments_start.is_none_or(|h| height < h) {
        return None;
    }
    let pon = params.is_pon_active(height);
    let flux = params.upgrades.flux.is_some_and(|h| height >= h);
    let amount = |tier: Tier| {
        let zat = if pon {
            subsidy.to_zat() * tier.pon_numerator() / 1_400_000_000
        } else {
            let multiple = if flux { 2.0 } else { 1.0 };
            (subsidy.to_zat() as f64 * (tier.pow_percentage() * multiple)) as i64
        };
        Amount::from_zat(zat)
    };
    Some(TierAmounts {
        cumulus: amount(Tier::Cumulus),
        nimbus: amount(Tier::Nimbus),
        stratus: amount(Tier::Stratus),
    })
}

/// The PoN dev-fund minimum: subsidy minus all three tier amounts (`GetMinDevFundAmount`);
/// `None` before PoN.
///
/// # Consensus
/// fluxd `src/main.cpp:1231-1250, 2886-2939`; spec §10.3–§10.4.
pub fn min_dev_fund_amount(params: &NetworkParams, height: Height) -> Option<Amount> {
    if !params.is_pon_active(height) {
        return None;
    }
    let subsidy = block_subsidy(params, height);
    let tiers = tier_amounts(params, height, subsidy)?;
    subsidy.checked_sub(tiers.total())
}

/// The one-off fund payments due at `height`.
///
/// # Consensus
/// fluxd `src/main.cpp:1252-1302, 2941-2962` (`IsSwapPoolInterval`); spec §10.5.
pub fn funds_due(params: &NetworkParams, height: Height) -> Vec<&'static FundPayment> {
    params
        .funds
        .iter()
        .filter(|f| {
            let Some(d) = height.0.checked_sub(f.height.0) else {
                return false;
            };
            if f.times <= 1 || f.interval == 0 {
                return d == 0;
            }
            d % f.interval == 0 && d / f.interval < f.times
        })
        .collect()
}
