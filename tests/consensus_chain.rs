//! Long generated chains (test network, 48,5) validate in sequence across every difficulty
//! algorithm and the PoN switch; editing any one header makes validation fail there with the
//! right error.

mod consensus_support;

use consensus_support::chaingen::{
    self, CHAIN_LEN, EMERGENCY_HEIGHT, PON_HEIGHT, Template, chain, emergency_block, mine_pon,
    mine_pow, node_public_key, template_after, test_params, validate_at,
};
use fluxminer::consensus::chain::{ChainView, ChainWindow, Clock};
use fluxminer::consensus::params::Checkpoint;
use fluxminer::consensus::validate::validate_header;
use fluxminer::consensus::{
    BlockHash, CompactTarget, Header, HeaderError, Height, NetworkParams, Proof, pon,
};

fn template(h: u32) -> Template {
    template_after(test_params(), &chain().windows[h as usize])
}

fn target(t: &Template) -> Option<fluxminer::consensus::Target> {
    t.bits.to_target().ok()
}

#[test]
fn generated_chain_validates_in_sequence() {
    let p = test_params();
    let c = chain();
    assert_eq!(c.headers.len(), CHAIN_LEN as usize);
    let mut w = ChainWindow::new(p);
    let mut clock = Clock {
        adjusted_time: i64::from(chaingen::GENESIS_TIME),
        tip_height: Height(0),
    };
    for (h, header) in c.headers.iter().enumerate() {
        if h > 0 {
            clock = chaingen::clock_for(&w);
        }
        w.accept(p, header, &clock)
            .unwrap_or_else(|e| panic!("height {h}: {e}"));
    }
    assert_eq!(w.tip().unwrap().height.0, CHAIN_LEN - 1);
    assert!(c.headers[PON_HEIGHT as usize].is_pon());
    assert!(!c.headers[PON_HEIGHT as usize - 1].is_pon());
    assert!(pon::is_emergency_block(
        p,
        &c.headers[EMERGENCY_HEIGHT as usize]
    ));
    // Chain work: PoN blocks add exactly 2^40 each.
    let tip = w.tip().unwrap().chain_work.to_uint();
    let at = |h: u32| c.windows[h as usize].tip().unwrap().chain_work.to_uint();
    let pon_blocks = ruint::aliases::U256::from(u64::from(CHAIN_LEN - 1 - PON_HEIGHT));
    assert_eq!(tip - at(PON_HEIGHT + 1), pon_blocks << 40usize);
}

#[test]
fn the_generated_chain_crosses_every_difficulty_regime() {
    let p = test_params();
    let bits = |h: usize| chain().headers[h].bits;
    let limit = p.pow_limit.to_compact_lossy();
    // Reset window (blocks 71–131) sits at the pow limit; the ramp's first block is easier than
    // the plain LWMA3 value; PoN starts at the start limit.
    assert!((71..=131).all(|h| bits(h) == limit));
    assert_eq!(
        bits(PON_HEIGHT as usize),
        p.pon_start_limit.to_compact_lossy()
    );
    let w = &chain().windows[181];
    let lwma3 = fluxminer::consensus::difficulty::lwma3(p, Height(180), w).unwrap();
    assert!(bits(181).decode().value > lwma3.decode().value || bits(181) == limit);
    // Targets actually vary (LWMA reacts to the jittered times).
    let distinct: std::collections::BTreeSet<u32> =
        (150..300).map(|h| bits(h).to_consensus()).collect();
    assert!(distinct.len() > 10, "{distinct:?}");
}

