//! Fuzz targets: every decoder that faces the network, as a function of arbitrary bytes. Each
//! must return (never panic) and allocate in proportion to its input; where a decoder has an
//! encoder, what decodes must re-encode to something that decodes to the same value.
//!
//! `fuzz/` runs them under cargo-fuzz (nightly, libFuzzer); `tests/fuzz_corpus.rs` runs them on
//! stable in CI over the seed corpus in `fuzz/corpus/` and thousands of deterministic mutations
//! of it, with an allocator that counts bytes.

use crate::consensus::block::Block;
use crate::consensus::header::Header;
use crate::consensus::tx::Transaction;
use crate::equihash::Params;
use crate::p2p::frame::{self, Frame, Magic};
use crate::p2p::message::Message as P2pMessage;
use crate::stratum::{ClientConfig, ClientSession, DifficultyScale, Message as StratumMessage};

/// The commands [`p2p_payload`] picks from with its first byte.
const COMMANDS: [&str; 9] = [
    "version",
    "verack",
    "ping",
    "pong",
    "getheaders",
    "headers",
    "inv",
    "getdata",
    "block",
];

/// Bytes from a peer: frames taken off the front as a connection would, each decoded.
pub fn p2p_stream(data: &[u8]) {
    let mut buf = data.to_vec();
    while let Ok(Some(f)) = frame::decode(Magic::MAIN, &mut buf) {
        p2p_frame(&f);
    }
}

/// A payload under a known command (the first byte picks it): reaches the payload decoders
/// without having to forge a checksum.
pub fn p2p_payload(data: &[u8]) {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    p2p_frame(&Frame {
        command: COMMANDS[pick as usize % COMMANDS.len()].into(),
        payload: payload.to_vec(),
    });
}

fn p2p_frame(f: &Frame) {
    let Ok(m) = P2pMessage::decode(f) else {
        return;
    };
    // Headers and locators re-encode exactly (a version's user agent may not be UTF-8).
    if matches!(m, P2pMessage::Headers(_) | P2pMessage::GetHeaders(_)) {
        let again = Frame {
            command: m.command().to_string(),
            payload: m.payload(),
        };
        assert_eq!(P2pMessage::decode(&again).as_ref(), Ok(&m));
    }
}

/// A serialized header (PoW or PoN, by version).
pub fn header(data: &[u8]) {
    if let Ok(h) = Header::from_bytes(data) {
        assert_eq!(Header::from_bytes(&h.to_bytes()).as_ref(), Ok(&h));
        let _ = h.block_hash();
    }
}

/// A serialized block.
pub fn block(data: &[u8]) {
    let _ = Block::from_bytes(data);
}

/// A serialized transaction.
pub fn transaction(data: &[u8]) {
    let _ = Transaction::from_bytes(data);
}

/// A line from a pool, through the wire parser and a miner session that has subscribed and
/// been authorized.
pub fn stratum_line(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let _ = StratumMessage::parse(line);
    let mut s = ClientSession::new(ClientConfig {
        user: "t1fuzz.w".into(),
        pass: "x".into(),
        agent: "fuzz".into(),
        host: "pool".into(),
        port: 1,
        params: Params::ZELHASH,
        scale: DifficultyScale::Pool,
        extranonce_subscribe: true,
        silence_timeout_ms: 1_000,
    });
    s.start(0);
    s.on_line(r#"{"id":1,"result":[null,"60000016"],"error":null}"#, 0);
    s.on_line(r#"{"id":2,"result":true,"error":null}"#, 0);
    for l in line.lines() {
        let _ = s.on_line(l, 1);
    }
    let _ = s.take_outgoing();
}
