//! The reward split of a real block: which coinbase outputs pay the miner (or, under PoN, the dev
//! fund), Cumulus, Nimbus, Stratus and the one-off funds, beside the amounts the era requires,
//! and every output or amount that breaks the era's rule.
//!
//! Without the FluxNode list a light client cannot predict each tier's payee, so a tier payment
//! is recognised by its exact amount (fluxd requires exactly the tier amount); fund and dev-fund
//! outputs are recognised by their address's script.

use thiserror::Error;

use super::params::{FundPayment, NetworkParams};
use super::subsidy::{self, Tier, TierAmounts};
use super::tx::Transaction;
use super::units::{Amount, Height};

/// A coinbase breaks a reward rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RewardError {
    /// The transaction is not a coinbase.
    #[error("transaction is not a coinbase")]
    NotCoinbase,
    /// An output value is negative or above `MAX_MONEY`, or the total overflows
    /// (`bad-txns-vout-negative`, `bad-txns-vout-toolarge`, `bad-txns-txouttotal-toolarge`).
    #[error("output values are outside the money range")]
    ValueOutOfRange,
    /// A one-off fund output is missing (`ContextualCheckTransaction`).
    #[error("no output pays the {fund} fund its {amount} flux")]
    MissingFundPayment {
        /// The fund.
        fund: &'static str,
        /// The required amount.
        amount: Amount,
    },
    /// Above height 2 the coinbase pays more than the fees, the subsidy and the funds due
    /// (`bad-cb-amount`).
    #[error("coinbase pays {value} flux, more than the {limit} allowed")]
    CoinbaseTooLarge {
        /// The coinbase's output total.
        value: Amount,
        /// Fees + subsidy + funds due.
        limit: Amount,
    },
    /// Under PoN the dev fund is paid less than required (or not at all).
    #[error("dev fund is paid {paid} flux, at least {required} required")]
    DevFundTooLow {
        /// Subsidy minus the tier amounts paid (at least `GetMinDevFundAmount`).
        required: Amount,
        /// The largest dev-fund output.
        paid: Amount,
    },
}

impl RewardError {
    /// fluxd's reject reason for the rule.
    pub fn rule(&self) -> &'static str {
        match self {
            RewardError::NotCoinbase => "bad-cb-missing",
            RewardError::ValueOutOfRange => "bad-txns-vout-toolarge",
            RewardError::MissingFundPayment { .. } => "tx-coinbase-missing-funding",
            RewardError::CoinbaseTooLarge { .. } => "bad-cb-amount",
            RewardError::DevFundTooLow { .. } => "tx-coinbase-missing-dev-funding",
        }
    }
}

/// What an output is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The miner (pre-PoN): the remainder plus fees.
    Miner,
    /// The PoN dev fund.
    DevFund,
    /// A FluxNode tier payment.
    Tier(Tier),
    /// A one-off fund.
    Fund(&'static str),
    /// Under PoN, an output that is none of the above.
    Other,
}

impl Role {
    /// Lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Miner => "miner",
            Role::DevFund => "dev fund",
            Role::Tier(t) => t.name(),
            Role::Fund(f) => f,
            Role::Other => "other",
        }
    }
}

/// One coinbase output and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRole {
    /// Output index.
    pub index: usize,
    /// Its value.
    pub value: Amount,
    /// What it is for.
    pub role: Role,
}

/// The split of one block's coinbase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardSplit {
    /// The block height.
    pub height: Height,
    /// The block subsidy.
    pub subsidy: Amount,
    /// The one-off funds due at this height.
    pub funds_due: Vec<&'static FundPayment>,
    /// Sum of the coinbase outputs.
    pub coinbase_value: Amount,
    /// Fees the coinbase claims: coinbase value − subsidy − funds due (a light client cannot
    /// see input values, so fees are inferred, not checked).
    pub claimed_fees: Amount,
    /// The tier amounts required, when payouts are deterministic at this height.
    pub required_tiers: Option<TierAmounts>,
    /// Tiers no output pays their exact amount: valid only if the tier has no payee (an empty
    /// list), which needs the FluxNode list to tell.
    pub unpaid_tiers: Vec<Tier>,
    /// The dev-fund minimum under PoN (subsidy − tiers paid).
    pub dev_fund_required: Option<Amount>,
    /// Every output with its role.
    pub outputs: Vec<OutputRole>,
    /// The rules broken (empty when the split is valid).
    pub violations: Vec<RewardError>,
}

impl RewardSplit {
    /// The total paid to outputs with `role`.
    pub fn paid_to(&self, role: Role) -> Amount {
        Amount::from_zat(
            self.outputs
                .iter()
                .filter(|o| o.role == role)
                .map(|o| o.value.to_zat())
                .sum(),
        )
    }

