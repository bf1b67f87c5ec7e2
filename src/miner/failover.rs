//! Which pool to connect to next, and when: the failover state machine, sans I/O (time comes in
//! as milliseconds on any monotonic clock the caller chooses).
//!
//! - **Failover**: pools are tried in priority order; a failed or dropped connection moves to the
//!   next one after a backoff that doubles from `backoff_min` up to `backoff_max`, and starts
//!   again from `backoff_min` after a healthy session (one that lasted [`HEALTHY_MS`]).
//! - **Redirect**: `client.reconnect` moves to the host and port the pool names (the same ones
//!   where it names none), after the wait it asks for; a failure there resumes the list.
//! - **Return to the first pool**: while on a backup pool, the session ends after
//!   `return_to_primary` and the first pool is tried again at once (lolMiner and GMiner do the
//!   same with their failover lists).

use thiserror::Error;

use crate::stratum::PoolUrl;

/// A session that lasted this long (from the connect attempt) resets the backoff.
pub const HEALTHY_MS: u64 = 60_000;

/// Timing of the failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailoverConfig {
    /// First backoff after a failure (ms).
    pub backoff_min_ms: u64,
    /// Longest backoff (ms).
    pub backoff_max_ms: u64,
    /// On a backup pool, go back to the first pool after this long connected (ms).
    pub return_to_primary_ms: u64,
}

/// Why a connection ended: what the failover acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The miner is stopping.
    Shutdown,
    /// The connection failed or was dropped (connect error, pool closed it, protocol fault).
    Failed(String),
    /// The pool sent `client.reconnect`.
    Redirect {
        /// Host (`None`: the same).
        host: Option<String>,
        /// Port (`None`: the same).
        port: Option<u16>,
        /// Wait before connecting (ms).
        wait_ms: u64,
    },
    /// Time to leave a backup pool for the first one.
    ReturnToPrimary,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Shutdown => write!(f, "shutting down"),
            End::Failed(reason) => write!(f, "{reason}"),
            End::Redirect {
                host,
                port,
                wait_ms,
            } => write!(
                f,
                "pool asked to reconnect to {}:{} in {} ms",
                host.as_deref().unwrap_or("(same host)"),
                port.map_or_else(|| "(same port)".to_string(), |p| p.to_string()),
                wait_ms
            ),
            End::ReturnToPrimary => write!(f, "returning to the first pool"),
        }
    }
}

/// A failover that cannot run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FailoverError {
    /// No pool to connect to.
    #[error("no pool given")]
    NoPools,
}

/// The next connection to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Where.
    pub url: PoolUrl,
    /// Not before this time (ms).
    pub at_ms: u64,
    /// Whether it is a backup pool (not the first of the list).
    pub backup: bool,
}

/// The state machine. See the module doc.
#[derive(Debug, Clone)]
pub struct Failover {
    cfg: FailoverConfig,
    pools: Vec<PoolUrl>,
    idx: usize,
    backoff_ms: u64,
    redirect: Option<PoolUrl>,
    current: Option<PoolUrl>,
    attempt_ms: u64,
    connected_ms: Option<u64>,
    next_ms: u64,
}

impl Failover {
    /// Starts with the first pool, at once.
    ///
    /// # Errors
    /// [`FailoverError::NoPools`] for an empty list.
    pub fn new(pools: Vec<PoolUrl>, cfg: FailoverConfig) -> Result<Failover, FailoverError> {
        if pools.is_empty() {
            return Err(FailoverError::NoPools);
        }
        Ok(Failover {
            cfg,
            pools,
            idx: 0,
            backoff_ms: cfg.backoff_min_ms,
            redirect: None,
            current: None,
            attempt_ms: 0,
            connected_ms: None,
            next_ms: 0,
        })
    }

    /// The connection to make next; call it once per attempt, then [`Failover::connected`]
    /// if the connection came up, and [`Failover::ended`] in every case.
    pub fn next_attempt(&mut self) -> Attempt {
        let url = self
            .redirect
            .take()
            .unwrap_or_else(|| self.pools[self.idx].clone());
        self.current = Some(url.clone());
        self.attempt_ms = self.next_ms;
        self.connected_ms = None;
        Attempt {
            url,
            at_ms: self.next_ms,
            backup: self.idx != 0,
        }
    }

    /// The attempt's connection is up.
    pub fn connected(&mut self, now_ms: u64) {
        self.connected_ms = Some(now_ms);
    }

    /// Whether the session should end now to go back to the first pool.
    pub fn return_due(&self, now_ms: u64) -> bool {
        self.idx != 0
            && self
                .connected_ms
                .is_some_and(|t| now_ms.saturating_sub(t) >= self.cfg.return_to_primary_ms)
    }

    /// The attempt ended for `end`; schedules the next one.
    pub fn ended(&mut self, end: &End, now_ms: u64) {
        match end {
            End::Shutdown => {}
            End::Failed(_) => {
                if now_ms.saturating_sub(self.attempt_ms) >= HEALTHY_MS {
                    self.backoff_ms = self.cfg.backoff_min_ms;
                }
                self.next_ms = now_ms + self.backoff_ms;
                self.backoff_ms = (self.backoff_ms * 2).min(self.cfg.backoff_max_ms);
                self.idx = (self.idx + 1) % self.pools.len();
            }
            End::Redirect {
                host,
                port,
                wait_ms,
            } => {
                let here = self
                    .current
                    .clone()
                    .unwrap_or_else(|| self.pools[0].clone());
                self.redirect = Some(PoolUrl {
                    host: host.clone().filter(|h| !h.is_empty()).unwrap_or(here.host),
                    port: port.filter(|&p| p != 0).unwrap_or(here.port),
                    tls: here.tls,
                    xnsub: here.xnsub,
                });
                self.next_ms = now_ms + wait_ms;
            }
            End::ReturnToPrimary => {
                self.idx = 0;
                self.backoff_ms = self.cfg.backoff_min_ms;
                self.next_ms = now_ms;
            }
        }
        self.connected_ms = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16) -> PoolUrl {
        PoolUrl {
            host: host.into(),
            port,
            tls: false,
            xnsub: false,
        }
    }

