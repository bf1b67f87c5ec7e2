//! The pool's side of a stratum session, sans I/O, and the byte-exact share check of
//! `spec/stratum.md` §6 (s-nomp `processShare`, miningcore `ProcessShare`, magicpool
//! `SubmitWork`), in their order: job known → `TIME` size and window → nonce size → solution
//! size → hex → duplicate → Equihash (twist-aware) → hash ≤ share target → block candidate.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use thiserror::Error;

use super::difficulty::{
    DifficultyScale, difficulty_of_hash_internal, target_from_difficulty, target_to_be_hex,
};
use super::job::{HEADER_PREFIX_LEN, NONCE_LEN, Notify, equihash_input, share_hash};
use super::vardiff::{Vardiff, VardiffConfig};
use super::wire::{ErrorCode, Message, Request, RpcError};
use crate::consensus::{CompactTarget, Target};
use crate::equihash::{self, Params};

/// s-nomp's allowance for a share's `TIME` ahead of the pool's clock (seconds).
pub const NTIME_AHEAD_S: u64 = 7200;
/// Jobs a connection remembers (older ones are stale).
const JOBS_KEPT: usize = 16;

/// A job the pool serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolJob {
    /// The notify (with the `"n_k"` and personalization hints).
    pub notify: Notify,
    /// The parameters shares must solve.
    pub params: Params,
    /// The network target from `nBits` (for block candidates).
    pub network_target: Target,
}

impl PoolJob {
    /// A job from 108 header bytes (version ‖ prev ‖ merkle ‖ reserved ‖ time ‖ bits).
    pub fn from_header_prefix(
        job_id: String,
        prefix: &[u8; HEADER_PREFIX_LEN],
        params: Params,
        clean: bool,
    ) -> PoolJob {
        let f = |r: std::ops::Range<usize>| prefix[r].to_vec();
        let notify = Notify {
            job_id,
            version: f(0..4).try_into().expect("4 bytes"),
            prev_hash: f(4..36).try_into().expect("32 bytes"),
            merkle_root: f(36..68).try_into().expect("32 bytes"),
            reserved: f(68..100).try_into().expect("32 bytes"),
            time: f(100..104).try_into().expect("4 bytes"),
            bits: f(104..108).try_into().expect("4 bytes"),
            clean,
            algo: Some(format!("{}_{}", params.n(), params.k())),
            personalization: Some(String::from_utf8_lossy(&params.personalization()).into_owned()),
        };
        let network_target = CompactTarget::from_consensus(notify.bits_u32()).decode_lossy_target();
        PoolJob {
            notify,
            params,
            network_target,
        }
    }
}

/// Why a share is rejected: one variant per rule, in check order.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Reject {
    /// Submit before `mining.subscribe` (25).
    #[error("not subscribed")]
    NotSubscribed,
    /// The worker is not authorized on this connection (24).
    #[error("unauthorized worker")]
    Unauthorized,
    /// The params are not five strings (20).
    #[error("malformed submit params")]
    BadParams,
    /// Unknown or expired `JOB_ID` (21).
    #[error("job not found")]
    JobNotFound,
    /// `TIME` is not 8 hex chars (20).
    #[error("incorrect size of ntime")]
    TimeSize,
    /// `TIME` is outside `curtime ..= now + 7200` (20).
    #[error("ntime out of range")]
    TimeOutOfRange,
    /// `NONCE_1 ‖ NONCE_2` is not 64 hex chars (20).
    #[error("incorrect size of nonce")]
    NonceSize,
    /// The solution hex is not `2·(CompactSize + solution)` chars (20).
    #[error("incorrect size of solution")]
    SolutionSize,
    /// A field is not hex, or the CompactSize prefix is wrong (20).
    #[error("malformed hex in {0}")]
    BadHex(&'static str),
    /// The same nonce and solution were already submitted for this job (22).
    #[error("duplicate share")]
    Duplicate,
    /// The Equihash solution is invalid (20).
    #[error("invalid solution: {0}")]
    InvalidSolution(equihash::Kind),
    /// The hash is above the share target (23).
    #[error("low difficulty share of {share_difficulty}")]
    LowDifficulty {
        /// What the share achieved (pool scale).
        share_difficulty: f64,
    },
}

