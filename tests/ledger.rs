//! The reward ledger on real Flux blocks (classification against the era's subsidy, mutated
//! blocks refused), and the `rewards` query over a temporary store: totals, days, a watched
//! address, CSV and JSON, a record off the best chain (reorg) not counted, and the binary's exit
//! codes.

mod consensus_support;

use std::path::PathBuf;
use std::process::Command;

use consensus_support::vectors::{bytes, load, s};
use fluxminer::cli::rewards::{self, By, Format, Query, RewardsError};
use fluxminer::consensus::block::{Block, BlockError};
use fluxminer::consensus::reward::{Role, address_script};
use fluxminer::consensus::subsidy::{Tier, block_subsidy, tier_amounts};
use fluxminer::consensus::{Amount, BlockHash, Height, NetworkParams};
use fluxminer::ledger::{
    self, BlockRewards, Category, ExpectedIntervals, LedgerError, Payout, script_address,
};
use fluxminer::store::{Batch, Store};

fn mainnet() -> &'static NetworkParams {
    NetworkParams::mainnet()
}

struct RealBlock {
    height: u32,
    hash: String,
    time: u32,
    raw: Vec<u8>,
}

fn real_blocks() -> Vec<RealBlock> {
    let e = load("electrumx_zelcash_mainnet_100000.orig.json");
    let mut out = vec![RealBlock {
        height: e["height"].as_u64().unwrap() as u32,
        hash: s(&e, "hash").into(),
        time: e["time"].as_u64().unwrap() as u32,
        raw: bytes(&e, "block"),
    }];
    let m = load("magicpool_flux_mainnet_1134187_1134309.json");
    for h in m["headers"].as_array().unwrap() {
        out.push(RealBlock {
            height: h["height"].as_u64().unwrap() as u32,
            hash: s(h, "hash").into(),
            time: h["time"].as_u64().unwrap() as u32,
            raw: bytes(h, "raw_block_hex"),
        });
    }
    out
}

fn record_of(rb: &RealBlock) -> BlockRewards {
    let b = Block::from_bytes(&rb.raw).unwrap();
    BlockRewards::from_block(mainnet(), Height(rb.height), &b).unwrap()
}

fn sum(r: &BlockRewards, role: Role) -> Amount {
    Amount::from_zat(
        r.outputs
            .iter()
            .filter(|o| o.role == role)
            .map(|o| o.amount.to_zat())
            .sum(),
    )
}

#[test]
fn real_flux_era_blocks_pay_each_tier_the_eras_amount() {
    for rb in real_blocks().iter().filter(|b| b.height > 1_000_000) {
        let r = record_of(rb);
        let b = Block::from_bytes(&rb.raw).unwrap();
        assert_eq!(r.height, Height(rb.height));
        assert_eq!(r.hash.to_display_hex(), rb.hash);
        assert_eq!(r.time, rb.time);
        assert_eq!(r.outputs.len(), b.coinbase().outputs.len());
        let h = Height(rb.height);
        let subsidy = block_subsidy(mainnet(), h);
        let tiers = tier_amounts(mainnet(), h, subsidy).expect("deterministic payouts");
        // The Flux era (before PoN): 75 FLUX, half of it to the nodes (3.75 %, 6.25 % and 15 %,
        // doubled by the Flux upgrade).
        assert_eq!(subsidy, Amount::from_flux(75));
        for t in Tier::ALL {
            assert_eq!(sum(&r, Role::Tier(t)), tiers.get(t), "{} at {h}", t.name());
            assert_eq!(
                r.outputs.iter().filter(|o| o.role == Role::Tier(t)).count(),
                1
            );
        }
        assert_eq!(
            [tiers.cumulus, tiers.nimbus, tiers.stratus].map(Amount::to_zat),
            [562_500_000, 937_500_000, 2_250_000_000]
        );
        // The miner gets the rest of the coinbase (the remainder plus fees).
        let value = b.coinbase().total_output_value().unwrap();
        assert_eq!(
            sum(&r, Role::Miner),
            value.checked_sub(tiers.total()).unwrap()
        );
        assert!(sum(&r, Role::Miner) >= subsidy.checked_sub(tiers.total()).unwrap());
        // Every payee is a mainnet address whose script is the output's.
        for (o, out) in r.outputs.iter().zip(&b.coinbase().outputs) {
            if let Some(a) = &o.address {
                ledger::check_address(mainnet(), a).unwrap();
                assert_eq!(
                    address_script(mainnet(), a).as_deref(),
                    Some(&out.script_pubkey[..])
                );
            }
        }
        assert!(
            r.outputs
                .iter()
                .filter(|o| matches!(o.role, Role::Tier(_)))
                .all(|o| o.address.is_some())
        );
        // The record survives its encoding.
        assert_eq!(BlockRewards::from_bytes(&r.to_bytes()), Ok(r));
    }
}

