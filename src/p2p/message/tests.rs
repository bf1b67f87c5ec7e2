//! Messages built from real Flux headers (fluxd's genesis blocks, 200,9 and 48,5; magicpool's
//! mainnet blocks 1134187 and 1134309, 125,4), round-tripped through the framing, and hostile
//! payloads refused with their exact error.

use serde_json::Value;

use super::*;
use crate::consensus::encode::DecodeError;
use crate::p2p::frame::decode;

const GENESIS: &str = include_str!("../../../tests/vectors/fluxd_genesis_headers.json");
const MAGICPOOL: &str =
    include_str!("../../../tests/vectors/magicpool_flux_mainnet_1134187_1134309.json");

/// (header, display hash) of every recorded header.
fn real_headers() -> Vec<(Header, String)> {
    let mut out = Vec::new();
    for file in [GENESIS, MAGICPOOL] {
        let v: Value = serde_json::from_str(file).unwrap();
        for h in v["headers"].as_array().unwrap() {
            let bytes = hex::decode(h["header_hex"].as_str().unwrap()).unwrap();
            let header = Header::from_bytes(&bytes).unwrap();
            out.push((header, h["hash"].as_str().unwrap().to_string()));
        }
    }
    out
}

fn roundtrip(m: &Message) -> Message {
    let mut buf = m.to_bytes(Magic::MAIN);
    let f = decode(Magic::MAIN, &mut buf).unwrap().unwrap();
    assert!(buf.is_empty());
    Message::decode(&f).unwrap()
}

fn frame(command: &str, payload: Vec<u8>) -> Frame {
    Frame {
        command: command.into(),
        payload,
    }
}

#[test]
fn real_headers_round_trip_with_their_hashes() {
    let real = real_headers();
    assert_eq!(real.len(), 5);
    let msg = Message::Headers(real.iter().map(|(h, _)| h.clone()).collect());
    let Message::Headers(back) = roundtrip(&msg) else {
        panic!("not headers")
    };
    let hashes: Vec<String> = back
        .iter()
        .map(|h| h.block_hash().to_display_hex())
        .collect();
    let want: Vec<String> = real.iter().map(|(_, hash)| hash.clone()).collect();
    assert_eq!(hashes, want);
}

#[test]
fn a_headers_entry_with_transactions_is_refused() {
    let (h, _) = real_headers().remove(3);
    let mut payload = vec![2];
    for tx_count in [0, 1] {
        h.encode(&mut payload);
        payload.push(tx_count);
    }
    assert_eq!(
        Message::decode(&frame("headers", payload)),
        Err(MessageError::HeaderWithTransactions { index: 1, count: 1 })
    );
}

#[test]
fn hostile_counts_are_refused_before_allocating() {
    let mut payload = Vec::new();
    write_compact_size(&mut payload, 2_001);
    payload.resize(payload.len() + 2_001 * MIN_HEADER_LEN, 0);
    assert_eq!(
        Message::decode(&frame("headers", payload)),
        Err(MessageError::TooManyHeaders(2_001))
    );
    // A count the bytes cannot hold is a decode error, not an allocation.
    let mut payload = Vec::new();
    write_compact_size(&mut payload, 1_000_000);
    assert_eq!(
        Message::decode(&frame("inv", payload)),
        Err(MessageError::Decode {
            command: "inv".into(),
            source: DecodeError::UnexpectedEnd {
                offset: 0,
                needed: 36_000_000,
                remaining: 0
            }
        })
    );
    let mut payload = Vec::new();
    write_compact_size(&mut payload, 50_001);
    payload.resize(payload.len() + 50_001 * 36, 0);
    assert_eq!(
        Message::decode(&frame("getdata", payload)),
        Err(MessageError::TooManyInventory {
            command: "getdata".into(),
            count: 50_001
        })
    );
}

