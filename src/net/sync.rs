//! Header and block sync: asks [`ChainSource`]s for what follows our best chain, feeds every
//! answer to the [`ChainState`], and commits in batches. A source that fails, stalls, sends
//! something invalid or is on another chain is dropped for the rest of the run, with its
//! reason in the report; sync goes on with the others. Nothing a source sends is stored
//! unless it validated, and what was committed stays committed.

use thiserror::Error;
use tokio::sync::watch;

use super::source::ChainSource;
use crate::chainstate::{ChainState, ChainStateError};
use crate::consensus::BlockHash;
use crate::consensus::chain::ChainEntry;
use crate::consensus::tree::Change;
use crate::consensus::units::Height;
use crate::store::StoreError;

/// Settings of a sync.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Commit after this many headers or blocks (a crash loses at most this many).
    pub commit_every: usize,
    /// Fetch blocks for the ledger from this height on (`None`: headers only).
    pub ledger_from: Option<u32>,
    /// Blocks asked for at once.
    pub block_batch: usize,
}

impl Default for SyncConfig {
    fn default() -> SyncConfig {
        SyncConfig {
            commit_every: 2_000,
            ledger_from: None,
            block_batch: 100,
        }
    }
}

/// Counters so far (for a progress display).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// New headers accepted.
    pub headers: u64,
    /// Blocks added to the ledger.
    pub blocks: u64,
    /// Best-chain switches.
    pub reorgs: u64,
    /// The best height.
    pub tip_height: u32,
    /// The ledger's height goal (the best height when the block phase started), if any.
    pub blocks_goal: Option<u32>,
}

/// A source dropped for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Its name.
    pub source: String,
    /// Why.
    pub reason: String,
}

/// How a sync ended.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The counters.
    pub progress: Progress,
    /// Sources dropped, in order.
    pub dropped: Vec<Dropped>,
    /// The best tip after the last commit.
    pub tip: ChainEntry,
    /// Whether every remaining source had nothing more (false: stopped or no source left).
    pub complete: bool,
}

/// What ends a sync with an error (a source's fault only drops that source).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn now_unix() -> i64 {
    super::unix_now() as i64
}

struct Run<'a, S> {
    state: &'a mut ChainState,
    cfg: &'a SyncConfig,
    live: Vec<S>,
    dropped: Vec<Dropped>,
    progress: Progress,
}

impl<S: ChainSource> Run<'_, S> {
    fn drop_source(&mut self, i: usize, reason: String) {
        let s = self.live.remove(i);
        tracing::warn!("dropping {}: {reason}", s.name());
        self.dropped.push(Dropped {
            source: s.name(),
            reason,
        });
    }

    fn commit_if_due(&mut self, force: bool) -> Result<(), StoreError> {
        let n = self.state.uncommitted();
        if n > 0 && (force || n >= self.cfg.commit_every) {
            self.state.commit()?;
        }
        Ok(())
    }

    /// Feeds one answer; `Ok(None)` when it held nothing new, `Err` reason to drop the source.
    fn take_headers(
        &mut self,
        headers: &[crate::consensus::Header],
    ) -> Result<Result<usize, String>, StoreError> {
        let mut new = 0;
        for h in headers {
            match self.state.accept_header(h, now_unix()) {
                Ok(Change::Known) => {}
                Ok(change) => {
                    new += 1;
                    self.progress.headers += 1;
                    if matches!(change, Change::Reorg { .. }) {
                        self.progress.reorgs += 1;
                    }
                }
                Err(ChainStateError::Store(e)) => return Err(e),
                Err(e) => return Ok(Err(e.to_string())),
            }
        }
        self.progress.tip_height = self.state.tip().height.get();
        Ok(Ok(new))
    }

    /// Asks the sources in turn until every remaining one has nothing after our tip.
    async fn headers(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
        on_progress: &mut impl FnMut(&Progress),
    ) -> Result<bool, SyncError> {
        let mut at_tip = vec![false; self.live.len()];
        let mut i = 0;
        while !self.live.is_empty() {
            if at_tip.iter().all(|&t| t) {
                return Ok(true);
            }
            if *shutdown.borrow() {
                return Ok(false);
            }
            i %= self.live.len();
            let locator = self.state.locator();
            let answer = tokio::select! {
                a = self.live[i].headers(&locator) => a,
                _ = shutdown.changed() => return Ok(false),
            };
            let headers = match answer {
                Ok(h) => h,
                Err(e) => {
                    self.drop_source(i, e.to_string());
                    at_tip.remove(i);
                    continue;
                }
            };
            match self.take_headers(&headers)? {
                Err(reason) => {
                    self.commit_if_due(true)?;
                    self.drop_source(i, reason);
                    at_tip.remove(i);
                    continue;
                }
                Ok(0) => {
                    at_tip[i] = true;
                    i += 1;
                }
                Ok(_) => {
                    // New headers: every other source must be asked again.
                    at_tip.iter_mut().for_each(|t| *t = false);
                }
            }
            self.commit_if_due(false)?;
            on_progress(&self.progress);
        }
        Ok(false)
    }
}

