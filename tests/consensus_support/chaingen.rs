//! A chain generator for tests: a test network (Equihash 48,5, an easy pow limit, low era
//! heights, short windows) and long valid chains across every difficulty algorithm, the era
//! switches and the PoN switch, with PoN blocks signed by test keys and one emergency block.
//!
//! 48,5 has 512 leaves, so a tiny Wagner solver here finds solutions in microseconds.

use std::sync::OnceLock;

use fluxminer::consensus::chain::{ChainWindow, Clock};
use fluxminer::consensus::difficulty::next_work_required;
use fluxminer::consensus::encode::write_compact_size;
use fluxminer::consensus::hash::{MerkleRoot, SaplingRoot, sha256d};
use fluxminer::consensus::params::{EmergencyParams, PonActivation, Upgrades};
use fluxminer::consensus::reward::address_script;
use fluxminer::consensus::subsidy::{block_subsidy, tier_amounts};
use fluxminer::consensus::{
    BlockHash, Header, HeaderError, Height, NetworkParams, OutPoint, Proof, Target, TxId, pon,
};
use fluxminer::equihash;
use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};

/// Genesis time of the test network.
pub const GENESIS_TIME: u32 = 1_600_000_000;
/// Height of the first PoN block.
pub const PON_HEIGHT: u32 = 300;
/// Height of the emergency block.
pub const EMERGENCY_HEIGHT: u32 = 1_000;
/// Length of the generated chain (heights 0..CHAIN_LEN).
pub const CHAIN_LEN: u32 = 2_000;

/// Upgrade heights of the test network, chosen so each algorithm runs for a while:
/// Digishield below 40, LWMA 40–149 (fade window 60–70, reset blocks 71–131), LWMA3 from 150,
/// the ZelHash ramp on blocks 181–244 (the wrap at 243 and 244), PoN from 300 (start limit for
/// 300–309).
pub fn test_upgrades() -> Upgrades {
    Upgrades {
        lwma: Some(Height(40)),
        equi144_5: Some(Height(60)),
        acadia: Some(Height(150)),
        kamiooka: Some(Height(170)),
        kamata: Some(Height(200)),
        flux: Some(Height(250)),
        halving: Some(Height(260)),
        p2sh_nodes: Some(Height(270)),
        pon: PonActivation::At(Height(PON_HEIGHT)),
    }
}

/// The emergency signing keys of the test network.
pub fn emergency_keys() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (1..=4u8)
            .map(|i| SigningKey::from_bytes(&[i; 32].into()).unwrap())
            .collect()
    })
}

/// The producing node's key (its public key plays the FluxNode operator key).
pub fn node_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_bytes(&[7u8; 32].into()).unwrap())
}

/// The node's compressed public key.
pub fn node_public_key() -> Vec<u8> {
    node_key()
        .verifying_key()
        .to_encoded_point(true)
        .as_bytes()
        .to_vec()
}

/// The test network.
pub fn test_params() -> &'static NetworkParams {
    static P: OnceLock<NetworkParams> = OnceLock::new();
    P.get_or_init(|| {
        let keys: Vec<&'static str> = emergency_keys()
            .iter()
            .map(|k| {
                let hex = hex::encode(k.verifying_key().to_encoded_point(true).as_bytes());
                &*Box::leak(hex.into_boxed_str())
            })
            .collect();
        let genesis = genesis_header();
        NetworkParams {
            name: "unit-test",
            genesis_hash: genesis.block_hash(),
            genesis_time: GENESIS_TIME,
            genesis_bits: genesis.bits,
            pow_limit: test_pow_limit(),
            pon_limit: Target::from_display_hex_const(
                "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            ),
            pon_start_limit: Target::from_display_hex_const(
                "3fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            ),
            lwma_window: 20,
            pon_window: 10,
            upgrades: test_upgrades(),
            equihash_epochs: [equihash::Params::EH48_5; 3],
            checkpoints: &[],
            funds: &[],
            fluxnode_payments_start: Some(Height(200)),
            emergency: EmergencyParams {
                public_keys: Box::leak(keys.into_boxed_slice()),
                min_signatures: 2,
                collateral_hash: TxId::from_internal_bytes([0x11; 32]),
                skip_signature_check: false,
            },
            test_node_collateral: None,
            ..NetworkParams::mainnet().clone()
        }
    })
}

// ---- a tiny 48,5 Wagner solver ----

const N: u32 = 48;
const K: u32 = 5;

pub fn leaves(input: &[u8; 140]) -> Vec<u64> {
    let mut person = [0u8; 16];
    person[..8].copy_from_slice(b"ZcashPoW");
    person[8..12].copy_from_slice(&N.to_le_bytes());
    person[12..].copy_from_slice(&K.to_le_bytes());
    let mut out = Vec::with_capacity(512);
    for g in 0..52u32 {
        let h = blake2b_simd::Params::new()
            .hash_length(60)
            .personal(&person)
            .to_state()
            .update(input)
            .update(&g.to_le_bytes())
            .finalize();
        for s in 0..10 {
            if out.len() < 512 {
                let b = &h.as_bytes()[6 * s..6 * s + 6];
                out.push(b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)));
            }
        }
    }
    out
}

