//! Subsidy table, transactions and Merkle roots of real blocks, and their reward split.

mod consensus_support;

use consensus_support::vectors::{bytes, load, s};
use fluxminer::consensus::block::{Block, BlockError};
use fluxminer::consensus::check::check_header_context_free;
use fluxminer::consensus::merkle;
use fluxminer::consensus::reward::{RewardError, Role, address_script, split_reward};
use fluxminer::consensus::subsidy::{
    Tier, block_subsidy, funds_due, min_dev_fund_amount, tier_amounts,
};
use fluxminer::consensus::tx::{Transaction, TxKind};
use fluxminer::consensus::{Amount, Height, NetworkParams, TxId};

fn mainnet() -> &'static NetworkParams {
    NetworkParams::mainnet()
}

fn zat(v: &serde_json::Value, key: &str) -> Option<Amount> {
    v[key].as_i64().map(Amount::from_zat)
}

#[test]
fn subsidy_table_rows() {
    let v = load("subsidy_table.json");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    for row in rows {
        let h = Height(row["height"].as_u64().unwrap() as u32);
        let subsidy = block_subsidy(mainnet(), h);
        assert_eq!(Some(subsidy), zat(row, "block_subsidy_zat"), "height {h}");
        let tiers = tier_amounts(mainnet(), h, subsidy);
        match zat(row, "cumulus_zat") {
            None => assert_eq!(tiers, None, "height {h}: no deterministic payouts"),
            Some(c) => {
                let t = tiers.expect("tiers");
                assert_eq!(t.cumulus, c, "height {h}");
                assert_eq!(Some(t.nimbus), zat(row, "nimbus_zat"), "height {h}");
                assert_eq!(Some(t.stratus), zat(row, "stratus_zat"), "height {h}");
                if let Some(miner) = zat(row, "miner_remainder_zat") {
                    assert_eq!(subsidy.checked_sub(t.total()), Some(miner), "height {h}");
                }
                assert_eq!(
                    min_dev_fund_amount(mainnet(), h),
                    zat(row, "dev_fund_min_zat")
                );
            }
        }
    }
}

#[test]
fn regtest_pays_the_pon_subsidy_from_block_1_and_its_funds_from_10() {
    let p = NetworkParams::regtest();
    // No premine: PoN from genesis, reductions every 100 blocks counted from height -1.
    assert_eq!(block_subsidy(p, Height(1)), Amount::from_flux(14));
    assert_eq!(block_subsidy(p, Height(98)), Amount::from_flux(14));
    assert_eq!(
        block_subsidy(p, Height(99)),
        Amount::from_zat(1_260_000_000)
    );
    let names = |h| -> Vec<&str> { funds_due(p, Height(h)).iter().map(|f| f.name).collect() };
    assert_eq!(names(10), ["exchange", "foundation", "swap pool"]);
    assert_eq!(names(50), ["swap pool"]);
    assert!(names(60).is_empty() && names(9).is_empty() && names(15).is_empty());
    assert_eq!(
        funds_due(p, Height(10))[0].amount,
        Amount::from_flux(3_000_000)
    );
}

#[test]
fn one_off_funds_are_due_exactly_at_their_heights() {
    let p = mainnet();
    assert_eq!(funds_due(p, Height(836_274))[0].name, "exchange");
    assert_eq!(funds_due(p, Height(836_994))[0].name, "foundation");
    let swaps: Vec<u32> = (800_000..1_100_000)
        .filter(|&h| {
            funds_due(p, Height(h))
                .iter()
                .any(|f| f.name == "swap pool")
        })
        .collect();
    let expected: Vec<u32> = (0..10).map(|i| 837_714 + 21_600 * i).collect();
    assert_eq!(swaps, expected);
    assert!(funds_due(p, Height(836_275)).is_empty());
}

#[test]
fn every_parameter_address_decodes_to_a_script() {
    for p in [NetworkParams::mainnet(), NetworkParams::testnet()] {
        assert!(
            address_script(p, p.dev_fund_address).is_some(),
            "{}",
            p.dev_fund_address
        );
        for f in p.funds {
            assert!(address_script(p, f.address).is_some(), "{}", f.address);
        }
    }
    // A t3 address is P2SH: OP_HASH160 <20> OP_EQUAL.
    let s = address_script(mainnet(), "t3hPu1YDeGUCp8m7BQCnnNUmRMJBa5RadyA").unwrap();
    assert_eq!((s.len(), s[0], s[22]), (23, 0xa9, 0x87));
    assert_eq!(
        address_script(mainnet(), "t3hPu1YDeGUCp8m7BQCnnNUmRMJBa5RadyB"),
        None
    );
}