    fn failover(pools: &[(&str, u16)]) -> Failover {
        let cfg = FailoverConfig {
            backoff_min_ms: 1_000,
            backoff_max_ms: 8_000,
            return_to_primary_ms: 600_000,
        };
        Failover::new(pools.iter().map(|&(h, p)| url(h, p)).collect(), cfg).unwrap()
    }

    fn fail(f: &mut Failover, now: u64) -> Attempt {
        f.ended(&End::Failed("refused".into()), now);
        f.next_attempt()
    }

    #[test]
    fn an_empty_list_is_refused() {
        let cfg = FailoverConfig {
            backoff_min_ms: 1,
            backoff_max_ms: 1,
            return_to_primary_ms: 1,
        };
        assert_eq!(
            Failover::new(vec![], cfg).unwrap_err(),
            FailoverError::NoPools
        );
    }

    /// Failures walk the list in order; the backoff doubles to its cap.
    #[test]
    fn failures_walk_the_list_with_a_doubling_backoff() {
        let mut f = failover(&[("a", 1), ("b", 2)]);
        let a = f.next_attempt();
        assert_eq!((a.url.host.as_str(), a.at_ms, a.backup), ("a", 0, false));
        let mut now = 0;
        let mut seen = Vec::new();
        for _ in 0..6 {
            let next = fail(&mut f, now);
            seen.push((next.url.host.clone(), next.at_ms - now, next.backup));
            now = next.at_ms;
        }
        let expect = [
            ("b", 1_000, true),
            ("a", 2_000, false),
            ("b", 4_000, true),
            ("a", 8_000, false),
            ("b", 8_000, true),
            ("a", 8_000, false),
        ];
        let expect: Vec<_> = expect
            .iter()
            .map(|&(h, w, b)| (h.to_string(), w, b))
            .collect();
        assert_eq!(seen, expect);
    }

    /// A session that lasted a minute resets the backoff; a short one does not.
    #[test]
    fn a_healthy_session_resets_the_backoff() {
        let mut f = failover(&[("a", 1)]);
        f.next_attempt();
        let a = fail(&mut f, 0);
        let b = fail(&mut f, a.at_ms);
        assert_eq!(b.at_ms - a.at_ms, 2_000);
        f.connected(b.at_ms + 10);
        let c = fail(&mut f, b.at_ms + HEALTHY_MS - 1);
        assert_eq!(c.at_ms - (b.at_ms + HEALTHY_MS - 1), 4_000, "short session");
        f.connected(c.at_ms);
        let end = c.at_ms + HEALTHY_MS;
        let d = fail(&mut f, end);
        assert_eq!(d.at_ms - end, 1_000, "healthy session resets");
    }

    /// On a backup pool, the session ends after `return_to_primary` and the first pool is tried
    /// at once; on the first pool it never does.
    #[test]
    fn a_backup_pool_returns_to_the_first() {
        let mut f = failover(&[("a", 1), ("b", 2)]);
        f.next_attempt();
        f.connected(0);
        assert!(!f.return_due(10_000_000), "first pool never returns");
        let b = fail(&mut f, 5);
        assert!(b.backup);
        assert!(!f.return_due(b.at_ms + 700_000), "not connected yet");
        f.connected(b.at_ms + 50);
        assert!(!f.return_due(b.at_ms + 50 + 599_999));
        let due = b.at_ms + 50 + 600_000;
        assert!(f.return_due(due));
        f.ended(&End::ReturnToPrimary, due);
        let a = f.next_attempt();
        assert_eq!((a.url, a.at_ms, a.backup), (url("a", 1), due, false));
    }

    /// `client.reconnect` goes where the pool says after its wait, keeping what it does not
    /// name; a failure there resumes the list.
    #[test]
    fn a_redirect_goes_where_the_pool_says() {
        let mut f = failover(&[("a", 1), ("b", 2)]);
        f.next_attempt();
        f.connected(0);
        let to = End::Redirect {
            host: Some("c".into()),
            port: None,
            wait_ms: 3_000,
        };
        f.ended(&to, 100);
        let c = f.next_attempt();
        assert_eq!((c.url, c.at_ms), (url("c", 1), 3_100));
        f.ended(
            &End::Redirect {
                host: Some(String::new()),
                port: Some(9),
                wait_ms: 0,
            },
            4_000,
        );
        assert_eq!(f.next_attempt().url, url("c", 9));
        let next = fail(&mut f, 5_000);
        assert_eq!((next.url, next.at_ms), (url("b", 2), 6_000));
    }

    #[test]
    fn a_redirect_keeps_tls_and_xnsub() {
        let mut tls = url("a", 1);
        tls.tls = true;
        tls.xnsub = true;
        let cfg = FailoverConfig {
            backoff_min_ms: 1,
            backoff_max_ms: 1,
            return_to_primary_ms: 1,
        };
        let mut f = Failover::new(vec![tls], cfg).unwrap();
        f.next_attempt();
        f.ended(
            &End::Redirect {
                host: Some("b".into()),
                port: Some(3),
                wait_ms: 0,
            },
            0,
        );
        let b = f.next_attempt().url;
        assert!(b.tls && b.xnsub, "{b:?}");
    }
}
