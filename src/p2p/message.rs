//! The messages of a header-syncing light client, decoded from and encoded to frame payloads.
//!
//! # Consensus
//! Layouts as fluxd serializes them: `version` (`src/main.cpp` `ProcessMessage`, `src/net.cpp`
//! `PushVersion`), `getheaders` and its locator (`src/primitives/block.h` `CBlockLocator`),
//! `headers` (each header followed by a zero transaction count), `inv`/`getdata`
//! (`src/protocol.h` `CInv`, at most `MAX_INV_SZ` = 50,000 entries).

use thiserror::Error;

use super::MAX_HEADERS_ACCEPTED;
use super::frame::{self, Frame, Magic};
use crate::consensus::BlockHash;
use crate::consensus::encode::{DecodeError, Reader, write_compact_size};
use crate::consensus::header::Header;

/// The most entries in an `inv` or `getdata` (fluxd `MAX_INV_SZ`).
pub const MAX_INV: usize = 50_000;

/// The longest user agent accepted (fluxd `MAX_SUBVERSION_LENGTH`).
pub const MAX_USER_AGENT: usize = 256;

/// The smallest serialized header (a PoN header without signature is 144 + 1 bytes; PoW ones are
/// longer): bounds a hostile count before anything is allocated.
const MIN_HEADER_LEN: usize = 145;

/// Why a payload is not the message its command names. Each ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The bytes do not decode.
    #[error("malformed {command}: {source}")]
    Decode {
        /// The command.
        command: String,
        /// What failed.
        source: DecodeError,
    },
    /// A `headers` message with more entries than any fluxd sends.
    #[error("headers message with {0} entries (at most {MAX_HEADERS_ACCEPTED})")]
    TooManyHeaders(usize),
    /// A `headers` entry followed by a non-zero transaction count.
    #[error("headers entry {index} claims {count} transactions (must be 0)")]
    HeaderWithTransactions {
        /// The entry.
        index: usize,
        /// The count.
        count: u64,
    },
    /// An `inv` or `getdata` with more than [`MAX_INV`] entries.
    #[error("{command} with {count} entries (at most {MAX_INV})")]
    TooManyInventory {
        /// The command.
        command: String,
        /// The count.
        count: usize,
    },
    /// A user agent longer than [`MAX_USER_AGENT`].
    #[error("user agent of {0} bytes (at most {MAX_USER_AGENT})")]
    UserAgentTooLong(usize),
}

/// A network address as `version` carries it (no timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetAddr {
    /// Service bits.
    pub services: u64,
    /// IPv6, or IPv4-mapped IPv6.
    pub ip: [u8; 16],
    /// Port (big-endian on the wire).
    pub port: u16,
}

/// The `version` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Protocol version.
    pub version: i32,
    /// Service bits.
    pub services: u64,
    /// Sender's time (Unix seconds).
    pub timestamp: i64,
    /// The receiver as the sender sees it.
    pub addr_recv: NetAddr,
    /// The sender.
    pub addr_from: NetAddr,
    /// Connection nonce (detects connecting to oneself).
    pub nonce: u64,
    /// User agent (`/MagicBean:9.0.6/`).
    pub user_agent: String,
    /// The sender's best height.
    pub start_height: i32,
    /// Relay transactions (absent in old versions: `None`).
    pub relay: Option<bool>,
}

/// An inventory entry (`inv`, `getdata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inventory {
    /// 1 transaction, 2 block (`MSG_TX`, `MSG_BLOCK`).
    pub kind: u32,
    /// The hash.
    pub hash: BlockHash,
}

impl Inventory {
    /// `MSG_BLOCK`.
    pub const BLOCK: u32 = 2;

    /// A block entry.
    pub fn block(hash: BlockHash) -> Inventory {
        Inventory {
            kind: Self::BLOCK,
            hash,
        }
    }
}

/// `getheaders`: a locator (newest first) and a stop hash (zero: as many as allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetHeaders {
    /// The sender's protocol version.
    pub version: i32,
    /// Block hashes of the sender's best chain, newest first, sparser further back.
    pub locator: Vec<BlockHash>,
    /// Stop after this hash.
    pub stop: BlockHash,
}