#[test]
fn editing_any_header_fails_validation_at_that_height() {
    let p = test_params();
    let c = chain();
    for h in 1..CHAIN_LEN {
        let orig = &c.headers[h as usize];
        // Every height: a parent whose hash is not the header's previous hash. (Editing the
        // header's field instead changes its Equihash input or ponHash, which fluxd checks
        // first.)
        let other = BlockHash::from_internal_bytes([0xab; 32]);
        assert_eq!(
            validate_with_parent_hash(p, h, orig, other),
            Err(HeaderError::PrevHashMismatch {
                expected: other,
                found: orig.prev_hash
            }),
            "height {h}"
        );
        // Every height: a layout-specific cheap rule.
        let mut e = orig.clone();
        let expected = match &mut e.proof {
            Proof::Work { .. } => {
                e.version = 3;
                HeaderError::VersionTooLow { version: 3, min: 4 }
            }
            Proof::Node { signature, .. } => {
                let max = if h == EMERGENCY_HEIGHT { 512 } else { 73 };
                *signature = vec![0; max + 1];
                HeaderError::PonSignatureTooLarge { len: max + 1, max }
            }
        };
        assert_eq!(validate_at(p, h, &e), Err(expected), "height {h}");
        // And the untouched header is still valid there.
        validate_at(p, h, orig).unwrap_or_else(|e| panic!("height {h}: {e}"));
    }
}

/// Validates `header` at `height` on the generated chain with the parent's hash replaced.
fn validate_with_parent_hash(
    p: &NetworkParams,
    height: u32,
    header: &Header,
    parent_hash: BlockHash,
) -> Result<(), HeaderError> {
    let w = &chain().windows[height as usize];
    let view = |h: Height| {
        w.entry(h).map(|mut e| {
            if h.0 + 1 == height {
                e.hash = parent_hash;
            }
            e
        })
    };
    validate_header(p, header, Height(height), &view, &chaingen::clock_for(w)).map(|_| ())
}

/// A compact value with a different target than `bits` that still decodes and is within limits.
fn other_bits(bits: CompactTarget) -> CompactTarget {
    CompactTarget::from_uint(bits.decode().value >> 1usize)
}

#[test]
fn wrong_bits_in_every_regime_fail_bad_diffbits() {
    let p = test_params();
    // Digishield, LWMA, reset, LWMA3, ramp, ramp wrap, after the ramp.
    for h in [30u32, 50, 100, 160, 200, 243, 244, 250] {
        let mut t = template(h);
        let expected = t.bits;
        t.bits = other_bits(t.bits);
        let e = mine_pow(&t, target(&t));
        assert_eq!(
            validate_at(p, h, &e),
            Err(HeaderError::BadDiffBits {
                expected,
                found: t.bits
            }),
            "height {h}"
        );
    }
    // PoN start window and retarget.
    for h in [PON_HEIGHT + 5, 400] {
        let mut t = template(h);
        let expected = t.bits;
        t.bits = other_bits(t.bits);
        let e = mine_pon(p, &t, target(&t));
        assert_eq!(
            validate_at(p, h, &e),
            Err(HeaderError::BadPonDiffBits {
                expected,
                found: t.bits
            }),
            "height {h}"
        );
    }
}

