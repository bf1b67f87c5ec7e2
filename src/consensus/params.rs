//! Network parameters as data: one [`NetworkParams`] value per network (mainnet, testnet,
//! regtest). Every check takes `&NetworkParams`; nothing in the consensus code asks "is this
//! mainnet?". Tests build their own value (e.g. a fast 48,5 chain with low era heights).
//!
//! Mainnet values come from the spec (fluxd `src/chainparams.cpp`, commit 2dfb5046). Testnet and
//! regtest values the spec does not state (their PoN subsidy interval, PoN start limit, funds,
//! emergency keys) come from the MIT Rust port Sikbik/fluxd_rust-explorer
//! (`fluxd_rust/crates/consensus/src/params.rs`) and are marked *unverified*.

use crate::equihash;

use super::chain::ChainEntry;
use super::hash::{BlockHash, TxId};
use super::target::{CompactTarget, Target, Work};
use super::units::{Amount, Height};

/// Activation heights of the network upgrades; `None` means never active.
///
/// # Consensus
/// fluxd `src/chainparams.cpp:108-153` (mainnet), `:361-394` (testnet),
/// `src/consensus/params.h:24-40`; spec §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgrades {
    /// LWMA difficulty (also: end of the +2 h future-time window).
    pub lwma: Option<Height>,
    /// Equihash 144,5 (start of the first fade window).
    pub equi144_5: Option<Height>,
    /// Acadia (Overwinter + Sapling).
    pub acadia: Option<Height>,
    /// Kamiooka: ZelHash 125,4 (start of the second fade window).
    pub kamiooka: Option<Height>,
    /// Kamata: deterministic FluxNodes.
    pub kamata: Option<Height>,
    /// Flux rebrand: node share ×2.
    pub flux: Option<Height>,
    /// Halving: collateral change.
    pub halving: Option<Height>,
    /// P2SH nodes.
    pub p2sh_nodes: Option<Height>,
    /// Proof of Node.
    pub pon: PonActivation,
}

/// When Proof of Node starts. Unlike the other upgrades, fluxd compares the height with the PoN
/// activation height directly, so its `NO_ACTIVATION_HEIGHT` (−1) means "active from genesis",
/// and the PoN windows and subsidy reductions count from −1.
///
/// # Consensus
/// fluxd `src/pon/pon-fork.cpp:13-20` (`IsPONActive`: `nHeight >= ponActivationHeight`),
/// `src/consensus/params.h:62-69` (`NO_ACTIVATION_HEIGHT = -1`), `src/chainparams.cpp:611-613`
/// (regtest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PonActivation {
    /// From this height on.
    At(Height),
    /// `NO_ACTIVATION_HEIGHT`: from genesis, counted from height −1 (regtest).
    NoActivationHeight,
}

impl PonActivation {
    /// Whether the PoN *network upgrade* is active at `height` as fluxd's `NetworkUpgradeActive`
    /// sees it, which, unlike `IsPONActive`, reads `NO_ACTIVATION_HEIGHT` as never. Only the
    /// coinbase dev-fund minimum of `ContextualCheckTransaction` asks this.
    ///
    /// # Consensus
    /// fluxd `src/main.cpp:1229-1250`, `src/consensus/upgrades.cpp` (`NetworkUpgradeState`).
    pub fn upgrade_active(self, height: Height) -> bool {
        matches!(self, PonActivation::At(h) if height >= h)
    }

    /// The activation height as fluxd holds it (−1 for [`PonActivation::NoActivationHeight`]).
    pub const fn fluxd_height(self) -> i64 {
        match self {
            PonActivation::At(h) => h.0 as i64,
            PonActivation::NoActivationHeight => -1,
        }
    }
}

/// A height whose block hash is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The height.
    pub height: Height,
    /// The only block hash allowed there.
    pub hash: BlockHash,
}

const fn checkpoint(height: u32, display_hex: &str) -> Checkpoint {
    Checkpoint {
        height: Height(height),
        hash: BlockHash::from_display_hex_const(display_hex),
    }
}

/// Block-subsidy schedule.
///
/// # Consensus
/// fluxd `src/main.cpp:2796-2853`, `src/chainparams.cpp:156-158`; spec §10.1–§10.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubsidyParams {
    /// The premine: the whole subsidy of one block.
    pub premine: Option<(Height, Amount)>,
    /// The full PoW subsidy before halvings (150 FLUX).
    pub pow_base: Amount,
    /// `nSubsidySlowStartInterval` (0 disables the slow start).
    pub slow_start_interval: u32,
    /// `nSubsidyHalvingInterval`.
    pub halving_interval: u32,
    /// Halvings are capped at this number (fluxd commit 7a40f80d5).
    pub max_halvings: u32,
    /// The first PoN subsidy (14 FLUX).
    pub pon_initial: Amount,
    /// Blocks between PoN reductions of 10 %.
    pub pon_reduction_interval: u32,
    /// Reductions stop after this many (the floor).
    pub pon_max_reductions: u32,
}