impl Reject {
    /// The stratum error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Reject::NotSubscribed => ErrorCode::NotSubscribed,
            Reject::Unauthorized => ErrorCode::Unauthorized,
            Reject::JobNotFound => ErrorCode::JobNotFound,
            Reject::Duplicate => ErrorCode::Duplicate,
            Reject::LowDifficulty { .. } => ErrorCode::LowDifficulty,
            _ => ErrorCode::Other,
        }
    }
}

/// An accepted share.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The share target's pool-scale difficulty (what the share is credited with).
    pub difficulty: f64,
    /// The difficulty the hash achieved.
    pub share_difficulty: f64,
    /// Whether the hash also meets the network target.
    pub block_candidate: bool,
    /// The share hash in internal order.
    pub hash: [u8; 32],
}

/// The `mining.submit` params, as strings (checks are on their hex lengths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    /// `WORKER_NAME`.
    pub worker: String,
    /// `JOB_ID`.
    pub job_id: String,
    /// `TIME`.
    pub time: String,
    /// `NONCE_2`.
    pub nonce2: String,
    /// `EQUIHASH_SOLUTION` with its CompactSize prefix.
    pub solution: String,
}

impl Submit {
    /// From the params array.
    ///
    /// # Errors
    /// [`Reject::BadParams`] unless there are at least five strings.
    pub fn from_params(p: &[Value]) -> Result<Submit, Reject> {
        let s = |i: usize| {
            p.get(i)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(Reject::BadParams)
        };
        Ok(Submit {
            worker: s(0)?,
            job_id: s(1)?,
            time: s(2)?,
            nonce2: s(3)?,
            solution: s(4)?,
        })
    }

    /// The params array.
    pub fn to_params(&self) -> Vec<Value> {
        vec![
            json!(self.worker),
            json!(self.job_id),
            json!(self.time),
            json!(self.nonce2),
            json!(self.solution),
        ]
    }
}

/// The hex length of a submitted solution: CompactSize prefix plus the minimal solution.
fn solution_hex_len(params: &Params) -> usize {
    let mut prefix = Vec::new();
    crate::consensus::encode::write_compact_size(&mut prefix, params.solution_len() as u64);
    2 * (prefix.len() + params.solution_len())
}

