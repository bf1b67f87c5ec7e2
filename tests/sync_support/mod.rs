//! The committed test chain (tests/vectors/testchain: 2,000 generated blocks and their chain
//! file) and a fake Flux P2P node on loopback that serves it, honestly or in one hostile way.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use fluxminer::consensus::header::Header;
use fluxminer::consensus::{BlockHash, NetworkParams};
use fluxminer::p2p::Message;
use fluxminer::p2p::frame::{self, Magic};
use fluxminer::p2p::message::{NetAddr, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const CHAIN_TOML: &str = include_str!("../vectors/testchain/chain.toml");
const BLOCKS: &str = include_str!("../vectors/testchain/blocks.jsonl");

/// The chain file's path (for the binary's `--chain`).
pub fn chain_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/testchain/chain.toml")
}

/// The test network, from its chain file.
pub fn params() -> &'static NetworkParams {
    static P: OnceLock<NetworkParams> = OnceLock::new();
    P.get_or_init(|| fluxminer::cli::chain::parse_chain_file(CHAIN_TOML).unwrap())
}

/// One block of a served chain.
#[derive(Clone)]
pub struct Served {
    pub header: Header,
    pub block: Vec<u8>,
}

/// The 2,000 committed blocks, by height.
pub fn chain() -> Arc<Vec<Served>> {
    static C: OnceLock<Arc<Vec<Served>>> = OnceLock::new();
    C.get_or_init(|| {
        let v: Vec<Served> = BLOCKS
            .lines()
            .map(|l| {
                let j: serde_json::Value = serde_json::from_str(l).unwrap();
                let header = hex::decode(j["header_hex"].as_str().unwrap()).unwrap();
                let block = hex::decode(j["block_hex"].as_str().unwrap()).unwrap();
                let header = Header::from_bytes(&header).unwrap();
                assert_eq!(
                    header.block_hash().to_display_hex(),
                    j["hash"].as_str().unwrap()
                );
                Served { header, block }
            })
            .collect();
        Arc::new(v)
    })
    .clone()
}

/// What the fake node does.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Serves its chain.
    Honest,
    /// Answers `getheaders` with a frame header announcing a 3 MiB payload.
    Oversized,
    /// Answers `getheaders` with a `headers` frame whose checksum is wrong.
    BadChecksum,
    /// Serves its chain with the header at this height's `nBits` changed.
    InvalidHeaderAt(u32),
    /// Completes the handshake, then says nothing.
    Stall,
    /// Serves its chain, every other block 1 ms late (a sync that takes seconds, to be
    /// killed).
    SlowBlocks,
}

fn version() -> Version {
    Version {
        version: 170_021,
        services: 5,
        timestamp: 1_764_547_200,
        addr_recv: NetAddr::default(),
        addr_from: NetAddr::default(),
        nonce: 99,
        user_agent: "/fake-fluxd/".into(),
        start_height: 1_999,
        relay: Some(true),
    }
}

/// The next message a client sends (None when it closes or sends bytes that do not decode).
pub async fn read_message(s: &mut TcpStream, buf: &mut Vec<u8>, magic: Magic) -> Option<Message> {
    loop {
        if let Ok(Some(f)) = frame::decode(magic, buf) {
            return Message::decode(&f).ok();
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The headers after the first locator hash the chain holds (from genesis if none), at most
/// 160, as fluxd answers.
fn headers_after(
    chain: &[Served],
    index: &HashMap<BlockHash, usize>,
    locator: &[BlockHash],
) -> Vec<Header> {
    let start = locator
        .iter()
        .find_map(|h| index.get(h))
        .map_or(1, |i| i + 1);
    chain
        .iter()
        .skip(start)
        .take(160)
        .map(|s| s.header.clone())
        .collect()
}

/// Starts a fake node serving `chain` in `mode`; it accepts any number of connections.
pub async fn fake_node(chain: Arc<Vec<Served>>, mode: Mode) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(serve(s, chain.clone(), mode.clone()));
        }
    });
    addr
}

async fn serve(mut s: TcpStream, chain: Arc<Vec<Served>>, mode: Mode) {
    let magic = Magic(params().p2p_magic);
    let mut chain: Vec<Served> = (*chain).clone();
    if let Mode::InvalidHeaderAt(h) = mode {
        let bad = &mut chain[h as usize].header;
        bad.bits = fluxminer::consensus::CompactTarget::from_consensus(bad.bits.to_consensus() ^ 1);
    }
    let index: HashMap<BlockHash, usize> = chain
        .iter()
        .enumerate()
        .map(|(i, b)| (b.header.block_hash(), i))
        .collect();
    let mut buf = Vec::new();
    while let Some(m) = read_message(&mut s, &mut buf, magic).await {
        let reply: Vec<u8> = match (&mode, m) {
            (_, Message::Version(_)) => [
                Message::Version(version()).to_bytes(magic),
                Message::Verack.to_bytes(magic),
            ]
            .concat(),
            (Mode::Stall, _) => continue,
            (Mode::Oversized, Message::GetHeaders(_)) => {
                let mut f = frame::encode(magic, "headers", &[]);
                f[16..20].copy_from_slice(&(3u32 << 20).to_le_bytes());
                f
            }
            (Mode::BadChecksum, Message::GetHeaders(g)) => {
                let mut f =
                    Message::Headers(headers_after(&chain, &index, &g.locator)).to_bytes(magic);
                f[20] ^= 0xff;
                f
            }
            (_, Message::GetHeaders(g)) => {
                Message::Headers(headers_after(&chain, &index, &g.locator)).to_bytes(magic)
            }
            (_, Message::GetData(inv)) => {
                let mut out = Vec::new();
                for i in inv {
                    if matches!(mode, Mode::SlowBlocks) && i.hash.as_internal_bytes()[0] % 2 == 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                    match index.get(&i.hash) {
                        Some(&at) => {
                            out.extend(Message::Block(chain[at].block.clone()).to_bytes(magic))
                        }
                        None => out.extend(frame::encode(magic, "notfound", &[])),
                    }
                }
                out
            }
            _ => continue,
        };
        if s.write_all(&reply).await.is_err() {
            return;
        }
    }
}
