//! Which chain a light-client command works on, and where its store lives: `--network
//! main|test|regtest`, or `--chain FILE` with the parameters of any other chain that reuses
//! Flux's rules, and `--datadir`.
//!
//! A chain file is TOML. `base` names the built-in network every parameter not in the file
//! comes from; unknown keys are refused (a typo must not silently fall back to mainnet).
//! Hashes and targets are display hex, `p2p_magic` the four message-start bytes in wire order.
//! `tests/vectors/testchain/chain.toml` is a complete example.
//!
//! ```toml
//! name = "my-chain"
//! base = "main"
//! genesis_hash = "…"   # display hex
//! genesis_time = 1600000000
//! genesis_bits = "200000ff"
//! equihash = ["48,5", "48,5", "48,5"]
//! [upgrades]
//! lwma = 40
//! pon = 300            # or "genesis" (fluxd's NO_ACTIVATION_HEIGHT)
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::consensus::BlockHash;
use crate::consensus::hash::TxId;
use crate::consensus::params::{Checkpoint, FundPayment, NetworkParams, PonActivation};
use crate::consensus::target::{CompactTarget, Target};
use crate::consensus::units::{Amount, Height};
use crate::equihash;

/// Why a chain file cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ChainFileError {
    /// Not valid TOML, a missing or unknown key, or a value of the wrong type.
    #[error("chain file: {0}")]
    Toml(#[from] toml::de::Error),
    /// `base` is not a built-in network.
    #[error("chain file: unknown base network {0:?} (main, test or regtest)")]
    UnknownBase(String),
    /// A value that does not decode.
    #[error("chain file: {key}: {reason}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// `--network` or `--chain`: whose rules apply (every light-client command).
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Network whose rules apply: main, test or regtest.
    #[arg(long, default_value = "main", conflicts_with = "chain")]
    pub network: String,
    /// A TOML file with the parameters of another chain that reuses Flux's rules.
    #[arg(long, value_name = "FILE")]
    pub chain: Option<PathBuf>,
}

impl NetworkArgs {
    /// The chain's parameters (a chain file's are loaded once and live for the process).
    ///
    /// # Errors
    /// An unknown network, or a chain file that cannot be read or used.
    pub fn params(&self) -> anyhow::Result<&'static NetworkParams> {
        match &self.chain {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read chain file {}: {e}", path.display())
                })?;
                let p = parse_chain_file(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                Ok(Box::leak(Box::new(p)))
            }
            None => NetworkParams::by_name(&self.network).ok_or_else(|| {
                anyhow::anyhow!("unknown network {:?} (main, test or regtest)", self.network)
            }),
        }
    }
}

/// `--network` or `--chain`, and `--datadir` (the commands with a store).
#[derive(Debug, Clone, clap::Args)]
pub struct ChainArgs {
    /// Whose rules apply.
    #[command(flatten)]
    pub rules: NetworkArgs,
    /// Where the store lives (default: ~/.fluxminer/NETWORK).
    #[arg(long, value_name = "DIR")]
    pub datadir: Option<PathBuf>,
}

impl ChainArgs {
    /// The chain's parameters: see [`NetworkArgs::params`].
    ///
    /// # Errors
    /// As [`NetworkArgs::params`].
    pub fn params(&self) -> anyhow::Result<&'static NetworkParams> {
        self.rules.params()
    }

    /// The data directory for `params`.
    pub fn datadir(&self, params: &NetworkParams) -> PathBuf {
        self.datadir.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(".fluxminer").join(params.name)
        })
    }

    /// The store file in the data directory.
    pub fn store_path(&self, params: &NetworkParams) -> PathBuf {
        store_file(&self.datadir(params))
    }
}

