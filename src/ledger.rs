//! The FluxNode reward ledger, pure: one [`BlockRewards`] record per block (every coinbase output
//! with its role, amount and payee address), its compact versioned encoding for the store's
//! `LEDGER` table, and the queries the `rewards` command runs over a sequence of records: totals
//! per role over a height range ([`totals`]), totals per UTC day ([`daily_totals`]), and the
//! history, total, last payment and payment gaps of a watched address ([`address_report`]).
//!
//! No I/O, no clock: records come in as values, the block time is the header's `nTime`.
//!
//! # Expected payment intervals (gaps)
//!
//! fluxd pays, in every block, the node at the front of each tier's deterministic list, which
//! then moves to the back (fluxd `src/fluxnode/fluxnode.cpp:713-780`, spec §10.4); so a node is paid once per *cycle*, about as many blocks as its tier has enabled
//! nodes. A light client has no node list, so the interval is a parameter,
//! [`ExpectedIntervals`]. Its default ([`ExpectedIntervals::DEFAULT`]) is a deliberately
//! generous round upper bound of each tier's size on mainnet (Cumulus 10,000 blocks, Nimbus
//! 3,000, Stratus 3,000; about 3.5 days, 25 h and 25 h at the 30 s PoN spacing): a gap longer
//! than that means the node very likely dropped out of the list (or was never in it). An
//! address that runs several nodes of one tier is paid more often, so its gaps are measured per
//! (address, tier) and are still meaningful as "no node of this tier paid this address for a
//! whole cycle". Callers that know the tier sizes pass them instead.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;

use thiserror::Error;

use crate::consensus::block::{Block, BlockError};
use crate::consensus::hash::BlockHash;
use crate::consensus::params::NetworkParams;
use crate::consensus::reward::{self, Role};
use crate::consensus::subsidy::Tier;
use crate::consensus::units::{Amount, Height};

/// The version byte every encoded record starts with.
pub const RECORD_VERSION: u8 = 1;

/// A block cannot be turned into a ledger record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The first transaction is not the only coinbase.
    #[error("coinbase position: {0}")]
    CoinbasePosition(BlockError),
    /// The header's Merkle root does not commit to the transactions given.
    #[error("merkle root: {0}")]
    MerkleRoot(BlockError),
    /// The coinbase does not state the height the block is recorded at (BIP34).
    #[error("coinbase height: {0}")]
    CoinbaseHeight(BlockError),
    /// A coinbase output value is outside the money range, or their sum is.
    #[error("coinbase output values are outside the money range")]
    ValueOutOfRange,
}

/// Encoded record bytes that are not a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordDecodeError {
    /// No bytes at all.
    #[error("empty ledger record")]
    Empty,
    /// A version this code does not read.
    #[error("ledger record version {0} is not supported (expected {RECORD_VERSION})")]
    UnsupportedVersion(u8),
    /// The bytes end inside a field.
    #[error("ledger record is truncated")]
    Truncated,
    /// Bytes are left after the last output.
    #[error("ledger record has {0} trailing bytes")]
    TrailingBytes(usize),
    /// A variable-length integer is longer than 10 bytes or overflows.
    #[error("ledger record has a malformed number")]
    BadNumber,
    /// An output count larger than the bytes can hold.
    #[error("ledger record claims {0} outputs")]
    TooManyOutputs(u64),
    /// An unknown role tag.
    #[error("ledger record has unknown role tag {0}")]
    UnknownRole(u8),
    /// A fund name no network defines.
    #[error("ledger record names unknown fund {0:?}")]
    UnknownFund(String),
    /// An amount outside the money range.
    #[error("ledger record has an amount outside the money range")]
    AmountOutOfRange,
    /// An unknown address tag or an address that is not valid UTF-8.
    #[error("ledger record has a malformed address")]
    BadAddress,
}

/// A transparent address that is not one of this network's.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Not base58, or the 4-byte checksum is wrong.
    #[error("{address:?} is not a base58check address: {reason}")]
    NotBase58Check {
        /// The address given.
        address: String,
        /// What bs58 says.
        reason: String,
    },
    /// The payload is not 2 prefix bytes and a 20-byte hash.
    #[error("{address:?} has a {len}-byte payload, expected 22 (2-byte prefix, 20-byte hash)")]
    BadLength {
        /// The address given.
        address: String,
        /// Its payload length.
        len: usize,
    },
    /// The prefix is neither this network's P2PKH nor its P2SH prefix.
    #[error("{address:?} has prefix {prefix:02x?}, not a {network} P2PKH or P2SH address")]
    WrongPrefix {
        /// The address given.
        address: String,
        /// Its prefix.
        prefix: [u8; 2],
        /// The network expected.
        network: &'static str,
    },
}

