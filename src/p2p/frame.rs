//! Message framing: `magic (4) ‖ command (12, NUL-padded ASCII) ‖ length (LE32) ‖ checksum (4)
//! ‖ payload`, the checksum being the first 4 bytes of SHA256d(payload).
//!
//! # Consensus
//! fluxd `src/protocol.h` (`CMessageHeader`), `src/net.h` (`MAX_PROTOCOL_MESSAGE_LENGTH`, 2 MiB),
//! `src/chainparams.cpp` (`pchMessageStart`).

use thiserror::Error;

use crate::consensus::hash::sha256d;

/// Bytes of a message header.
pub const HEADER_LEN: usize = 24;

/// The largest payload accepted (fluxd's `MAX_PROTOCOL_MESSAGE_LENGTH`, 2 MiB).
pub const MAX_MESSAGE_LEN: usize = 2 * 1024 * 1024;

/// A network's message start bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magic(pub [u8; 4]);

impl Magic {
    /// Mainnet (`24 e9 27 64`).
    pub const MAIN: Magic = Magic([0x24, 0xe9, 0x27, 0x64]);
    /// Testnet (`fa 1a f9 bf`).
    pub const TEST: Magic = Magic([0xfa, 0x1a, 0xf9, 0xbf]);
    /// Regtest (`aa e8 3f 5f`).
    pub const REGTEST: Magic = Magic([0xaa, 0xe8, 0x3f, 0x5f]);
}

/// Why bytes from a peer are not a message. Each ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Another network's magic, or not the protocol at all.
    #[error("wrong network magic {got:02x?} (expected {expected:02x?})")]
    WrongMagic {
        /// What came.
        got: [u8; 4],
        /// Ours.
        expected: [u8; 4],
    },
    /// The command is not NUL-padded printable ASCII.
    #[error("malformed command field {0:02x?}")]
    BadCommand([u8; 12]),
    /// The payload is larger than [`MAX_MESSAGE_LEN`].
    #[error("message of {0} bytes exceeds the {MAX_MESSAGE_LEN}-byte limit")]
    Oversized(usize),
    /// The checksum does not match the payload.
    #[error("bad checksum for {command}: header says {expected:02x?}, payload gives {got:02x?}")]
    BadChecksum {
        /// The command.
        command: String,
        /// The header's checksum.
        expected: [u8; 4],
        /// The payload's.
        got: [u8; 4],
    },
}

/// One framed message: its command and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The command (`"version"`, `"headers"`…).
    pub command: String,
    /// The payload.
    pub payload: Vec<u8>,
}

fn checksum(payload: &[u8]) -> [u8; 4] {
    let h = sha256d(payload);
    [h[0], h[1], h[2], h[3]]
}

/// Frames `payload` as `command` for the network `magic`.
///
/// # Panics
/// When `command` is longer than 12 bytes (a programming error: commands are constants).
pub fn encode(magic: Magic, command: &str, payload: &[u8]) -> Vec<u8> {
    assert!(
        command.len() <= 12,
        "command {command:?} longer than 12 bytes"
    );
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&magic.0);
    let mut cmd = [0u8; 12];
    cmd[..command.len()].copy_from_slice(command.as_bytes());
    out.extend_from_slice(&cmd);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(payload));
    out.extend_from_slice(payload);
    out
}

fn command(raw: [u8; 12]) -> Result<String, FrameError> {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(12);
    let (name, pad) = raw.split_at(end);
    let printable = name.iter().all(|b| b.is_ascii_graphic());
    if name.is_empty() || !printable || pad.iter().any(|&b| b != 0) {
        return Err(FrameError::BadCommand(raw));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// Takes one message off the front of `buf` when it is complete: `Ok(None)` means "read more".
/// The header is checked as soon as its 24 bytes are there, so an oversized or foreign message
/// is refused before its payload is read.
///
/// # Errors
/// A [`FrameError`]; the connection should be dropped.
pub fn decode(magic: Magic, buf: &mut Vec<u8>) -> Result<Option<Frame>, FrameError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let field = |r: std::ops::Range<usize>| buf[r].to_vec();
    let got: [u8; 4] = field(0..4).try_into().expect("4 bytes");
    if got != magic.0 {
        return Err(FrameError::WrongMagic {
            got,
            expected: magic.0,
        });
    }
    let command = command(field(4..16).try_into().expect("12 bytes"))?;
    let len = u32::from_le_bytes(field(16..20).try_into().expect("4 bytes")) as usize;
    if len > MAX_MESSAGE_LEN {
        return Err(FrameError::Oversized(len));
    }
    if buf.len() < HEADER_LEN + len {
        return Ok(None);
    }
    let expected: [u8; 4] = field(20..24).try_into().expect("4 bytes");
    let payload = buf[HEADER_LEN..HEADER_LEN + len].to_vec();
    let got = checksum(&payload);
    if got != expected {
        return Err(FrameError::BadChecksum {
            command,
            expected,
            got,
        });
    }
    buf.drain(..HEADER_LEN + len);
    Ok(Some(Frame { command, payload }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fluxd's `verack` on mainnet: the empty payload's checksum is `5df6e0e2`.
    #[test]
    fn a_verack_frames_as_bitcoin_does() {
        let v = encode(Magic::MAIN, "verack", &[]);
        assert_eq!(
            hex::encode(&v),
            "24e9276476657261636b000000000000000000005df6e0e2"
        );
        let mut buf = v.clone();
        buf.extend_from_slice(&v[..10]);
        let f = decode(Magic::MAIN, &mut buf).unwrap().unwrap();
        assert_eq!((f.command.as_str(), f.payload.len()), ("verack", 0));
        assert_eq!(buf, v[..10], "the next message's start stays");
        assert_eq!(decode(Magic::MAIN, &mut buf), Ok(None));
    }

    #[test]
    fn a_message_arrives_in_pieces() {
        let v = encode(Magic::TEST, "ping", &7u64.to_le_bytes());
        let mut buf = Vec::new();
        for b in &v[..v.len() - 1] {
            buf.push(*b);
            assert_eq!(decode(Magic::TEST, &mut buf), Ok(None));
        }
        buf.push(v[v.len() - 1]);
        assert_eq!(
            decode(Magic::TEST, &mut buf).unwrap().unwrap().payload,
            7u64.to_le_bytes()
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn hostile_frames_are_refused_with_their_reason() {
        let good = encode(Magic::MAIN, "ping", &[1; 8]);
        let mut other = good.clone();
        assert_eq!(
            decode(Magic::REGTEST, &mut other),
            Err(FrameError::WrongMagic {
                got: Magic::MAIN.0,
                expected: Magic::REGTEST.0
            })
        );
        let mut huge = good[..HEADER_LEN].to_vec();
        huge[16..20].copy_from_slice(&(MAX_MESSAGE_LEN as u32 + 1).to_le_bytes());
        assert_eq!(
            decode(Magic::MAIN, &mut huge),
            Err(FrameError::Oversized(MAX_MESSAGE_LEN + 1)),
            "refused from the header alone"
        );
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(
            decode(Magic::MAIN, &mut flipped),
            Err(FrameError::BadChecksum { command, .. }) if command == "ping"
        ));
        for bad in [
            &b"ping\0\0\0\0\0\0\0x"[..],
            b"\0ping\0\0\0\0\0\0\0",
            b"pi ng\0\0\0\0\0\0\0",
        ] {
            let mut m = good.clone();
            m[4..16].copy_from_slice(bad);
            assert!(
                matches!(decode(Magic::MAIN, &mut m), Err(FrameError::BadCommand(_))),
                "{bad:?}"
            );
        }
    }
}