/// A one-off fund payment.
///
/// # Consensus
/// fluxd `src/main.cpp:1252-1302`, `src/chainparams.cpp:292-304`; spec §10.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundPayment {
    /// Which fund.
    pub name: &'static str,
    /// First height it is due.
    pub height: Height,
    /// Exact amount of the output.
    pub amount: Amount,
    /// Receiving address.
    pub address: &'static str,
    /// How many times it repeats (1 for a single payment).
    pub times: u32,
    /// Blocks between repeats.
    pub interval: u32,
}

/// Emergency PoN blocks: multi-signed by a fixed key set.
///
/// # Consensus
/// fluxd `src/emergencyblock.cpp`, `src/chainparams.cpp:242-253`; spec §9.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmergencyParams {
    /// Compressed secp256k1 public keys, hex.
    pub public_keys: &'static [&'static str],
    /// Distinct valid signatures required.
    pub min_signatures: usize,
    /// The collateral txid that marks an emergency block (index 0).
    pub collateral_hash: TxId,
    /// Skip the signature check (regtest accepts any signatures).
    pub skip_signature_check: bool,
}

/// The heights `[begin, end)` during which a tier's V1 and V2 collaterals are both accepted:
/// V1 alone before, V2 alone from `end`.
///
/// # Consensus
/// fluxd `src/chainparams.cpp:308-315` (mainnet), `:501-508` (testnet), `:703-710` (regtest),
/// `src/coins.cpp:774-809` (`GetCoinAmountsByTier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollateralTransition {
    /// First height both are accepted.
    pub begin: Height,
    /// First height only V2 is accepted.
    pub end: Height,
}

const fn transition(begin: u32, end: u32) -> CollateralTransition {
    CollateralTransition {
        begin: Height(begin),
        end: Height(end),
    }
}

/// Everything consensus needs to know about one network.
#[derive(Debug, Clone)]
pub struct NetworkParams {
    /// `main`, `test`, `regtest`, or a test network's name.
    pub name: &'static str,
    /// The genesis block hash.
    pub genesis_hash: BlockHash,
    /// The genesis `nTime` (PoN slots count from it).
    pub genesis_time: u32,
    /// The genesis `nBits` (its work starts the chain work).
    pub genesis_bits: CompactTarget,
    /// Easiest PoW target.
    pub pow_limit: Target,
    /// Easiest PoN target.
    pub pon_limit: Target,
    /// PoN target for the first `pon_window` PoN blocks.
    pub pon_start_limit: Target,
    /// Whether hash ≤ target is checked for PoW (regtest: no).
    pub check_pow_target: bool,
    /// Whether ponHash ≤ target is checked (regtest: no).
    pub check_pon_target: bool,
    /// PoW block spacing, seconds.
    pub pow_target_spacing: i64,
    /// PoN block spacing, seconds.
    pub pon_target_spacing: i64,
    /// Digishield averaging window (blocks).
    pub digishield_window: i64,
    /// Digishield maximum adjustment up, percent.
    pub digishield_max_adjust_up: i64,
    /// Digishield maximum adjustment down, percent.
    pub digishield_max_adjust_down: i64,
    /// LWMA window N (blocks).
    pub lwma_window: i64,
    /// LWMA future-time limit used to clamp solve times.
    pub lwma_ftl: i64,
    /// PoN retarget window W (blocks).
    pub pon_window: i64,
    /// Testnet minimum-difficulty rule active from this parent height.
    pub min_difficulty_after: Option<Height>,
    /// Heights at which the PoN `nBits` check is skipped (testnet 800–1800).
    pub pon_bits_check_skipped: Option<(Height, Height)>,
    /// Number of blocks after the 144,5 fade window whose target is reset to `pow_limit`.
    pub eh144_reset_length: u32,
    /// Upgrade heights.
    pub upgrades: Upgrades,
    /// Equihash parameters of epochs 1, 2, 3.
    pub equihash_epochs: [equihash::Params; 3],
    /// Length of each fade window, during which two parameter sets are accepted.
    pub eh_epoch_fade_length: u32,
    /// Any solution size is accepted at heights ≤ this (testnet 320).
    pub any_solution_size_through: Option<Height>,
    /// Future-time limit while the node's tip is below the LWMA height (seconds).
    pub max_future_time_early: i64,
    /// Future-time limit for PoW blocks after that (seconds).
    pub max_future_time: i64,
    /// Future-time limit for PoN blocks (seconds).
    pub max_future_time_pon: i64,
    /// Checkpoints, ascending.
    pub checkpoints: &'static [Checkpoint],
    /// `nMinimumChainWork`.
    pub minimum_chain_work: Work,
    /// Subsidy schedule.
    pub subsidy: SubsidyParams,
    /// First height at which FluxNode payouts are deterministic consensus.
    pub fluxnode_payments_start: Option<Height>,
    /// The PoN dev-fund address.
    pub dev_fund_address: &'static str,
    /// One-off fund payments.
    pub funds: &'static [FundPayment],
    /// Emergency blocks.
    pub emergency: EmergencyParams,
    /// The collateral transition windows of Cumulus, Nimbus, Stratus.
    pub collateral_transitions: [CollateralTransition; 3],
    /// Collateral txid that skips the PoN signature check at index 0 (testnet/regtest).
    pub test_node_collateral: Option<TxId>,
    /// Base58Check version bytes of P2PKH addresses.
    pub p2pkh_prefix: [u8; 2],
    /// Base58Check version bytes of P2SH addresses.
    pub p2sh_prefix: [u8; 2],
    /// P2P message start.
    pub p2p_magic: [u8; 4],
    /// P2P port.
    pub p2p_port: u16,
    /// RPC port.
    pub rpc_port: u16,
    /// DNS seeds.
    pub dns_seeds: &'static [&'static str],
}