#[test]
fn genesis_coinbase_txid_is_the_genesis_merkle_root() {
    let v = load("genesis_coinbase_tx.json");
    let tx = Transaction::from_bytes(&bytes(&v, "tx_hex")).unwrap();
    assert!(tx.is_coinbase());
    assert_eq!(tx.txid.to_display_hex(), s(&v, "txid_display"));
    let (root, _) = merkle::merkle_root(&[tx.txid]).unwrap();
    assert_eq!(root.to_display_hex(), s(&v, "txid_display"));
}

struct RealBlock {
    height: u32,
    raw: Vec<u8>,
    txids: Vec<String>,
}

fn real_blocks() -> Vec<RealBlock> {
    let mut out = Vec::new();
    let e = load("electrumx_zelcash_mainnet_100000.orig.json");
    out.push(RealBlock {
        height: e["height"].as_u64().unwrap() as u32,
        raw: bytes(&e, "block"),
        txids: e["tx"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect(),
    });
    let m = load("magicpool_flux_mainnet_1134187_1134309.json");
    for h in m["headers"].as_array().unwrap() {
        out.push(RealBlock {
            height: h["height"].as_u64().unwrap() as u32,
            raw: bytes(h, "raw_block_hex"),
            txids: h["txids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect(),
        });
    }
    out
}

#[test]
fn real_blocks_parse_with_their_txids_merkle_root_and_coinbase_height() {
    let blocks = real_blocks();
    assert_eq!(blocks.len(), 3);
    for rb in &blocks {
        let b = Block::from_bytes(&rb.raw).unwrap();
        let got: Vec<String> = b.txids().iter().map(TxId::to_display_hex).collect();
        assert_eq!(got, rb.txids, "block {}", rb.height);
        b.check_merkle_root().unwrap();
        b.check_coinbase_position().unwrap();
        assert_eq!(b.coinbase_height(), Ok(rb.height));
        check_header_context_free(mainnet(), &b.header, Some(Height(rb.height))).unwrap();
        // Branch proofs for every transaction against the header's root.
        for (i, id) in b.txids().iter().enumerate() {
            let branch = merkle::merkle_branch(&b.txids(), i);
            assert!(merkle::verify_merkle_branch(
                id,
                &branch,
                i,
                &b.header.merkle_root
            ));
        }
    }
    // Block 1134187 carries three FluxNode confirm transactions (v5, signatures not hashed).
    let b = Block::from_bytes(&blocks[1].raw).unwrap();
    assert_eq!(b.transactions.len(), 4);
    assert!(
        b.transactions[1..]
            .iter()
            .all(|t| t.kind == TxKind::FluxnodeConfirm)
    );
}

fn flux(s: &str) -> Amount {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<8}");
    Amount::from_zat(whole.parse::<i64>().unwrap() * 100_000_000 + frac.parse::<i64>().unwrap())
}

#[test]
fn blocks_1134187_and_1134309_pay_the_flux_era_tiers() {
    for rb in real_blocks().iter().filter(|b| b.height > 1_000_000) {
        let b = Block::from_bytes(&rb.raw).unwrap();
        let split = split_reward(mainnet(), Height(rb.height), b.coinbase());
        assert!(split.is_valid(), "{:?}", split.violations);
        assert_eq!(split.subsidy, flux("75"));
        assert_eq!(split.paid_to(Role::Tier(Tier::Cumulus)), flux("5.625"));
        assert_eq!(split.paid_to(Role::Tier(Tier::Nimbus)), flux("9.375"));
        assert_eq!(split.paid_to(Role::Tier(Tier::Stratus)), flux("22.5"));
        // The miner gets the rest plus fees: 37.5 + claimed fees.
        let miner = split.paid_to(Role::Miner);
        assert_eq!(miner, flux("37.5").checked_add(split.claimed_fees).unwrap());
        assert!(split.claimed_fees >= Amount::ZERO);
    }
}

#[test]
fn block_100000_has_no_tier_payments() {
    let rb = &real_blocks()[0];
    let b = Block::from_bytes(&rb.raw).unwrap();
    let split = split_reward(mainnet(), Height(100_000), b.coinbase());
    assert!(split.is_valid());
    assert_eq!(split.required_tiers, None);
    assert!(split.outputs.iter().all(|o| o.role == Role::Miner));
    assert_eq!(split.subsidy, flux("150"));
    assert_eq!(split.paid_to(Role::Miner), split.coinbase_value);
}

#[test]
fn under_pon_a_tier_paid_to_the_dev_fund_script_counts_as_paid() {
    use fluxminer::consensus::tx::TxOut;
    let p = mainnet();
    let height = Height(2_020_000);
    let b = Block::from_bytes(&real_blocks()[2].raw).unwrap();
    let dev = address_script(p, p.dev_fund_address).unwrap();
    let other = b.coinbase().outputs[1].script_pubkey.clone();
    let out = |v: &str, script: &Vec<u8>| TxOut {
        value: flux(v),
        script_pubkey: script.clone(),
    };
    let mut cb = b.coinbase().clone();
    // Dev fund 0.5 (14 - 1 - 3.5 - 9), Cumulus's 1 FLUX to the dev-fund script.
    cb.outputs = vec![
        out("0.5", &dev),
        out("1", &dev),
        out("3.5", &other),
        out("9", &other),
    ];
    let split = split_reward(p, height, &cb);
    assert_eq!(split.violations, vec![]);
    assert_eq!(split.paid_to(Role::Tier(Tier::Cumulus)), flux("1"));
    assert_eq!(split.paid_to(Role::DevFund), flux("0.5"));
    assert_eq!(split.dev_fund_required, Some(flux("0.5")));
    // Without the tier output the dev fund must cover Cumulus's share too.
    cb.outputs.remove(1);
    let split = split_reward(p, height, &cb);
    assert_eq!(
        split.violations,
        vec![RewardError::DevFundTooLow {
            required: flux("1.5"),
            paid: flux("0.5")
        }]
    );
    assert_eq!(split.unpaid_tiers, vec![Tier::Cumulus]);
}

#[test]
fn mutated_coinbase_leaves_a_tier_unpaid_and_breaks_the_dev_fund_and_fund_rules() {
    let rb = &real_blocks()[2];
    let b = Block::from_bytes(&rb.raw).unwrap();
    let mut cb = b.coinbase().clone();
    let i = cb
        .outputs
        .iter()
        .position(|o| o.value == flux("9.375"))
        .unwrap();
    cb.outputs[i].value = flux("9.374");
    let split = split_reward(mainnet(), Height(rb.height), &cb);
    // fluxd requires only tiers with a payee: an unpaid tier is noted, not refused.
    assert_eq!(split.violations, vec![]);
    assert_eq!(split.unpaid_tiers, vec![Tier::Nimbus]);
    assert_eq!(split.paid_to(Role::Tier(Tier::Nimbus)), Amount::ZERO);
    // The same coinbase read at a PoN height: no dev-fund output.
    let split = split_reward(mainnet(), Height(2_020_000), b.coinbase());
    assert!(
        matches!(split.violations[..], [RewardError::DevFundTooLow { paid, .. }] if paid == Amount::ZERO)
    );
    // At a fund height the fund output is missing.
    let split = split_reward(mainnet(), Height(836_274), b.coinbase());
    assert!(split.violations.contains(&RewardError::MissingFundPayment {
        fund: "exchange",
        amount: Amount::from_flux(7_500_000)
    }));
}

#[test]
fn mutated_blocks_break_block_rules() {
    let rb = &real_blocks()[1];
    let b = Block::from_bytes(&rb.raw).unwrap();
    let mut swapped = b.clone();
    swapped.transactions.swap(1, 2);
    assert!(matches!(
        swapped.check_merkle_root(),
        Err(BlockError::BadMerkleRoot { .. })
    ));
    let mut no_cb = b.clone();
    no_cb.transactions.swap(0, 1);
    assert_eq!(
        no_cb.check_coinbase_position(),
        Err(BlockError::FirstTxNotCoinbase)
    );
    let mut dup = Block::from_bytes(&real_blocks()[0].raw).unwrap();
    let last = dup.transactions[1].clone();
    dup.transactions.push(last.clone());
    dup.transactions.push(last);
    // [cb, t, t, t]: identical siblings (t, t) at the first level.
    let (_, mutated) = merkle::merkle_root(&dup.txids()).unwrap();
    assert!(mutated);
    assert!(matches!(
        dup.check_merkle_root(),
        Err(BlockError::BadMerkleRoot { .. })
    ));
    // Truncated and padded blocks are decode errors, not panics.
    for cut in [0, 100, rb.raw.len() / 2, rb.raw.len() - 1] {
        assert!(Block::from_bytes(&rb.raw[..cut]).is_err());
    }
    let mut padded = rb.raw.clone();
    padded.push(0);
    assert!(Block::from_bytes(&padded).is_err());
}

#[test]
fn coinbase_height_is_the_minimal_push_of_the_height() {
    for rb in real_blocks() {
        let b = Block::from_bytes(&rb.raw).unwrap();
        let h = Height(rb.height);
        b.check_coinbase_height(h).unwrap();
        assert_eq!(
            b.check_coinbase_height(Height(rb.height + 1)),
            Err(BlockError::CoinbaseHeightMismatch {
                height: Height(rb.height + 1)
            })
        );
        // The same height pushed with one more (zero) byte: readable, but not CScript() << h.
        let mut m = b.clone();
        let script = &mut m.transactions[0].inputs[0].script_sig;
        let n = script[0] as usize;
        assert!((1..=4).contains(&n), "a data push");
        script[0] = n as u8 + 1;
        script.insert(1 + n, 0);
        assert_eq!(m.coinbase_height(), Ok(rb.height));
        assert_eq!(
            m.check_coinbase_height(h),
            Err(BlockError::CoinbaseHeightMismatch { height: h })
        );
        // Heights up to 20 are exempt.
        m.check_coinbase_height(Height(20)).unwrap();
    }
}

#[test]
fn coinbase_amount_is_bounded_by_subsidy_funds_and_fees() {
    use fluxminer::consensus::reward::check_coinbase_amount;
    for rb in real_blocks().iter().filter(|b| b.height > 1_000_000) {
        let b = Block::from_bytes(&rb.raw).unwrap();
        let h = Height(rb.height);
        // Only FluxNode transactions besides the coinbase: no fees.
        let fees = b.fees_without_inputs().expect("fees known");
        assert_eq!(fees, Amount::ZERO);
        check_coinbase_amount(mainnet(), h, b.coinbase(), fees).unwrap();
        let mut cb = b.coinbase().clone();
        let value = cb.total_output_value().unwrap();
        let limit = block_subsidy(mainnet(), h);
        let over = limit.checked_sub(value).unwrap().to_zat() + 1;
        cb.outputs[0].value = Amount::from_zat(cb.outputs[0].value.to_zat() + over);
        assert_eq!(
            check_coinbase_amount(mainnet(), h, &cb, fees),
            Err(RewardError::CoinbaseTooLarge {
                value: Amount::from_zat(limit.to_zat() + 1),
                limit
            })
        );
        // Heights up to 2 are exempt.
        check_coinbase_amount(mainnet(), Height(2), &cb, fees).unwrap();
    }
    // Block 100000 has ordinary transactions: its fees need their inputs.
    let b = Block::from_bytes(&real_blocks()[0].raw).unwrap();
    assert_eq!(b.fees_without_inputs(), None);
}

#[test]
fn fluxnode_collateral_v1_v2_and_their_transition_windows() {
    use fluxminer::consensus::subsidy::{collateral_amounts, tier_from_collateral};
    let p = mainnet();
    let tier = |h, flux: i64| tier_from_collateral(p, Height(h), Amount::from_flux(flux));
    // Cumulus: 10,000 before 1,076,532, both until 1,086,612, then 1,000 only.
    assert_eq!(tier(1_076_531, 10_000), Some(Tier::Cumulus));
    assert_eq!(tier(1_076_531, 1_000), None);
    assert_eq!(tier(1_076_532, 1_000), Some(Tier::Cumulus));
    assert_eq!(tier(1_086_611, 10_000), Some(Tier::Cumulus));
    assert_eq!(tier(1_086_612, 10_000), None);
    assert_eq!(tier(1_086_612, 1_000), Some(Tier::Cumulus));
    // Nimbus [1,081,572, 1,092,372), Stratus [1,087,332, 1,097,412).
    assert_eq!(tier(1_081_571, 12_500), None);
    assert_eq!(tier(1_081_572, 12_500), Some(Tier::Nimbus));
    assert_eq!(tier(1_092_371, 25_000), Some(Tier::Nimbus));
    assert_eq!(tier(1_092_372, 25_000), None);
    assert_eq!(tier(1_087_331, 40_000), None);
    assert_eq!(tier(1_097_411, 100_000), Some(Tier::Stratus));
    assert_eq!(tier(1_097_412, 100_000), None);
    assert_eq!(tier(2_020_000, 40_000), Some(Tier::Stratus));
    // Exact amounts only.
    let one_zat_short = Amount::from_zat(Amount::from_flux(1_000).to_zat() - 1);
    assert_eq!(
        tier_from_collateral(p, Height(2_020_000), one_zat_short),
        None
    );
    assert_eq!(
        collateral_amounts(p, Height(1_090_000), Tier::Nimbus),
        vec![Amount::from_flux(25_000), Amount::from_flux(12_500)]
    );
    // Regtest's Stratus window ends at 100, the others at 1,000.
    let r = NetworkParams::regtest();
    assert_eq!(
        collateral_amounts(r, Height(100), Tier::Stratus),
        vec![Amount::from_flux(40_000)]
    );
    assert_eq!(collateral_amounts(r, Height(100), Tier::Cumulus).len(), 2);
}
