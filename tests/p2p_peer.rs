//! The P2P peer connection against a fake fluxd on loopback serving real mainnet data
//! (magicpool's blocks 1134187 and 1134309, headers and raw blocks; sources in
//! tests/vectors/README.md): the handshake at protocol 170020, headers, a block, pings answered;
//! and every way a hostile or broken peer is dropped, with its typed reason.

mod sync_support;

use std::net::SocketAddr;
use std::time::Duration;

use fluxminer::consensus::BlockHash;
use fluxminer::net::peer::{Peer, PeerConfig, PeerError};
use fluxminer::p2p::frame::{self, FrameError, Magic};
use fluxminer::p2p::message::{NetAddr, Version};
use fluxminer::p2p::{Message, MessageError};
use serde_json::Value;
use sync_support::read_message;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const MAGICPOOL: &str = include_str!("vectors/magicpool_flux_mainnet_1134187_1134309.json");

fn blocks() -> Vec<(fluxminer::consensus::header::Header, Vec<u8>)> {
    let v: Value = serde_json::from_str(MAGICPOOL).unwrap();
    v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let header = hex::decode(h["header_hex"].as_str().unwrap()).unwrap();
            let block = hex::decode(h["raw_block_hex"].as_str().unwrap()).unwrap();
            (
                fluxminer::consensus::header::Header::from_bytes(&header).unwrap(),
                block,
            )
        })
        .collect()
}

fn fluxd_version(version: i32) -> Version {
    Version {
        version,
        services: 5,
        timestamp: 1_764_547_200,
        addr_recv: NetAddr::default(),
        addr_from: NetAddr::default(),
        nonce: 99,
        user_agent: "/MagicBean:9.0.6/".into(),
        start_height: 2_100_000,
        relay: Some(true),
    }
}

/// What the fake node does after the handshake.
#[derive(Clone)]
enum Node {
    /// Serves the recorded headers and blocks, pinging first.
    Honest,
    /// Announces this protocol version.
    Old(i32),
    /// Answers `getheaders` with these raw bytes.
    Raw(Vec<u8>),
    /// Answers nothing.
    Silent,
    /// Answers `getdata` with the other block.
    WrongBlock,
}

async fn fake_node(node: Node) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = Vec::new();
        let send = |m: Message| m.to_bytes(Magic::MAIN);
        let version = match node {
            Node::Old(v) => v,
            _ => 170_021,
        };
        while let Some(m) = read_message(&mut s, &mut buf, Magic::MAIN).await {
            let reply: Vec<u8> = match (&node, m) {
                (_, Message::Version(v)) => {
                    assert_eq!(v.version, 170_020, "the client announces 170020");
                    [
                        send(Message::Version(fluxd_version(version))),
                        send(Message::Verack),
                    ]
                    .concat()
                }
                (Node::Silent, _) => continue,
                (Node::Raw(raw), Message::GetHeaders(_)) => raw.clone(),
                (_, Message::GetHeaders(g)) => {
                    assert_eq!(g.locator.len(), 1);
                    let headers = blocks().into_iter().map(|(h, _)| h).collect();
                    [send(Message::Ping(7)), send(Message::Headers(headers))].concat()
                }
                (_, Message::GetData(inv)) => {
                    let all = blocks();
                    let i = all
                        .iter()
                        .position(|(h, _)| h.block_hash() == inv[0].hash)
                        .unwrap();
                    let i = if matches!(node, Node::WrongBlock) {
                        1 - i
                    } else {
                        i
                    };
                    send(Message::Block(all[i].1.clone()))
                }
                (_, Message::Pong(n)) => {
                    assert_eq!(n, 7);
                    continue;
                }
                _ => continue,
            };
            if s.write_all(&reply).await.is_err() {
                return;
            }
        }
    });
    addr
}

fn cfg() -> PeerConfig {
    PeerConfig {
        magic: Magic::MAIN,
        timeout: Duration::from_millis(500),
        start_height: 0,
    }
}

#[tokio::test]
async fn handshake_headers_and_a_block_from_an_honest_node() {
    let addr = fake_node(Node::Honest).await;
    let mut p = Peer::connect(addr, cfg()).await.unwrap();
    assert_eq!(p.version.user_agent, "/MagicBean:9.0.6/");
    let all = blocks();
    let got = p.headers(vec![BlockHash::ZERO]).await.unwrap();
    assert_eq!(got, all.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>());
    let block = p.block(all[1].0.block_hash()).await.unwrap();
    assert_eq!(block, all[1].1);
}

async fn dropped(node: Node) -> PeerError {
    let addr = fake_node(node).await;
    let mut p = match Peer::connect(addr, cfg()).await {
        Ok(p) => p,
        Err(e) => return e,
    };
    match p.headers(vec![BlockHash::ZERO]).await {
        Ok(h) => {
            let hash = h.first().map_or(BlockHash::ZERO, |h| h.block_hash());
            p.block(hash).await.unwrap_err()
        }
        Err(e) => e,
    }
}

#[tokio::test]
async fn hostile_and_broken_nodes_are_dropped_with_their_reason() {
    assert!(matches!(
        dropped(Node::Old(170_019)).await,
        PeerError::OldProtocol(170_019)
    ));
    assert!(matches!(
        dropped(Node::Silent).await,
        PeerError::Stalled(_, "headers")
    ));
    assert!(matches!(
        dropped(Node::WrongBlock).await,
        PeerError::Protocol(m) if m.starts_with("asked for block")
    ));
    let mut oversized = frame::encode(Magic::MAIN, "headers", &[]);
    oversized[16..20].copy_from_slice(&(3u32 << 20).to_le_bytes());
    assert!(matches!(
        dropped(Node::Raw(oversized)).await,
        PeerError::Frame(FrameError::Oversized(n)) if n == 3 << 20
    ));
    let mut bad_sum = frame::encode(Magic::MAIN, "headers", &[0]);
    bad_sum[20] ^= 1;
    assert!(matches!(
        dropped(Node::Raw(bad_sum)).await,
        PeerError::Frame(FrameError::BadChecksum { .. })
    ));
    let testnet = frame::encode(Magic::TEST, "headers", &[0]);
    assert!(matches!(
        dropped(Node::Raw(testnet)).await,
        PeerError::Frame(FrameError::WrongMagic { .. })
    ));
    let garbage = frame::encode(Magic::MAIN, "headers", &[1, 4, 0, 0]);
    assert!(matches!(
        dropped(Node::Raw(garbage)).await,
        PeerError::Message(MessageError::Decode { .. })
    ));
}