/// The block's kind of proof at a height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// Equihash proof of work with these parameters (the first of the allowed sets).
    ProofOfWork,
    /// Proof of Node.
    ProofOfNode,
}

fn active(at: Option<Height>, height: Height) -> bool {
    at.is_some_and(|a| height >= a)
}

impl NetworkParams {
    /// Mainnet.
    pub fn mainnet() -> &'static NetworkParams {
        &MAINNET
    }

    /// Testnet.
    pub fn testnet() -> &'static NetworkParams {
        &TESTNET
    }

    /// Regtest.
    pub fn regtest() -> &'static NetworkParams {
        &REGTEST
    }

    /// By name: `main`/`mainnet`, `test`/`testnet`, `regtest`.
    pub fn by_name(name: &str) -> Option<&'static NetworkParams> {
        match name {
            "main" | "mainnet" => Some(&MAINNET),
            "test" | "testnet" => Some(&TESTNET),
            "regtest" => Some(&REGTEST),
            _ => None,
        }
    }

    /// The genesis block as the chain's first entry: its hash, time and bits, and the work of
    /// its bits.
    ///
    /// # Consensus
    /// fluxd `src/chainparams.cpp` (`CreateGenesisBlock` arguments, `hashGenesisBlock`
    /// assertion); `src/chain.cpp` (`GetBlockProof`).
    pub fn genesis_entry(&self) -> ChainEntry {
        ChainEntry {
            height: Height::GENESIS,
            hash: self.genesis_hash,
            time: self.genesis_time,
            bits: self.genesis_bits,
            is_pon: false,
            chain_work: Work::from_pow_bits(self.genesis_bits),
        }
    }

    /// Whether Proof of Node is active at `height`.
    ///
    /// # Consensus
    /// fluxd `src/pon/pon-fork.cpp:13-20` (`IsPONActive`); spec §1, §9.3.
    pub fn is_pon_active(&self, height: Height) -> bool {
        i64::from(height.0) >= self.upgrades.pon.fluxd_height()
    }

    /// Whether the LWMA upgrade is active at `height`.
    pub fn is_lwma_active(&self, height: Height) -> bool {
        active(self.upgrades.lwma, height)
    }

    /// The era of a block at `height`.
    pub fn era_at(&self, height: Height) -> Era {
        if self.is_pon_active(height) {
            Era::ProofOfNode
        } else {
            Era::ProofOfWork
        }
    }

    /// `eh_epoch_1_end`: the last height of the first fade window.
    ///
    /// # Consensus
    /// fluxd `src/chainparams.cpp:818-866`; spec §5.2, §6.1 step 3.
    pub fn eh_epoch_1_end(&self) -> Option<Height> {
        self.upgrades
            .equi144_5
            .map(|h| Height(h.0 + self.eh_epoch_fade_length - 1))
    }

    /// `eh_epoch_2_end`: the last height of the second fade window.
    ///
    /// # Consensus
    /// fluxd `src/chainparams.cpp:818-866`; spec §5.2, §6.1 step 4.
    pub fn eh_epoch_2_end(&self) -> Option<Height> {
        self.upgrades
            .kamiooka
            .map(|h| Height(h.0 + self.eh_epoch_fade_length - 1))
    }

    /// The Equihash parameter sets accepted at `height` (`validEHparameterList`): one set, or
    /// two inside a fade window.
    ///
    /// # Consensus
    /// fluxd `src/chainparams.cpp:818-866`; spec §5.2.
    pub fn equihash_params_at(&self, height: Height) -> Vec<equihash::Params> {
        let [e1, e2, e3] = self.equihash_epochs;
        let fade = self.eh_epoch_fade_length;
        let in_fade =
            |start: Option<Height>| start.is_some_and(|s| height >= s && height.0 < s.0 + fade);
        if in_fade(self.upgrades.kamiooka) {
            vec![e3, e2]
        } else if active(self.upgrades.kamiooka, height) {
            vec![e3]
        } else if in_fade(self.upgrades.equi144_5) {
            vec![e2, e1]
        } else if active(self.upgrades.equi144_5, height) {
            vec![e2]
        } else {
            vec![e1]
        }
    }

    /// The checkpoint at `height`, if any.
    pub fn checkpoint_at(&self, height: Height) -> Option<&Checkpoint> {
        self.checkpoints
            .binary_search_by_key(&height, |c| c.height)
            .ok()
            .map(|i| &self.checkpoints[i])
    }

    /// The highest checkpoint.
    pub fn last_checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoints.last()
    }
}

