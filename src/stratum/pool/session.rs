//! One connection's session on the pool side, sans I/O: subscribe and authorize (in either
//! order), jobs with the target and `NONCE_1` in force for each, the difficulty as
//! `mining.set_target` and/or `mining.set_difficulty`, `set_extranonce` to connections that
//! subscribed to it, `client.reconnect`, vardiff re-issues, and submits judged by
//! [`check_share`] against a duplicate set per block template.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Value, json};

use super::jobs::{JOBS_KEPT, JobSource, PoolJob};
use super::share::{Accepted, Reject, check_share};
use super::submit::Submit;
use super::vardiff::{Vardiff, VardiffConfig};
use crate::consensus::Target;
use crate::stratum::difficulty::{
    DifficultyScale, TargetError, difficulty_in_scale, target_from_difficulty, target_to_be_hex,
};
use crate::stratum::job::{NONCE_LEN, Notify};
use crate::stratum::wire::{ErrorCode, Message, Request, RpcError};

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

/// How the pool tells a connection its share difficulty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DifficultyMessage {
    /// `mining.set_target` (ZIP 301; s-nomp, magicpool).
    #[default]
    SetTarget,
    /// `mining.set_difficulty` only, on this scale (yiimp-based pools: the ccminer scale).
    SetDifficulty(DifficultyScale),
    /// `mining.set_difficulty` on this scale, then `mining.set_target` (miningcore with a static
    /// difficulty).
    Both(DifficultyScale),
}

