//! The only place with sockets: the miner's stratum driver ([`client`]) and its HTTP API
//! ([`api`]), TLS ([`tls`]), the pool server ([`server`]), and the light client's chain sources behind
//! [`source::ChainSource`]: P2P connections to Flux nodes ([`peer`]) and fluxd's JSON-RPC
//! ([`rpc`]), driven by the header and block sync ([`sync`]). The stratum drivers frame lines
//! with a maximum length and feed them to the pure sessions in [`crate::stratum`]; the peer
//! frames P2P messages through [`crate::p2p`]. The miner's solver threads and watchdog
//! restarts live in [`supervise`].

pub mod api;
pub mod client;
pub mod peer;
pub mod rpc;
pub mod server;
pub mod source;
pub mod supervise;
pub mod sync;
pub mod tls;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{Framed, LinesCodec};

use crate::stratum::wire::MAX_LINE_LEN;

/// Seconds since the Unix epoch (0 on a clock before it): the wall time every socket-side
/// module stamps with.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A byte stream (TCP or TLS).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Frames a stream into LF-terminated lines of at most [`MAX_LINE_LEN`] bytes.
pub fn lines<S: Stream>(s: S) -> Framed<S, LinesCodec> {
    Framed::new(s, LinesCodec::new_with_max_length(MAX_LINE_LEN))
}