#[test]
fn block_100000_pays_only_the_miner() {
    let rb = &real_blocks()[0];
    let r = record_of(rb);
    let b = Block::from_bytes(&rb.raw).unwrap();
    assert!(r.outputs.iter().all(|o| o.role == Role::Miner));
    assert_eq!(
        sum(&r, Role::Miner),
        b.coinbase().total_output_value().unwrap()
    );
    assert!(sum(&r, Role::Miner) >= block_subsidy(mainnet(), Height(100_000)));
}

#[test]
fn a_changed_output_or_a_wrong_height_is_refused() {
    for rb in real_blocks().iter().filter(|b| b.height > 1_000_000) {
        // Cumulus's 5.625 FLUX, changed in the serialized coinbase: its txid changes, the
        // header's Merkle root does not.
        let needle = 562_500_000i64.to_le_bytes();
        let at = rb
            .raw
            .windows(8)
            .position(|w| w == needle)
            .expect("the Cumulus output");
        let mut raw = rb.raw.clone();
        raw[at] ^= 1;
        let b = Block::from_bytes(&raw).unwrap();
        assert!(matches!(
            BlockRewards::from_block(mainnet(), Height(rb.height), &b),
            Err(LedgerError::MerkleRoot(BlockError::BadMerkleRoot { .. }))
        ));
        let b = Block::from_bytes(&rb.raw).unwrap();
        let wrong = Height(rb.height + 1);
        assert_eq!(
            BlockRewards::from_block(mainnet(), wrong, &b),
            Err(LedgerError::CoinbaseHeight(
                BlockError::CoinbaseHeightMismatch { height: wrong }
            ))
        );
        // A second coinbase (1134309 has only its coinbase).
        let mut swapped = b.clone();
        swapped.transactions.push(b.coinbase().clone());
        assert!(matches!(
            BlockRewards::from_block(mainnet(), Height(rb.height), &swapped),
            Err(LedgerError::CoinbasePosition(_))
        ));
    }
}

// --- the store and the query ---------------------------------------------------------------

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "fluxminer-ledger-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn addr(n: u8) -> String {
    let script = [&[0x76, 0xa9, 0x14][..], &[n; 20], &[0x88, 0xac]].concat();
    script_address(mainnet(), &script).unwrap()
}

fn hash(branch: u8, height: u32) -> BlockHash {
    let mut b = [branch; 32];
    b[..4].copy_from_slice(&height.to_le_bytes());
    BlockHash::from_internal_bytes(b)
}

/// 2023-11-15 00:00:00 UTC.
const DAY0: u32 = 1_700_006_400;

/// A synthetic block at `height` on `branch`: 1 FLUX to the miner (address 9), and 2 FLUX of
/// Cumulus to `watched` at the heights in `paid`, else to address 8.
fn synthetic(branch: u8, height: u32, watched: &str, paid: &[u32]) -> BlockRewards {
    let cumulus = if paid.contains(&height) {
        watched.to_string()
    } else {
        addr(8)
    };
    BlockRewards {
        height: Height(height),
        hash: hash(branch, height),
        // 900 s apart: 96 blocks a day.
        time: DAY0 + 900 * (height - 1_000),
        outputs: vec![
            Payout {
                role: Role::Miner,
                amount: Amount::from_flux(1),
                address: Some(addr(9)),
            },
            Payout {
                role: Role::Tier(Tier::Cumulus),
                amount: Amount::from_flux(2),
                address: Some(cumulus),
            },
        ],
    }
}

fn batch_of(from: u32, records: &[BlockRewards]) -> Batch {
    Batch {
        best_from: from,
        best: records.iter().map(|r| r.hash).collect(),
        ledger: records.iter().map(|r| (r.hash, r.to_bytes())).collect(),
        ..Batch::default()
    }
}

