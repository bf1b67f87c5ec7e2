//! The `header` and `block` subcommands, called directly.

mod consensus_support;

use fluxminer::cli::{block_cmd, header_cmd};

use std::process::ExitCode;

use block_cmd::BlockArgs;
use consensus_support::vectors::{bytes, load, real_headers, s};
use fluxminer::cli::chain::NetworkArgs;
use header_cmd::HeaderArgs;

fn header(input: String, network: &str, height: Option<u32>) -> ExitCode {
    header_cmd::run(&HeaderArgs {
        input,
        rules: NetworkArgs {
            network: network.into(),
            chain: None,
        },
        height,
        json: true,
    })
    .unwrap()
}

fn block(input: String) -> ExitCode {
    block_cmd::run(&BlockArgs {
        input,
        rules: NetworkArgs {
            network: "main".into(),
            chain: None,
        },
        json: false,
    })
    .unwrap()
}

#[test]
fn header_command_exit_codes() {
    for h in real_headers() {
        let code = header(hex::encode(&h.header), h.network, Some(h.height));
        assert_eq!(code, ExitCode::SUCCESS, "{} {}", h.source, h.height);
        assert_eq!(
            header(hex::encode(&h.header), h.network, None),
            ExitCode::SUCCESS
        );
    }
    let mut bad = real_headers().pop().unwrap().header;
    bad[104] ^= 0x01; // nBits: hash no longer meets the target
    assert_eq!(header(hex::encode(&bad), "main", None), ExitCode::from(1));
    assert_eq!(header("zz".into(), "main", None), ExitCode::from(2));
    assert_eq!(header("0400".into(), "main", None), ExitCode::from(2));
    // Version 101 on a PoW header: read in the PoN layout (as fluxd), where its bytes do not
    // parse.
    let mut v101 = real_headers().pop().unwrap().header;
    v101[0] = 101;
    assert_eq!(header(hex::encode(&v101), "main", None), ExitCode::from(2));
}

#[test]
fn header_command_reads_files_and_header_runs() {
    let v = load("magicpool_flux_mainnet_1134187_1134309.json");
    let h0 = bytes(&v["headers"][0], "header_hex");
    let dir = std::env::temp_dir().join(format!("fluxminer-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("h.bin");
    std::fs::write(&raw, &h0).unwrap();
    assert_eq!(
        header(raw.display().to_string(), "main", Some(1_134_187)),
        ExitCode::SUCCESS
    );
    let text = dir.join("h.hex");
    std::fs::write(&text, format!("{}\n", hex::encode(&h0))).unwrap();
    assert_eq!(
        header(text.display().to_string(), "main", None),
        ExitCode::SUCCESS
    );
    // Two unrelated headers back to back: each valid, but the second does not link.
    let two = [h0.clone(), bytes(&v["headers"][1], "header_hex")].concat();
    assert_eq!(header(hex::encode(two), "main", None), ExitCode::from(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn block_command_on_real_blocks() {
    let v = load("magicpool_flux_mainnet_1134187_1134309.json");
    for h in v["headers"].as_array().unwrap() {
        assert_eq!(block(s(h, "raw_block_hex").into()), ExitCode::SUCCESS);
    }
    let e = load("electrumx_zelcash_mainnet_100000.orig.json");
    assert_eq!(block(s(&e, "block").into()), ExitCode::SUCCESS);
    // A changed tier amount breaks the merkle root (the tier is then noted as unpaid).
    let raw = s(&v["headers"][1], "raw_block_hex").replace("a011872100000000", "a011872101000000");
    assert_eq!(block(raw), ExitCode::from(1));
    assert_eq!(block("00".into()), ExitCode::from(2));
}

/// `--chain FILE` applies to `header` and `block` too: a block of the committed test chain
/// (Equihash 48,5, its own limits) passes under its chain file and fails under mainnet.
#[test]
fn header_and_block_take_a_chain_file() {
    let line = include_str!("vectors/testchain/blocks.jsonl")
        .lines()
        .nth(150)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/testchain/chain.toml");
    let rules = |chain: Option<&std::path::Path>| NetworkArgs {
        network: "main".into(),
        chain: chain.map(|p| p.to_path_buf()),
    };
    for (chain, ok) in [(Some(file.as_path()), true), (None, false)] {
        let h = header_cmd::run(&HeaderArgs {
            input: v["header_hex"].as_str().unwrap().into(),
            rules: rules(chain),
            height: Some(150),
            json: true,
        })
        .unwrap();
        assert_eq!(h == ExitCode::SUCCESS, ok, "header, chain file {chain:?}");
        let b = block_cmd::run(&BlockArgs {
            input: v["block_hex"].as_str().unwrap().into(),
            rules: rules(chain),
            json: true,
        })
        .unwrap();
        assert_eq!(b == ExitCode::SUCCESS, ok, "block, chain file {chain:?}");
    }
}