/// Checks one share, byte for byte as `spec/stratum.md` §6.
///
/// `job` is the job the id names (None: unknown), `nonce1` the connection's `NONCE_1` for that
/// job, `target` the share target in force for it, `seen` the duplicate set of the job's template
/// (keyed by the whole 32-byte nonce and the solution, so a re-issued id or a new `NONCE_1` cannot
/// make one share count twice), `now_unix` the pool's clock.
///
/// # Errors
/// The first rule broken, as a [`Reject`].
pub fn check_share(
    job: Option<&PoolJob>,
    nonce1: &[u8],
    target: Target,
    submit: &Submit,
    seen: &mut HashSet<(String, String)>,
    now_unix: u64,
) -> Result<Accepted, Reject> {
    let job = job.ok_or(Reject::JobNotFound)?;
    if submit.time.len() != 8 {
        return Err(Reject::TimeSize);
    }
    let mut time = [0u8; 4];
    hex::decode_to_slice(&submit.time, &mut time).map_err(|_| Reject::BadHex("ntime"))?;
    let time = u64::from(u32::from_le_bytes(time));
    if time < u64::from(job.notify.time_u32()) || time > now_unix + NTIME_AHEAD_S {
        return Err(Reject::TimeOutOfRange);
    }
    if 2 * nonce1.len() + submit.nonce2.len() != 2 * NONCE_LEN {
        return Err(Reject::NonceSize);
    }
    if submit.solution.len() != solution_hex_len(&job.params) {
        return Err(Reject::SolutionSize);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..nonce1.len()].copy_from_slice(nonce1);
    hex::decode_to_slice(&submit.nonce2, &mut nonce[nonce1.len()..])
        .map_err(|_| Reject::BadHex("nonce2"))?;
    let with_len = hex::decode(&submit.solution).map_err(|_| Reject::BadHex("solution"))?;
    let solution = &with_len[with_len.len() - job.params.solution_len()..];
    let mut expected_prefix = Vec::new();
    crate::consensus::encode::write_compact_size(&mut expected_prefix, solution.len() as u64);
    if with_len[..expected_prefix.len()] != expected_prefix[..] {
        return Err(Reject::BadHex("solution length prefix"));
    }
    if !seen.insert((hex::encode(nonce), submit.solution.to_ascii_lowercase())) {
        return Err(Reject::Duplicate);
    }
    let mut prefix = job.notify.header_prefix();
    prefix[100..104].copy_from_slice(&(time as u32).to_le_bytes());
    let input = equihash_input(&prefix, &nonce);
    equihash::is_valid_solution(&job.params, &input, solution)
        .map_err(|e| Reject::InvalidSolution(e.kind()))?;
    let hash = share_hash(&input, solution);
    let share_difficulty = difficulty_of_hash_internal(&hash);
    if !target.is_met_by_internal_bytes(&hash) {
        return Err(Reject::LowDifficulty { share_difficulty });
    }
    Ok(Accepted {
        difficulty: super::difficulty::difficulty_of_target(target),
        share_difficulty,
        block_candidate: job.network_target.is_met_by_internal_bytes(&hash),
        hash,
    })
}

/// Where a session finds the pool's jobs.
pub trait JobSource {
    /// The job with this id, if the pool still knows it.
    fn job(&self, id: &str) -> Option<Arc<PoolJob>>;
    /// The newest job.
    fn current(&self) -> Option<Arc<PoolJob>>;
}

/// How the pool answers `mining.extranonce.subscribe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtranonceMode {
    /// Replies `true` (NiceHash style).
    #[default]
    Supported,
    /// Replies `[20, "Not supported.", null]` (s-nomp).
    NotSupported,
    /// Never replies (miningcore).
    Ignore,
}

/// Settings of the pool side.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The starting share difficulty (pool scale).
    pub difficulty: f64,
    /// Vardiff, if on.
    pub vardiff: Option<VardiffConfig>,
    /// How to answer `mining.extranonce.subscribe`.
    pub extranonce: ExtranonceMode,
}

/// What happened on a connection, for the pool's statistics and the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// A worker was authorized.
    Authorized {
        /// The worker name.
        worker: String,
    },
    /// A share was accepted.
    Accepted {
        /// The worker.
        worker: String,
        /// What it was.
        share: Accepted,
    },
    /// A share was rejected.
    Rejected {
        /// The worker.
        worker: String,
        /// Why.
        reject: Reject,
    },
    /// Vardiff changed the difficulty; the session already queued `set_target` and a re-issue
    /// of the current job.
    Retarget {
        /// The new difficulty.
        difficulty: f64,
    },
    /// The miner sent something unusable; the driver should close the connection.
    Violation(String),
}

#[derive(Debug)]
struct SentJob {
    /// Id the miner saw (the pool's id, or a re-issue alias).
    sent_id: String,
    /// Id in the pool's job book.
    base_id: String,
    target: Target,
    nonce1: Vec<u8>,
}

/// One connection's session on the pool side. See the module doc.
#[derive(Debug)]
pub struct ServerSession {
    cfg: ServerConfig,
    nonce1: Vec<u8>,
    subscribed: bool,
    workers: HashSet<String>,
    difficulty: f64,
    target: Target,
    vardiff: Option<Vardiff>,
    jobs: VecDeque<SentJob>,
    /// Shares seen, per template (the pool's job id): a vardiff re-issue sends the same header
    /// under a new id, and a share must not count twice through it (s-nomp keeps its duplicate
    /// set per block template too).
    seen: HashMap<String, HashSet<(String, String)>>,
    reissues: u64,
    outgoing: Vec<String>,
}

