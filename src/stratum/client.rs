//! The miner's side of a stratum session, sans I/O: lines in, lines and [`Event`]s out, time
//! passed in as milliseconds on any monotonic clock the caller chooses.
//!
//! It follows the robust client rules of `spec/stratum.md` §7: ZIP 301 subscribe params,
//! `NONCE_1` from `result[1]` (falling back to `result[0]`), any `NONCE_1` length,
//! `mining.extranonce.subscribe` sent but never awaited, `set_extranonce` applied from the next
//! notify, `set_target` preferred, `set_difficulty` converted on a configurable scale, the target
//! remembered per job, every notify switches work, error codes 20–25 told apart.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use thiserror::Error;

use super::difficulty::{
    DifficultyScale, POW_LIMIT, TargetError, difficulty_of_target, is_very_easy,
    target_from_be_hex, target_from_difficulty, target_to_be_hex,
};
use super::job::{NONCE_LEN, Notify, NotifyError, solution_with_length};
use super::wire::{ErrorCode, Message, Request, Response, RpcError, WireError};
use crate::consensus::Target;
use crate::equihash::Params;

/// The block version pools send for Flux's mined blocks (`"04000000"`; fluxd's
/// `CheckBlockHeader` in `src/main.cpp` requires version ≥ 4, and PoN blocks, version 100 and up,
/// are not mined). ZIP 301: a miner ignores jobs of a version it does not know.
const MINED_VERSION: u32 = 4;

/// How long a submit may wait for the pool's answer before it is counted as rejected (no
/// answer): real pools answer in milliseconds to a few seconds.
pub const SUBMIT_TIMEOUT_MS: u64 = 60_000;

/// How many recent jobs the session remembers (for per-job targets and submits).
const JOBS_KEPT: usize = 16;

/// Settings of one session.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `ADDR.WORKER` for `mining.authorize` and `mining.submit`.
    pub user: String,
    /// The password (often `x`, or `d=…` for a static difficulty).
    pub pass: String,
    /// Our user agent.
    pub agent: String,
    /// Host from the URL (ZIP 301 `CONNECT_HOST`).
    pub host: String,
    /// Port from the URL.
    pub port: u16,
    /// The parameters our solver mines; notify hints are checked against them.
    pub params: Params,
    /// The scale of `mining.set_difficulty`.
    pub scale: DifficultyScale,
    /// Whether to send `mining.extranonce.subscribe`.
    pub extranonce_subscribe: bool,
    /// A pool silent for this long is treated as gone (ms).
    pub silence_timeout_ms: u64,
}

/// A job ready to mine: the notify, the `NONCE_1` and the share target in force when it came.
#[derive(Debug, Clone, PartialEq)]
pub struct MiningJob {
    /// The notify as received.
    pub notify: Notify,
    /// The pool's `NONCE_1` for this job.
    pub nonce1: Vec<u8>,
    /// The share target for this job.
    pub target: Target,
    /// Whether the target came from the pool (false: `powLimit` fallback, §3).
    pub target_from_pool: bool,
    /// The parameters to mine it with.
    pub params: Params,
}

impl MiningJob {
    /// Pool-scale difficulty of the job's target.
    pub fn difficulty(&self) -> f64 {
        difficulty_of_target(self.target)
    }
}