#[test]
fn timestamp_rules() {
    let p = test_params();
    let w = &chain().windows[50];
    let mtp = fluxminer::consensus::chain::median_time_past(w, Height(49)).unwrap();
    let mut t = template(50);
    t.time = mtp as u32;
    let e = mine_pow(&t, target(&t));
    assert_eq!(
        validate_at(p, 50, &e),
        Err(HeaderError::TimeTooOld {
            time: t.time,
            median_time_past: mtp
        })
    );
    // Too far ahead of the clock (tip ≥ LWMA height: +360 s).
    let clock = chaingen::clock_for(w);
    let mut t = template(50);
    t.time = (clock.adjusted_time + 361) as u32;
    let e = mine_pow(&t, target(&t));
    assert!(matches!(
        validate_at(p, 50, &e),
        Err(HeaderError::TimeTooNew { limit: 360, .. })
    ));
    // Before the tip reaches the LWMA height the limit is 2 h.
    let w = &chain().windows[20];
    let clock = chaingen::clock_for(w);
    let mut t = template(20);
    t.time = (clock.adjusted_time + 7000) as u32;
    t.bits =
        fluxminer::consensus::difficulty::next_work_required(p, Height(20), t.time, w).unwrap();
    let e = mine_pow(&t, target(&t));
    validate_at(p, 20, &e).expect("+7000 s allowed early on");
    // PoN: strictly after the parent, at most +300 s.
    let parent_time = chain().headers[399].time;
    let mut t = template(400);
    t.time = parent_time;
    let e = mine_pon(p, &t, target(&t));
    assert_eq!(
        validate_at(p, 400, &e),
        Err(HeaderError::PonTimeNotIncreasing {
            time: parent_time,
            parent_time
        })
    );
    let clock = chaingen::clock_for(&chain().windows[400]);
    let mut t = template(400);
    t.time = (clock.adjusted_time + 301) as u32;
    let e = mine_pon(p, &t, target(&t));
    assert!(matches!(
        validate_at(p, 400, &e),
        Err(HeaderError::TimeTooNew { limit: 300, .. })
    ));
    // While the node's own tip is below the LWMA height the 2 h limit applies to PoN too.
    let w = &chain().windows[400];
    let early = Clock {
        tip_height: Height(39),
        ..clock
    };
    validate_header(p, &e, Height(400), w, &early).expect("+301 s allowed with an early tip");
    let mut t = template(400);
    t.time = (clock.adjusted_time + 7201) as u32;
    let e = mine_pon(p, &t, target(&t));
    assert_eq!(
        validate_header(p, &e, Height(400), w, &early),
        Err(HeaderError::TimeTooNew {
            time: t.time,
            now: clock.adjusted_time,
            limit: 7200
        })
    );
}

#[test]
fn era_rules_at_the_pon_switch() {
    let p = test_params();
    // A PoW header that passes the context-free rules (its nBits within powLimit).
    let mut t = template(PON_HEIGHT);
    t.bits = p.pow_limit.to_compact_lossy();
    let pow = mine_pow(&t, Some(p.pow_limit));
    assert_eq!(
        validate_at(p, PON_HEIGHT, &pow),
        Err(HeaderError::NotPonBlock {
            height: Height(PON_HEIGHT)
        })
    );
    let t = template(PON_HEIGHT - 1);
    let early = mine_pon(p, &t, target(&t));
    assert_eq!(
        validate_at(p, PON_HEIGHT - 1, &early),
        Err(HeaderError::PrematurePonBlock {
            height: Height(PON_HEIGHT - 1)
        })
    );
}

#[test]
fn pon_eligibility_and_signatures() {
    let p = test_params();
    let t = template(400);
    let target = t.bits.to_target().unwrap();
    // Grind for a collateral whose ponHash is above the target.
    let mut bad = None;
    for index in 0..64 {
        let mut h = mine_pon(p, &t, None);
        if let Proof::Node { collateral, .. } = &mut h.proof {
            collateral.index += index * 1000;
            let slot = pon::slot_number(p, h.time);
            let ph = pon::pon_hash(collateral, &h.prev_hash, slot);
            if !target.is_met_by_internal_bytes(ph.as_internal_bytes()) {
                bad = Some(h);
                break;
            }
        }
    }
    let bad = bad.expect("some collateral misses the target");
    assert!(matches!(
        validate_at(p, 400, &bad),
        Err(HeaderError::PonHighHash { .. })
    ));
    // Signatures: the generated block verifies with the node key; another key or a changed
    // header does not; garbage is not DER.
    let good = &chain().headers[400];
    let key = node_public_key();
    pon::check_pon_signature(p, good, &key).unwrap();
    let other = chaingen::emergency_keys()[0]
        .verifying_key()
        .to_encoded_point(true)
        .as_bytes()
        .to_vec();
    assert_eq!(
        pon::check_pon_signature(p, good, &other),
        Err(HeaderError::PonSignatureInvalid)
    );
    let mut moved = good.clone();
    moved.time += 1;
    assert_eq!(
        pon::check_pon_signature(p, &moved, &key),
        Err(HeaderError::PonSignatureInvalid)
    );
    let mut garbage = good.clone();
    if let Proof::Node { signature, .. } = &mut garbage.proof {
        *signature = vec![0x30, 0x02, 0x01];
    }
    assert_eq!(
        pon::check_pon_signature(p, &garbage, &key),
        Err(HeaderError::PonSignatureNotDer)
    );
    assert_eq!(
        pon::check_pon_signature(p, good, &[5u8; 33]),
        Err(HeaderError::BadNodePublicKey)
    );
}