const MAINNET_CHECKPOINTS: [Checkpoint; 25] = [
    checkpoint(
        0,
        "00052461a5006c2e3b74ce48992a08695607912d5604c3eb8da25749b0900444",
    ),
    checkpoint(
        5_500,
        "0000000e7724f8bace09dd762657169c10622af4a6a8e959152cd00b9119848e",
    ),
    checkpoint(
        35_000,
        "000000004646dd797644b9c67aff320961e95c311b4f26985424b720d09fcaa5",
    ),
    checkpoint(
        70_000,
        "00000001edcf7768ed39fac55414e53a78d077b1b41fccdaf9307d7bc219626a",
    ),
    checkpoint(
        94_071,
        "00000005ec83876bc5288badf0971ae83ac7c6a286851f7b22a75a03e73b401a",
    ),
    checkpoint(
        277_649,
        "00000004a53f9271d05071a052b3738b46663f3335d14b6aea965a3cb70c0cc8",
    ),
    checkpoint(
        400_000,
        "000000390342f0e52443ad79b43e5d85b78bf519667aeb3aa980d76caeda0369",
    ),
    checkpoint(
        530_000,
        "0000004b4459ec6904e8116d178c357b0f25a7d45c5c5836ce3714791f1ed124",
    ),
    checkpoint(
        600_000,
        "000000dea4478401e6ab95f6d05ade810115411e95e75fab9fd94a44df4b1e1d",
    ),
    checkpoint(
        700_000,
        "0000000845ef03939225cc592773fd7aef54b5232fc42790c46ef6f11ee3e8d4",
    ),
    checkpoint(
        800_000,
        "000000451b73f495b2f6ad38bd89d15495551fc15c2078ad7af3d54d06422cc6",
    ),
    checkpoint(
        900_000,
        "000001e1ad2bb5e3cabb09559b6e65b871bf1d2a51bcc141ce45fc4cbd1d9cd8",
    ),
    checkpoint(
        1_000_000,
        "0000001a80e7f30d21fb14116cd01d51e1fad8ac84cc960896f4691a57368a47",
    ),
    checkpoint(
        1_040_000,
        "00000007f3b465bd4b0e161e43c05a3d946144330e33ea3a91cb952e6ef86b7d",
    ),
    checkpoint(
        1_040_577,
        "000000071fe89682ac260bc0a49621344eb28ae01659c9e7ce86e3762e45f52d",
    ),
    checkpoint(
        1_042_126,
        "0000000295e4663178fd9e533787e74206645910a2bfb61938db5f67796eaad0",
    ),
    checkpoint(
        1_060_000,
        "0000000fd721d8d381c4b24a4f78fc036955d7a0f98d2765b8c7badad8b66c1b",
    ),
    checkpoint(
        1_442_798,
        "0000000cc561fecb2ecfd22ba7af09450ca8cf270f407ce8b948195ff2aa0d13",
    ),
    checkpoint(
        1_518_503,
        "0000000dba41dc84c52a3933af49d316fff49a76b49d42bd5b6d20c4e451a0ef",
    ),
    checkpoint(
        1_791_720,
        "0000000abc7bd62a213e0dab43c9c01220b031a568fdfb5c2ef89e6b30054bdc",
    ),
    checkpoint(
        2_020_500,
        "af2a1bd59c61f64860b4b45bd65358743fda40d8420564b58c39df45be7da97c",
    ),
    checkpoint(
        2_021_000,
        "d2dcec473e809575e30ec2c0f400758120f5121b8268f90cdb8a7dbefe285b0d",
    ),
    checkpoint(
        2_021_500,
        "fa98471f31ffc1366330bababc090ad5cb6bd23c25bb3b61d1e1ed07a77d6126",
    ),
    checkpoint(
        2_022_000,
        "40a060546a56eb7fab0fd33ab3e6de834ff0d5273847d4f231a9addecfc44f61",
    ),
    checkpoint(
        2_029_000,
        "4856dc788a973db4cc537465c9ef80288e1eb065898993d72371b1ee48c248b4",
    ),
];