/// A protocol violation: the driver drops the connection, logs it, and reconnects.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The line is not a stratum message.
    #[error("pool sent a malformed line: {0}")]
    Wire(#[from] WireError),
    /// A notify cannot be parsed.
    #[error("pool sent a bad mining.notify: {0}")]
    BadNotify(#[from] NotifyError),
    /// A target or difficulty cannot be used.
    #[error("pool sent an unusable share target: {0}")]
    BadTarget(#[from] TargetError),
    /// A method's params have the wrong shape.
    #[error("pool sent {method} with bad params: {reason}")]
    BadParams {
        /// The method.
        method: String,
        /// What is wrong.
        reason: String,
    },
    /// The subscribe result has no usable `NONCE_1`.
    #[error("subscribe result has no usable NONCE_1: {0}")]
    BadSubscribe(String),
    /// The pool refused to subscribe us.
    #[error("pool refused mining.subscribe: {0:?}")]
    SubscribeRefused(RpcError),
    /// The pool refused the worker.
    #[error("pool refused worker {worker}: {reason}")]
    AuthorizeRefused {
        /// The worker.
        worker: String,
        /// The pool's reason.
        reason: String,
    },
    /// Nothing came from the pool for too long.
    #[error("pool silent for {0} ms")]
    Silent(u64),
}

/// What a share submission came to.
#[derive(Debug, Clone, PartialEq)]
pub enum ShareOutcome {
    /// Accepted.
    Accepted,
    /// Rejected with this error (`code` tells stale, duplicate, low-difficulty…).
    Rejected(RpcError),
}

/// What the session tells the driver and the scheduler.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Subscribed; `NONCE_1` is known.
    Subscribed {
        /// The pool's `NONCE_1`.
        nonce1: Vec<u8>,
        /// The session id, if any.
        session_id: Option<String>,
    },
    /// The worker is authorized.
    Authorized,
    /// A new share target (for the next job; the current one is re-sent as [`Event::Job`] with
    /// the harder of its target and this one).
    Target {
        /// The target.
        target: Target,
        /// Its pool-scale difficulty.
        difficulty: f64,
    },
    /// Switch to this job now.
    Job(Arc<MiningJob>),
    /// A job we cannot mine; mining pauses until a usable one comes.
    JobRefused {
        /// The job id.
        job_id: String,
        /// Why, for the log.
        reason: String,
    },
    /// The pool answered a submit.
    Share {
        /// Our submit id.
        id: u64,
        /// The job.
        job_id: String,
        /// The pool-scale difficulty the share was submitted at.
        difficulty: f64,
        /// The answer.
        outcome: ShareOutcome,
        /// Round trip (ms).
        latency_ms: u64,
    },
    /// `set_extranonce`: a new `NONCE_1` from the next notify.
    ExtranonceChanged {
        /// The new `NONCE_1`.
        nonce1: Vec<u8>,
    },
    /// `client.reconnect`.
    Reconnect {
        /// Host (`None`: the same).
        host: Option<String>,
        /// Port (`None`: the same).
        port: Option<u16>,
        /// Seconds to wait first.
        wait_s: u64,
    },
    /// Something odd but harmless, for the log.
    Warning(String),
    /// A violation: drop the connection and reconnect.
    Fatal(SessionError),
}

#[derive(Debug, Clone)]
enum Pending {
    Subscribe,
    Authorize,
    ExtranonceSubscribe,
    Submit {
        job_id: String,
        difficulty: f64,
        sent_ms: u64,
    },
}

/// Why a share cannot be submitted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The nonce does not start with the job's `NONCE_1`.
    #[error("nonce does not start with the job's NONCE_1")]
    WrongNonce1,
    /// Not yet authorized.
    #[error("not authorized yet")]
    NotReady,
}

/// The client state machine. See the module doc.
#[derive(Debug)]
pub struct ClientSession {
    cfg: ClientConfig,
    next_id: u64,
    pending: HashMap<u64, Pending>,
    nonce1: Option<Vec<u8>>,
    next_nonce1: Option<Vec<u8>>,
    target: Option<Target>,
    authorized: bool,
    jobs: VecDeque<Arc<MiningJob>>,
    last_rx_ms: u64,
    outgoing: Vec<String>,
}

impl ClientSession {
    /// A new session; call [`ClientSession::start`] once connected.
    pub fn new(cfg: ClientConfig) -> ClientSession {
        ClientSession {
            cfg,
            next_id: 1,
            pending: HashMap::new(),
            nonce1: None,
            next_nonce1: None,
            target: None,
            authorized: false,
            jobs: VecDeque::new(),
            last_rx_ms: 0,
            outgoing: Vec::new(),
        }
    }