#[test]
fn hybrid_public_keys_are_accepted_with_the_right_parity() {
    let p = test_params();
    let good = &chain().headers[400];
    let point = chaingen::node_key().verifying_key().to_encoded_point(false);
    let uncompressed = point.as_bytes().to_vec();
    pon::check_pon_signature(p, good, &uncompressed).unwrap();
    let odd = uncompressed[64] & 1 == 1;
    let mut hybrid = uncompressed.clone();
    hybrid[0] = if odd { 0x07 } else { 0x06 };
    pon::check_pon_signature(p, good, &hybrid).expect("hybrid key");
    hybrid[0] ^= 1; // the other parity
    assert_eq!(
        pon::check_pon_signature(p, good, &hybrid),
        Err(HeaderError::BadNodePublicKey)
    );
}

#[test]
fn high_s_signatures_are_normalised_and_accepted() {
    use k256::ecdsa::Signature;
    let p = test_params();
    let mut h = chain().headers[400].clone();
    if let Proof::Node { signature, .. } = &mut h.proof {
        let sig = Signature::from_der(signature).unwrap();
        let (r, s) = sig.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        assert!(high.normalize_s().is_some(), "s is high");
        *signature = high.to_der().as_bytes().to_vec();
    }
    pon::check_pon_signature(p, &h, &node_public_key()).unwrap();
}

#[test]
fn emergency_blocks_need_two_distinct_emergency_keys() {
    let p = test_params();
    let good = &chain().headers[EMERGENCY_HEIGHT as usize];
    pon::check_pon_signature(p, good, &[]).unwrap();
    let t = template(EMERGENCY_HEIGHT);
    let one = emergency_block(p, &t, 1);
    // fluxd checks the multisig at header stage (whatever its signature flag says).
    assert_eq!(
        validate_at(p, EMERGENCY_HEIGHT, &one),
        Err(HeaderError::EmergencyTooFewSignatures {
            valid: 0,
            required: 2
        })
    );
    assert_eq!(
        pon::check_pon_signature(p, &one, &[]),
        Err(HeaderError::EmergencyTooFewSignatures {
            valid: 0,
            required: 2
        })
    );
    // Two signatures by the same key count once.
    let two = emergency_block(p, &t, 2);
    let mut same = one.clone();
    if let (Proof::Node { signature: s1, .. }, Proof::Node { signature: s2, .. }) =
        (&mut same.proof, &two.proof)
    {
        let mut r = fluxminer::consensus::encode::Reader::new(s2);
        r.read_compact_size().unwrap();
        let first = r.read_var_bytes().unwrap().to_vec();
        let mut v = vec![2u8];
        for _ in 0..2 {
            v.push(first.len() as u8);
            v.extend_from_slice(&first);
        }
        *s1 = v;
    }
    assert_eq!(
        pon::check_pon_signature(p, &same, &[]),
        Err(HeaderError::EmergencyTooFewSignatures {
            valid: 1,
            required: 2
        })
    );
}