/// A message, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// `version`.
    Version(Version),
    /// `verack`.
    Verack,
    /// `ping` with its nonce.
    Ping(u64),
    /// `pong` with the ping's nonce.
    Pong(u64),
    /// `getheaders`.
    GetHeaders(GetHeaders),
    /// `headers`: full headers, in chain order.
    Headers(Vec<Header>),
    /// `inv`.
    Inv(Vec<Inventory>),
    /// `getdata`.
    GetData(Vec<Inventory>),
    /// `block`: the serialized block (decoded by [`crate::consensus::block`]).
    Block(Vec<u8>),
    /// Anything else (`addr`, `sendheaders`, `cmpheaders`, …): ignored by this client.
    Other {
        /// The command.
        command: String,
        /// Payload bytes.
        len: usize,
    },
}

fn put_addr(out: &mut Vec<u8>, a: &NetAddr) {
    out.extend_from_slice(&a.services.to_le_bytes());
    out.extend_from_slice(&a.ip);
    out.extend_from_slice(&a.port.to_be_bytes());
}

fn read_addr(r: &mut Reader<'_>) -> Result<NetAddr, DecodeError> {
    Ok(NetAddr {
        services: u64::from_le_bytes(r.read_array()?),
        ip: r.read_array()?,
        port: u16::from_be_bytes(r.read_array()?),
    })
}

fn put_inventory(out: &mut Vec<u8>, inv: &[Inventory]) {
    write_compact_size(out, inv.len() as u64);
    for i in inv {
        out.extend_from_slice(&i.kind.to_le_bytes());
        out.extend_from_slice(i.hash.as_internal_bytes());
    }
}

impl Message {
    /// The command this message is sent as.
    pub fn command(&self) -> &str {
        match self {
            Message::Version(_) => "version",
            Message::Verack => "verack",
            Message::Ping(_) => "ping",
            Message::Pong(_) => "pong",
            Message::GetHeaders(_) => "getheaders",
            Message::Headers(_) => "headers",
            Message::Inv(_) => "inv",
            Message::GetData(_) => "getdata",
            Message::Block(_) => "block",
            Message::Other { command, .. } => command,
        }
    }

    /// The payload bytes.
    pub fn payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Message::Version(v) => {
                out.extend_from_slice(&v.version.to_le_bytes());
                out.extend_from_slice(&v.services.to_le_bytes());
                out.extend_from_slice(&v.timestamp.to_le_bytes());
                put_addr(&mut out, &v.addr_recv);
                put_addr(&mut out, &v.addr_from);
                out.extend_from_slice(&v.nonce.to_le_bytes());
                write_compact_size(&mut out, v.user_agent.len() as u64);
                out.extend_from_slice(v.user_agent.as_bytes());
                out.extend_from_slice(&v.start_height.to_le_bytes());
                if let Some(relay) = v.relay {
                    out.push(u8::from(relay));
                }
            }
            Message::Verack | Message::Other { .. } => {}
            Message::Ping(n) | Message::Pong(n) => out.extend_from_slice(&n.to_le_bytes()),
            Message::GetHeaders(g) => {
                out.extend_from_slice(&g.version.to_le_bytes());
                write_compact_size(&mut out, g.locator.len() as u64);
                for h in &g.locator {
                    out.extend_from_slice(h.as_internal_bytes());
                }
                out.extend_from_slice(g.stop.as_internal_bytes());
            }
            Message::Headers(hs) => {
                write_compact_size(&mut out, hs.len() as u64);
                for h in hs {
                    h.encode(&mut out);
                    out.push(0);
                }
            }
            Message::Inv(inv) | Message::GetData(inv) => put_inventory(&mut out, inv),
            Message::Block(b) => out.extend_from_slice(b),
        }
        out
    }

    /// The framed bytes for `magic`.
    pub fn to_bytes(&self, magic: Magic) -> Vec<u8> {
        frame::encode(magic, self.command(), &self.payload())
    }

    /// Decodes a frame's payload by its command; unknown commands become [`Message::Other`].
    ///
    /// # Errors
    /// A [`MessageError`] naming the command and what is wrong.
    pub fn decode(f: &Frame) -> Result<Message, MessageError> {
        let mut r = Reader::new(&f.payload);
        let wrap = |source| MessageError::Decode {
            command: f.command.clone(),
            source,
        };
        let msg = match f.command.as_str() {
            "version" => Message::Version(read_version(&mut r)?),
            "verack" => Message::Verack,
            "ping" => Message::Ping(u64::from_le_bytes(r.read_array().map_err(wrap)?)),
            "pong" => Message::Pong(u64::from_le_bytes(r.read_array().map_err(wrap)?)),
            "getheaders" => Message::GetHeaders(read_getheaders(&mut r).map_err(wrap)?),
            "headers" => Message::Headers(read_headers(&mut r, &f.command)?),
            "inv" => Message::Inv(read_inventory(&mut r, &f.command)?),
            "getdata" => Message::GetData(read_inventory(&mut r, &f.command)?),
            "block" => return Ok(Message::Block(f.payload.clone())),
            _ => {
                return Ok(Message::Other {
                    command: f.command.clone(),
                    len: f.payload.len(),
                });
            }
        };
        r.finish("message").map_err(wrap)?;
        Ok(msg)
    }
}