/// Checks that `address` is a P2PKH or P2SH address of `params`'s network: base58check, a
/// 22-byte payload, this network's prefix.
///
/// # Consensus
/// fluxd `src/chainparams.cpp` (`base58Prefixes[PUBKEY_ADDRESS]`, `[SCRIPT_ADDRESS]`),
/// `src/key_io.cpp` (`DecodeDestination`).
pub fn check_address(params: &NetworkParams, address: &str) -> Result<(), AddressError> {
    let data = bs58::decode(address)
        .with_check(None)
        .into_vec()
        .map_err(|e| AddressError::NotBase58Check {
            address: address.into(),
            reason: e.to_string(),
        })?;
    if data.len() != 22 {
        return Err(AddressError::BadLength {
            address: address.into(),
            len: data.len(),
        });
    }
    let prefix = [data[0], data[1]];
    if prefix != params.p2pkh_prefix && prefix != params.p2sh_prefix {
        return Err(AddressError::WrongPrefix {
            address: address.into(),
            prefix,
            network: params.name,
        });
    }
    Ok(())
}

/// The address a `scriptPubKey` pays, for the two standard forms with a hash: P2PKH
/// (`OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG`) and P2SH (`OP_HASH160 <20> OP_EQUAL`);
/// `None` for any other script. The inverse of [`reward::address_script`].
///
/// # Consensus
/// fluxd `src/script/standard.cpp` (`ExtractDestination`), `src/key_io.cpp`
/// (`EncodeDestination`).
pub fn script_address(params: &NetworkParams, script: &[u8]) -> Option<String> {
    let (prefix, hash) = match script {
        [0x76, 0xa9, 0x14, hash @ .., 0x88, 0xac] if hash.len() == 20 => {
            (params.p2pkh_prefix, hash)
        }
        [0xa9, 0x14, hash @ .., 0x87] if hash.len() == 20 => (params.p2sh_prefix, hash),
        _ => return None,
    };
    Some(encode_payload(&[&prefix[..], hash].concat()))
}

fn encode_payload(payload: &[u8]) -> String {
    bs58::encode(payload).with_check().into_string()
}

/// One coinbase output in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    /// What the output is for, as [`reward::split_reward`] classifies it.
    pub role: Role,
    /// Its value.
    pub amount: Amount,
    /// The payee (base58check, P2PKH or P2SH); `None` for other scripts.
    pub address: Option<String>,
}

/// The ledger record of one block: where its coinbase went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRewards {
    /// The block's height.
    pub height: Height,
    /// The block's hash.
    pub hash: BlockHash,
    /// The header's `nTime` (seconds since the Unix epoch).
    pub time: u32,
    /// Every coinbase output, in output order.
    pub outputs: Vec<Payout>,
}

impl BlockRewards {
    /// The record of a whole block at `height`: checks the coinbase position, the Merkle root
    /// against the header and the coinbase height (BIP34) first, then classifies every
    /// coinbase output with [`reward::split_reward`]. A split that breaks a reward rule is still
    /// recorded as paid (the ledger says what was paid, the `block` command says whether it
    /// was allowed).
    ///
    /// # Errors
    /// [`LedgerError`]: the first check that fails.
    ///
    /// # Consensus
    /// fluxd `src/main.cpp` (`CheckBlock`: `bad-cb-missing`, `bad-cb-multiple`,
    /// `bad-txnmrklroot`; `ContextualCheckBlock:5647-5660`: `bad-cb-height`),
    /// `src/fluxnode/fluxnode.cpp:789-890` (`CheckFluxnodePayout`: the tier amounts).
    pub fn from_block(
        params: &NetworkParams,
        height: Height,
        block: &Block,
    ) -> Result<BlockRewards, LedgerError> {
        block
            .check_coinbase_position()
            .map_err(LedgerError::CoinbasePosition)?;
        block.check_merkle_root().map_err(LedgerError::MerkleRoot)?;
        block
            .check_coinbase_height(height)
            .map_err(LedgerError::CoinbaseHeight)?;
        let coinbase = block.coinbase();
        if coinbase.total_output_value().is_none() {
            return Err(LedgerError::ValueOutOfRange);
        }
        let split = reward::split_reward(params, height, coinbase);
        let outputs = split
            .outputs
            .iter()
            .map(|o| Payout {
                role: o.role,
                amount: o.value,
                address: script_address(params, &coinbase.outputs[o.index].script_pubkey),
            })
            .collect();
        Ok(BlockRewards {
            height,
            hash: block.header.block_hash(),
            time: block.header.time,
            outputs,
        })
    }

