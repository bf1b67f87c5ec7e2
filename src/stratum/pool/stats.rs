//! Per-worker statistics of the test pool, sans I/O: shares accepted and rejected by code, block
//! candidates, and Sol/s over a sliding window (10 minutes by default) that ends when the worker
//! leaves, so a worker's rate neither stays diluted by its first hours nor keeps falling after
//! its miner disconnects. Rows are bounded: any submit name is credited, so at most
//! [`MAX_WORKER_ROWS`] names get a row of their own and the rest share [`OTHER_WORKERS`].

use std::collections::{HashMap, HashSet, VecDeque};

use super::session::ServerEvent;
use crate::stratum::hashrate::SolRate;
use crate::stratum::wire::ErrorCode;

/// Worker names that get a row of their own.
pub const MAX_WORKER_ROWS: usize = 4096;
/// The row every further name is counted in.
pub const OTHER_WORKERS: &str = "(other workers)";
/// The default rate window, 10 minutes (pools make theirs configurable: example configs of
/// pool software carry `hashrateWindow` values of 300 s, 600 s and 30 minutes).
pub const DEFAULT_RATE_WINDOW_MS: u64 = 600_000;
/// Buckets per window: shares are summed per 1/60 of the window, so the window's start moves in
/// those steps and its length is between 59/60 and the whole window.
const BUCKETS: u64 = 60;

/// Accepted shares of one time bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    index: u64,
    shares: u64,
    sum: f64,
    sum_sq: f64,
}

/// One worker's statistics.
#[derive(Debug, Clone, Default)]
pub struct WorkerStats {
    /// Accepted shares.
    pub accepted: u64,
    /// Rejected shares by code (20..=25; other codes in slot 20).
    pub rejected: [u64; 6],
    /// Sum of accepted shares' difficulty, since the worker appeared.
    pub sum_difficulty: f64,
    /// Sum of the squares of those difficulties.
    pub sum_sq_difficulty: f64,
    /// Block candidates found.
    pub blocks: u64,
    /// When the worker was first credited (ms on the pool's clock).
    pub since_ms: u64,
    /// Open connections mining as this worker.
    pub connections: u32,
    /// When the last of them closed, while none is open.
    pub left_ms: Option<u64>,
    /// The window's accepted shares, oldest bucket first.
    window: VecDeque<Bucket>,
}

impl WorkerStats {
    /// The slot of `rejected` that counts `code` (20..=25; any other code in slot 20).
    fn slot(code: ErrorCode) -> usize {
        (code.to_i64() - 20).clamp(0, 5) as usize
    }

    /// Shares rejected with `code`.
    pub fn rejected_with(&self, code: ErrorCode) -> u64 {
        self.rejected[Self::slot(code)]
    }

    fn add_share(&mut self, difficulty: f64, now_ms: u64, width_ms: u64) {
        self.accepted += 1;
        self.sum_difficulty += difficulty;
        self.sum_sq_difficulty += difficulty * difficulty;
        let index = now_ms / width_ms;
        match self.window.back_mut() {
            Some(b) if b.index == index => {
                b.shares += 1;
                b.sum += difficulty;
                b.sum_sq += difficulty * difficulty;
            }
            _ => self.window.push_back(Bucket {
                index,
                shares: 1,
                sum: difficulty,
                sum_sq: difficulty * difficulty,
            }),
        }
        while self
            .window
            .front()
            .is_some_and(|b| b.index + BUCKETS <= index)
        {
            self.window.pop_front();
        }
    }

    /// Sol/s ± 1σ over the window of `window_ms` that ends now, or when the worker left.
    pub fn rate(&self, now_ms: u64, window_ms: u64) -> Option<SolRate> {
        let width = (window_ms / BUCKETS).max(1);
        let end = match (self.connections, self.left_ms) {
            (0, Some(left)) => left.min(now_ms),
            _ => now_ms,
        };
        let first = (end / width + 1).saturating_sub(BUCKETS);
        let start = self.since_ms.max(first * width);
        let in_window = self
            .window
            .iter()
            .filter(|b| b.index >= first && b.index <= end / width);
        let (n, sum, sum_sq) = in_window.fold((0, 0.0, 0.0), |(n, s, q), b| {
            (n + b.shares, s + b.sum, q + b.sum_sq)
        });
        SolRate::from_shares(n, sum, sum_sq, end.saturating_sub(start) as f64 / 1000.0)
    }
}

/// The rows one connection mines as (so that they can be left when it closes).
#[derive(Debug, Default)]
pub struct Joined(HashSet<String>);

/// Every worker's statistics.
#[derive(Debug)]
pub struct WorkerTable {
    rows: HashMap<String, WorkerStats>,
    window_ms: u64,
}

impl WorkerTable {
    /// An empty table whose rates cover the last `window_ms`.
    pub fn new(window_ms: u64) -> WorkerTable {
        WorkerTable {
            rows: HashMap::new(),
            window_ms: window_ms.max(1),
        }
    }