fn read_version(r: &mut Reader<'_>) -> Result<Version, MessageError> {
    let wrap = |source| MessageError::Decode {
        command: "version".into(),
        source,
    };
    let (version, services, timestamp) = (
        r.read_i32_le().map_err(wrap)?,
        u64::from_le_bytes(r.read_array().map_err(wrap)?),
        r.read_i64_le().map_err(wrap)?,
    );
    let addr_recv = read_addr(r).map_err(wrap)?;
    let addr_from = read_addr(r).map_err(wrap)?;
    let nonce = u64::from_le_bytes(r.read_array().map_err(wrap)?);
    let agent = r.read_var_bytes().map_err(wrap)?;
    if agent.len() > MAX_USER_AGENT {
        return Err(MessageError::UserAgentTooLong(agent.len()));
    }
    let start_height = r.read_i32_le().map_err(wrap)?;
    let relay = if r.remaining() > 0 {
        Some(r.read_u8().map_err(wrap)? != 0)
    } else {
        None
    };
    Ok(Version {
        version,
        services,
        timestamp,
        addr_recv,
        addr_from,
        nonce,
        user_agent: String::from_utf8_lossy(agent).into_owned(),
        start_height,
        relay,
    })
}

fn read_getheaders(r: &mut Reader<'_>) -> Result<GetHeaders, DecodeError> {
    let version = r.read_i32_le()?;
    let n = r.read_length(32)?;
    let locator = (0..n)
        .map(|_| r.read_array().map(BlockHash::from_internal_bytes))
        .collect::<Result<_, _>>()?;
    let stop = BlockHash::from_internal_bytes(r.read_array()?);
    Ok(GetHeaders {
        version,
        locator,
        stop,
    })
}

fn read_headers(r: &mut Reader<'_>, command: &str) -> Result<Vec<Header>, MessageError> {
    let wrap = |source| MessageError::Decode {
        command: command.into(),
        source,
    };
    let n = r.read_length(MIN_HEADER_LEN).map_err(wrap)?;
    if n > MAX_HEADERS_ACCEPTED {
        return Err(MessageError::TooManyHeaders(n));
    }
    let mut out = Vec::with_capacity(n);
    for index in 0..n {
        out.push(Header::decode(r).map_err(wrap)?);
        let count = r.read_compact_size().map_err(wrap)?;
        if count != 0 {
            return Err(MessageError::HeaderWithTransactions { index, count });
        }
    }
    Ok(out)
}

fn read_inventory(r: &mut Reader<'_>, command: &str) -> Result<Vec<Inventory>, MessageError> {
    let wrap = |source| MessageError::Decode {
        command: command.into(),
        source,
    };
    let n = r.read_length(36).map_err(wrap)?;
    if n > MAX_INV {
        return Err(MessageError::TooManyInventory {
            command: command.into(),
            count: n,
        });
    }
    (0..n)
        .map(|_| {
            Ok(Inventory {
                kind: r.read_u32_le()?,
                hash: BlockHash::from_internal_bytes(r.read_array()?),
            })
        })
        .collect::<Result<_, DecodeError>>()
        .map_err(wrap)
}

/// A block locator for a chain whose tip is at `height` and whose hashes `hash_at` gives: the
/// tip and the 10 blocks below it, then steps doubling back, and always the genesis block, as
/// fluxd's `CChain::GetLocator` (`src/chain.cpp`) builds it.
pub fn locator(height: u32, hash_at: impl Fn(u32) -> BlockHash) -> Vec<BlockHash> {
    let mut out = Vec::new();
    let (mut h, mut step) = (height, 1u32);
    loop {
        out.push(hash_at(h));
        if h == 0 {
            return out;
        }
        h = h.saturating_sub(step);
        if out.len() > 10 {
            step = step.saturating_mul(2);
        }
    }
}

#[cfg(test)]
mod tests;