    /// The compact encoding: version byte, height (u32 LE), hash (32 bytes, internal order),
    /// time (u32 LE), output count (LEB128), then per output a role tag (fund: tag, name
    /// length, name), the amount in zatoshi (LEB128) and the payee (0: none; 1: the 22-byte
    /// base58check payload; 2: a length-prefixed string that is not base58check).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(42 + 34 * self.outputs.len());
        v.push(RECORD_VERSION);
        v.extend_from_slice(&self.height.0.to_le_bytes());
        v.extend_from_slice(self.hash.as_internal_bytes());
        v.extend_from_slice(&self.time.to_le_bytes());
        put_varint(&mut v, self.outputs.len() as u64);
        for o in &self.outputs {
            match o.role {
                Role::Miner => v.push(0),
                Role::DevFund => v.push(1),
                Role::Tier(Tier::Cumulus) => v.push(2),
                Role::Tier(Tier::Nimbus) => v.push(3),
                Role::Tier(Tier::Stratus) => v.push(4),
                Role::Fund(name) => {
                    v.push(5);
                    put_str(&mut v, name);
                }
                Role::Other => v.push(6),
            }
            // Amounts in a record come from a coinbase within the money range; a hand-made
            // negative one is clamped to zero rather than encoded as a huge number.
            put_varint(&mut v, o.amount.to_zat().max(0) as u64);
            match &o.address {
                None => v.push(0),
                Some(a) => match bs58::decode(a).with_check(None).into_vec() {
                    Ok(p) if p.len() == 22 => {
                        v.push(1);
                        v.extend_from_slice(&p);
                    }
                    _ => {
                        v.push(2);
                        put_str(&mut v, a);
                    }
                },
            }
        }
        v
    }

    /// Reads [`BlockRewards::to_bytes`]'s encoding. Never panics: any other bytes give a
    /// [`RecordDecodeError`].
    ///
    /// # Errors
    /// [`RecordDecodeError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<BlockRewards, RecordDecodeError> {
        let mut r = Cursor { bytes, at: 0 };
        let version = r.byte().map_err(|_| RecordDecodeError::Empty)?;
        if version != RECORD_VERSION {
            return Err(RecordDecodeError::UnsupportedVersion(version));
        }
        let height = Height(r.u32()?);
        let hash = BlockHash::from_internal_bytes(r.take(32)?.try_into().expect("32 bytes"));
        let time = r.u32()?;
        let n = r.varint()?;
        // Each output takes at least 3 bytes: refuse counts the rest cannot hold before
        // allocating.
        if n > (r.remaining() / 3) as u64 {
            return Err(RecordDecodeError::TooManyOutputs(n));
        }
        let mut outputs = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let role = match r.byte()? {
                0 => Role::Miner,
                1 => Role::DevFund,
                2 => Role::Tier(Tier::Cumulus),
                3 => Role::Tier(Tier::Nimbus),
                4 => Role::Tier(Tier::Stratus),
                5 => {
                    let name = r.str()?;
                    Role::Fund(fund_name(name).ok_or_else(|| {
                        RecordDecodeError::UnknownFund(name.chars().take(64).collect())
                    })?)
                }
                6 => Role::Other,
                t => return Err(RecordDecodeError::UnknownRole(t)),
            };
            let amount = i64::try_from(r.varint()?)
                .map(Amount::from_zat)
                .ok()
                .filter(|a| a.is_in_money_range())
                .ok_or(RecordDecodeError::AmountOutOfRange)?;
            let address = match r.byte()? {
                0 => None,
                1 => Some(encode_payload(r.take(22)?)),
                2 => Some(r.str()?.to_string()),
                _ => return Err(RecordDecodeError::BadAddress),
            };
            outputs.push(Payout {
                role,
                amount,
                address,
            });
        }
        if r.remaining() != 0 {
            return Err(RecordDecodeError::TrailingBytes(r.remaining()));
        }
        Ok(BlockRewards {
            height,
            hash,
            time,
            outputs,
        })
    }
}