/// One round's rows: the XOR value and the two rows of the previous round it came from.
type Round = Vec<(u64, u32, u32)>;

/// Pairs rows whose `key` collides (bucketed by an 8- or 16-bit key).
///
/// Before the last round a pair whose whole value XORs to zero is dropped: it almost always
/// repeats an index set and can only lead to invalid solutions.
fn merge(prev: &[u64], key: impl Fn(u64) -> usize, buckets: usize) -> Round {
    let mut heads = vec![u32::MAX; buckets];
    let mut next = vec![u32::MAX; prev.len()];
    for (i, &v) in prev.iter().enumerate() {
        let k = key(v);
        next[i] = heads[k];
        heads[k] = i as u32;
    }
    let mut out = Vec::with_capacity(prev.len() * 2);
    for &head in &heads {
        let mut a = head;
        while a != u32::MAX {
            let mut b = next[a as usize];
            while b != u32::MAX {
                let v = prev[a as usize] ^ prev[b as usize];
                if v != 0 {
                    out.push((v, b, a));
                }
                b = next[b as usize];
            }
            a = next[a as usize];
        }
    }
    out.truncate(4096);
    out
}

fn indices_of(rounds: &[Round], leaves_len: usize, level: usize, row: u32, out: &mut Vec<u32>) {
    if level == 0 {
        debug_assert!((row as usize) < leaves_len);
        out.push(row);
        return;
    }
    let (_, a, b) = rounds[level - 1][row as usize];
    let mut left = Vec::new();
    let mut right = Vec::new();
    indices_of(rounds, leaves_len, level - 1, a, &mut left);
    indices_of(rounds, leaves_len, level - 1, b, &mut right);
    if left[0] > right[0] {
        std::mem::swap(&mut left, &mut right);
    }
    out.extend(left);
    out.extend(right);
}

/// All 48,5 solutions (index lists, in canonical order) of a 140-byte input.
pub fn solve_48_5(input: &[u8; 140]) -> Vec<Vec<u32>> {
    let leaves = leaves(input);
    let mut rounds: Vec<Round> = Vec::new();
    let mut values = leaves.clone();
    for r in 0..K - 1 {
        let shift = 40 - 8 * r;
        let round = merge(&values, |v| ((v >> shift) & 0xff) as usize, 256);
        values = round.iter().map(|x| x.0).collect();
        rounds.push(round);
    }
    // Last round: pairs equal on the remaining 16 bits, found by sorting.
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_unstable_by_key(|&i| values[i as usize] & 0xffff);
    let mut last = Vec::new();
    for w in order.windows(2) {
        let (x, y) = (values[w[0] as usize], values[w[1] as usize]);
        if x & 0xffff == y & 0xffff {
            last.push((w[0], w[1]));
        }
    }
    let mut sols = Vec::new();
    for (a, b) in last {
        let mut idx = Vec::with_capacity(32);
        let mut left = Vec::new();
        let mut right = Vec::new();
        indices_of(&rounds, leaves.len(), K as usize - 1, a, &mut left);
        indices_of(&rounds, leaves.len(), K as usize - 1, b, &mut right);
        if left[0] > right[0] {
            std::mem::swap(&mut left, &mut right);
        }
        idx.extend(left);
        idx.extend(right);
        let mut sorted = idx.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() == idx.len() {
            sols.push(idx);
        }
    }
    sols.sort();
    sols.dedup();
    sols
}

// ---- building headers ----

/// Fields of a header before its proof.
#[derive(Debug, Clone)]
pub struct Template {
    /// `nVersion`.
    pub version: i32,
    /// Parent hash.
    pub prev_hash: BlockHash,
    /// Merkle root (arbitrary here).
    pub merkle_root: MerkleRoot,
    /// `nTime`.
    pub time: u32,
    /// `nBits`.
    pub bits: fluxminer::consensus::CompactTarget,
}

