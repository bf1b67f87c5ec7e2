//! One connection to a Flux node over P2P: the handshake, then header and block requests, with
//! `ping` answered while waiting. Bytes go through [`crate::p2p`]; everything a peer can do
//! wrong ends the connection with a typed [`PeerError`] the caller can log and ban on.
//!
//! - The handshake announces protocol [`LIGHT_CLIENT_VERSION`] (full headers with solutions,
//!   never `cmpheaders`), services 0 and no relay.
//! - Every wait is bounded: a peer silent for `timeout` is stalled.
//! - Frames are refused from their header alone when oversized or foreign (2 MiB limit, magic).

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::consensus::BlockHash;
use crate::consensus::header::Header;
use crate::p2p::frame::{self, FrameError, Magic};
use crate::p2p::message::{GetHeaders, Inventory, NetAddr, Version};
use crate::p2p::{LIGHT_CLIENT_VERSION, Message, MessageError};

/// Why a peer was dropped.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The TCP connection failed.
    #[error("connect to {addr}: {source}")]
    Connect {
        /// The peer.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Reading or writing failed, or the peer closed the connection.
    #[error("connection to the peer failed: {0}")]
    Io(#[from] std::io::Error),
    /// The peer said nothing for too long.
    #[error("peer stalled: nothing for {0:?} while waiting for {1}")]
    Stalled(Duration, &'static str),
    /// Bytes that are not a message of this network.
    #[error("peer sent a bad frame: {0}")]
    Frame(#[from] FrameError),
    /// A message that does not decode.
    #[error("peer sent a bad message: {0}")]
    Message(#[from] MessageError),
    /// The peer's protocol is too old for full headers after Proof of Node.
    #[error("peer protocol {0} is older than {LIGHT_CLIENT_VERSION}")]
    OldProtocol(i32),
    /// A reply that breaks the protocol (e.g. a block other than the one asked for).
    #[error("peer broke the protocol: {0}")]
    Protocol(String),
}

/// Settings of a peer connection.
#[derive(Debug, Clone, Copy)]
pub struct PeerConfig {
    /// The network's magic.
    pub magic: Magic,
    /// Connect timeout, and the longest silence while waiting for a reply.
    pub timeout: Duration,
    /// Our best height, announced in `version`.
    pub start_height: i32,
}

/// A connected, handshaken peer.
pub struct Peer {
    stream: TcpStream,
    buf: Vec<u8>,
    cfg: PeerConfig,
    /// The peer's `version`.
    pub version: Version,
    /// The peer's address.
    pub addr: SocketAddr,
}

fn our_version(cfg: &PeerConfig, addr: SocketAddr, now_unix: i64, nonce: u64) -> Version {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    };
    Version {
        version: LIGHT_CLIENT_VERSION,
        services: 0,
        timestamp: now_unix,
        addr_recv: NetAddr {
            services: 1,
            ip,
            port: addr.port(),
        },
        addr_from: NetAddr::default(),
        nonce,
        user_agent: format!("/fluxminer:{}/", env!("CARGO_PKG_VERSION")),
        start_height: cfg.start_height,
        relay: Some(false),
    }
}

impl Peer {
    /// Connects to `addr` and completes the `version`/`verack` handshake.
    ///
    /// # Errors
    /// A [`PeerError`] saying what failed.
    pub async fn connect(addr: SocketAddr, cfg: PeerConfig) -> Result<Peer, PeerError> {
        let stream = timeout(cfg.timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| PeerError::Stalled(cfg.timeout, "the connection"))?
            .map_err(|source| PeerError::Connect { addr, source })?;
        let _ = stream.set_nodelay(true);
        let now = super::unix_now() as i64;
        let mut peer = Peer {
            stream,
            buf: Vec::new(),
            cfg,
            version: our_version(&cfg, addr, now, rand_nonce()),
            addr,
        };
        peer.send(&Message::Version(peer.version.clone())).await?;
        let (mut theirs, mut acked) = (None, false);
        while theirs.is_none() || !acked {
            match peer.recv("the handshake").await? {
                Message::Version(v) if v.version < LIGHT_CLIENT_VERSION => {
                    return Err(PeerError::OldProtocol(v.version));
                }
                Message::Version(v) => {
                    theirs = Some(v);
                    peer.send(&Message::Verack).await?;
                }
                Message::Verack => acked = true,
                _ => {}
            }
        }
        peer.version = theirs.expect("set in the loop");
        Ok(peer)
    }

    /// Sends one message.
    ///
    /// # Errors
    /// The write failed.
    pub async fn send(&mut self, m: &Message) -> Result<(), PeerError> {
        self.stream.write_all(&m.to_bytes(self.cfg.magic)).await?;
        Ok(())
    }

    /// The next message, answering `ping`s on the way.
    ///
    /// # Errors
    /// Stalled, closed, or bad bytes.
    pub async fn recv(&mut self, waiting_for: &'static str) -> Result<Message, PeerError> {
        loop {
            if let Some(f) = frame::decode(self.cfg.magic, &mut self.buf)? {
                match Message::decode(&f)? {
                    Message::Ping(n) => self.send(&Message::Pong(n)).await?,
                    m => return Ok(m),
                }
                continue;
            }
            let mut chunk = [0u8; 64 * 1024];
            let n = timeout(self.cfg.timeout, self.stream.read(&mut chunk))
                .await
                .map_err(|_| PeerError::Stalled(self.cfg.timeout, waiting_for))??;
            if n == 0 {
                return Err(PeerError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Asks for the headers after the first `locator` hash the peer knows; returns its
    /// `headers` reply (empty at its tip). Other messages meanwhile are skipped.
    ///
    /// # Errors
    /// A [`PeerError`].
    pub async fn headers(&mut self, locator: Vec<BlockHash>) -> Result<Vec<Header>, PeerError> {
        let ask = Message::GetHeaders(GetHeaders {
            version: LIGHT_CLIENT_VERSION,
            locator,
            stop: BlockHash::ZERO,
        });
        self.send(&ask).await?;
        loop {
            if let Message::Headers(h) = self.recv("headers").await? {
                return Ok(h);
            }
        }
    }

    /// Fetches the serialized block `hash`.
    ///
    /// # Errors
    /// A [`PeerError`]; [`PeerError::Protocol`] when the peer answers `notfound` or another
    /// block.
    pub async fn block(&mut self, hash: BlockHash) -> Result<Vec<u8>, PeerError> {
        self.send(&Message::GetData(vec![Inventory::block(hash)]))
            .await?;
        loop {
            match self.recv("a block").await? {
                Message::Block(b) => {
                    let got = block_hash_of(&b)?;
                    if got != hash {
                        return Err(PeerError::Protocol(format!(
                            "asked for block {hash}, got {got}"
                        )));
                    }
                    return Ok(b);
                }
                Message::Other { command, .. } if command == "notfound" => {
                    return Err(PeerError::Protocol(format!("block {hash} not found")));
                }
                _ => {}
            }
        }
    }
}

/// The hash of a serialized block a peer sent.
fn block_hash_of(b: &[u8]) -> Result<BlockHash, PeerError> {
    crate::consensus::block::Block::from_bytes(b)
        .map(|blk| blk.header.block_hash())
        .map_err(|e| PeerError::Protocol(format!("undecodable block: {e}")))
}

/// A connection nonce (detects connecting to ourselves).
fn rand_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

impl super::source::ChainSource for Peer {
    type Error = PeerError;

    fn name(&self) -> String {
        format!("peer {}", self.addr)
    }

    async fn headers(&mut self, locator: &[BlockHash]) -> Result<Vec<Header>, PeerError> {
        Peer::headers(self, locator.to_vec()).await
    }

    /// One `getdata` for all of them (fluxd answers in order, one round trip for the batch).
    async fn blocks(&mut self, hashes: &[BlockHash]) -> Result<Vec<Vec<u8>>, PeerError> {
        let inv: Vec<Inventory> = hashes.iter().map(|h| Inventory::block(*h)).collect();
        self.send(&Message::GetData(inv)).await?;
        let mut got: std::collections::HashMap<BlockHash, Vec<u8>> =
            std::collections::HashMap::with_capacity(hashes.len());
        while got.len() < hashes.len() {
            match self.recv("blocks").await? {
                Message::Block(b) => {
                    let hash = block_hash_of(&b)?;
                    if !hashes.contains(&hash) {
                        return Err(PeerError::Protocol(format!(
                            "sent block {hash}, which was not asked for"
                        )));
                    }
                    got.insert(hash, b);
                }
                Message::Other { command, .. } if command == "notfound" => {
                    return Err(PeerError::Protocol(format!(
                        "{} of {} blocks not found",
                        hashes.len() - got.len(),
                        hashes.len()
                    )));
                }
                _ => {}
            }
        }
        Ok(hashes
            .iter()
            .map(|h| got.remove(h).expect("every hash received"))
            .collect())
    }
}