/// The store file inside a data directory.
pub fn store_file(datadir: &Path) -> PathBuf {
    datadir.join("chain.redb")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainFile {
    name: String,
    base: String,
    genesis_hash: String,
    genesis_time: u32,
    genesis_bits: String,
    pow_limit: Option<String>,
    pon_limit: Option<String>,
    pon_start_limit: Option<String>,
    check_pow_target: Option<bool>,
    check_pon_target: Option<bool>,
    lwma_window: Option<i64>,
    pon_window: Option<i64>,
    equihash: Option<[String; 3]>,
    fluxnode_payments_start: Option<u32>,
    dev_fund_address: Option<String>,
    p2pkh_prefix: Option<String>,
    p2sh_prefix: Option<String>,
    p2p_magic: Option<String>,
    p2p_port: Option<u16>,
    rpc_port: Option<u16>,
    test_node_collateral: Option<String>,
    checkpoints: Option<Vec<(u32, String)>>,
    funds: Option<Vec<FundEntry>>,
    upgrades: Option<UpgradesEntry>,
    emergency: Option<EmergencyEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FundEntry {
    name: String,
    height: u32,
    amount_zat: i64,
    address: String,
    times: u32,
    interval: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpgradesEntry {
    lwma: Option<u32>,
    equi144_5: Option<u32>,
    acadia: Option<u32>,
    kamiooka: Option<u32>,
    kamata: Option<u32>,
    flux: Option<u32>,
    halving: Option<u32>,
    p2sh_nodes: Option<u32>,
    pon: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmergencyEntry {
    public_keys: Vec<String>,
    min_signatures: usize,
    collateral_hash: String,
    skip_signature_check: Option<bool>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn bad(key: &'static str, reason: impl std::fmt::Display) -> ChainFileError {
    ChainFileError::BadValue {
        key,
        reason: reason.to_string(),
    }
}

fn target(key: &'static str, s: &str) -> Result<Target, ChainFileError> {
    if s.len() != 64 {
        return Err(bad(key, "expected 64 hex digits"));
    }
    ruint::aliases::U256::from_str_radix(s, 16)
        .map(Target::from_uint)
        .map_err(|e| bad(key, e))
}

fn hash(key: &'static str, s: &str) -> Result<BlockHash, ChainFileError> {
    BlockHash::from_display_hex(s).map_err(|e| bad(key, e))
}

fn bytes<const N: usize>(key: &'static str, s: &str) -> Result<[u8; N], ChainFileError> {
    let v = hex::decode(s).map_err(|e| bad(key, e))?;
    v.try_into()
        .map_err(|_| bad(key, format!("expected {N} bytes in hex")))
}

fn equihash_params(key: &'static str, s: &str) -> Result<equihash::Params, ChainFileError> {
    let (n, k) = s
        .split_once(',')
        .ok_or_else(|| bad(key, format!("expected N,K, got {s:?}")))?;
    let parse = |v: &str| v.trim().parse::<u32>().map_err(|e| bad(key, e));
    equihash::Params::for_nk(parse(n)?, parse(k)?).map_err(|e| bad(key, e))
}

fn pon_activation(v: &toml::Value) -> Result<PonActivation, ChainFileError> {
    match v {
        toml::Value::String(s) if s == "genesis" => Ok(PonActivation::NoActivationHeight),
        toml::Value::Integer(h) => u32::try_from(*h)
            .map(|h| PonActivation::At(Height(h)))
            .map_err(|e| bad("upgrades.pon", e)),
        _ => Err(bad("upgrades.pon", "expected a height or \"genesis\"")),
    }
}

/// Parses a chain file (see the module doc).
///
/// # Errors
/// A [`ChainFileError`] naming the key.
pub fn parse_chain_file(text: &str) -> Result<NetworkParams, ChainFileError> {
    let f: ChainFile = toml::from_str(text)?;
    let base = NetworkParams::by_name(&f.base)
        .ok_or_else(|| ChainFileError::UnknownBase(f.base.clone()))?;
    let mut p = base.clone();
    p.name = leak(f.name.clone());
    p.genesis_hash = hash("genesis_hash", &f.genesis_hash)?;
    p.genesis_time = f.genesis_time;
    p.genesis_bits =
        CompactTarget::from_consensus(u32::from_be_bytes(bytes("genesis_bits", &f.genesis_bits)?));
    // The base's checkpoints are for the base's chain: never for another genesis.
    p.checkpoints = &[];
    apply_targets(&mut p, &f)?;
    apply_scalars(&mut p, &f)?;
    if let Some(cps) = f.checkpoints {
        let cps: Result<Vec<Checkpoint>, ChainFileError> = cps
            .iter()
            .map(|(h, s)| {
                Ok(Checkpoint {
                    height: Height(*h),
                    hash: hash("checkpoints", s)?,
                })
            })
            .collect();
        p.checkpoints = Box::leak(cps?.into_boxed_slice());
    }
    if let Some(funds) = f.funds {
        let funds: Vec<FundPayment> = funds
            .into_iter()
            .map(|e| FundPayment {
                name: leak(e.name),
                height: Height(e.height),
                amount: Amount::from_zat(e.amount_zat),
                address: leak(e.address),
                times: e.times,
                interval: e.interval,
            })
            .collect();
        p.funds = Box::leak(funds.into_boxed_slice());
    }
    if let Some(u) = f.upgrades {
        apply_upgrades(&mut p, u)?;
    }
    if let Some(e) = f.emergency {
        apply_emergency(&mut p, e)?;
    }
    Ok(p)
}

fn apply_targets(p: &mut NetworkParams, f: &ChainFile) -> Result<(), ChainFileError> {
    if let Some(s) = &f.pow_limit {
        p.pow_limit = target("pow_limit", s)?;
    }
    if let Some(s) = &f.pon_limit {
        p.pon_limit = target("pon_limit", s)?;
    }
    if let Some(s) = &f.pon_start_limit {
        p.pon_start_limit = target("pon_start_limit", s)?;
    }
    if let Some(eh) = &f.equihash {
        p.equihash_epochs = [
            equihash_params("equihash", &eh[0])?,
            equihash_params("equihash", &eh[1])?,
            equihash_params("equihash", &eh[2])?,
        ];
    }
    Ok(())
}

fn apply_scalars(p: &mut NetworkParams, f: &ChainFile) -> Result<(), ChainFileError> {
    p.check_pow_target = f.check_pow_target.unwrap_or(p.check_pow_target);
    p.check_pon_target = f.check_pon_target.unwrap_or(p.check_pon_target);
    p.lwma_window = f.lwma_window.unwrap_or(p.lwma_window);
    p.pon_window = f.pon_window.unwrap_or(p.pon_window);
    if let Some(h) = f.fluxnode_payments_start {
        p.fluxnode_payments_start = Some(Height(h));
    }
    if let Some(a) = &f.dev_fund_address {
        p.dev_fund_address = leak(a.clone());
    }
    if let Some(s) = &f.p2pkh_prefix {
        p.p2pkh_prefix = bytes("p2pkh_prefix", s)?;
    }
    if let Some(s) = &f.p2sh_prefix {
        p.p2sh_prefix = bytes("p2sh_prefix", s)?;
    }
    if let Some(s) = &f.p2p_magic {
        p.p2p_magic = bytes("p2p_magic", s)?;
    }
    p.p2p_port = f.p2p_port.unwrap_or(p.p2p_port);
    p.rpc_port = f.rpc_port.unwrap_or(p.rpc_port);
    if let Some(s) = &f.test_node_collateral {
        p.test_node_collateral =
            Some(TxId::from_display_hex(s).map_err(|e| bad("test_node_collateral", e))?);
    }
    Ok(())
}

fn apply_upgrades(p: &mut NetworkParams, u: UpgradesEntry) -> Result<(), ChainFileError> {
    let up = &mut p.upgrades;
    let set = |slot: &mut Option<Height>, v: Option<u32>| {
        if let Some(h) = v {
            *slot = Some(Height(h));
        }
    };
    set(&mut up.lwma, u.lwma);
    set(&mut up.equi144_5, u.equi144_5);
    set(&mut up.acadia, u.acadia);
    set(&mut up.kamiooka, u.kamiooka);
    set(&mut up.kamata, u.kamata);
    set(&mut up.flux, u.flux);
    set(&mut up.halving, u.halving);
    set(&mut up.p2sh_nodes, u.p2sh_nodes);
    if let Some(v) = &u.pon {
        up.pon = pon_activation(v)?;
    }
    Ok(())
}

fn apply_emergency(p: &mut NetworkParams, e: EmergencyEntry) -> Result<(), ChainFileError> {
    for k in &e.public_keys {
        let b = hex::decode(k).map_err(|err| bad("emergency.public_keys", err))?;
        k256::PublicKey::from_sec1_bytes(&b).map_err(|_| {
            bad(
                "emergency.public_keys",
                format!("{k} is not a secp256k1 key"),
            )
        })?;
    }
    let keys: Vec<&'static str> = e.public_keys.into_iter().map(leak).collect();
    p.emergency.public_keys = Box::leak(keys.into_boxed_slice());
    p.emergency.min_signatures = e.min_signatures;
    p.emergency.collateral_hash = TxId::from_display_hex(&e.collateral_hash)
        .map_err(|err| bad("emergency.collateral_hash", err))?;
    p.emergency.skip_signature_check = e.skip_signature_check.unwrap_or(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
name = "x"
base = "regtest"
genesis_hash = "01998760a88dc2b5715f69d2f18c1d90e0b604612242d9099eaff3048dd1e0ce"
genesis_time = 1296688602
genesis_bits = "200f0f0f"
"#;

    #[test]
    fn a_minimal_file_is_its_base_with_a_new_genesis() {
        let p = parse_chain_file(MIN).unwrap();
        let r = NetworkParams::regtest();
        assert_eq!(p.name, "x");
        assert_eq!(p.genesis_entry(), r.genesis_entry());
        assert_eq!(p.upgrades, r.upgrades);
        assert!(p.checkpoints.is_empty());
    }

    #[test]
    fn typos_bad_values_and_unknown_bases_are_refused_with_the_key() {
        let typo = format!("{MIN}lwma_windw = 3\n");
        assert!(matches!(
            parse_chain_file(&typo),
            Err(ChainFileError::Toml(_))
        ));
        let base = MIN.replace("regtest", "moon");
        assert!(matches!(
            parse_chain_file(&base),
            Err(ChainFileError::UnknownBase(b)) if b == "moon"
        ));
        for (extra, key) in [
            ("pow_limit = \"00ff\"\n", "pow_limit"),
            ("equihash = [\"125,4\", \"125,3\", \"48,5\"]\n", "equihash"),
            ("p2p_magic = \"aabb\"\n", "p2p_magic"),
            ("[upgrades]\npon = -1\n", "upgrades.pon"),
            (
                "[emergency]\npublic_keys = [\"02ab\"]\nmin_signatures = 1\ncollateral_hash = \"00\"\n",
                "emergency.public_keys",
            ),
        ] {
            let text = format!("{MIN}{extra}");
            match parse_chain_file(&text) {
                Err(ChainFileError::BadValue { key: k, .. }) => assert_eq!(k, key, "{extra}"),
                other => panic!("{extra}: {other:?}"),
            }
        }
    }
}