    /// The rates' window.
    pub fn window_ms(&self) -> u64 {
        self.window_ms
    }

    /// Every row.
    pub fn rows(&self) -> &HashMap<String, WorkerStats> {
        &self.rows
    }

    /// The row `name` is counted in: its own while there is room, else [`OTHER_WORKERS`].
    fn key<'a>(&self, name: &'a str) -> &'a str {
        if self.rows.len() < MAX_WORKER_ROWS || self.rows.contains_key(name) {
            name
        } else {
            OTHER_WORKERS
        }
    }

    /// The row `name` is counted in, created if missing (no allocation when it exists).
    fn row(&mut self, name: &str, now_ms: u64) -> &mut WorkerStats {
        let key = self.key(name);
        if !self.rows.contains_key(key) {
            let fresh = WorkerStats {
                since_ms: now_ms,
                ..WorkerStats::default()
            };
            self.rows.insert(key.to_string(), fresh);
        }
        self.rows.get_mut(key).expect("row inserted above")
    }

    /// `conn` mines as `name` from `now_ms` (once per connection and row).
    fn join(&mut self, conn: &mut Joined, name: &str, now_ms: u64) {
        let key = self.key(name);
        if conn.0.contains(key) {
            return;
        }
        conn.0.insert(key.to_string());
        let stats = self.row(key, now_ms);
        stats.connections += 1;
        stats.left_ms = None;
    }

    /// Counts what `ev` says happened on `conn` at `now_ms`: an authorize or an accepted share
    /// joins the connection to the worker's row.
    pub fn on_event(&mut self, conn: &mut Joined, ev: &ServerEvent, now_ms: u64) {
        let width = (self.window_ms / BUCKETS).max(1);
        match ev {
            ServerEvent::Authorized { worker } => self.join(conn, worker, now_ms),
            ServerEvent::Accepted { worker, share } => {
                self.join(conn, worker, now_ms);
                let s = self.row(worker, now_ms);
                s.add_share(share.difficulty, now_ms, width);
                s.blocks += u64::from(share.block_candidate);
            }
            ServerEvent::Rejected { worker, reject } => {
                let s = self.row(worker, now_ms);
                s.rejected[WorkerStats::slot(reject.code())] += 1;
            }
            ServerEvent::Retarget { .. } | ServerEvent::Violation(_) => {}
        }
    }

    /// `conn` closed at `now_ms`: a worker with no other open connection has left.
    pub fn on_closed(&mut self, conn: Joined, now_ms: u64) {
        for row in conn.0 {
            if let Some(s) = self.rows.get_mut(&row) {
                s.connections = s.connections.saturating_sub(1);
                if s.connections == 0 {
                    s.left_ms = Some(now_ms);
                }
            }
        }
    }

    /// The rate of `name` over the window, as of `now_ms`.
    pub fn rate(&self, name: &str, now_ms: u64) -> Option<SolRate> {
        self.rows.get(name)?.rate(now_ms, self.window_ms)
    }

    /// One line per worker, by name: accepted, rejected by kind, blocks, Sol/s ± 1σ over the
    /// window, and how long ago a worker that left did.
    pub fn report(&self, now_ms: u64) -> Vec<String> {
        let mut names: Vec<_> = self.rows.keys().collect();
        names.sort();
        names
            .into_iter()
            .map(|name| self.report_line(name, &self.rows[name], now_ms))
            .collect()
    }

    fn report_line(&self, name: &str, s: &WorkerStats, now_ms: u64) -> String {
        let rate = match s.rate(now_ms, self.window_ms) {
            Some(r) => format!("{r} over the last {}", minutes(self.window_ms)),
            None => "no shares yet".into(),
        };
        let left = match (s.connections, s.left_ms) {
            (0, Some(t)) => format!(", left {} ago", minutes(now_ms.saturating_sub(t))),
            _ => String::new(),
        };
        format!(
            "{name}: {} accepted, rejected {} stale / {} duplicate / {} low-diff / {} other; {} blocks; {rate}{left}",
            s.accepted,
            s.rejected_with(ErrorCode::JobNotFound),
            s.rejected_with(ErrorCode::Duplicate),
            s.rejected_with(ErrorCode::LowDifficulty),
            s.rejected[0] + s.rejected[4] + s.rejected[5],
            s.blocks,
        )
    }
}