impl DifficultyMessage {
    /// The lines that announce pool-scale difficulty `d`, and the target a miner derives from
    /// them, which is the target the pool then judges by: `powLimit / d` for `set_target`,
    /// `diff1(scale) / D` for a `set_difficulty` of D (so a miner reading the number on the
    /// announced scale and the pool agree to the bit).
    ///
    /// # Errors
    /// When `d` gives no usable target.
    pub fn announce(self, d: f64) -> Result<(Target, Vec<String>), TargetError> {
        let set_target = |t| {
            Message::notification("mining.set_target", vec![json!(target_to_be_hex(t))]).to_line()
        };
        let scale = match self {
            DifficultyMessage::SetTarget => {
                let t = target_from_difficulty(d, DifficultyScale::Pool)?;
                return Ok((t, vec![set_target(t)]));
            }
            DifficultyMessage::SetDifficulty(scale) | DifficultyMessage::Both(scale) => scale,
        };
        let sent = difficulty_in_scale(d, scale);
        let t = target_from_difficulty(sent, scale)?;
        let mut lines =
            vec![Message::notification("mining.set_difficulty", vec![json!(sent)]).to_line()];
        if matches!(self, DifficultyMessage::Both(_)) {
            lines.push(set_target(t));
        }
        Ok((t, lines))
    }
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
    /// How to announce the difficulty.
    pub difficulty_message: DifficultyMessage,
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
    /// Whether the miner sent `mining.extranonce.subscribe` and the pool agreed.
    extranonce_subscribed: bool,
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
    pub fn new(cfg: ServerConfig, nonce1: Vec<u8>) -> Result<ServerSession, TargetError> {
        let vardiff = cfg.vardiff.map(|v| Vardiff::new(v, cfg.difficulty));
        let difficulty = vardiff.as_ref().map_or(cfg.difficulty, Vardiff::difficulty);
        let (target, _) = cfg.difficulty_message.announce(difficulty)?;
        Ok(ServerSession {
            cfg,
            nonce1,
            subscribed: false,
            extranonce_subscribed: false,
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

    /// Sets the pool-scale difficulty for jobs sent from now on and queues its announcement
    /// ([`DifficultyMessage`]).
    ///
    /// # Errors
    /// When `d` gives no usable target.
    pub fn set_difficulty(&mut self, d: f64) -> Result<(), TargetError> {
        let (target, lines) = self.cfg.difficulty_message.announce(d)?;
        self.target = target;
        self.difficulty = d;
        self.outgoing.extend(lines);
        Ok(())
    }

    /// Whether `mining.set_extranonce` may be sent: the miner subscribed to the pool and to
    /// extranonce changes, and the pool agreed (NiceHash sends it only then; a miner that did
    /// not ask may not understand it).
    pub fn wants_extranonce(&self) -> bool {
        self.subscribed && self.extranonce_subscribed
    }

    /// Queues `client.reconnect` to `host:port` after `wait_s` seconds (the miner leaves; the
    /// pool does not close the connection itself).
    pub fn reconnect(&mut self, host: &str, port: u16, wait_s: u64) {
        self.outgoing.push(
            Message::notification(
                "client.reconnect",
                vec![json!(host), json!(port), json!(wait_s)],
            )
            .to_line(),
        );
    }

    /// Queues `mining.set_extranonce`; the new `NONCE_1` applies to jobs sent from now on.
    /// Callers check [`ServerSession::wants_extranonce`] first.
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
                    ExtranonceMode::Supported => {
                        self.extranonce_subscribed = true;
                        self.reply(r.id, Ok(json!(true)));
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equihash::Params;
    use crate::stratum::difficulty::target_from_difficulty;
    use crate::stratum::job::solution_with_length;
    use crate::stratum::pool::JobBook;
    use crate::stratum::templates;

    /// A session on block 400000's template with the `NONCE_1` of its real nonce, subscribed
    /// and authorized, holding job "1"; and block 400000's share as a submit line for `job_id`.
    fn session_on_block_400000() -> (ServerSession, JobBook, impl Fn(&str) -> String, u64) {
        session_with(None)
    }

    /// [`session_on_block_400000`] with `vardiff`.
    fn session_with(
        vardiff: Option<VardiffConfig>,
    ) -> (ServerSession, JobBook, impl Fn(&str) -> String, u64) {
        let tpl = templates::recorded().remove(0);
        let mut book = JobBook::default();
        let job =
            book.push(|id| PoolJob::from_header_prefix(id, &tpl.prefix, Params::ZELHASH, true));
        let (nonce, sol) = tpl.solutions[0].clone();
        let cfg = ServerConfig {
            difficulty: 1.0,
            vardiff,
            extranonce: ExtranonceMode::default(),
            difficulty_message: DifficultyMessage::SetTarget,
        };
        let mut s = ServerSession::new(cfg, nonce[..4].to_vec()).unwrap();
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

    /// Interop fault 7: vardiff never runs for a connection that has not subscribed: half an
    /// hour of submits a second apart get 25 each, and never a `set_target`.
    #[test]
    fn vardiff_ignores_connections_that_never_subscribed() {
        let book = JobBook::default();
        let cfg = ServerConfig {
            difficulty: 1.0,
            vardiff: Some(VardiffConfig::default()),
            extranonce: ExtranonceMode::default(),
            difficulty_message: DifficultyMessage::SetTarget,
        };
        let mut s = ServerSession::new(cfg, vec![1, 2, 3, 4]).unwrap();
        s.on_line(
            r#"{"id":1,"method":"mining.authorize","params":["w","x"]}"#,
            &book,
            0,
            0,
        );
        s.take_outgoing();
        for second in 1..=1800 {
            let submit =
                r#"{"id":2,"method":"mining.submit","params":["w","1","00000000","00","00"]}"#;
            s.on_line(submit, &book, second, second * 1000);
            assert_eq!(
                s.take_outgoing(),
                vec![r#"{"error":[25,"Not subscribed",null],"id":2,"result":null}"#]
            );
        }
    }

    /// Vardiff retargets on the share, not on a timer: a share a second at difficulty 1 (the
    /// first starts the clock) is answered, then followed by `set_target` for 15 (15 s wanted, 1 s
    /// seen) and a re-issue of the job, on the share that ends the first 30 s.
    #[test]
    fn vardiff_retargets_on_the_share() {
        let (mut s, mut book, submit, now) = session_with(Some(VardiffConfig::default()));
        for second in 0..=30u64 {
            let current = book.current().unwrap();
            let job = book.push(|id| {
                let mut j = (*current).clone();
                j.notify.job_id = id;
                j.notify.clean = false;
                j
            });
            s.send_job(&job);
            s.take_outgoing();
            let ev = s.on_line(&submit(&job.notify.job_id), &book, now, second * 1000);
            assert!(accepted(&ev[..1]), "{ev:?}");
            if second < 30 {
                assert_eq!(ev.len(), 1, "{second}: {ev:?}");
            } else {
                assert_eq!(ev[1], ServerEvent::Retarget { difficulty: 15.0 });
                let out = s.take_outgoing();
                assert_eq!(out.len(), 3, "{out:?}");
                assert_eq!(out[0], r#"{"error":null,"id":9,"result":true}"#);
                let want =
                    target_to_be_hex(target_from_difficulty(15.0, DifficultyScale::Pool).unwrap());
                assert_eq!(
                    out[1],
                    format!(r#"{{"id":null,"method":"mining.set_target","params":["{want}"]}}"#)
                );
                assert!(out[2].contains("mining.notify"), "{out:?}");
            }
        }
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
            difficulty_message: DifficultyMessage::SetTarget,
        };
        let mut s = ServerSession::new(cfg, vec![1, 2, 3, 4]).unwrap();
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

    fn bare_session(cfg_with: impl FnOnce(&mut ServerConfig)) -> ServerSession {
        let mut cfg = ServerConfig {
            difficulty: 0.05,
            vardiff: None,
            extranonce: ExtranonceMode::Supported,
            difficulty_message: DifficultyMessage::SetTarget,
        };
        cfg_with(&mut cfg);
        ServerSession::new(cfg, vec![1, 2, 3, 4]).unwrap()
    }

    /// Interop fault 9: the difficulty is announced as configured, and the target the pool then
    /// judges by is the one a miner derives from the announcement on its scale.
    #[test]
    fn difficulty_is_announced_as_configured() {
        let pool_target = target_from_difficulty(0.05, DifficultyScale::Pool).unwrap();
        let set_target = format!(
            r#"{{"id":null,"method":"mining.set_target","params":["{}"]}}"#,
            target_to_be_hex(pool_target)
        );
        let (t, lines) = DifficultyMessage::SetTarget.announce(0.05).unwrap();
        assert_eq!((t, lines), (pool_target, vec![set_target]));
        let pool_scale = DifficultyMessage::SetDifficulty(DifficultyScale::Pool);
        assert_eq!(
            pool_scale.announce(0.05).unwrap(),
            (
                pool_target,
                vec![r#"{"id":null,"method":"mining.set_difficulty","params":[0.05]}"#.into()]
            )
        );
        // yiimp's scale: ≈ 32 × the pool's (0.05 → 1.599975…), judged by 00ffff·2^224 / D.
        let cc = difficulty_in_scale(0.05, DifficultyScale::Ccminer);
        assert!((cc - 1.6).abs() < 1e-4, "{cc}");
        let cc_target = target_from_difficulty(cc, DifficultyScale::Ccminer).unwrap();
        let set_difficulty =
            format!(r#"{{"id":null,"method":"mining.set_difficulty","params":[{cc}]}}"#);
        let both = DifficultyMessage::Both(DifficultyScale::Ccminer);
        let (t, lines) = both.announce(0.05).unwrap();
        assert_eq!(t, cc_target);
        assert_eq!(
            lines,
            vec![
                set_difficulty,
                format!(
                    r#"{{"id":null,"method":"mining.set_target","params":["{}"]}}"#,
                    target_to_be_hex(cc_target)
                )
            ]
        );
        // The session sends it at subscribe.
        let mut s = bare_session(|c| c.difficulty_message = both);
        s.on_line(
            r#"{"id":1,"method":"mining.subscribe","params":[]}"#,
            &JobBook::default(),
            0,
            0,
        );
        assert_eq!(&s.take_outgoing()[1..], &lines[..]);
    }

    /// Interop fault 9: `set_extranonce` only goes to connections that subscribed to it and were
    /// told `true`; `client.reconnect` is sent as `[HOST, PORT, WAIT]`.
    #[test]
    fn set_extranonce_only_to_subscribers_and_reconnect_line() {
        let book = JobBook::default();
        let subscribe = r#"{"id":1,"method":"mining.subscribe","params":[]}"#;
        let xnsub = r#"{"id":2,"method":"mining.extranonce.subscribe","params":[]}"#;
        let cases = [
            (ExtranonceMode::Supported, vec![subscribe, xnsub], true),
            (ExtranonceMode::Supported, vec![subscribe], false),
            (ExtranonceMode::Supported, vec![xnsub, subscribe], false),
            (ExtranonceMode::NotSupported, vec![subscribe, xnsub], false),
            (ExtranonceMode::Ignore, vec![subscribe, xnsub], false),
        ];
        for (mode, lines, wants) in cases {
            let mut s = bare_session(|c| c.extranonce = mode);
            for l in &lines {
                s.on_line(l, &book, 0, 0);
            }
            assert_eq!(s.wants_extranonce(), wants, "{mode:?} {lines:?}");
        }
        let mut s = bare_session(|_| {});
        s.reconnect("pool.example", 3334, 5);
        assert_eq!(
            s.take_outgoing(),
            vec![r#"{"id":null,"method":"client.reconnect","params":["pool.example",3334,5]}"#]
        );
    }
}