#[test]
fn a_truncated_header_names_the_command() {
    let (h, _) = real_headers().remove(3);
    let mut payload = vec![1];
    h.encode(&mut payload);
    payload.truncate(100);
    assert!(matches!(
        Message::decode(&frame("headers", payload)),
        Err(MessageError::Decode { command, source: DecodeError::UnexpectedEnd { .. } }) if command == "headers"
    ));
}

fn version() -> Version {
    Version {
        version: crate::p2p::LIGHT_CLIENT_VERSION,
        services: 0,
        timestamp: 1_764_547_200,
        addr_recv: NetAddr {
            services: 1,
            ip: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1],
            port: 16125,
        },
        addr_from: NetAddr::default(),
        nonce: 0x0102_0304_0506_0708,
        user_agent: "/fluxminer:0.1.0/".into(),
        start_height: 2_020_000,
        relay: Some(false),
    }
}

#[test]
fn version_lays_out_as_bitcoin_and_round_trips() {
    let v = version();
    let payload = Message::Version(v.clone()).payload();
    assert_eq!(payload.len(), 4 + 8 + 8 + 26 + 26 + 8 + 1 + 17 + 4 + 1);
    assert_eq!(&payload[..4], &170_020i32.to_le_bytes());
    assert_eq!(&payload[44..46], &16125u16.to_be_bytes(), "port big-endian");
    assert_eq!(
        roundtrip(&Message::Version(v.clone())),
        Message::Version(v.clone())
    );
    let mut old = payload.clone();
    old.pop();
    let Message::Version(no_relay) = Message::decode(&frame("version", old)).unwrap() else {
        panic!()
    };
    assert_eq!(no_relay.relay, None);
    let mut long = v;
    long.user_agent = "x".repeat(257);
    assert_eq!(
        Message::decode(&frame("version", Message::Version(long).payload())),
        Err(MessageError::UserAgentTooLong(257))
    );
}

#[test]
fn getheaders_ping_and_unknown_commands() {
    let real = real_headers();
    let g = GetHeaders {
        version: 170_020,
        locator: real.iter().map(|(h, _)| h.block_hash()).collect(),
        stop: BlockHash::ZERO,
    };
    let m = Message::GetHeaders(g);
    assert_eq!(m.payload().len(), 4 + 1 + 5 * 32 + 32);
    assert_eq!(roundtrip(&m), m);
    assert_eq!(roundtrip(&Message::Ping(42)), Message::Ping(42));
    assert_eq!(
        Message::decode(&frame("cmpheaders", vec![1, 2, 3])),
        Ok(Message::Other {
            command: "cmpheaders".into(),
            len: 3
        })
    );
    assert!(matches!(
        Message::decode(&frame("ping", vec![0; 9])),
        Err(MessageError::Decode {
            source: DecodeError::TrailingBytes { count: 1, .. },
            ..
        })
    ));
}

#[test]
fn the_locator_is_dense_then_doubles_back_to_genesis() {
    let at = |h: u32| {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&h.to_le_bytes());
        BlockHash::from_internal_bytes(b)
    };
    let heights = |tip| -> Vec<u32> {
        locator(tip, at)
            .iter()
            .map(|h| u32::from_le_bytes(h.as_internal_bytes()[..4].try_into().unwrap()))
            .collect()
    };
    assert_eq!(heights(0), [0]);
    assert_eq!(heights(5), [5, 4, 3, 2, 1, 0]);
    assert_eq!(
        heights(30),
        [30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 17, 13, 5, 0]
    );
    let long = heights(2_020_000);
    let gaps: Vec<u32> = long.windows(2).map(|w| w[0] - w[1]).collect();
    assert!(gaps[..10].iter().all(|&g| g == 1), "{gaps:?}");
    for w in gaps[10..gaps.len() - 1].windows(2) {
        assert_eq!(w[1], 2 * w[0], "{gaps:?}");
    }
    assert_eq!(long.last(), Some(&0));
    assert!(long.len() < 40, "{} entries", long.len());
}