/// A duration as "10 min", "90 s" (whole seconds under two minutes).
fn minutes(ms: u64) -> String {
    let s = ms / 1000;
    if s < 120 {
        format!("{s} s")
    } else {
        format!("{} min", s / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stratum::pool::{Accepted, Reject};

    const TEN_MIN: u64 = 600_000;

    fn share(worker: &str, difficulty: f64) -> ServerEvent {
        ServerEvent::Accepted {
            worker: worker.into(),
            share: Accepted {
                difficulty,
                share_difficulty: difficulty,
                block_candidate: false,
                hash: [0; 32],
            },
        }
    }

    fn authorize(worker: &str) -> ServerEvent {
        ServerEvent::Authorized {
            worker: worker.into(),
        }
    }

    /// A worker authorizes at 0, sends a share a second at D = 4 for 10 minutes, then at D = 1
    /// for 10 more, and leaves. The rate covers the last 10 minutes (buckets of 10 s: from 610 s,
    /// 591 shares at D = 1), not the average since authorize, and it stops when the worker
    /// leaves: half an hour later it is the same, where the average since authorize would have
    /// fallen from 8192·(4·600 + 600)/1200 to 8192·3000/3000.
    #[test]
    fn rate_covers_the_window_and_stops_when_the_worker_leaves() {
        let mut t = WorkerTable::new(TEN_MIN);
        let mut conn = Joined::default();
        t.on_event(&mut conn, &authorize("w"), 0);
        for s in 1..=1200u64 {
            let d = if s <= 600 { 4.0 } else { 1.0 };
            t.on_event(&mut conn, &share("w", d), s * 1000);
        }
        let at_end = t.rate("w", 1_200_000).unwrap();
        assert_eq!(at_end.shares, 591);
        assert_eq!(at_end.sol_per_s, 8192.0 * 591.0 / 590.0);
        assert_eq!(at_end.sigma, 8192.0 * 591f64.sqrt() / 590.0);
        t.on_closed(conn, 1_200_500);
        let left = t.rate("w", 1_200_500).unwrap();
        assert_eq!(left.sol_per_s, 8192.0 * 591.0 / 590.5);
        assert_eq!(t.rate("w", 3_000_000), Some(left));
        assert_eq!(t.rows()["w"].left_ms, Some(1_200_500));
        assert_eq!(t.rows()["w"].accepted, 1200);
        assert_eq!(
            t.report(3_000_000),
            vec![
                "w: 1200 accepted, rejected 0 stale / 0 duplicate / 0 low-diff / 0 other; 0 blocks; \
                 8198.94 ± 337.26 Sol/s (1σ, 591 shares) over the last 10 min, left 29 min ago"
            ]
        );
    }

    /// Before the window fills, the rate is over the time since the worker appeared; a worker
    /// on two connections leaves when the last one closes, and comes back on a new one.
    #[test]
    fn a_worker_leaves_with_its_last_connection() {
        let mut t = WorkerTable::new(TEN_MIN);
        let (mut a, mut b) = (Joined::default(), Joined::default());
        t.on_event(&mut a, &authorize("w"), 10_000);
        t.on_event(&mut b, &authorize("w"), 20_000);
        t.on_event(&mut b, &share("w", 0.5), 30_000);
        t.on_event(&mut b, &share("w", 0.5), 50_000);
        let r = t.rate("w", 60_000).unwrap();
        assert_eq!((r.shares, r.sol_per_s), (2, 8192.0 / 50.0));
        t.on_closed(a, 70_000);
        assert_eq!(
            (t.rows()["w"].connections, t.rows()["w"].left_ms),
            (1, None)
        );
        assert_eq!(t.rate("w", 110_000).unwrap().sol_per_s, 8192.0 / 100.0);
        t.on_closed(b, 110_000);
        assert_eq!(t.rate("w", 500_000).unwrap().sol_per_s, 8192.0 / 100.0);
        let mut c = Joined::default();
        t.on_event(&mut c, &authorize("w"), 510_000);
        assert_eq!(
            (t.rows()["w"].connections, t.rows()["w"].left_ms),
            (1, None)
        );
        assert_eq!(t.rate("w", 600_000).unwrap().sol_per_s, 8192.0 / 590.0);
    }

    /// Rejects are counted by code, with no rate; names beyond the row limit share one row.
    #[test]
    fn rejects_by_code_and_bounded_rows() {
        let mut t = WorkerTable::new(TEN_MIN);
        let mut conn = Joined::default();
        let reject = |worker: &str, reject| ServerEvent::Rejected {
            worker: worker.into(),
            reject,
        };
        t.on_event(&mut conn, &reject("w", Reject::Duplicate), 0);
        t.on_event(&mut conn, &reject("w", Reject::JobNotFound), 0);
        t.on_event(&mut conn, &reject("w", Reject::TimeSize), 0);
        assert_eq!(t.rows()["w"].rejected, [1, 1, 1, 0, 0, 0]);
        assert_eq!(t.rate("w", 1000), None);
        for i in 0..MAX_WORKER_ROWS + 10 {
            t.on_event(&mut conn, &authorize(&format!("w{i}")), 0);
        }
        assert_eq!(t.rows().len(), MAX_WORKER_ROWS + 1);
        assert_eq!(t.rows()[OTHER_WORKERS].connections, 1);
    }
}