impl<S: ChainSource> Run<'_, S> {
    /// The next best-chain blocks from `cursor` on that the ledger lacks (at most `n`).
    fn wanted(
        &self,
        cursor: &mut u32,
        goal: u32,
        n: usize,
    ) -> Result<Vec<(Height, BlockHash)>, StoreError> {
        let mut want = Vec::new();
        while *cursor <= goal && want.len() < n {
            let h = Height(*cursor);
            let hash = self.state.tree().best_at(h).expect("below the tip");
            if !self.state.has_record(&hash)? {
                want.push((h, hash));
            }
            *cursor += 1;
        }
        Ok(want)
    }

    /// Fetches the blocks the ledger lacks from `from` to the tip; `false` when stopped or no
    /// source is left.
    async fn blocks(
        &mut self,
        from: u32,
        shutdown: &mut watch::Receiver<bool>,
        on_progress: &mut impl FnMut(&Progress),
    ) -> Result<bool, SyncError> {
        let goal = self.state.tip().height.get();
        self.progress.blocks_goal = Some(goal);
        let mut cursor = from;
        let mut i = 0;
        loop {
            let want = self.wanted(&mut cursor, goal, self.cfg.block_batch.max(1))?;
            if want.is_empty() {
                return Ok(true);
            }
            // The same blocks go to the next source when one fails.
            loop {
                if self.live.is_empty() || *shutdown.borrow() {
                    return Ok(false);
                }
                i %= self.live.len();
                let hashes: Vec<BlockHash> = want.iter().map(|w| w.1).collect();
                let answer = tokio::select! {
                    a = self.live[i].blocks(&hashes) => a,
                    _ = shutdown.changed() => return Ok(false),
                };
                match answer
                    .map_err(|e| e.to_string())
                    .and_then(|b| self.take_blocks(&want, &b))
                {
                    Ok(()) => break,
                    Err(reason) => self.drop_source(i, reason),
                }
            }
            self.commit_if_due(false)?;
            on_progress(&self.progress);
        }
    }

    fn take_blocks(
        &mut self,
        want: &[(Height, BlockHash)],
        blocks: &[Vec<u8>],
    ) -> Result<(), String> {
        if blocks.len() != want.len() {
            return Err(format!(
                "asked for {} blocks, got {}",
                want.len(),
                blocks.len()
            ));
        }
        for ((height, _), bytes) in want.iter().zip(blocks) {
            self.state
                .accept_block(*height, bytes)
                .map_err(|e| e.to_string())?;
            self.progress.blocks += 1;
        }
        Ok(())
    }
}

/// Syncs headers from `sources` (then, with [`SyncConfig::ledger_from`], blocks) until every
/// remaining source has nothing more, `shutdown` turns true, or no source is left; commits
/// what was validated before returning.
///
/// # Errors
/// Only the store's: a source's fault drops the source.
pub async fn sync<S: ChainSource>(
    state: &mut ChainState,
    sources: Vec<S>,
    cfg: &SyncConfig,
    mut shutdown: watch::Receiver<bool>,
    mut on_progress: impl FnMut(&Progress),
) -> Result<SyncReport, SyncError> {
    let mut run = Run {
        progress: Progress {
            tip_height: state.tip().height.get(),
            ..Progress::default()
        },
        state,
        cfg,
        live: sources,
        dropped: Vec::new(),
    };
    let mut complete = run.headers(&mut shutdown, &mut on_progress).await?;
    run.commit_if_due(true)?;
    if complete && let Some(from) = cfg.ledger_from {
        complete = run.blocks(from, &mut shutdown, &mut on_progress).await?;
        run.commit_if_due(true)?;
    }
    on_progress(&run.progress);
    Ok(SyncReport {
        progress: run.progress,
        dropped: run.dropped,
        tip: *run.state.tip(),
        complete,
    })
}
