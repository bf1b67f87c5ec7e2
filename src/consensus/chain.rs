//! How contextual checks see previous headers and the node's time, without owning storage:
//! [`ChainView`] answers "the header at height h" (a slice, a window, a database adapter or a
//! closure), [`Clock`] carries the node's adjusted time and tip height, and [`ChainWindow`] is a
//! small in-memory window that validates headers in sequence.

use std::collections::VecDeque;

use super::error::HeaderError;
use super::hash::BlockHash;
use super::header::Header;
use super::params::NetworkParams;
use super::target::{CompactTarget, Work};
use super::units::Height;
use super::validate;

/// What the rules need to know about an accepted header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainEntry {
    /// Its height.
    pub height: Height,
    /// Its block hash.
    pub hash: BlockHash,
    /// `nTime`.
    pub time: u32,
    /// `nBits`.
    pub bits: CompactTarget,
    /// Whether it is a PoN header.
    pub is_pon: bool,
    /// Cumulative chain work up to and including it.
    pub chain_work: Work,
}

/// Read access to previous headers by height (on the chain being extended).
pub trait ChainView {
    /// The entry at `height`, if the view holds it.
    fn entry(&self, height: Height) -> Option<ChainEntry>;

    /// The entry at `height`, or [`HeaderError::MissingAncestor`].
    fn require(&self, height: Height) -> Result<ChainEntry, HeaderError> {
        self.entry(height)
            .ok_or(HeaderError::MissingAncestor { height })
    }
}

/// A contiguous run of entries, ascending by height.
impl ChainView for [ChainEntry] {
    fn entry(&self, height: Height) -> Option<ChainEntry> {
        let first = self.first()?.height.0;
        let i = height.0.checked_sub(first)? as usize;
        self.get(i).copied()
    }
}

impl ChainView for Vec<ChainEntry> {
    fn entry(&self, height: Height) -> Option<ChainEntry> {
        self.as_slice().entry(height)
    }
}

/// Any closure from height to entry.
impl<F: Fn(Height) -> Option<ChainEntry>> ChainView for F {
    fn entry(&self, height: Height) -> Option<ChainEntry> {
        self(height)
    }
}

/// The node's notion of now, from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Network-adjusted Unix time, seconds.
    pub adjusted_time: i64,
    /// The validating node's own tip height (selects the +2 h early future limit).
    pub tip_height: Height,
}

/// Median time past of the block at `height`: the median `nTime` of it and up to 10 ancestors.
///
/// # Consensus
/// fluxd `src/chain.h:346` (`GetMedianTimePast`, `nMedianTimeSpan = 11`); spec §6.2, §7.
pub fn median_time_past(
    chain: &(impl ChainView + ?Sized),
    height: Height,
) -> Result<i64, HeaderError> {
    let mut times = [0i64; 11];
    let mut n = 0;
    let lowest = height.0.saturating_sub(10);
    for h in (lowest..=height.0).rev() {
        times[n] = i64::from(chain.require(Height(h))?.time);
        n += 1;
    }
    let times = &mut times[..n];
    times.sort_unstable();
    Ok(times[n / 2])
}

/// The number of previous headers the rules look at, for `params`.
pub fn context_window(params: &NetworkParams) -> usize {
    let lwma = params.lwma_window + 1;
    let digishield = params.digishield_window + 11;
    lwma.max(digishield).max(params.pon_window) as usize
}

/// An in-memory window of the latest accepted headers, enough to validate the next one.
#[derive(Debug, Clone)]
pub struct ChainWindow {
    entries: VecDeque<ChainEntry>,
    capacity: usize,
}

impl ChainWindow {
    /// An empty window sized for `params`; the first accepted header must be genesis.
    pub fn new(params: &NetworkParams) -> Self {
        ChainWindow {
            entries: VecDeque::new(),
            capacity: context_window(params),
        }
    }

    /// A window resumed from stored entries (ascending, contiguous), e.g. after a restart.
    pub fn from_entries(
        params: &NetworkParams,
        entries: impl IntoIterator<Item = ChainEntry>,
    ) -> Self {
        let mut w = ChainWindow::new(params);
        for e in entries {
            w.push(e);
        }
        w
    }

    /// The latest entry.
    pub fn tip(&self) -> Option<ChainEntry> {
        self.entries.back().copied()
    }

    /// Appends an entry already validated elsewhere.
    ///
    /// Panics if it does not directly follow the tip.
    pub fn push(&mut self, entry: ChainEntry) {
        if let Some(tip) = self.tip() {
            assert_eq!(
                entry.height,
                tip.height.next(),
                "entries must be contiguous"
            );
        }
        self.entries.push_back(entry);
        while self.entries.len() > self.capacity {
            self.entries.pop_front();
        }
    }

    /// Validates `header` as the next block on this window and, if valid, appends it.
    pub fn accept(
        &mut self,
        params: &NetworkParams,
        header: &Header,
        clock: &Clock,
    ) -> Result<ChainEntry, HeaderError> {
        let height = self.tip().map_or(Height::GENESIS, |t| t.height.next());
        let entry = validate::validate_header(params, header, height, &*self, clock)?;
        self.push(entry);
        Ok(entry)
    }
}

impl ChainView for ChainWindow {
    fn entry(&self, height: Height) -> Option<ChainEntry> {
        let first = self.entries.front()?.height.0;
        let i = height.0.checked_sub(first)? as usize;
        self.entries.get(i).copied()
    }
}