fn base(t: &Template, proof: Proof) -> Header {
    Header {
        version: t.version,
        prev_hash: t.prev_hash,
        merkle_root: t.merkle_root,
        sapling_root: SaplingRoot::ZERO,
        time: t.time,
        bits: t.bits,
        proof,
    }
}

/// Finds a nonce and 48,5 solution whose hash meets `target` (or any, when `target` is None).
pub fn mine_pow(t: &Template, target: Option<Target>) -> Header {
    for counter in 0u64.. {
        let mut nonce = [0u8; 32];
        nonce[..8].copy_from_slice(&counter.to_le_bytes());
        nonce[8..16].copy_from_slice(&t.merkle_root.to_internal_bytes()[..8]);
        let mut h = base(
            t,
            Proof::Work {
                nonce,
                solution: Vec::new(),
            },
        );
        let input = h.equihash_input().unwrap();
        for sol in solve_48_5(&input) {
            let minimal = equihash::minimal_from_indices(&equihash::Params::EH48_5, &sol);
            if let Proof::Work { solution, .. } = &mut h.proof {
                *solution = minimal;
            }
            if target
                .is_none_or(|tg| tg.is_met_by_internal_bytes(h.block_hash().as_internal_bytes()))
            {
                return h;
            }
        }
    }
    unreachable!()
}

/// A signed PoN header: grinds the collateral index until ponHash ≤ `target` (or any).
pub fn mine_pon(params: &NetworkParams, t: &Template, target: Option<Target>) -> Header {
    let txid = TxId::from_internal_bytes(sha256d(b"test node collateral"));
    let slot = pon::slot_number(params, t.time);
    for index in 0u32.. {
        let collateral = OutPoint { txid, index };
        let ph = pon::pon_hash(&collateral, &t.prev_hash, slot);
        if target.is_none_or(|tg| tg.is_met_by_internal_bytes(ph.as_internal_bytes())) {
            let mut h = base(
                t,
                Proof::Node {
                    collateral,
                    signature: Vec::new(),
                },
            );
            let sig: Signature = node_key()
                .sign_prehash(h.block_hash().as_internal_bytes())
                .unwrap();
            if let Proof::Node { signature, .. } = &mut h.proof {
                *signature = sig.to_der().as_bytes().to_vec();
            }
            return h;
        }
    }
    unreachable!()
}

/// An emergency PoN header signed by the first `signers` emergency keys.
pub fn emergency_block(params: &NetworkParams, t: &Template, signers: usize) -> Header {
    let collateral = OutPoint {
        txid: params.emergency.collateral_hash,
        index: 0,
    };
    let mut h = base(
        t,
        Proof::Node {
            collateral,
            signature: Vec::new(),
        },
    );
    let hash = h.block_hash();
    let mut vch = Vec::new();
    write_compact_size(&mut vch, signers as u64);
    for key in &emergency_keys()[..signers] {
        let sig: Signature = key.sign_prehash(hash.as_internal_bytes()).unwrap();
        let der = sig.to_der();
        write_compact_size(&mut vch, der.as_bytes().len() as u64);
        vch.extend_from_slice(der.as_bytes());
    }
    if let Proof::Node { signature, .. } = &mut h.proof {
        *signature = vch;
    }
    h
}

/// Deterministic jitter in `lo..=hi` for height `h`.
fn jitter(h: u32, lo: u32, hi: u32) -> u32 {
    let x = u32::from_le_bytes(sha256d(&h.to_le_bytes())[..4].try_into().unwrap());
    lo + x % (hi - lo + 1)
}

/// The clock a node would have when receiving the block after `window`'s tip.
pub fn clock_for(window: &ChainWindow) -> Clock {
    let tip = window.tip().unwrap();
    Clock {
        adjusted_time: i64::from(tip.time) + 200,
        tip_height: tip.height,
    }
}

/// A generated chain, with the window before each height.
pub struct GeneratedChain {
    /// Headers at heights 0..len.
    pub headers: Vec<Header>,
    /// `windows[h]` is the window holding heights < h (empty for 0).
    pub windows: Vec<ChainWindow>,
}

/// The template the generator uses at the window's next height (correct bits and time).
pub fn template_after(params: &NetworkParams, window: &ChainWindow) -> Template {
    let tip = window.tip().unwrap();
    let height = tip.height.next();
    let pon = params.is_pon_active(height);
    let time = if pon {
        tip.time + jitter(height.0, 20, 40)
    } else {
        tip.time + jitter(height.0, 60, 200)
    };
    Template {
        version: if pon { 100 } else { 4 },
        prev_hash: tip.hash,
        merkle_root: coinbase_root(params, height),
        time,
        bits: next_work_required(params, height, time, window).unwrap(),
    }
}