/// Changes the nonce (and so the Equihash input) until the hash meets the header's target, so
/// the edited header breaks only the solution rules.
fn regrind_nonce(h: &Header) -> Header {
    let target = h.bits.to_target().unwrap();
    let mut e = h.clone();
    for n in 1u32.. {
        if let Proof::Work { nonce, .. } = &mut e.proof {
            nonce[28..].copy_from_slice(&n.to_le_bytes());
        }
        if target.is_met_by_internal_bytes(e.block_hash().as_internal_bytes()) {
            return e;
        }
    }
    unreachable!()
}

#[test]
fn solution_rules_on_generated_headers() {
    let p = test_params();
    // The original solution under another nonce: hash fine, Equihash invalid.
    let e = regrind_nonce(&chain().headers[50]);
    assert!(matches!(
        validate_at(p, 50, &e),
        Err(HeaderError::InvalidSolution { .. })
    ));
    // A 52-byte (125,4-sized) garbage solution: fluxd checks Equihash before the sizes allowed
    // at the height, so it is an invalid solution.
    let mut e = chain().headers[50].clone();
    if let Proof::Work { solution, .. } = &mut e.proof {
        *solution = vec![7; 52];
    }
    assert!(matches!(
        validate_at(p, 50, &regrind_nonce(&e)),
        Err(HeaderError::InvalidSolution { .. })
    ));
    // A valid 125,4 header (block 400000) is refused by size on this 48,5 network.
    let real = Header::from_bytes(
        &consensus_support::vectors::real_headers()
            .into_iter()
            .find(|h| h.height == 400_000)
            .unwrap()
            .header,
    )
    .unwrap();
    assert_eq!(
        fluxminer::consensus::check::check_header_context_free(p, &real, Some(Height(50))),
        Err(HeaderError::SolutionSizeNotAllowed {
            n: 125,
            k: 4,
            height: Height(50)
        })
    );
    // A length no parameter set has.
    if let Proof::Work { solution, .. } = &mut e.proof {
        *solution = vec![7; 40];
    }
    assert_eq!(
        validate_at(p, 50, &regrind_nonce(&e)),
        Err(HeaderError::UnknownSolutionSize { len: 40 })
    );
}

#[test]
fn checkpoint_mismatch_and_missing_ancestors() {
    let base = test_params();
    let cps: &'static [Checkpoint] = Box::leak(Box::new([Checkpoint {
        height: Height(150),
        hash: BlockHash::from_internal_bytes([1; 32]),
    }]));
    let p = NetworkParams {
        checkpoints: cps,
        ..base.clone()
    };
    let h: &Header = &chain().headers[150];
    assert!(matches!(
        validate_at(&p, 150, h),
        Err(HeaderError::CheckpointMismatch {
            height: Height(150),
            ..
        })
    ));
    validate_at(&p, 149, &chain().headers[149]).unwrap();
    // A window that starts at the parent alone cannot retarget LWMA3.
    let parent = chain().windows[151].tip().unwrap();
    let mut w = ChainWindow::from_entries(base, [parent]);
    let clock = chaingen::clock_for(&w);
    assert!(matches!(
        w.accept(base, &chain().headers[151], &clock),
        Err(HeaderError::MissingAncestor { .. })
    ));
}

/// The DER signatures of the generated emergency block, and a signer helper for its hash.
fn emergency_parts() -> (Header, Vec<Vec<u8>>) {
    let good = chain().headers[EMERGENCY_HEIGHT as usize].clone();
    let Proof::Node { signature, .. } = &good.proof else {
        panic!("pon")
    };
    let sigs = pon::decode_multisig(signature)
        .signatures
        .iter()
        .map(|s| s.to_vec())
        .collect();
    (good, sigs)
}

/// `header` with `vchBlockSig` = CompactSize(count) ‖ each entry with its CompactSize ‖ `tail`.
fn with_multisig(header: &Header, count: u64, entries: &[Vec<u8>], tail: &[u8]) -> Header {
    use fluxminer::consensus::encode::write_compact_size;
    let mut vch = Vec::new();
    write_compact_size(&mut vch, count);
    for e in entries {
        write_compact_size(&mut vch, e.len() as u64);
        vch.extend_from_slice(e);
    }
    vch.extend_from_slice(tail);
    let mut h = header.clone();
    if let Proof::Node { signature, .. } = &mut h.proof {
        *signature = vch;
    }
    h
}