const TESTNET_CHECKPOINTS: [Checkpoint; 2] = [
    checkpoint(
        0,
        "0042202a64a929fc25cc10e68615ddbe38007b1b40da08acd3f530f83c79b9d1",
    ),
    checkpoint(
        320,
        "0237bf16aba912b0c68933809a7e7fe9553ddff1bc0782d2463fc5d161af1c46",
    ),
];

const REGTEST_CHECKPOINTS: [Checkpoint; 1] = [checkpoint(
    0,
    "01998760a88dc2b5715f69d2f18c1d90e0b604612242d9099eaff3048dd1e0ce",
)];

/// The mainnet emergency keys (unverified: from the Rust port, fluxd
/// `src/chainparams.cpp:242-253` per the spec).
const MAINNET_EMERGENCY_KEYS: [&str; 4] = [
    "025ee73f72d6996f94fe6ec9fac3f9ba6dcb947ed46dfbda530fc73ff99c667a4e",
    "026f4281124d10eb90589831bac405d715ad79051ac5243d21c322d2abf2fd81e2",
    "03083d65c2f57cfe4d1c34eb575bd9d836f5111dd0de86405d48211bf42ea30403",
    "03674c29f348124e998fd838228a3ff050ca26fe0c13ad98698585cbbf796b461e",
];

/// Testnet emergency keys (unverified: from the Rust port).
const TESTNET_EMERGENCY_KEYS: [&str; 4] = [
    "029a1c55fa7e69dd99087f7ca799797052ae21327b94159e60b8cc5704eb188583",
    "023c806b01f35a18b42b08f23f5c7e8490801a7da8fd6f6e77708d9f26f22c423e",
    "02615c78e21078c21a63cb21cc4d29eaa148d97c3dcbe7be5d9d4dda4e969bb05a",
    "033d301dc7ef7ab653da36da1285063ea9be1448d601e3c9f99185476b9d4ae1d1",
];

const EMERGENCY_COLLATERAL: TxId = TxId::from_internal_bytes([0x11; 32]);

/// "TESTNOD" collateral (spec §9.6): display hex `544553544e4f44` followed by zeros.
const TEST_NODE_COLLATERAL: TxId = TxId::from_display_hex_const(
    "544553544e4f4400000000000000000000000000000000000000000000000000",
);

const MAINNET_FUNDS: [FundPayment; 3] = [
    FundPayment {
        name: "exchange",
        height: Height(836_274),
        amount: Amount::from_flux(7_500_000),
        address: "t3PMbbA5YBMrjSD3dD16SSdXKuKovwmj6tS",
        times: 1,
        interval: 0,
    },
    FundPayment {
        name: "foundation",
        height: Height(836_994),
        amount: Amount::from_flux(2_500_000),
        address: "t3XjYMBvwxnXVv9jqg4CgokZ3f7kAoXPQL8",
        times: 1,
        interval: 0,
    },
    FundPayment {
        name: "swap pool",
        height: Height(837_714),
        amount: Amount::from_flux(22_000_000),
        address: "t3ThbWogDoAjGuS6DEnmN1GWJBRbVjSUK4T",
        times: 10,
        interval: 21_600,
    },
];