/// Mines the correct next header after `window`.
pub fn next_header(params: &NetworkParams, window: &ChainWindow) -> Header {
    let t = template_after(params, window);
    let height = window.tip().unwrap().height.next();
    let target = t.bits.to_target().ok();
    if height.0 == EMERGENCY_HEIGHT {
        emergency_block(params, &t, 2)
    } else if params.is_pon_active(height) {
        mine_pon(params, &t, target)
    } else {
        mine_pow(&t, target)
    }
}

/// The test network's `powLimit`.
fn test_pow_limit() -> Target {
    Target::from_display_hex_const(
        "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    )
}

/// The genesis header (its coinbase pays nothing: the subsidy at height 0 is unspendable).
pub fn genesis_header() -> &'static Header {
    static G: OnceLock<Header> = OnceLock::new();
    G.get_or_init(|| {
        let t = Template {
            version: 4,
            prev_hash: BlockHash::ZERO,
            merkle_root: MerkleRoot::from_internal_bytes(sha256d(&genesis_coinbase())),
            time: GENESIS_TIME,
            bits: test_pow_limit().to_compact_lossy(),
        };
        mine_pow(&t, Some(test_pow_limit()))
    })
}

fn genesis_coinbase() -> Vec<u8> {
    coinbase_tx(0, &[(0, p2pkh(b"genesis"))])
}

// ---- coinbases ----

/// A P2PKH script paying the hash of `seed`.
pub fn p2pkh(seed: &[u8]) -> Vec<u8> {
    let mut s = vec![0x76, 0xa9, 20];
    s.extend_from_slice(&sha256d(seed)[..20]);
    s.extend_from_slice(&[0x88, 0xac]);
    s
}

/// The payee of `tier` (0 Cumulus, 1 Nimbus, 2 Stratus) at `height`: tiers rotate over 7, 5
/// and 3 nodes, so each node is paid every 7, 5 or 3 blocks.
pub fn tier_payee(tier: usize, height: u32) -> Vec<u8> {
    let nodes = [7, 5, 3][tier];
    p2pkh(format!("tier {tier} node {}", height % nodes).as_bytes())
}

/// The miner's script.
pub fn miner_script() -> Vec<u8> {
    p2pkh(b"test miner")
}

/// `CScript() << height` as fluxd writes it (OP_0, OP_1..OP_16, or a minimal number push).
fn height_script(height: u32) -> Vec<u8> {
    match height {
        0 => vec![0x00],
        1..=16 => vec![0x50 + height as u8],
        _ => fluxminer::consensus::block::height_push(height),
    }
}

/// A version-1 coinbase transaction at `height` with these outputs.
fn coinbase_tx(height: u32, outputs: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut tx = 1u32.to_le_bytes().to_vec();
    tx.push(1);
    tx.extend_from_slice(&[0u8; 32]);
    tx.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut script_sig = height_script(height);
    script_sig.extend_from_slice(b"\x0bfluxminer t");
    write_compact_size(&mut tx, script_sig.len() as u64);
    tx.extend_from_slice(&script_sig);
    tx.extend_from_slice(&u32::MAX.to_le_bytes());
    write_compact_size(&mut tx, outputs.len() as u64);
    for (value, script) in outputs {
        tx.extend_from_slice(&value.to_le_bytes());
        write_compact_size(&mut tx, script.len() as u64);
        tx.extend_from_slice(script);
    }
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx
}

/// The coinbase of the generated block at `height`: the subsidy split as the era requires
/// (miner or, under PoN, dev fund; each FluxNode tier from the payments start; no fees).
pub fn coinbase(params: &NetworkParams, height: Height) -> Vec<u8> {
    if height.0 == 0 {
        return genesis_coinbase();
    }
    let subsidy = block_subsidy(params, height);
    let mut outputs = Vec::new();
    let mut tiers_total = 0;
    if let Some(t) = tier_amounts(params, height, subsidy) {
        for (i, a) in [t.cumulus, t.nimbus, t.stratus].into_iter().enumerate() {
            outputs.push((a.to_zat(), tier_payee(i, height.0)));
            tiers_total += a.to_zat();
        }
    }
    let rest = subsidy.to_zat() - tiers_total;
    let first = if params.is_pon_active(height) {
        address_script(params, params.dev_fund_address).expect("dev fund address")
    } else {
        miner_script()
    };
    outputs.insert(0, (rest, first));
    coinbase_tx(height.0, &outputs)
}