/// The `&'static` name of a fund any network defines.
fn fund_name(name: &str) -> Option<&'static str> {
    [
        NetworkParams::mainnet(),
        NetworkParams::testnet(),
        NetworkParams::regtest(),
    ]
    .iter()
    .flat_map(|p| p.funds.iter())
    .map(|f| f.name)
    .find(|&f| f == name)
}

fn put_varint(v: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            v.push(b);
            return;
        }
        v.push(b | 0x80);
    }
}

fn put_str(v: &mut Vec<u8>, s: &str) {
    let s = &s.as_bytes()[..s.len().min(255)];
    v.push(s.len() as u8);
    v.extend_from_slice(s);
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordDecodeError> {
        if self.remaining() < n {
            return Err(RecordDecodeError::Truncated);
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, RecordDecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, RecordDecodeError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn varint(&mut self) -> Result<u64, RecordDecodeError> {
        let mut n: u64 = 0;
        for i in 0..10 {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err(RecordDecodeError::BadNumber);
            }
            n |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(RecordDecodeError::BadNumber)
    }

    fn str(&mut self) -> Result<&'a str, RecordDecodeError> {
        let len = self.byte()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| RecordDecodeError::BadAddress)
    }
}

/// The groups totals are kept in: the three tiers, the miner (PoW), the dev fund (PoN), the
/// one-off funds together, and other outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// [`Role::Miner`].
    Miner,
    /// [`Role::DevFund`].
    DevFund,
    /// [`Role::Tier`] Cumulus.
    Cumulus,
    /// [`Role::Tier`] Nimbus.
    Nimbus,
    /// [`Role::Tier`] Stratus.
    Stratus,
    /// Every [`Role::Fund`].
    Funds,
    /// [`Role::Other`].
    Other,
}

impl Category {
    /// All categories, in report order.
    pub const ALL: [Category; 7] = [
        Category::Miner,
        Category::DevFund,
        Category::Cumulus,
        Category::Nimbus,
        Category::Stratus,
        Category::Funds,
        Category::Other,
    ];

    /// The category of a role.
    pub fn of(role: Role) -> Category {
        match role {
            Role::Miner => Category::Miner,
            Role::DevFund => Category::DevFund,
            Role::Tier(Tier::Cumulus) => Category::Cumulus,
            Role::Tier(Tier::Nimbus) => Category::Nimbus,
            Role::Tier(Tier::Stratus) => Category::Stratus,
            Role::Fund(_) => Category::Funds,
            Role::Other => Category::Other,
        }
    }

    /// Lower-case name with underscores (a CSV/JSON key).
    pub fn key(self) -> &'static str {
        match self {
            Category::Miner => "miner",
            Category::DevFund => "dev_fund",
            Category::Cumulus => "cumulus",
            Category::Nimbus => "nimbus",
            Category::Stratus => "stratus",
            Category::Funds => "funds",
            Category::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The sum and count of the outputs of one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CategoryTotal {
    /// Sum of the amounts.
    pub amount: Amount,
    /// Number of outputs.
    pub payments: u64,
}

/// Totals over a set of blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    /// Blocks counted.
    pub blocks: u64,
    /// The lowest height counted.
    pub first: Option<Height>,
    /// The highest height counted.
    pub last: Option<Height>,
    by_category: [CategoryTotal; 7],
}

fn add(a: Amount, b: Amount) -> Amount {
    Amount::from_zat(a.to_zat().saturating_add(b.to_zat()))
}

impl Totals {
    /// The total of one category.
    pub fn get(&self, c: Category) -> CategoryTotal {
        self.by_category[c.index()]
    }

    /// Everything paid (all categories).
    pub fn total(&self) -> Amount {
        self.by_category
            .iter()
            .fold(Amount::ZERO, |a, c| add(a, c.amount))
    }

    /// Counts one more block.
    pub fn add_block(&mut self, r: &BlockRewards) {
        self.blocks += 1;
        self.first = Some(self.first.map_or(r.height, |f| f.min(r.height)));
        self.last = Some(self.last.map_or(r.height, |l| l.max(r.height)));
        for o in &r.outputs {
            let t = &mut self.by_category[Category::of(o.role).index()];
            t.amount = add(t.amount, o.amount);
            t.payments += 1;
        }
    }
}

/// Totals of the records whose height is in `range`.
pub fn totals<'a>(
    records: impl IntoIterator<Item = &'a BlockRewards>,
    range: RangeInclusive<Height>,
) -> Totals {
    let mut t = Totals::default();
    for r in records.into_iter().filter(|r| range.contains(&r.height)) {
        t.add_block(r);
    }
    t
}