const TESTNET_FUNDS: [FundPayment; 3] = [
    FundPayment {
        name: "exchange",
        height: Height(4_100),
        amount: Amount::from_flux(7_500_000),
        address: "tmRucHD85zgSigtA4sJJBDbPkMUJDcw5XDE",
        times: 1,
        interval: 0,
    },
    FundPayment {
        name: "foundation",
        height: Height(4_200),
        amount: Amount::from_flux(2_500_000),
        address: "tmRucHD85zgSigtA4sJJBDbPkMUJDcw5XDE",
        times: 1,
        interval: 0,
    },
    FundPayment {
        name: "swap pool",
        height: Height(4_300),
        amount: Amount::from_flux(2_200_000),
        address: "tmRucHD85zgSigtA4sJJBDbPkMUJDcw5XDE",
        times: 10,
        interval: 100,
    },
];

/// Regtest funds.
///
/// # Consensus
/// fluxd `src/chainparams.cpp:686-700` (regtest).
const REGTEST_FUNDS: [FundPayment; 3] = [
    FundPayment {
        name: "exchange",
        height: Height(10),
        amount: Amount::from_flux(3_000_000),
        address: "tmRucHD85zgSigtA4sJJBDbPkMUJDcw5XDE",
        times: 1,
        interval: 0,
    },
    FundPayment {
        name: "foundation",
        height: Height(10),
        amount: Amount::from_flux(2_500_000),
        address: "t2DFGpj2tciojsGKKrGVwQ92hUwAxWQQgJ9",
        times: 1,
        interval: 0,
    },
    FundPayment {
        name: "swap pool",
        height: Height(10),
        amount: Amount::from_flux(2_100_000),
        address: "t2Dsexh4v5g2dpL2LLCsR1p9TshMm63jSBM",
        times: 5,
        interval: 10,
    },
];

/// Mainnet `powLimit`: `0007ffff…ff` (also stratum's pool difficulty 1).
///
/// # Consensus
/// fluxd `src/chainparams.cpp` (`consensus.powLimit` for mainnet).
pub const MAINNET_POW_LIMIT: Target = Target::from_display_hex_const(
    "0007ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
);