/// The Merkle root of the one-transaction block at `height`: its coinbase's txid.
fn coinbase_root(params: &NetworkParams, height: Height) -> MerkleRoot {
    MerkleRoot::from_internal_bytes(sha256d(&coinbase(params, height)))
}

/// The serialized block: header, one transaction.
pub fn block_bytes(params: &NetworkParams, height: u32, header: &Header) -> Vec<u8> {
    let mut b = header.to_bytes();
    b.push(1);
    b.extend_from_slice(&coinbase(params, Height(height)));
    b
}

fn generate() -> GeneratedChain {
    let params = test_params();
    let genesis = genesis_header().clone();
    let mut window = ChainWindow::new(params);
    let mut windows = vec![window.clone()];
    let clock = Clock {
        adjusted_time: i64::from(GENESIS_TIME),
        tip_height: Height(0),
    };
    window.accept(params, &genesis, &clock).expect("genesis");
    let mut headers = vec![genesis];
    for _ in 1..CHAIN_LEN {
        let h = next_header(params, &window);
        windows.push(window.clone());
        window
            .accept(params, &h, &clock_for(&window))
            .unwrap_or_else(|e| panic!("generated header {} invalid: {e}", headers.len()));
        headers.push(h);
    }
    GeneratedChain { headers, windows }
}

/// The generated chain (built once per test binary).
pub fn chain() -> &'static GeneratedChain {
    static C: OnceLock<GeneratedChain> = OnceLock::new();
    C.get_or_init(generate)
}

/// Validates `header` as the block at `height` of the generated chain.
pub fn validate_at(
    params: &NetworkParams,
    height: u32,
    header: &Header,
) -> Result<(), HeaderError> {
    let mut w = chain().windows[height as usize].clone();
    let clock = clock_for(&w);
    w.accept(params, header, &clock).map(|_| ())
}

/// The test network as a chain file (`--chain`), the way `tests/vectors/testchain/chain.toml`
/// ships it.
pub fn chain_file_text() -> String {
    let p = test_params();
    let t = |t: Target| format!("{:064x}", t.to_uint());
    let u = &p.upgrades;
    let h = |x: Option<Height>| x.expect("set").0;
    let keys: Vec<String> = p
        .emergency
        .public_keys
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect();
    format!(
        r#"# The generated test chain of tests/consensus_support/chaingen.rs (Equihash 48,5, short
# windows, every difficulty algorithm, PoN from {pon}, an emergency block at {emergency}).
# Written by `FLUXMINER_REGEN_VECTORS=1 cargo test --test consensus_chain`.
name = "{name}"
base = "main"
genesis_hash = "{genesis}"
genesis_time = {gtime}
genesis_bits = "{gbits:08x}"
pow_limit = "{pow}"
pon_limit = "{ponl}"
pon_start_limit = "{pons}"
lwma_window = {lwma}
pon_window = {ponw}
equihash = ["48,5", "48,5", "48,5"]
fluxnode_payments_start = {fps}
funds = []

[upgrades]
lwma = {u_lwma}
equi144_5 = {u_144}
acadia = {u_acadia}
kamiooka = {u_kamiooka}
kamata = {u_kamata}
flux = {u_flux}
halving = {u_halving}
p2sh_nodes = {u_p2sh}
pon = {pon}

[emergency]
public_keys = [{keys}]
min_signatures = {minsig}
collateral_hash = "{coll}"
"#,
        pon = PON_HEIGHT,
        emergency = EMERGENCY_HEIGHT,
        name = p.name,
        genesis = p.genesis_hash.to_display_hex(),
        gtime = p.genesis_time,
        gbits = p.genesis_bits.to_consensus(),
        pow = t(p.pow_limit),
        ponl = t(p.pon_limit),
        pons = t(p.pon_start_limit),
        lwma = p.lwma_window,
        ponw = p.pon_window,
        fps = h(p.fluxnode_payments_start),
        u_lwma = h(u.lwma),
        u_144 = h(u.equi144_5),
        u_acadia = h(u.acadia),
        u_kamiooka = h(u.kamiooka),
        u_kamata = h(u.kamata),
        u_flux = h(u.flux),
        u_halving = h(u.halving),
        u_p2sh = h(u.p2sh_nodes),
        keys = keys.join(", "),
        minsig = p.emergency.min_signatures,
        coll = p.emergency.collateral_hash.to_display_hex(),
    )
}
