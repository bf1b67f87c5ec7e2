//! Where the light client gets the chain from: one trait, [`ChainSource`], with a P2P peer
//! ([`super::peer::Peer`]) and a fluxd JSON-RPC endpoint behind it. The sync
//! only asks for headers after a locator and for raw blocks by hash; every
//! answer is validated by the caller before anything is stored.

use std::future::Future;

use crate::consensus::BlockHash;
use crate::consensus::header::Header;

/// A source of headers and blocks.
pub trait ChainSource: Send {
    /// What can go wrong (a reason to drop the source).
    type Error: std::error::Error + Send + Sync + 'static;

    /// A name for logs and ban messages (`peer 1.2.3.4:16125`, `rpc http://…`).
    fn name(&self) -> String;

    /// The headers that follow the first `locator` hash the source knows (newest first in
    /// `locator`, genesis last), oldest first, as many as the source gives at once; empty
    /// when the source has nothing after our tip.
    fn headers(
        &mut self,
        locator: &[BlockHash],
    ) -> impl Future<Output = Result<Vec<Header>, Self::Error>> + Send;

    /// The serialized blocks `hashes`, in that order.
    fn blocks(
        &mut self,
        hashes: &[BlockHash],
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, Self::Error>> + Send;
}