    /// Whether no rule is broken.
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The `scriptPubKey` of a transparent address (P2PKH or P2SH with this network's prefixes).
pub fn address_script(params: &NetworkParams, address: &str) -> Option<Vec<u8>> {
    let data = bs58::decode(address).with_check(None).into_vec().ok()?;
    if data.len() != 22 {
        return None;
    }
    let (prefix, hash) = data.split_at(2);
    if prefix == params.p2sh_prefix {
        Some([&[0xa9, 0x14][..], hash, &[0x87]].concat())
    } else if prefix == params.p2pkh_prefix {
        Some([&[0x76, 0xa9, 0x14][..], hash, &[0x88, 0xac]].concat())
    } else {
        None
    }
}

/// Splits a coinbase at `height`: recognises fund outputs by script and exact amount, tier
/// outputs by exact amount, the dev fund by script (PoN), and the rest as the miner's (PoW).
///
/// # Consensus
/// fluxd `src/fluxnode/fluxnode.cpp:789-890` (`CheckFluxnodePayout`), `src/main.cpp:1231-1302`
/// (`ContextualCheckTransaction`: dev fund, funds), `:2796-2939` (subsidy, tiers),
/// `:3877-3885` (payouts from `nStartFluxnodePaymentsHeight`); spec §10.
pub fn split_reward(params: &NetworkParams, height: Height, coinbase: &Transaction) -> RewardSplit {
    let subsidy = subsidy::block_subsidy(params, height);
    let funds_due = subsidy::funds_due(params, height);
    let required_tiers = subsidy::tier_amounts(params, height, subsidy);
    let pon = params.is_pon_active(height);
    let mut violations = Vec::new();
    if !coinbase.is_coinbase() {
        violations.push(RewardError::NotCoinbase);
    }
    let coinbase_value = coinbase.total_output_value().unwrap_or_else(|| {
        violations.push(RewardError::ValueOutOfRange);
        Amount::ZERO
    });
    let mut roles: Vec<Option<Role>> = vec![None; coinbase.outputs.len()];
    let script_matches = |i: usize, script: &Option<Vec<u8>>| {
        script.as_deref() == Some(coinbase.outputs[i].script_pubkey.as_slice())
    };

    let mut funds_total = Amount::ZERO;
    for fund in &funds_due {
        funds_total = funds_total.checked_add(fund.amount).unwrap_or(funds_total);
        let script = address_script(params, fund.address);
        let hit = (0..roles.len()).find(|&i| {
            roles[i].is_none()
                && coinbase.outputs[i].value == fund.amount
                && script_matches(i, &script)
        });
        match hit {
            Some(i) => roles[i] = Some(Role::Fund(fund.name)),
            None => violations.push(RewardError::MissingFundPayment {
                fund: fund.name,
                amount: fund.amount,
            }),
        }
    }

    let dev_script = pon
        .then(|| address_script(params, params.dev_fund_address))
        .flatten();
    let is_dev = |i: usize| pon && script_matches(i, &dev_script);
    let mut tiers_paid = Amount::ZERO;
    let mut unpaid_tiers = Vec::new();
    if let Some(req) = required_tiers {
        for tier in Tier::ALL {
            let amount = req.get(tier);
            // Prefer outputs after the first: vout[0] is the miner's (or dev fund's) by template.
            let candidates = (1..roles.len()).chain(0..1.min(roles.len()));
            let hit = candidates
                .into_iter()
                .find(|&i| roles[i].is_none() && !is_dev(i) && coinbase.outputs[i].value == amount);
            match hit {
                Some(i) => {
                    roles[i] = Some(Role::Tier(tier));
                    tiers_paid = tiers_paid.checked_add(amount).unwrap_or(tiers_paid);
                }
                // Only a tier with a payee must be paid (fluxd skips a tier whose list is
                // empty); without the FluxNode list that cannot be told, so it is noted, not
                // refused. Under PoN its share goes to the dev fund.
                None => unpaid_tiers.push(tier),
            }
        }
    }

    // CheckFluxnodePayout (from the payments height, PoN as IsPONActive sees it) requires the
    // remainder after the tiers paid; ContextualCheckTransaction (the PoN network upgrade, never
    // on regtest) the remainder after all three. The first implies the second.
    let payouts = params.fluxnode_payments_start.is_some_and(|h| height >= h);
    let mut dev_fund_required = None;
    if pon && (payouts || params.upgrades.pon.upgrade_active(height)) {
        let devs: Vec<usize> = (0..roles.len())
            .filter(|&i| roles[i].is_none() && is_dev(i))
            .collect();
        // A tier's payee may be the dev-fund script itself: fluxd tries the tiers before the dev
        // fund on every output. Pay unpaid tiers from dev-fund outputs of their exact amount
        // where that leaves a dev-fund output large enough.
        let values: Vec<Amount> = devs.iter().map(|&i| coinbase.outputs[i].value).collect();
        let unpaid: Vec<(Tier, Amount)> = match required_tiers {
            Some(req) if payouts => unpaid_tiers.iter().map(|&t| (t, req.get(t))).collect(),
            _ => Vec::new(),
        };
        let base = subsidy.checked_sub(tiers_paid).unwrap_or(Amount::ZERO);
        let best = best_dev_assignment(&unpaid, &values, base);
        for (k, tier) in best.iter().enumerate() {
            let i = devs[k];
            roles[i] = Some(match tier {
                Some(t) => {
                    unpaid_tiers.retain(|u| u != t);
                    let amount = coinbase.outputs[i].value;
                    tiers_paid = tiers_paid.checked_add(amount).unwrap_or(tiers_paid);
                    Role::Tier(*t)
                }
                None => Role::DevFund,
            });
        }
        let required = if payouts {
            subsidy.checked_sub(tiers_paid).unwrap_or(Amount::ZERO)
        } else {
            subsidy::min_dev_fund_amount(params, height).unwrap_or(Amount::ZERO)
        };
        let paid = (0..roles.len())
            .filter(|&i| roles[i] == Some(Role::DevFund))
            .map(|i| coinbase.outputs[i].value)
            .max()
            .unwrap_or(Amount::ZERO);
        if paid < required {
            violations.push(RewardError::DevFundTooLow { required, paid });
        }
        dev_fund_required = Some(required);
    }

    let rest = if pon { Role::Other } else { Role::Miner };
    let outputs = roles
        .into_iter()
        .enumerate()
        .map(|(index, role)| OutputRole {
            index,
            value: coinbase.outputs[index].value,
            role: role.unwrap_or(rest),
        })
        .collect();
    let claimed_fees =
        Amount::from_zat(coinbase_value.to_zat() - subsidy.to_zat() - funds_total.to_zat());
    RewardSplit {
        height,
        subsidy,
        funds_due,
        coinbase_value,
        claimed_fees,
        required_tiers,
        unpaid_tiers,
        dev_fund_required,
        outputs,
        violations,
    }
}

/// For each dev-fund output (by value), the unpaid tier it pays instead, if any: the assignment
/// (distinct tiers, exact amounts) after which the largest dev-fund output left covers
/// `base` minus the amounts so paid, preferring no reassignment. All `None` if none works.
///
/// # Consensus
/// fluxd `src/fluxnode/fluxnode.cpp:846-870` (each output is matched to the tiers first, then to
/// the dev fund if unused).
fn best_dev_assignment(
    unpaid: &[(Tier, Amount)],
    values: &[Amount],
    base: Amount,
) -> Vec<Option<Tier>> {
    fn ok(
        values: &[Amount],
        pick: &[Option<Tier>],
        unpaid: &[(Tier, Amount)],
        base: Amount,
    ) -> bool {
        let paid: i64 = pick
            .iter()
            .flatten()
            .filter_map(|t| unpaid.iter().find(|(u, _)| u == t).map(|(_, a)| a.to_zat()))
            .sum();
        let required = base.to_zat() - paid;
        (0..values.len()).any(|i| pick[i].is_none() && values[i].to_zat() >= required)
    }
    fn search(
        k: usize,
        pick: &mut Vec<Option<Tier>>,
        unpaid: &[(Tier, Amount)],
        values: &[Amount],
        base: Amount,
    ) -> bool {
        if k == values.len() {
            return ok(values, pick, unpaid, base);
        }
        pick.push(None);
        if search(k + 1, pick, unpaid, values, base) {
            return true;
        }
        for &(t, amount) in unpaid {
            if values[k] == amount && !pick.contains(&Some(t)) {
                pick[k] = Some(t);
                if search(k + 1, pick, unpaid, values, base) {
                    return true;
                }
            }
        }
        pick.pop();
        false
    }
    let mut pick = Vec::with_capacity(values.len());
    if unpaid.is_empty() || !search(0, &mut pick, unpaid, values, base) {
        return vec![None; values.len()];
    }
    pick
}

/// Above height 2 the coinbase pays at most the block's fees plus the subsidy plus the one-off
/// funds due at the height. The fees need the inputs' values: pass them when known (e.g.
/// [`super::block::Block::fees_without_inputs`]).
///
/// # Consensus
/// fluxd `src/main.cpp:4151-4159` (`ConnectBlock`, `bad-cb-amount`); spec §10.4.
pub fn check_coinbase_amount(
    params: &NetworkParams,
    height: Height,
    coinbase: &Transaction,
    fees: Amount,
) -> Result<(), RewardError> {
    if height.0 <= 2 {
        return Ok(());
    }
    let value = coinbase
        .total_output_value()
        .ok_or(RewardError::ValueOutOfRange)?;
    let limit = subsidy::funds_due(params, height)
        .iter()
        .try_fold(subsidy::block_subsidy(params, height), |a, f| {
            a.checked_add(f.amount)
        })
        .and_then(|a| a.checked_add(fees))
        .ok_or(RewardError::ValueOutOfRange)?;
    if value > limit {
        return Err(RewardError::CoinbaseTooLarge { value, limit });
    }
    Ok(())
}