#[test]
fn query_counts_the_best_chain_only_and_renders_csv_and_json() {
    let dir = tempdir();
    let store = Store::open(&fluxminer::cli::chain::store_file(&dir)).unwrap();
    let watched = addr(1);
    let paid = [1_010, 1_050, 1_150];
    // Heights 1000..=1199 on branch 1; the watched address gets Cumulus at `paid`.
    let main: Vec<BlockRewards> = (1_000..1_200)
        .map(|h| synthetic(1, h, &watched, &paid))
        .collect();
    store.commit(&batch_of(1_000, &main)).unwrap();
    // A side-branch record at 1100 paying the watched address: stored, not on the best chain.
    // (A batch rewrites the best chain from `best_from` on: start it above the tip.)
    let side = synthetic(2, 1_100, &watched, &[1_100]);
    store
        .commit(&Batch {
            ledger: vec![(side.hash, side.to_bytes())],
            best_from: 1_200,
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(store.tip().unwrap(), Some((Height(1_199), main[199].hash)));
    // A reorg from 1190: branch 3 replaces 1190..=1199 with blocks that pay the watched
    // address at 1195; branch 1's records there stay stored but no longer count.
    let fork: Vec<BlockRewards> = (1_190..1_200)
        .map(|h| synthetic(3, h, &watched, &[1_195]))
        .collect();
    store.commit(&batch_of(1_190, &fork)).unwrap();
    assert!(store.ledger(&main[195].hash).unwrap().is_some());

    let q = Query {
        addresses: vec![watched.clone()],
        expected: ExpectedIntervals {
            cumulus: 60,
            ..ExpectedIntervals::DEFAULT
        },
        ..Query::all()
    };
    let r = rewards::query(&store, mainnet(), &q).unwrap();
    assert_eq!(r.totals.blocks, 200);
    assert_eq!(r.totals.get(Category::Miner).amount, Amount::from_flux(200));
    assert_eq!(
        r.totals.get(Category::Cumulus).amount,
        Amount::from_flux(400)
    );
    assert_eq!(r.totals.total(), Amount::from_flux(600));
    let a = &r.addresses[0];
    let heights: Vec<u32> = a.payments.iter().map(|p| p.height.0).collect();
    assert_eq!(heights, [1_010, 1_050, 1_150, 1_195]);
    assert_eq!(a.total, Amount::from_flux(8));
    assert_eq!(a.last_paid, Some((Height(1_195), DAY0 + 900 * 195)));
    let gaps: Vec<(u32, u32)> = a.gaps.iter().map(|g| (g.from.0, g.to.0)).collect();
    assert_eq!(gaps, [(1_050, 1_150)]);

    // A range: 1040..=1100, by day (96 blocks a day from 1000).
    let q2 = Query {
        from: 1_040,
        to: 1_100,
        by: By::Day,
        addresses: vec![],
        ..q.clone()
    };
    let r2 = rewards::query(&store, mainnet(), &q2).unwrap();
    assert_eq!(r2.totals.blocks, 61);
    let days: Vec<(String, u64)> = r2
        .days
        .iter()
        .map(|d| (d.date.to_string(), d.totals.blocks))
        .collect();
    assert_eq!(
        days,
        [
            ("2023-11-15".to_string(), 56),
            ("2023-11-16".to_string(), 5)
        ]
    );
    let csv = rewards::render(&r2, Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "date,blocks,miner,dev_fund,cumulus,nimbus,stratus,funds,other,total"
    );
    assert_eq!(
        lines[1],
        "2023-11-15,56,56.00000000,0.00000000,112.00000000,0.00000000,0.00000000,0.00000000,0.00000000,168.00000000"
    );
    assert_eq!(lines.len(), 3);

    let csv = rewards::render(&r, Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "address,height,time,date,role,amount");
    assert_eq!(
        lines[4],
        format!(
            "{watched},1195,{},2023-11-17 00:45:00,cumulus,2.00000000",
            DAY0 + 900 * 195
        )
    );
    let mut r3 = r2.clone();
    r3.query.by = By::Tier;
    let by_tier = rewards::render(&r3, Format::Csv);
    assert!(by_tier.contains("\ncumulus,61,122.00000000\n"), "{by_tier}");
    assert!(by_tier.ends_with("total,,183.00000000\n"), "{by_tier}");

    let json: serde_json::Value = serde_json::from_str(&rewards::render(&r, Format::Json)).unwrap();
    assert_eq!(json["blocks"], 200);
    assert_eq!(json["totals"]["cumulus"]["amount"], "400.00000000");
    assert_eq!(json["totals"]["cumulus"]["payments"], 200);
    assert_eq!(json["totals"]["total"], "600.00000000");
    assert_eq!(json["addresses"][0]["total"], "8.00000000");
    assert_eq!(json["addresses"][0]["last_paid"]["height"], 1_195);
    assert_eq!(json["addresses"][0]["gaps"][0]["blocks"], 100);
    assert_eq!(json["addresses"][0]["gaps"][0]["expected"], 60);
    let table = rewards::render(&r, Format::Table);
    assert!(table.contains("200 blocks"), "{table}");
    assert!(
        table.contains("\n  cumulus          200           400.00000000\n"),
        "{table}"
    );
    assert!(table.contains(": 4 payments, 8.00000000 FLUX"), "{table}");
    assert!(
        table.contains("gap: no cumulus payment for 100 blocks"),
        "{table}"
    );

    // Addresses of another network or with a bad checksum are refused.
    let mut t = q.clone();
    t.addresses = vec![NetworkParams::testnet().dev_fund_address.into()];
    assert!(matches!(
        rewards::query(&store, mainnet(), &t),
        Err(RewardsError::Address(
            ledger::AddressError::WrongPrefix { .. }
        ))
    ));
    let mut bad = watched.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == 'z' { 'y' } else { 'z' });
    t.addresses = vec![bad];
    assert!(matches!(
        rewards::query(&store, mainnet(), &t),
        Err(RewardsError::Address(_))
    ));
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn real_blocks_through_the_store_and_the_binary() {
    let dir = tempdir();
    let bin = env!("CARGO_BIN_EXE_fluxminer");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .arg("rewards")
            .arg("--datadir")
            .arg(&dir)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // No store yet: a message, exit 0, and no file created.
    let (code, out, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert!(out.contains("no reward records"), "{out}");
    assert!(!dir.join("chain.redb").exists());

    let recs: Vec<BlockRewards> = real_blocks()
        .iter()
        .filter(|b| b.height > 1_000_000)
        .map(record_of)
        .collect();
    {
        let store = Store::open(&dir.join("chain.redb")).unwrap();
        for r in &recs {
            store
                .commit(&batch_of(r.height.0, std::slice::from_ref(r)))
                .unwrap();
        }
    }
    let stratus_payee = recs[0]
        .outputs
        .iter()
        .find(|o| o.role == Role::Tier(Tier::Stratus))
        .and_then(|o| o.address.clone())
        .unwrap();
    let (code, out, err) = run(&["--json", "--address", &stratus_payee]);
    assert_eq!(code, Some(0), "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["blocks"], 2);
    let subsidy = |h: u32| {
        let h = Height(h);
        tier_amounts(mainnet(), h, block_subsidy(mainnet(), h)).unwrap()
    };
    let stratus = subsidy(recs[0].height.0)
        .stratus
        .checked_add(subsidy(recs[1].height.0).stratus)
        .unwrap();
    assert_eq!(j["totals"]["stratus"]["amount"], stratus.to_string());
    assert_eq!(j["addresses"][0]["payments"][0]["height"], 1_134_187);
    // Only the first block's height: the range filters.
    let (_, out, _) = run(&["--csv", "--to", "1134200"]);
    assert!(out.starts_with("category,payments,amount\n"), "{out}");
    assert!(out.contains("\nstratus,1,22.50000000\n"), "{out}");
    let (code, out, _) = run(&["--by", "day"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("2022-06-02"), "{out}");
    // Bad addresses: exit 2 with the reason.
    let (code, _, err) = run(&["--address", NetworkParams::testnet().dev_fund_address]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a main P2PKH or P2SH address"), "{err}");
    let (code, _, err) = run(&["--address", "t1notanaddress0OIl"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("base58check"), "{err}");
    // Empty range: a message, exit 0.
    let (code, out, _) = run(&["--from", "5", "--to", "6"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("no reward records"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