/// A proleptic Gregorian date (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
}

impl Date {
    /// The date `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11], March first
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year as i32,
            month,
            day,
        }
    }

    /// The UTC date of a Unix time.
    pub fn from_unix_time(secs: i64) -> Date {
        Date::from_days_since_epoch(secs.div_euclid(86_400))
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Totals of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotals {
    /// The day (from the blocks' header times).
    pub date: Date,
    /// Its totals.
    pub totals: Totals,
}

/// Totals per UTC day (by header time) of the records whose height is in `range`, oldest day
/// first. Header times are not monotonic, so a block near midnight may count on the day
/// before or after its neighbours.
pub fn daily_totals<'a>(
    records: impl IntoIterator<Item = &'a BlockRewards>,
    range: RangeInclusive<Height>,
) -> Vec<DayTotals> {
    let mut days: BTreeMap<Date, Totals> = BTreeMap::new();
    for r in records.into_iter().filter(|r| range.contains(&r.height)) {
        days.entry(Date::from_unix_time(i64::from(r.time)))
            .or_default()
            .add_block(r);
    }
    days.into_iter()
        .map(|(date, totals)| DayTotals { date, totals })
        .collect()
}

/// The interval, in blocks, within which each tier is expected to pay each of its nodes. See
/// the module doc for the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedIntervals {
    /// Cumulus, blocks.
    pub cumulus: u32,
    /// Nimbus, blocks.
    pub nimbus: u32,
    /// Stratus, blocks.
    pub stratus: u32,
}

impl ExpectedIntervals {
    /// Round upper bounds of the mainnet tier sizes: 10,000 / 3,000 / 3,000 blocks.
    ///
    /// # Consensus
    /// fluxd `src/fluxnode/fluxnode.cpp:713-780` (`GetNextPayment`: the front of each tier's
    /// list is paid), `src/fluxnode/fluxnode.h:313-328` (the list ordered by last-paid height,
    /// so a paid node moves to the back and waits about the tier's size); spec §10.4.
    pub const DEFAULT: ExpectedIntervals = ExpectedIntervals {
        cumulus: 10_000,
        nimbus: 3_000,
        stratus: 3_000,
    };

    /// The interval of one tier.
    pub fn get(&self, tier: Tier) -> u32 {
        match tier {
            Tier::Cumulus => self.cumulus,
            Tier::Nimbus => self.nimbus,
            Tier::Stratus => self.stratus,
        }
    }

    /// Sets the interval of one tier.
    pub fn set(&mut self, tier: Tier, blocks: u32) {
        match tier {
            Tier::Cumulus => self.cumulus = blocks,
            Tier::Nimbus => self.nimbus = blocks,
            Tier::Stratus => self.stratus = blocks,
        }
    }
}

impl Default for ExpectedIntervals {
    fn default() -> Self {
        ExpectedIntervals::DEFAULT
    }
}

/// One output paying a watched address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The block's height.
    pub height: Height,
    /// The block's header time.
    pub time: u32,
    /// The output's role.
    pub role: Role,
    /// The amount.
    pub amount: Amount,
}

/// An interval with no payment of a tier to an address, longer than the tier's expected
/// interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The tier whose payments are missing; `None` when the address was paid by no tier in the
    /// range (then the longest expected interval applies).
    pub tier: Option<Tier>,
    /// The height of the payment before (or of the first block in range).
    pub from: Height,
    /// The height of the payment after (or of the last block in range).
    pub to: Height,
    /// Whether `from` is a payment (false: the start of the range).
    pub from_payment: bool,
    /// Whether `to` is a payment (false: the end of the range).
    pub to_payment: bool,
    /// `to − from`, blocks.
    pub blocks: u32,
    /// The expected interval it exceeds.
    pub expected: u32,
}

/// What a watched address received in a height range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressReport {
    /// The address.
    pub address: String,
    /// Every output paying it, in height order.
    pub payments: Vec<Payment>,
    /// Their sum.
    pub total: Amount,
    /// The last payment's height and time.
    pub last_paid: Option<(Height, u32)>,
    /// Tier gaps longer than expected, by tier then height.
    pub gaps: Vec<Gap>,
    /// The first and last block heights seen in the range (the gap boundaries).
    pub span: Option<(Height, Height)>,
}