impl ServerSession {
    /// A session that will hand out `nonce1`.
    ///
    /// # Errors
    /// When the configured difficulty gives no usable target.
    pub fn new(
        cfg: ServerConfig,
        nonce1: Vec<u8>,
        now_ms: u64,
    ) -> Result<ServerSession, super::difficulty::TargetError> {
        let vardiff = cfg.vardiff.map(|v| Vardiff::new(v, cfg.difficulty, now_ms));
        let difficulty = vardiff.as_ref().map_or(cfg.difficulty, Vardiff::difficulty);
        let target = target_from_difficulty(difficulty, DifficultyScale::Pool)?;
        Ok(ServerSession {
            cfg,
            nonce1,
            subscribed: false,
            workers: HashSet::new(),
            difficulty,
            target,
            vardiff,
            jobs: VecDeque::new(),
            seen: HashMap::new(),
            reissues: 0,
            outgoing: Vec::new(),
        })
    }

    /// Lines to write (each without LF).
    pub fn take_outgoing(&mut self) -> Vec<String> {
        std::mem::take(&mut self.outgoing)
    }

    /// Whether `mining.subscribe` happened (jobs are only sent after it).
    pub fn is_subscribed(&self) -> bool {
        self.subscribed
    }

    /// Queues a notify for `job`, remembering the target and `NONCE_1` in force for it.
    pub fn send_job(&mut self, job: &PoolJob) {
        self.send_job_as(job, job.notify.job_id.clone());
    }

    fn send_job_as(&mut self, job: &PoolJob, sent_id: String) {
        if job.notify.clean {
            self.jobs.clear();
        }
        let notify = Notify {
            job_id: sent_id.clone(),
            ..job.notify.clone()
        };
        self.outgoing
            .push(Message::notification("mining.notify", notify.to_params()).to_line());
        self.jobs.push_back(SentJob {
            sent_id,
            base_id: job.notify.job_id.clone(),
            target: self.target,
            nonce1: self.nonce1.clone(),
        });
        while self.jobs.len() > JOBS_KEPT {
            self.jobs.pop_front();
        }
        let live: HashSet<&str> = self.jobs.iter().map(|j| j.base_id.as_str()).collect();
        self.seen.retain(|base, _| live.contains(base.as_str()));
    }

    /// Sets the difficulty for jobs sent from now on and queues `mining.set_target`.
    ///
    /// # Errors
    /// When `d` gives no usable target.
    pub fn set_difficulty(&mut self, d: f64) -> Result<(), super::difficulty::TargetError> {
        self.target = target_from_difficulty(d, DifficultyScale::Pool)?;
        self.difficulty = d;
        self.outgoing.push(
            Message::notification(
                "mining.set_target",
                vec![json!(target_to_be_hex(self.target))],
            )
            .to_line(),
        );
        Ok(())
    }

    /// Queues `mining.set_extranonce`; the new `NONCE_1` applies to jobs sent from now on.
    pub fn set_extranonce(&mut self, nonce1: Vec<u8>) {
        self.outgoing.push(
            Message::notification(
                "mining.set_extranonce",
                vec![json!(hex::encode(&nonce1)), json!(NONCE_LEN - nonce1.len())],
            )
            .to_line(),
        );
        self.nonce1 = nonce1;
    }

    /// Vardiff without shares: lowers the difficulty of a worker that went quiet. Never for a
    /// connection that has not subscribed (it has no job, and a port scanner must not get
    /// `set_target` lines).
    pub fn poll(&mut self, jobs: &dyn JobSource, now_ms: u64) -> Vec<ServerEvent> {
        if !self.subscribed {
            return Vec::new();
        }
        match self.vardiff.as_mut().and_then(|v| v.poll(now_ms)) {
            Some(d) => self.retarget(d, jobs),
            None => Vec::new(),
        }
    }

