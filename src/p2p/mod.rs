//! The Flux P2P protocol, sans I/O: message framing ([`frame`]) and the messages a header-syncing
//! light client exchanges with fluxd ([`message`]): `version`/`verack`, `ping`/`pong`,
//! `getheaders`/`headers`, `inv`, `getdata`, `block`. Bytes in, typed messages or a typed error
//! out; a hostile peer can make neither a panic nor an allocation beyond the message size limit.
//!
//! # Consensus
//! The framing is Bitcoin's as fluxd keeps it (`src/protocol.h`, `src/net.h`); the header-sync
//! rules are fluxd's `src/main.cpp` (`getheaders` server and client side). A client that wants
//! full headers with their Equihash solutions announces protocol 170020 ([`LIGHT_CLIENT_VERSION`]):
//! at 170021 and up, fluxd answers historical `getheaders` with `cmpheaders`, whose PoW entries
//! carry no solution.

pub mod frame;
pub mod message;

pub use frame::{Frame, FrameError, MAX_MESSAGE_LEN, Magic};
pub use message::{GetHeaders, Inventory, Message, MessageError, Version};

/// The protocol version this client announces (full `headers`, never `cmpheaders`; still
/// accepted after Proof of Node, whose epoch minimum it is).
///
/// # Consensus
/// fluxd `src/version.h` (`PROOF_OF_NODE` = 170020) and `src/main.cpp` (the epoch minimum, and
/// `cmpheaders` only for peers at 170021 and up).
pub const LIGHT_CLIENT_VERSION: i32 = 170_020;

/// At most this many headers in one `headers` reply from fluxd (`MAX_HEADERS_RESULTS`); a full
/// reply means "ask again from the last one".
///
/// # Consensus
/// fluxd `src/main.h` (`MAX_HEADERS_RESULTS = 160`).
pub const MAX_HEADERS_RESULTS: usize = 160;

/// The most headers accepted in one `headers` message: releases after fluxd 9.0.6 may send up to
/// 2,000, so that many are accepted; more is a protocol violation.
pub const MAX_HEADERS_ACCEPTED: usize = 2_000;