/// The history, total, last payment and gaps of `address` over the records whose height is in
/// `range`. Gaps are measured per tier the address is paid by: between consecutive payments of
/// that tier, from the first block in range to the first payment and from the last payment to
/// the last block in range; each longer than `expected.get(tier)` blocks is a [`Gap`]. An
/// address no tier pays in the range gets one gap over the whole range if that is longer than
/// the largest expected interval.
pub fn address_report<'a>(
    records: impl IntoIterator<Item = &'a BlockRewards>,
    address: &str,
    range: RangeInclusive<Height>,
    expected: &ExpectedIntervals,
) -> AddressReport {
    let mut payments = Vec::new();
    let mut span: Option<(Height, Height)> = None;
    let mut records: Vec<&BlockRewards> = records
        .into_iter()
        .filter(|r| range.contains(&r.height))
        .collect();
    records.sort_by_key(|r| r.height);
    for r in &records {
        span = Some(span.map_or((r.height, r.height), |(a, b)| {
            (a.min(r.height), b.max(r.height))
        }));
        for o in &r.outputs {
            if o.address.as_deref() == Some(address) {
                payments.push(Payment {
                    height: r.height,
                    time: r.time,
                    role: o.role,
                    amount: o.amount,
                });
            }
        }
    }
    let total = payments.iter().fold(Amount::ZERO, |a, p| add(a, p.amount));
    let last_paid = payments.last().map(|p| (p.height, p.time));
    let mut gaps = Vec::new();
    if let Some((first, last)) = span {
        let mut any_tier = false;
        for tier in Tier::ALL {
            let heights: Vec<Height> = payments
                .iter()
                .filter(|p| p.role == Role::Tier(tier))
                .map(|p| p.height)
                .collect();
            if heights.is_empty() {
                continue;
            }
            any_tier = true;
            let limit = expected.get(tier);
            let mut points = vec![(first, false)];
            points.extend(heights.iter().map(|&h| (h, true)));
            points.push((last, false));
            for w in points.windows(2) {
                let ((a, pa), (b, pb)) = (w[0], w[1]);
                let blocks = b.0 - a.0;
                if blocks > limit {
                    gaps.push(Gap {
                        tier: Some(tier),
                        from: a,
                        to: b,
                        from_payment: pa,
                        to_payment: pb,
                        blocks,
                        expected: limit,
                    });
                }
            }
        }
        let limit = Tier::ALL
            .iter()
            .map(|&t| expected.get(t))
            .max()
            .unwrap_or(0);
        if !any_tier && last.0 - first.0 > limit {
            gaps.push(Gap {
                tier: None,
                from: first,
                to: last,
                from_payment: false,
                to_payment: false,
                blocks: last.0 - first.0,
                expected: limit,
            });
        }
    }
    AddressReport {
        address: address.into(),
        payments,
        total,
        last_paid,
        gaps,
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static NetworkParams {
        NetworkParams::mainnet()
    }

    fn addr(n: u8) -> String {
        let mut payload = vec![0u8; 22];
        payload[..2].copy_from_slice(&p().p2pkh_prefix);
        payload[2..].fill(n);
        encode_payload(&payload)
    }

    fn record(height: u32, time: u32, outputs: Vec<(Role, i64, Option<String>)>) -> BlockRewards {
        let mut h = [9u8; 32];
        h[..4].copy_from_slice(&height.to_le_bytes());
        BlockRewards {
            height: Height(height),
            hash: BlockHash::from_internal_bytes(h),
            time,
            outputs: outputs
                .into_iter()
                .map(|(role, zat, address)| Payout {
                    role,
                    amount: Amount::from_zat(zat),
                    address,
                })
                .collect(),
        }
    }

    fn sample() -> BlockRewards {
        record(
            2_020_000,
            1_700_000_000,
            vec![
                (Role::DevFund, 50_000_000, Some(p().dev_fund_address.into())),
                (Role::Tier(Tier::Cumulus), 100_000_000, Some(addr(1))),
                (Role::Tier(Tier::Nimbus), 350_000_000, Some(addr(2))),
                (Role::Tier(Tier::Stratus), 900_000_000, Some(addr(3))),
                (Role::Fund("swap pool"), 22_000_000_000_000, None),
                (Role::Other, 0, Some("not an address".into())),
                (Role::Miner, Amount::MAX_MONEY.to_zat(), None),
            ],
        )
    }

    #[test]
    fn records_round_trip_compactly() {
        let r = sample();
        let b = r.to_bytes();
        assert_eq!(b[0], RECORD_VERSION);
        assert_eq!(BlockRewards::from_bytes(&b), Ok(r.clone()));
        // A typical PoN record (4 outputs with addresses) takes 156 bytes.
        let small = BlockRewards {
            outputs: r.outputs[..4].to_vec(),
            ..r
        };
        assert_eq!(small.to_bytes().len(), 156);
        let empty = record(0, 0, vec![]);
        assert_eq!(BlockRewards::from_bytes(&empty.to_bytes()), Ok(empty));
    }

    #[test]
    fn garbage_is_a_typed_error_never_a_panic() {
        let good = sample().to_bytes();
        assert_eq!(BlockRewards::from_bytes(&[]), Err(RecordDecodeError::Empty));
        assert_eq!(
            BlockRewards::from_bytes(&[7, 0, 0]),
            Err(RecordDecodeError::UnsupportedVersion(7))
        );
        // Every truncation is an error.
        for cut in 1..good.len() {
            assert!(BlockRewards::from_bytes(&good[..cut]).is_err(), "cut {cut}");
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            BlockRewards::from_bytes(&long),
            Err(RecordDecodeError::TrailingBytes(1))
        );
        // A huge output count is refused before allocating.
        let mut huge = good[..41].to_vec();
        huge.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(matches!(
            BlockRewards::from_bytes(&huge),
            Err(RecordDecodeError::TooManyOutputs(_))
        ));
        let mut bad_role = good[..42].to_vec();
        bad_role.extend_from_slice(&[9, 0, 0]);
        bad_role[41] = 1;
        assert_eq!(
            BlockRewards::from_bytes(&bad_role),
            Err(RecordDecodeError::UnknownRole(9))
        );
        let mut too_much = good[..41].to_vec();
        too_much.push(1);
        too_much.push(0);
        put_varint(&mut too_much, Amount::MAX_MONEY.to_zat() as u64 + 1);
        too_much.push(0);
        assert_eq!(
            BlockRewards::from_bytes(&too_much),
            Err(RecordDecodeError::AmountOutOfRange)
        );
        let mut bad_num = good[..41].to_vec();
        bad_num.extend_from_slice(&[0xff; 11]);
        assert_eq!(
            BlockRewards::from_bytes(&bad_num),
            Err(RecordDecodeError::BadNumber)
        );
        // Flipping or replacing any byte never panics.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for i in 0..good.len() {
            for _ in 0..8 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let mut m = good.clone();
                m[i] = state as u8;
                let _ = BlockRewards::from_bytes(&m);
            }
        }
    }

    #[test]
    fn addresses_round_trip_through_scripts_and_are_checked() {
        let a = p().dev_fund_address;
        let script = reward::address_script(p(), a).unwrap();
        assert_eq!(script_address(p(), &script).as_deref(), Some(a));
        let t1 = addr(5);
        let script = reward::address_script(p(), &t1).unwrap();
        assert_eq!(script.len(), 25);
        assert_eq!(script_address(p(), &script), Some(t1.clone()));
        assert_eq!(script_address(p(), &[0x51]), None);
        assert_eq!(check_address(p(), &t1), Ok(()));
        assert_eq!(check_address(p(), a), Ok(()));
        // Testnet prefixes differ.
        assert!(matches!(
            check_address(NetworkParams::testnet(), &t1),
            Err(AddressError::WrongPrefix { .. })
        ));
        let mut bad = t1.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == '2' { '3' } else { '2' });
        assert!(matches!(
            check_address(p(), &bad),
            Err(AddressError::NotBase58Check { .. })
        ));
        assert!(matches!(
            check_address(p(), &encode_payload(&[1, 2, 3])),
            Err(AddressError::BadLength { len: 3, .. })
        ));
    }

    #[test]
    fn civil_dates_from_days() {
        let d = |days| Date::from_days_since_epoch(days).to_string();
        assert_eq!(d(0), "1970-01-01");
        assert_eq!(d(-1), "1969-12-31");
        assert_eq!(d(59), "1970-03-01");
        assert_eq!(d(11_016), "2000-02-29");
        assert_eq!(d(11_017), "2000-03-01");
        assert_eq!(d(19_782), "2024-02-29");
        assert_eq!(
            Date::from_unix_time(1_700_000_000).to_string(),
            "2023-11-14"
        );
        assert_eq!(
            Date::from_unix_time(1_735_689_599).to_string(),
            "2024-12-31"
        );
        assert_eq!(
            Date::from_unix_time(1_735_689_600).to_string(),
            "2025-01-01"
        );
        // Day numbers increase with dates over four centuries.
        let mut prev = Date::from_days_since_epoch(-200_000);
        for days in -199_999..200_000 {
            let next = Date::from_days_since_epoch(days);
            assert!(next > prev && (1..=31).contains(&next.day), "{days}");
            prev = next;
        }
    }

    #[test]
    fn totals_per_category_and_per_day() {
        let a = addr(1);
        let recs: Vec<BlockRewards> = (0..6)
            .map(|i| {
                record(
                    100 + i,
                    1_700_006_400 + i * 20_000, // 2023-11-15 00:00 UTC on
                    vec![
                        (Role::Miner, 10, None),
                        (Role::Tier(Tier::Cumulus), 1, Some(a.clone())),
                        (Role::Fund("exchange"), 5, None),
                    ],
                )
            })
            .collect();
        let t = totals(&recs, Height(101)..=Height(104));
        assert_eq!(t.blocks, 4);
        assert_eq!((t.first, t.last), (Some(Height(101)), Some(Height(104))));
        assert_eq!(
            t.get(Category::Miner),
            CategoryTotal {
                amount: Amount::from_zat(40),
                payments: 4
            }
        );
        assert_eq!(t.get(Category::Funds).amount, Amount::from_zat(20));
        assert_eq!(t.get(Category::Stratus), CategoryTotal::default());
        assert_eq!(t.total(), Amount::from_zat(64));
        let days = daily_totals(&recs, Height(0)..=Height(u32::MAX));
        let got: Vec<(String, u64)> = days
            .iter()
            .map(|d| (d.date.to_string(), d.totals.blocks))
            .collect();
        assert_eq!(got, [("2023-11-15".into(), 5), ("2023-11-16".into(), 1)]);
    }

    #[test]
    fn address_gaps_per_tier_with_range_edges() {
        let a = addr(1);
        let tier = |t, who: &String| (Role::Tier(t), 7, Some(who.clone()));
        // Blocks 0..=100; `a` is paid Cumulus at 30, 40 and 90, Stratus at 50.
        let recs: Vec<BlockRewards> = (0..=100)
            .map(|h| {
                let mut outs = vec![(Role::Miner, 1, Some(addr(9)))];
                match h {
                    30 | 40 | 90 => outs.push(tier(Tier::Cumulus, &a)),
                    50 => outs.push(tier(Tier::Stratus, &a)),
                    _ => {}
                }
                record(h, 1_700_000_000 + 30 * h, outs)
            })
            .collect();
        let expected = ExpectedIntervals {
            cumulus: 25,
            nimbus: 5,
            stratus: 45,
        };
        let rep = address_report(&recs, &a, Height(0)..=Height(100), &expected);
        assert_eq!(rep.payments.len(), 4);
        assert_eq!(rep.total, Amount::from_zat(28));
        assert_eq!(rep.last_paid, Some((Height(90), 1_700_002_700)));
        assert_eq!(rep.span, Some((Height(0), Height(100))));
        let gaps: Vec<(Option<Tier>, u32, u32, bool, bool)> = rep
            .gaps
            .iter()
            .map(|g| (g.tier, g.from.0, g.to.0, g.from_payment, g.to_payment))
            .collect();
        assert_eq!(
            gaps,
            [
                (Some(Tier::Cumulus), 0, 30, false, true),
                (Some(Tier::Cumulus), 40, 90, true, true),
                (Some(Tier::Stratus), 0, 50, false, true),
                (Some(Tier::Stratus), 50, 100, true, false),
            ]
        );
        // A narrower range moves the edges.
        let rep = address_report(&recs, &a, Height(35)..=Height(60), &expected);
        assert_eq!(rep.payments.len(), 2);
        assert_eq!(rep.gaps, vec![]);
        // An address no tier pays: one gap over the range if longer than the largest interval.
        let rep = address_report(&recs, &addr(7), Height(0)..=Height(100), &expected);
        assert_eq!(rep.payments, vec![]);
        assert_eq!(
            rep.gaps
                .iter()
                .map(|g| (g.tier, g.blocks))
                .collect::<Vec<_>>(),
            [(None, 100)]
        );
        // The miner's address is paid every block, by no tier.
        let rep = address_report(&recs, &addr(9), Height(0)..=Height(10), &expected);
        assert_eq!(rep.payments.len(), 11);
        assert_eq!(rep.gaps, vec![]);
    }
}