static MAINNET: NetworkParams = NetworkParams {
    name: "main",
    genesis_hash: MAINNET_CHECKPOINTS[0].hash,
    genesis_time: 1_516_980_000,
    genesis_bits: CompactTarget::from_consensus(0x1f07_ffff),
    pow_limit: MAINNET_POW_LIMIT,
    pon_limit: Target::from_display_hex_const(
        "0fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    pon_start_limit: Target::from_display_hex_const(
        "000bffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    check_pow_target: true,
    check_pon_target: true,
    pow_target_spacing: 120,
    pon_target_spacing: 30,
    digishield_window: 17,
    digishield_max_adjust_up: 16,
    digishield_max_adjust_down: 32,
    lwma_window: 60,
    lwma_ftl: 360,
    pon_window: 30,
    min_difficulty_after: None,
    pon_bits_check_skipped: None,
    eh144_reset_length: 61,
    upgrades: Upgrades {
        lwma: Some(Height(125_000)),
        equi144_5: Some(Height(125_100)),
        acadia: Some(Height(250_000)),
        kamiooka: Some(Height(372_500)),
        kamata: Some(Height(558_000)),
        flux: Some(Height(835_554)),
        halving: Some(Height(1_076_532)),
        p2sh_nodes: Some(Height(1_549_500)),
        pon: PonActivation::At(Height(2_020_000)),
    },
    equihash_epochs: [
        equihash::Params::EH200_9,
        equihash::Params::EH144_5,
        equihash::Params::ZELHASH,
    ],
    eh_epoch_fade_length: 11,
    any_solution_size_through: None,
    max_future_time_early: 7200,
    max_future_time: 360,
    max_future_time_pon: 300,
    checkpoints: &MAINNET_CHECKPOINTS,
    minimum_chain_work: Work::from_uint(
        Target::from_display_hex_const(
            "000000000000000000000000000000000000000000000000000021f5d5da5d73",
        )
        .to_uint(),
    ),
    subsidy: SubsidyParams {
        premine: Some((Height(1), Amount::from_flux(13_020_000))),
        pow_base: Amount::from_flux(150),
        slow_start_interval: 5_000,
        halving_interval: 655_350,
        max_halvings: 2,
        pon_initial: Amount::from_flux(14),
        pon_reduction_interval: 1_051_200,
        pon_max_reductions: 20,
    },
    fluxnode_payments_start: Some(Height(560_000)),
    dev_fund_address: "t3hPu1YDeGUCp8m7BQCnnNUmRMJBa5RadyA",
    funds: &MAINNET_FUNDS,
    emergency: EmergencyParams {
        public_keys: &MAINNET_EMERGENCY_KEYS,
        min_signatures: 2,
        collateral_hash: EMERGENCY_COLLATERAL,
        skip_signature_check: false,
    },
    collateral_transitions: [
        transition(1_076_532, 1_086_612),
        transition(1_081_572, 1_092_372),
        transition(1_087_332, 1_097_412),
    ],
    test_node_collateral: None,
    p2pkh_prefix: [0x1c, 0xb8],
    p2sh_prefix: [0x1c, 0xbd],
    p2p_magic: [0x24, 0xe9, 0x27, 0x64],
    p2p_port: 16125,
    rpc_port: 16124,
    dns_seeds: &[
        "dnsseed.asoftwaresolution.com",
        "dnsseed.zel.network",
        "dnsseed.runonflux.io",
    ],
};

static TESTNET: NetworkParams = NetworkParams {
    name: "test",
    genesis_hash: TESTNET_CHECKPOINTS[0].hash,
    genesis_time: 1_582_228_940,
    genesis_bits: CompactTarget::from_consensus(0x2007_ffff),
    pow_limit: Target::from_display_hex_const(
        "0effffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    pon_limit: Target::from_display_hex_const(
        "0fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    // Unverified (Rust port).
    pon_start_limit: Target::from_display_hex_const(
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    check_pow_target: true,
    check_pon_target: true,
    pow_target_spacing: 60,
    pon_target_spacing: 30,
    digishield_window: 17,
    digishield_max_adjust_up: 16,
    digishield_max_adjust_down: 32,
    lwma_window: 60,
    lwma_ftl: 360,
    pon_window: 60,
    min_difficulty_after: Some(Height(0)),
    pon_bits_check_skipped: Some((Height(800), Height(1800))),
    eh144_reset_length: 61,
    upgrades: Upgrades {
        lwma: Some(Height(70)),
        equi144_5: Some(Height(140)),
        acadia: Some(Height(210)),
        kamiooka: Some(Height(280)),
        kamata: Some(Height(350)),
        flux: Some(Height(420)),
        halving: Some(Height(520)),
        p2sh_nodes: Some(Height(600)),
        pon: PonActivation::At(Height(800)),
    },
    equihash_epochs: [
        equihash::Params::EH48_5,
        equihash::Params::EH48_5,
        equihash::Params::EH48_5,
    ],
    eh_epoch_fade_length: 10,
    any_solution_size_through: Some(Height(320)),
    max_future_time_early: 7200,
    max_future_time: 360,
    max_future_time_pon: 300,
    checkpoints: &TESTNET_CHECKPOINTS,
    minimum_chain_work: Work::ZERO,
    subsidy: SubsidyParams {
        premine: Some((Height(1), Amount::from_flux(13_020_000))),
        pow_base: Amount::from_flux(150),
        slow_start_interval: 1,
        halving_interval: 655_350,
        max_halvings: 2,
        pon_initial: Amount::from_flux(14),
        pon_reduction_interval: 525_600,
        pon_max_reductions: 20,
    },
    fluxnode_payments_start: Some(Height(350)),
    dev_fund_address: "t2GoxS2SRmLQDnTyWePHjKD3izvFsKUAjrH",
    funds: &TESTNET_FUNDS,
    emergency: EmergencyParams {
        public_keys: &TESTNET_EMERGENCY_KEYS,
        min_signatures: 2,
        collateral_hash: EMERGENCY_COLLATERAL,
        skip_signature_check: false,
    },
    collateral_transitions: [
        transition(420, 520),
        transition(420, 520),
        transition(420, 520),
    ],
    test_node_collateral: Some(TEST_NODE_COLLATERAL),
    p2pkh_prefix: [0x1d, 0x25],
    p2sh_prefix: [0x1c, 0xba],
    p2p_magic: [0xfa, 0x1a, 0xf9, 0xbf],
    p2p_port: 26125,
    rpc_port: 26124,
    dns_seeds: &[
        "flux-testnet-seed.asoftwaresolution.com",
        "test.dnsseed.zel.network",
        "test.dnsseed.runonflux.io",
    ],
};

static REGTEST: NetworkParams = NetworkParams {
    name: "regtest",
    genesis_hash: REGTEST_CHECKPOINTS[0].hash,
    genesis_time: 1_296_688_602,
    genesis_bits: CompactTarget::from_consensus(0x200f_0f0f),
    pow_limit: Target::from_display_hex_const(
        "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
    ),
    pon_limit: Target::from_display_hex_const(
        "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
    ),
    pon_start_limit: Target::from_display_hex_const(
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ),
    check_pow_target: false,
    check_pon_target: false,
    pow_target_spacing: 120,
    pon_target_spacing: 30,
    digishield_window: 17,
    digishield_max_adjust_up: 0,
    digishield_max_adjust_down: 0,
    lwma_window: 60,
    lwma_ftl: 360,
    pon_window: 60,
    min_difficulty_after: Some(Height(0)),
    pon_bits_check_skipped: None,
    eh144_reset_length: 61,
    upgrades: Upgrades {
        lwma: None,
        equi144_5: None,
        acadia: None,
        kamiooka: None,
        kamata: None,
        flux: None,
        halving: None,
        p2sh_nodes: None,
        pon: PonActivation::NoActivationHeight,
    },
    equihash_epochs: [
        equihash::Params::EH48_5,
        equihash::Params::EH48_5,
        equihash::Params::EH48_5,
    ],
    eh_epoch_fade_length: 11,
    any_solution_size_through: None,
    max_future_time_early: 7200,
    max_future_time: 360,
    max_future_time_pon: 300,
    checkpoints: &REGTEST_CHECKPOINTS,
    minimum_chain_work: Work::ZERO,
    subsidy: SubsidyParams {
        // fluxd's premine at height 1 is never reached: PoN is active from genesis.
        premine: None,
        pow_base: Amount::from_flux(150),
        slow_start_interval: 0,
        halving_interval: 150,
        max_halvings: 2,
        pon_initial: Amount::from_flux(14),
        pon_reduction_interval: 100,
        pon_max_reductions: 10,
    },
    fluxnode_payments_start: Some(Height(100)),
    dev_fund_address: "t2GoxS2SRmLQDnTyWePHjKD3izvFsKUAjrH",
    funds: &REGTEST_FUNDS,
    emergency: EmergencyParams {
        public_keys: &TESTNET_EMERGENCY_KEYS,
        min_signatures: 1,
        collateral_hash: EMERGENCY_COLLATERAL,
        skip_signature_check: true,
    },
    collateral_transitions: [
        transition(0, 1_000),
        transition(0, 1_000),
        transition(0, 100),
    ],
    test_node_collateral: Some(TEST_NODE_COLLATERAL),
    p2pkh_prefix: [0x1d, 0x25],
    p2sh_prefix: [0x1c, 0xba],
    p2p_magic: [0xaa, 0xe8, 0x3f, 0x5f],
    p2p_port: 26126,
    rpc_port: 26124,
    dns_seeds: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_fade_windows_follow_the_spec_table() {
        let p = NetworkParams::mainnet();
        let at = |h| p.equihash_params_at(Height(h));
        use crate::equihash::Params as E;
        assert_eq!(at(125_099), vec![E::EH200_9]);
        assert_eq!(at(125_100), vec![E::EH144_5, E::EH200_9]);
        assert_eq!(at(125_110), vec![E::EH144_5, E::EH200_9]);
        assert_eq!(at(125_111), vec![E::EH144_5]);
        assert_eq!(at(372_499), vec![E::EH144_5]);
        assert_eq!(at(372_510), vec![E::ZELHASH, E::EH144_5]);
        assert_eq!(at(372_511), vec![E::ZELHASH]);
        assert_eq!(p.eh_epoch_1_end(), Some(Height(125_110)));
        assert_eq!(p.eh_epoch_2_end(), Some(Height(372_510)));
    }

    #[test]
    fn compact_forms_of_the_limits_match_the_spec() {
        let p = NetworkParams::mainnet();
        assert_eq!(p.pow_limit.to_compact_lossy().to_consensus(), 0x1f07ffff);
        assert_eq!(p.pon_limit.to_compact_lossy().to_consensus(), 0x200fffff);
        assert_eq!(
            p.pon_start_limit.to_compact_lossy().to_consensus(),
            0x1f0bffff
        );
    }

    #[test]
    fn checkpoints_are_sorted_and_found() {
        for p in [
            NetworkParams::mainnet(),
            NetworkParams::testnet(),
            NetworkParams::regtest(),
        ] {
            assert!(p.checkpoints.windows(2).all(|w| w[0].height < w[1].height));
            assert_eq!(p.checkpoint_at(Height(0)).unwrap().hash, p.genesis_hash);
        }
        assert!(NetworkParams::mainnet().checkpoint_at(Height(1)).is_none());
    }
}