    fn send(&mut self, method: &str, params: Vec<Value>, kind: Pending) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.outgoing
            .push(Message::request(json!(id), method, params).to_line());
        self.pending.insert(id, kind);
        id
    }

    /// Sends `mining.subscribe` (ZIP 301 params). Call once the connection is up.
    pub fn start(&mut self, now_ms: u64) {
        self.last_rx_ms = now_ms;
        let params = vec![
            json!(self.cfg.agent),
            Value::Null,
            json!(self.cfg.host),
            json!(self.cfg.port),
        ];
        self.send("mining.subscribe", params, Pending::Subscribe);
    }

    /// Lines to write to the pool (each without its LF), in order.
    pub fn take_outgoing(&mut self) -> Vec<String> {
        std::mem::take(&mut self.outgoing)
    }

    /// Submits still unanswered.
    pub fn pending_submits(&self) -> usize {
        self.pending
            .values()
            .filter(|p| matches!(p, Pending::Submit { .. }))
            .count()
    }

    /// The current `NONCE_1`.
    pub fn nonce1(&self) -> Option<&[u8]> {
        self.nonce1.as_deref()
    }

    /// A job we still remember, by id.
    pub fn job(&self, job_id: &str) -> Option<Arc<MiningJob>> {
        self.jobs
            .iter()
            .find(|j| j.notify.job_id == job_id)
            .cloned()
    }

    /// Checks for silence; returns [`Event::Fatal`] when the pool has said nothing for longer
    /// than the configured timeout.
    pub fn tick(&mut self, now_ms: u64) -> Option<Event> {
        let quiet = now_ms.saturating_sub(self.last_rx_ms);
        (quiet > self.cfg.silence_timeout_ms).then_some(Event::Fatal(SessionError::Silent(quiet)))
    }

    /// Gives up on submits the pool has not answered within [`SUBMIT_TIMEOUT_MS`]: each becomes
    /// a rejected [`Event::Share`] ("no answer"), so the accounting never waits forever and the
    /// pending table cannot grow without bound. A late answer is then a warning.
    pub fn expire_submits(&mut self, now_ms: u64) -> Vec<Event> {
        let mut expired: Vec<u64> = self
            .pending
            .iter()
            .filter_map(|(&id, p)| match p {
                Pending::Submit { sent_ms, .. }
                    if now_ms.saturating_sub(*sent_ms) > SUBMIT_TIMEOUT_MS =>
                {
                    Some(id)
                }
                _ => None,
            })
            .collect();
        expired.sort_unstable();
        expired
            .into_iter()
            .filter_map(|id| match self.pending.remove(&id)? {
                Pending::Submit {
                    job_id,
                    difficulty,
                    sent_ms,
                } => Some(Event::Share {
                    id,
                    job_id,
                    difficulty,
                    outcome: ShareOutcome::Rejected(RpcError::new(
                        ErrorCode::Unspecified,
                        format!("no answer within {} s", SUBMIT_TIMEOUT_MS / 1000),
                    )),
                    latency_ms: now_ms.saturating_sub(sent_ms),
                }),
                _ => None,
            })
            .collect()
    }

    /// Queues `mining.submit` for a share of `job`: `nonce` is the full 32-byte header nonce,
    /// `solution` the minimal encoding (the CompactSize prefix is added here).
    ///
    /// # Errors
    /// [`SubmitError`] when the share does not belong to this session.
    pub fn submit(
        &mut self,
        job: &MiningJob,
        nonce: &[u8; NONCE_LEN],
        solution: &[u8],
        now_ms: u64,
    ) -> Result<u64, SubmitError> {
        if !self.authorized {
            return Err(SubmitError::NotReady);
        }
        if !nonce.starts_with(&job.nonce1) {
            return Err(SubmitError::WrongNonce1);
        }
        let params = vec![
            json!(self.cfg.user),
            json!(job.notify.job_id),
            json!(hex::encode(job.notify.time)),
            json!(hex::encode(&nonce[job.nonce1.len()..])),
            json!(hex::encode(solution_with_length(solution))),
        ];
        let kind = Pending::Submit {
            job_id: job.notify.job_id.clone(),
            difficulty: job.difficulty(),
            sent_ms: now_ms,
        };
        Ok(self.send("mining.submit", params, kind))
    }

    /// Handles one line from the pool.
    pub fn on_line(&mut self, line: &str, now_ms: u64) -> Vec<Event> {
        self.last_rx_ms = now_ms;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            return Vec::new();
        }
        let result = match Message::parse(line) {
            Ok(Message::Request(r)) => self.on_request(r),
            Ok(Message::Response(r)) => self.on_response(r, now_ms),
            Err(e) => Err(e.into()),
        };
        result.unwrap_or_else(|e| vec![Event::Fatal(e)])
    }

    fn on_request(&mut self, r: Request) -> Result<Vec<Event>, SessionError> {
        let bad = |reason: &str| SessionError::BadParams {
            method: r.method.clone(),
            reason: reason.to_string(),
        };
        match r.method.as_str() {
            "mining.set_target" => {
                let s = r
                    .params
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("expected [\"TARGET\"]"))?;
                Ok(self.set_target(target_from_be_hex(s)?))
            }
            "mining.set_difficulty" => {
                let d = r
                    .params
                    .first()
                    .and_then(number)
                    .ok_or_else(|| bad("expected [DIFFICULTY]"))?;
                Ok(self.set_target(target_from_difficulty(d, self.cfg.scale)?))
            }
            "mining.notify" => self.on_notify(&r.params),
            "mining.set_extranonce" => {
                let n1 = r
                    .params
                    .first()
                    .and_then(Value::as_str)
                    .and_then(nonce1_from_hex)
                    .ok_or_else(|| bad("expected [\"NONCE_1\" (hex, 1..31 bytes), size]"))?;
                self.next_nonce1 = Some(n1.clone());
                Ok(vec![Event::ExtranonceChanged { nonce1: n1 }])
            }
            "client.reconnect" => Ok(vec![Event::Reconnect {
                host: r.params.first().and_then(Value::as_str).map(str::to_string),
                port: r.params.get(1).and_then(number).map(|p| p as u16),
                wait_s: r
                    .params
                    .get(2)
                    .and_then(number)
                    .map_or(0, |w| w.clamp(0.0, 3600.0) as u64),
            }]),
            "client.show_message" => Ok(vec![Event::Warning(format!(
                "pool message: {}",
                r.params.first().map(Value::to_string).unwrap_or_default()
            ))]),
            "client.get_version" => {
                self.outgoing
                    .push(Message::ok(r.id, json!(self.cfg.agent)).to_line());
                Ok(Vec::new())
            }
            // yiimp asks for it and waits for the answer.
            "client.get_stats" => {
                let stats = json!({
                    "version": self.cfg.agent,
                    "algo": format!("equihash {}/{}", self.cfg.params.n(), self.cfg.params.k()),
                });
                self.outgoing.push(Message::ok(r.id, stats).to_line());
                Ok(Vec::new())
            }
            m => Ok(vec![Event::Warning(format!(
                "ignoring unknown method {m:?}"
            ))]),
        }
    }

    /// A new share target. It applies to the job being mined at once (magicpool judges shares
    /// by it at once, and the reference miner applies it at once), as the harder of the job's
    /// target and the new one until the next notify: a share that meets both is good whichever
    /// the pool uses. A job that came before any target (the powLimit fallback) takes it as is.
    fn set_target(&mut self, target: Target) -> Vec<Event> {
        self.target = Some(target);
        let mut events = vec![Event::Target {
            target,
            difficulty: difficulty_of_target(target),
        }];
        if is_very_easy(target) {
            events.push(Event::Warning(format!(
                "the pool's share target {} is very easy (difficulty {:.3e}, below 1/4096): \
                 mining on, nearly every solution will be submitted",
                target_to_be_hex(target),
                difficulty_of_target(target)
            )));
        }
        if let Some(last) = self.jobs.back() {
            let now = if last.target_from_pool {
                harder(last.target, target)
            } else {
                target
            };
            if now != last.target || !last.target_from_pool {
                let job = Arc::new(MiningJob {
                    // The same job continues: not a clean job, nothing in flight is flushed.
                    notify: Notify {
                        clean: false,
                        ..last.notify.clone()
                    },
                    target: now,
                    target_from_pool: true,
                    ..(**last).clone()
                });
                self.jobs.pop_back();
                self.jobs.push_back(job.clone());
                events.push(Event::Job(job));
            }
        }
        events
    }

    fn on_notify(&mut self, params: &[Value]) -> Result<Vec<Event>, SessionError> {
        let notify = Notify::from_params(params)?;
        // ZIP 301: a job of a block version the miner does not know is ignored (the job being
        // mined goes on). Flux's mined blocks are version 4.
        let version = u32::from_le_bytes(notify.version);
        if version != MINED_VERSION {
            return Ok(vec![Event::Warning(format!(
                "ignoring job {}: block version {version} (this miner mines version \
                 {MINED_VERSION})",
                notify.job_id
            ))]);
        }
        if let Err(reason) = notify.check_hints(&self.cfg.params) {
            return Ok(vec![Event::JobRefused {
                job_id: notify.job_id,
                reason,
            }]);
        }
        if let Some(n1) = self.next_nonce1.take() {
            self.nonce1 = Some(n1);
        }
        let Some(nonce1) = self.nonce1.clone() else {
            return Err(SessionError::BadParams {
                method: "mining.notify".into(),
                reason: "job before the subscribe result gave a NONCE_1".into(),
            });
        };
        let job = Arc::new(MiningJob {
            notify,
            nonce1,
            target: self.target.unwrap_or(POW_LIMIT),
            target_from_pool: self.target.is_some(),
            params: self.cfg.params,
        });
        // A clean job on a new block forgets the old block's jobs. A clean job on the same
        // block is a template refresh: s-nomp sends every refresh as clean (it sets param 8, not
        // 7) yet keeps the block's earlier jobs valid, so they stay submittable here too (a pool
        // that disagrees answers 21, counted as stale).
        if job.notify.clean {
            let prev = job.notify.prev_hash;
            self.jobs.retain(|j| j.notify.prev_hash == prev);
        }
        self.jobs.retain(|j| j.notify.job_id != job.notify.job_id);
        self.jobs.push_back(job.clone());
        while self.jobs.len() > JOBS_KEPT {
            self.jobs.pop_front();
        }
        Ok(vec![Event::Job(job)])
    }

    fn on_response(&mut self, r: Response, now_ms: u64) -> Result<Vec<Event>, SessionError> {
        let Some(id) = r.id.as_u64() else {
            return Ok(vec![Event::Warning(format!(
                "response with a non-numeric id {}",
                r.id
            ))]);
        };
        let Some(kind) = self.pending.remove(&id) else {
            return Ok(vec![Event::Warning(format!("response to unknown id {id}"))]);
        };
        match kind {
            Pending::Subscribe => self.on_subscribed(r),
            Pending::Authorize => match (&r.error, &r.result) {
                (None, Value::Bool(true)) => {
                    self.authorized = true;
                    Ok(vec![Event::Authorized])
                }
                (err, res) => Err(SessionError::AuthorizeRefused {
                    worker: self.cfg.user.clone(),
                    reason: err
                        .as_ref()
                        .map_or_else(|| format!("result {res}"), |e| e.message.clone()),
                }),
            },
            Pending::ExtranonceSubscribe => Ok(match r.error {
                Some(e) => vec![Event::Warning(format!(
                    "pool does not support extranonce.subscribe: {}",
                    e.message
                ))],
                None => Vec::new(),
            }),
            Pending::Submit {
                job_id,
                difficulty,
                sent_ms,
            } => {
                let outcome = match (r.error, &r.result) {
                    (None, Value::Bool(true)) => ShareOutcome::Accepted,
                    (Some(e), _) => ShareOutcome::Rejected(e),
                    (None, res) => ShareOutcome::Rejected(RpcError::new(
                        ErrorCode::Other,
                        format!("result {res}"),
                    )),
                };
                Ok(vec![Event::Share {
                    id,
                    job_id,
                    difficulty,
                    outcome,
                    latency_ms: now_ms.saturating_sub(sent_ms),
                }])
            }
        }
    }

    fn on_subscribed(&mut self, r: Response) -> Result<Vec<Event>, SessionError> {
        if let Some(e) = r.error {
            return Err(SessionError::SubscribeRefused(e));
        }
        let (nonce1, session_id) = subscribe_result(&r.result)?;
        self.nonce1 = Some(nonce1.clone());
        let (user, pass) = (self.cfg.user.clone(), self.cfg.pass.clone());
        self.send(
            "mining.authorize",
            vec![json!(user), json!(pass)],
            Pending::Authorize,
        );
        if self.cfg.extranonce_subscribe {
            self.send(
                "mining.extranonce.subscribe",
                vec![],
                Pending::ExtranonceSubscribe,
            );
        }
        Ok(vec![Event::Subscribed { nonce1, session_id }])
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn nonce1_from_hex(s: &str) -> Option<Vec<u8>> {
    let b = hex::decode(s).ok()?;
    (1..NONCE_LEN).contains(&b.len()).then_some(b)
}

/// Reads `NONCE_1` and the session id from a subscribe result (`spec/stratum.md` §4.1): take
/// `result[1]`; if it is not usable hex, fall back to `result[0]` (the reversed Slush draft).
///
/// # Errors
/// [`SessionError::BadSubscribe`] when neither is usable.
pub fn subscribe_result(result: &Value) -> Result<(Vec<u8>, Option<String>), SessionError> {
    let bad = || SessionError::BadSubscribe(result.to_string().chars().take(120).collect());
    let a = result.as_array().ok_or_else(bad)?;
    let at = |i: usize| a.get(i).and_then(Value::as_str);
    if let Some(n1) = at(1).and_then(nonce1_from_hex) {
        return Ok((n1, at(0).map(str::to_string)));
    }
    match at(0) {
        Some(s) if s.len() < 64 => {
            let n1 = nonce1_from_hex(s).ok_or_else(bad)?;
            Ok((n1, at(1).map(str::to_string)))
        }
        _ => Err(bad()),
    }
}

/// The harder (numerically smaller) of two share targets.
fn harder(a: Target, b: Target) -> Target {
    if a.to_uint() <= b.to_uint() { a } else { b }
}