    fn retarget(&mut self, d: f64, jobs: &dyn JobSource) -> Vec<ServerEvent> {
        if self.set_difficulty(d).is_err() {
            return Vec::new();
        }
        if let Some(current) = jobs.current() {
            self.reissues += 1;
            // Hex like every job id (miners that parse ids as hex choke on a dot); from the top
            // half of the u32 range, so it never meets a job book id.
            let alias = format!("{:x}", (1u64 << 31) + self.reissues);
            let job = PoolJob {
                notify: Notify {
                    clean: false,
                    ..current.notify.clone()
                },
                ..(*current).clone()
            };
            self.send_job_as(&job, alias);
        }
        vec![ServerEvent::Retarget { difficulty: d }]
    }

    /// Handles one line from the miner. `now_unix` is the pool's wall clock (for the `TIME`
    /// window), `now_ms` any monotonic clock (for vardiff).
    pub fn on_line(
        &mut self,
        line: &str,
        jobs: &dyn JobSource,
        now_unix: u64,
        now_ms: u64,
    ) -> Vec<ServerEvent> {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            return Vec::new();
        }
        match Message::parse(line) {
            Ok(Message::Request(r)) => self.on_request(r, jobs, now_unix, now_ms),
            Ok(Message::Response(_)) => Vec::new(),
            Err(e) => vec![ServerEvent::Violation(e.to_string())],
        }
    }

    fn reply(&mut self, id: Value, result: Result<Value, RpcError>) {
        let m = match result {
            Ok(v) => Message::ok(id, v),
            Err(e) => Message::err(id, e),
        };
        self.outgoing.push(m.to_line());
    }

    fn on_request(
        &mut self,
        r: Request,
        jobs: &dyn JobSource,
        now_unix: u64,
        now_ms: u64,
    ) -> Vec<ServerEvent> {
        match r.method.as_str() {
            "mining.subscribe" => {
                self.subscribed = true;
                let n1 = hex::encode(&self.nonce1);
                self.reply(r.id, Ok(json!([Value::Null, n1])));
                let d = self.difficulty;
                let _ = self.set_difficulty(d);
                if let Some(job) = jobs.current() {
                    self.send_job(&job);
                }
                Vec::new()
            }
            // Before or after `mining.subscribe`: s-nomp and miningcore accept both orders, and
            // miners treat a refused authorize as fatal.
            "mining.authorize" => {
                let worker = r.params.first().and_then(Value::as_str).unwrap_or("");
                if worker.is_empty() {
                    self.reply(
                        r.id,
                        Err(RpcError::new(ErrorCode::Unauthorized, "empty worker name")),
                    );
                    return Vec::new();
                }
                let worker = worker.to_string();
                self.workers.insert(worker.clone());
                self.reply(r.id, Ok(json!(true)));
                vec![ServerEvent::Authorized { worker }]
            }
            _ if !self.subscribed => {
                self.reply(
                    r.id,
                    Err(RpcError::new(ErrorCode::NotSubscribed, "Not subscribed")),
                );
                Vec::new()
            }
            "mining.extranonce.subscribe" => {
                match self.cfg.extranonce {
                    ExtranonceMode::Supported => self.reply(r.id, Ok(json!(true))),
                    ExtranonceMode::NotSupported => {
                        self.reply(r.id, Err(RpcError::new(ErrorCode::Other, "Not supported.")));
                    }
                    ExtranonceMode::Ignore => {}
                }
                Vec::new()
            }
            "mining.submit" => self.on_submit(r, jobs, now_unix, now_ms),
            // Answered with the target the pool will judge by (a miner waits for it), whatever
            // was suggested: this pool's difficulty is its operator's choice.
            "mining.suggest_target" | "mining.suggest_difficulty" => {
                self.reply(r.id, Ok(json!(true)));
                let d = self.difficulty;
                let _ = self.set_difficulty(d);
                Vec::new()
            }
            m => {
                let msg = format!("Unknown method {m}");
                self.reply(r.id, Err(RpcError::new(ErrorCode::Other, msg)));
                Vec::new()
            }
        }
    }

    fn on_submit(
        &mut self,
        r: Request,
        jobs: &dyn JobSource,
        now_unix: u64,
        now_ms: u64,
    ) -> Vec<ServerEvent> {
        let submit = Submit::from_params(&r.params);
        let worker = submit
            .as_ref()
            .map(|s| s.worker.clone())
            .unwrap_or_default();
        let result = submit.and_then(|s| self.check(&s, jobs, now_unix));
        match result {
            Ok(share) => {
                self.reply(r.id, Ok(json!(true)));
                let mut events = vec![ServerEvent::Accepted { worker, share }];
                if let Some(d) = self.vardiff.as_mut().and_then(|v| v.on_share(now_ms)) {
                    events.extend(self.retarget(d, jobs));
                }
                events
            }
            Err(reject) => {
                self.reply(r.id, Err(RpcError::new(reject.code(), reject.to_string())));
                vec![ServerEvent::Rejected { worker, reject }]
            }
        }
    }

    fn check(
        &mut self,
        s: &Submit,
        jobs: &dyn JobSource,
        now_unix: u64,
    ) -> Result<Accepted, Reject> {
        // Real pools (s-nomp, miningcore) do not require the submit's worker name to be the
        // one authorized: any name is credited once the connection has authorized a worker.
        if self.workers.is_empty() {
            return Err(Reject::Unauthorized);
        }
        let Some(sent) = self.jobs.iter().find(|j| j.sent_id == s.job_id) else {
            return Err(Reject::JobNotFound);
        };
        let job = jobs.job(&sent.base_id);
        let seen = self.seen.entry(sent.base_id.clone()).or_default();
        check_share(job.as_deref(), &sent.nonce1, sent.target, s, seen, now_unix)
    }
}