#[test]
fn emergency_multisig_limits_and_truncations_as_fluxd_decodes_them() {
    let p = test_params();
    let (good, sigs) = emergency_parts();
    assert_eq!(sigs.len(), 2);
    let (a, b) = (sigs[0].clone(), sigs[1].clone());
    let at = |h: &Header| validate_at(p, EMERGENCY_HEIGHT, h);
    let too_few = |valid| HeaderError::EmergencyTooFewSignatures { valid, required: 2 };
    at(&good).expect("the generated emergency block");

    // Forged: two signatures by a key that is not an emergency key.
    let t = template(EMERGENCY_HEIGHT);
    let forged = emergency_block(p, &t, 2);
    let node = mine_pon(p, &t, None);
    let node_sig = match &node.proof {
        Proof::Node { signature, .. } => signature.clone(),
        _ => unreachable!(),
    };
    assert_eq!(
        at(&with_multisig(
            &forged,
            2,
            &[node_sig.clone(), node_sig],
            &[]
        )),
        Err(too_few(0))
    );

    // More signatures than emergency keys (4), even if two are valid.
    let five = vec![a.clone(), b.clone(), a.clone(), b.clone(), a.clone()];
    assert_eq!(
        at(&with_multisig(&good, 5, &five, &[])),
        Err(HeaderError::EmergencyTooManySignatures { count: 5, max: 4 })
    );
    // Four is allowed: the first two are valid.
    let four = vec![a.clone(), b.clone(), vec![1], vec![2]];
    at(&with_multisig(&good, 4, &four, &[])).expect("four signatures");

    // A signature over 73 bytes met before two valid ones is refused; after them it is not read.
    let big = vec![0x30; 74];
    assert_eq!(
        at(&with_multisig(
            &good,
            3,
            &[a.clone(), big.clone(), b.clone()],
            &[]
        )),
        Err(HeaderError::EmergencySignatureTooLarge { len: 74, max: 73 })
    );
    at(&with_multisig(&good, 3, &[a.clone(), b.clone(), big], &[])).expect("read after two");

    // Truncated encodings keep the announced count and the signatures read so far.
    // Count 3, two valid, the third missing: accepted.
    at(&with_multisig(&good, 3, &[a.clone(), b.clone()], &[])).expect("two kept");
    // Count 2, one valid, the second's length says 10 but the bytes end: one valid only.
    assert_eq!(
        at(&with_multisig(
            &good,
            2,
            std::slice::from_ref(&a),
            &[10, 1, 2]
        )),
        Err(too_few(1))
    );
    // The element being read when the bytes end is zero-filled to its length: too large.
    assert_eq!(
        at(&with_multisig(
            &good,
            2,
            std::slice::from_ref(&a),
            &[100, 1, 2]
        )),
        Err(HeaderError::EmergencySignatureTooLarge { len: 100, max: 73 })
    );
    // Count 5 with two valid then the end: too many, as fluxd sized the vector first.
    assert_eq!(
        at(&with_multisig(&good, 5, &[a.clone(), b.clone()], &[])),
        Err(HeaderError::EmergencyTooManySignatures { count: 5, max: 4 })
    );
    // A count that does not decode (non-canonical) leaves no signatures at all.
    let mut bad_count = with_multisig(&good, 2, &[a, b], &[]);
    if let Proof::Node { signature, .. } = &mut bad_count.proof {
        signature.splice(0..1, [0xfd, 0x02, 0x00]);
    }
    assert_eq!(at(&bad_count), Err(too_few(0)));
}