/// A simple in-memory job book: the jobs the pool still accepts shares for.
#[derive(Debug, Default)]
pub struct JobBook {
    jobs: VecDeque<Arc<PoolJob>>,
    next_id: u64,
}

impl JobBook {
    /// Adds a job built by `make(id)`; a clean job makes every older job stale.
    pub fn push(&mut self, make: impl FnOnce(String) -> PoolJob) -> Arc<PoolJob> {
        self.next_id += 1;
        let job = Arc::new(make(format!("{:x}", self.next_id)));
        if job.notify.clean {
            self.jobs.clear();
        }
        self.jobs.push_back(job.clone());
        while self.jobs.len() > JOBS_KEPT {
            self.jobs.pop_front();
        }
        job
    }
}

impl JobSource for JobBook {
    fn job(&self, id: &str) -> Option<Arc<PoolJob>> {
        self.jobs.iter().find(|j| j.notify.job_id == id).cloned()
    }

    fn current(&self) -> Option<Arc<PoolJob>> {
        self.jobs.back().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stratum::difficulty::target_from_difficulty;
    use crate::stratum::job::solution_with_length;
    use crate::stratum::templates;

    /// A session on block 400000's template with the `NONCE_1` of its real nonce, subscribed
    /// and authorized, holding job "1"; and block 400000's share as a submit line for `job_id`.
    fn session_on_block_400000() -> (ServerSession, JobBook, impl Fn(&str) -> String, u64) {
        let tpl = templates::recorded().remove(0);
        let mut book = JobBook::default();
        let job =
            book.push(|id| PoolJob::from_header_prefix(id, &tpl.prefix, Params::ZELHASH, true));
        let (nonce, sol) = tpl.solutions[0].clone();
        let cfg = ServerConfig {
            difficulty: 1.0,
            vardiff: None,
            extranonce: ExtranonceMode::default(),
        };
        let mut s = ServerSession::new(cfg, nonce[..4].to_vec(), 0).unwrap();
        let now = u64::from(job.notify.time_u32()) + 10;
        s.on_line(
            r#"{"id":1,"method":"mining.subscribe","params":[]}"#,
            &book,
            now,
            0,
        );
        s.on_line(
            r#"{"id":2,"method":"mining.authorize","params":["w","x"]}"#,
            &book,
            now,
            0,
        );
        s.take_outgoing();
        let time = hex::encode(job.notify.time);
        let submit = move |job_id: &str| {
            format!(
                r#"{{"id":9,"method":"mining.submit","params":["w","{job_id}","{time}","{}","{}"]}}"#,
                hex::encode(&nonce[4..]),
                hex::encode(solution_with_length(&sol))
            )
        };
        (s, book, submit, now)
    }

    fn accepted(events: &[ServerEvent]) -> bool {
        matches!(events, [ServerEvent::Accepted { .. }])
    }

    /// Interop fault 2: a vardiff re-issue sends the same header under a new id ("1.1"); the
    /// share already accepted under "1" is a duplicate under the alias, not a second share.
    #[test]
    fn a_share_counts_once_across_reissued_job_ids() {
        let (mut s, book, submit, now) = session_on_block_400000();
        let id = book.current().unwrap().notify.job_id.clone();
        assert!(accepted(&s.on_line(&submit(&id), &book, now, 0)));
        s.retarget(1.0, &book);
        let alias = format!("{:x}", (1u64 << 31) + 1);
        assert!(alias.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(
            s.take_outgoing()
                .iter()
                .any(|l| l.contains(&format!("\"{alias}\"")))
        );
        let ev = s.on_line(&submit(&alias), &book, now, 0);
        assert!(
            matches!(
                ev.as_slice(),
                [ServerEvent::Rejected {
                    reject: Reject::Duplicate,
                    ..
                }]
            ),
            "{ev:?}"
        );
        assert!(s.take_outgoing()[0].contains("[22,"));
    }

    /// Interop fault 8: `suggest_difficulty` / `suggest_target` are answered and followed by the
    /// `set_target` the pool judges by (a miner may wait for it).
    #[test]
    fn suggestions_are_answered_with_the_target() {
        let (mut s, book, _, now) = session_on_block_400000();
        for line in [
            r#"{"id":5,"method":"mining.suggest_difficulty","params":[64]}"#,
            r#"{"id":6,"method":"mining.suggest_target","params":["00ff"]}"#,
        ] {
            s.on_line(line, &book, now, 0);
            let out = s.take_outgoing();
            assert_eq!(out.len(), 2, "{out:?}");
            assert!(out[0].contains("true"), "{out:?}");
            assert!(out[1].contains("mining.set_target"), "{out:?}");
        }
    }

    /// Interop fault 7: vardiff never runs for a connection that has not subscribed.
    #[test]
    fn vardiff_ignores_connections_that_never_subscribed() {
        let book = JobBook::default();
        let cfg = ServerConfig {
            difficulty: 1.0,
            vardiff: Some(crate::stratum::vardiff::VardiffConfig::default()),
            extranonce: ExtranonceMode::default(),
        };
        let mut s = ServerSession::new(cfg, vec![1, 2, 3, 4], 0).unwrap();
        for minute in 1..=30 {
            assert!(s.poll(&book, minute * 60_000).is_empty());
        }
        assert!(s.take_outgoing().is_empty());
    }

    /// Interop fault 3: `mining.authorize` before `mining.subscribe` is accepted (s-nomp and
    /// miningcore do; miners treat a refusal as fatal); a submit before subscribe still gets 25.
    #[test]
    fn authorize_before_subscribe_is_accepted() {
        let book = JobBook::default();
        let cfg = ServerConfig {
            difficulty: 1.0,
            vardiff: None,
            extranonce: ExtranonceMode::default(),
        };
        let mut s = ServerSession::new(cfg, vec![1, 2, 3, 4], 0).unwrap();
        let ev = s.on_line(
            r#"{"id":1,"method":"mining.authorize","params":["t1a.w","x"]}"#,
            &book,
            0,
            0,
        );
        assert_eq!(
            ev,
            vec![ServerEvent::Authorized {
                worker: "t1a.w".into()
            }]
        );
        let out = s.take_outgoing();
        let reply: Value = serde_json::from_str(&out[0]).unwrap();
        assert_eq!(
            (reply["id"].clone(), reply["result"].clone()),
            (json!(1), json!(true))
        );
        s.on_line(
            r#"{"id":2,"method":"mining.submit","params":["t1a.w","1","00000000","00","00"]}"#,
            &book,
            0,
            0,
        );
        assert!(
            s.take_outgoing()[0].contains("[25,"),
            "submit before subscribe"
        );
    }

    /// The ZelHash-size share check on block 400000 with its real nonce and both solutions.
    #[test]
    fn zelhash_share_checks_byte_for_byte() {
        let tpl = templates::recorded().remove(0);
        let job = PoolJob::from_header_prefix("1".into(), &tpl.prefix, Params::ZELHASH, true);
        let (nonce, sol) = &tpl.solutions[0];
        let (_, alt) = &tpl.solutions[1];
        let nonce1 = &nonce[..4];
        let sub = |nonce2: &[u8], sol: &[u8]| Submit {
            worker: "w".into(),
            job_id: "1".into(),
            time: hex::encode(job.notify.time),
            nonce2: hex::encode(nonce2),
            solution: hex::encode(solution_with_length(sol)),
        };
        let d1 = target_from_difficulty(1.0, DifficultyScale::Pool).unwrap();
        let now = 1_565_516_944 + 10;
        let mut seen = HashSet::new();
        let good = sub(&nonce[4..], sol);
        let ok = check_share(Some(&job), nonce1, d1, &good, &mut seen, now).unwrap();
        assert!(
            ok.block_candidate,
            "block 400000's own solution meets nBits"
        );
        assert!(
            (ok.share_difficulty - 9196.0).abs() < 1.0,
            "{}",
            ok.share_difficulty
        );
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &good, &mut seen, now),
            Err(Reject::Duplicate)
        );
        let r = check_share(
            Some(&job),
            nonce1,
            d1,
            &sub(&nonce[4..], alt),
            &mut seen,
            now,
        );
        assert!(
            matches!(r, Err(Reject::LowDifficulty { share_difficulty }) if share_difficulty < 0.001),
            "{r:?}"
        );
        assert_eq!(
            check_share(None, nonce1, d1, &good, &mut seen, now),
            Err(Reject::JobNotFound)
        );
        let mut s = good.clone();
        s.time = "90e44f5".into();
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::TimeSize)
        );
        s.time = "8fe44f5d".into();
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::TimeOutOfRange)
        );
        let mut s = good.clone();
        s.nonce2.push_str("00");
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::NonceSize)
        );
        let mut s = good.clone();
        s.solution.truncate(104);
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::SolutionSize)
        );
        let mut s = good.clone();
        s.nonce2.replace_range(0..2, "zz");
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::BadHex("nonce2"))
        );
        // One flipped solution bit: the verifier's rule is named.
        let mut bad = sol.clone();
        bad[10] ^= 1;
        let r = check_share(
            Some(&job),
            nonce1,
            d1,
            &sub(&nonce[4..], &bad),
            &mut HashSet::new(),
            now,
        );
        assert!(matches!(r, Err(Reject::InvalidSolution(_))), "{r:?}");
        // Without the twist the same share is invalid: the pool must verify ZelHash as ZelHash.
        let untwisted = PoolJob {
            params: Params::ZELHASH.with_twist(false).unwrap(),
            ..job.clone()
        };
        let r = check_share(
            Some(&untwisted),
            nonce1,
            d1,
            &good,
            &mut HashSet::new(),
            now,
        );
        assert!(matches!(r, Err(Reject::InvalidSolution(_))), "{r:?}");
    }
}