#[test]
fn regtest_is_proof_of_node_from_height_1() {
    use chaingen::Template;
    use fluxminer::consensus::hash::{MerkleRoot, sha256d};
    let p = NetworkParams::regtest();
    let genesis = consensus_support::vectors::real_headers()
        .into_iter()
        .find(|h| h.network == "regtest")
        .map(|h| Header::from_bytes(&h.header).unwrap())
        .unwrap();
    let mut w = ChainWindow::new(p);
    let clock = Clock {
        adjusted_time: i64::from(genesis.time),
        tip_height: Height(0),
    };
    w.accept(p, &genesis, &clock)
        .expect("regtest genesis (PoW)");
    let time = genesis.time + 30;
    let t = Template {
        version: 100,
        prev_hash: genesis.block_hash(),
        merkle_root: MerkleRoot::from_internal_bytes(sha256d(b"regtest 1")),
        time,
        bits: fluxminer::consensus::difficulty::next_work_required(p, Height(1), time, &w).unwrap(),
    };
    // The PoN start limit for the first 59 blocks: the window counts from height -1.
    assert_eq!(t.bits, p.pon_start_limit.to_compact_lossy());
    let clock = chaingen::clock_for(&w);
    let pon_block = mine_pon(p, &t, None);
    w.clone()
        .accept(p, &pon_block, &clock)
        .expect("a PoN block at height 1");
    // The same block in the PoW layout is refused by era.
    let pow = mine_pow(
        &Template {
            version: 4,
            bits: p.pow_limit.to_compact_lossy(),
            ..t
        },
        None,
    );
    assert_eq!(
        w.accept(p, &pow, &clock),
        Err(HeaderError::NotPonBlock { height: Height(1) })
    );
    assert_eq!(
        pon::pon_target_limit(p, Some(Height(58))),
        p.pon_start_limit
    );
    assert_eq!(pon::pon_target_limit(p, Some(Height(59))), p.pon_limit);
}

/// The committed test chain (`tests/vectors/testchain/`) is exactly this generator's chain, as
/// full blocks whose coinbases split the reward as each era requires, and its chain file gives
/// exactly the test network's parameters. `FLUXMINER_REGEN_VECTORS=1` rewrites both.
#[test]
fn committed_test_chain_is_the_generated_chain_with_valid_blocks() {
    use fluxminer::consensus::block::Block;
    use fluxminer::consensus::reward::split_reward;
    let p = test_params();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/testchain");
    let mut lines = String::new();
    for (h, header) in chain().headers.iter().enumerate() {
        let bytes = chaingen::block_bytes(p, h as u32, header);
        let block = Block::from_bytes(&bytes).unwrap();
        block.check_merkle_root().unwrap();
        block.check_coinbase_height(Height(h as u32)).unwrap();
        let split = split_reward(p, Height(h as u32), block.coinbase());
        assert!(split.is_valid(), "block {h}: {:?}", split.violations);
        assert!(split.unpaid_tiers.is_empty(), "block {h}");
        lines.push_str(
            &serde_json::json!({
                "height": h,
                "hash": header.block_hash().to_display_hex(),
                "header_hex": hex::encode(header.to_bytes()),
                "block_hex": hex::encode(&bytes),
            })
            .to_string(),
        );
        lines.push('\n');
    }
    let toml = chaingen::chain_file_text();
    if std::env::var_os("FLUXMINER_REGEN_VECTORS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("blocks.jsonl"), &lines).unwrap();
        std::fs::write(dir.join("chain.toml"), &toml).unwrap();
    }
    let committed = std::fs::read_to_string(dir.join("blocks.jsonl")).unwrap();
    assert!(
        committed == lines,
        "tests/vectors/testchain/blocks.jsonl differs from the generator"
    );
    let file = std::fs::read_to_string(dir.join("chain.toml")).unwrap();
    let loaded = fluxminer::cli::chain::parse_chain_file(&file).unwrap();
    assert_eq!(format!("{loaded:?}"), format!("{p:?}"));
}
