//! A fluxd JSON-RPC endpoint as a [`ChainSource`]: headers and raw blocks over plain HTTP
//! (`reqwest`), in JSON-RPC 1.0 batches (one HTTP request per [`RpcConfig::batch`] calls).
//!
//! - Auth is HTTP basic, with a user and password or with fluxd's cookie file
//!   (`<datadir>/.cookie`, `__cookie__:password`), read when the client is made.
//! - Transport errors, timeouts and 5xx statuses without a JSON-RPC error are retried
//!   ([`RpcConfig::tries`], doubling [`RpcConfig::backoff`]); nothing else is.
//! - Every reply is checked before use: a body over [`RpcConfig::max_body`] is refused unread,
//!   batch replies are matched to their calls by id, hex is decoded and parsed with the crate's
//!   decoders, and every header and block must hash to the hash it was asked by.
//! - fluxd answers a single call that fails with HTTP 500 (404 for an unknown method) and the
//!   error object in the body, a batch with HTTP 200 and one error object per failed call; both
//!   become [`RpcError::Rpc`].
//!
//! [`ChainSource::headers`] finds the fork point once (verbose `getblockheader` of every
//! locator hash in one batch), then remembers the last header it handed out: a sync that
//! passes that hash first costs two requests per batch of headers (`getblockhash` ×n with
//! `getblockcount`, then raw `getblockheader` ×n).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use thiserror::Error;
use tracing::debug;

use super::source::ChainSource;
use crate::consensus::BlockHash;
use crate::consensus::block::Block;
use crate::consensus::header::Header;

/// Calls per HTTP request for hashes and headers, by default.
pub const DEFAULT_BATCH: usize = 500;
/// Blocks per HTTP request, by default: 8 blocks of fluxd's 2 MB limit are 32 MiB of hex.
pub const DEFAULT_BLOCK_BATCH: usize = 8;
/// The largest reply body read, by default.
pub const DEFAULT_MAX_BODY: usize = 64 << 20;
/// fluxd's `RPC_INVALID_ADDRESS_OR_KEY`: an unknown block hash.
pub const CODE_NOT_FOUND: i64 = -5;
/// fluxd's `RPC_INVALID_PARAMETER`: among others, a height above the tip.
pub const CODE_OUT_OF_RANGE: i64 = -8;

/// How to authenticate to fluxd.
#[derive(Clone)]
pub enum RpcAuth {
    /// No `Authorization` header.
    None,
    /// `rpcuser` and `rpcpassword`.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// The cookie file fluxd writes at start-up (`<datadir>/.cookie`).
    Cookie(PathBuf),
}

impl std::fmt::Debug for RpcAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcAuth::None => f.write_str("None"),
            RpcAuth::UserPassword { user, .. } => write!(f, "UserPassword({user}, ***)"),
            RpcAuth::Cookie(p) => write!(f, "Cookie({})", p.display()),
        }
    }
}

/// Settings of a fluxd JSON-RPC client.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// The endpoint, `http://host:port`.
    pub url: String,
    /// How to authenticate.
    pub auth: RpcAuth,
    /// The longest one HTTP request may take, connection and reply body included.
    pub timeout: Duration,
    /// Attempts per request (at least 1) when the transport fails or the node answers 5xx.
    pub tries: u32,
    /// The wait before the first retry; it doubles with each retry.
    pub backoff: Duration,
    /// Calls per HTTP request for hashes and headers (at least 1).
    pub batch: usize,
    /// Calls per HTTP request for raw blocks (at least 1).
    pub block_batch: usize,
    /// The largest reply body read; a larger one is refused.
    pub max_body: usize,
}

impl RpcConfig {
    /// The defaults for `url` and `auth`: 30 s timeout, 3 tries from 250 ms, batches of
    /// [`DEFAULT_BATCH`] and [`DEFAULT_BLOCK_BATCH`], bodies up to [`DEFAULT_MAX_BODY`].
    pub fn new(url: impl Into<String>, auth: RpcAuth) -> RpcConfig {
        RpcConfig {
            url: url.into(),
            auth,
            timeout: Duration::from_secs(30),
            tries: 3,
            backoff: Duration::from_millis(250),
            batch: DEFAULT_BATCH,
            block_batch: DEFAULT_BLOCK_BATCH,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// What went wrong talking to fluxd; every message names what was asked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The configured URL is not an `http://` URL.
    #[error("rpc url {url:?}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// Why it is refused.
        why: String,
    },
    /// The cookie file could not be read.
    #[error("rpc cookie file {}: {source}", path.display())]
    Cookie {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The cookie file has no `user:password`.
    #[error("rpc cookie file {}: no ':' between user and password", path.display())]
    CookieFormat {
        /// The file.
        path: PathBuf,
    },
    /// The HTTP request failed (connection refused, reset, bad HTTP).
    #[error("rpc {what}: {source}")]
    Transport {
        /// What was asked.
        what: String,
        /// Why.
        source: reqwest::Error,
    },
    /// No complete reply within the timeout.
    #[error("rpc {what}: no complete reply within {after:?}")]
    Timeout {
        /// What was asked.
        what: String,
        /// The timeout.
        after: Duration,
    },
    /// HTTP 401: wrong user or password, or a stale cookie.
    #[error(
        "rpc {what}: authentication failed (HTTP 401): check the rpc user and password or the cookie file"
    )]
    Auth {
        /// What was asked.
        what: String,
    },
    /// Another HTTP status without a JSON-RPC error in the body.
    #[error("rpc {what}: HTTP status {status}")]
    Status {
        /// What was asked.
        what: String,
        /// The status code.
        status: u16,
    },
    /// The node answered with a JSON-RPC error object.
    #[error("rpc {what}: the node answered error {code}: {message}")]
    Rpc {
        /// What was asked.
        what: String,
        /// The error code (e.g. [`CODE_NOT_FOUND`]).
        code: i64,
        /// The node's message.
        message: String,
    },
    /// The reply body is larger than [`RpcConfig::max_body`].
    #[error("rpc {what}: reply body over the limit of {limit} bytes")]
    TooLarge {
        /// What was asked.
        what: String,
        /// The limit.
        limit: usize,
    },
    /// A reply that is not what was asked for: bad JSON, a missing id, bad hex, a header or
    /// block that does not parse, a wrong number of replies.
    #[error("rpc {what}: malformed reply: {why}")]
    Malformed {
        /// What was asked.
        what: String,
        /// What is wrong.
        why: String,
    },
    /// A header or block that hashes to another hash than the one asked.
    #[error("rpc {what}: the node sent {got} instead")]
    WrongHash {
        /// What was asked.
        what: String,
        /// The hash of what came back.
        got: BlockHash,
    },
    /// No locator hash is on the node's main chain.
    #[error(
        "rpc headers after a locator of {count} hashes: none is on the node's main chain (another network?)"
    )]
    NoFork {
        /// The locator's length.
        count: usize,
    },
    /// The node's main chain kept changing under the requests.
    #[error("rpc {what}: the node's main chain changed during the request; try again")]
    Moved {
        /// What was asked.
        what: String,
    },
}

impl RpcError {
    /// The JSON-RPC error code, for [`RpcError::Rpc`].
    pub fn code(&self) -> Option<i64> {
        match self {
            RpcError::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    fn malformed(what: &str, why: impl Into<String>) -> RpcError {
        RpcError::Malformed {
            what: what.to_string(),
            why: why.into(),
        }
    }
}

/// Where a block header sits, from verbose `getblockheader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Its height.
    pub height: u32,
    /// Blocks on top of it on the main chain plus one; -1 when it is not on the main chain.
    pub confirmations: i64,
}

/// One JSON-RPC call.
struct Call {
    method: &'static str,
    params: Value,
}

impl Call {
    fn new(method: &'static str, params: Value) -> Call {
        Call { method, params }
    }

    fn describe(&self) -> String {
        let params = self.params.as_array().map_or(String::new(), |a| {
            a.iter().map(Value::to_string).collect::<Vec<_>>().join(" ")
        });
        format!("{} {params}", self.method).trim_end().to_string()
    }
}

/// A batch's calls, named for error messages.
fn describe_batch(calls: &[Call]) -> String {
    match calls {
        [] => "an empty batch".to_string(),
        [one] => one.describe(),
        [first, .., last] => format!(
            "a batch of {} calls ({} … {})",
            calls.len(),
            first.describe(),
            last.describe()
        ),
    }
}

/// One call's outcome: its result, or the node's error object (code, message).
type Outcome = Result<Value, (i64, String)>;

/// The outcome of a reply object (`result`, `error`, `id`).
fn outcome(reply: &Value) -> Result<Outcome, String> {
    let obj = reply.as_object().ok_or("a reply that is not an object")?;
    match obj.get("error") {
        None | Some(Value::Null) => Ok(Ok(obj.get("result").cloned().unwrap_or(Value::Null))),
        Some(e) => {
            let code = e["code"].as_i64().ok_or("an error object without a code")?;
            let message = e["message"].as_str().unwrap_or_default().to_string();
            Ok(Err((code, message)))
        }
    }
}

/// A reply's id as a position in a batch of `n`.
fn reply_index(reply: &Value, n: usize) -> Result<usize, String> {
    let id = reply.get("id").ok_or("a reply without an id")?;
    id.as_u64()
        .and_then(|i| usize::try_from(i).ok())
        .filter(|&i| i < n)
        .ok_or_else(|| format!("a reply with id {}, not one of the {n} asked", short(id)))
}

/// Orders a batch reply by id: one outcome per call.
fn batch_outcomes(reply: &Value, n: usize) -> Result<Vec<Outcome>, String> {
    let replies = reply.as_array().ok_or("not an array of replies")?;
    if replies.len() != n {
        return Err(format!("{} replies to {n} calls", replies.len()));
    }
    let mut out: Vec<Option<Outcome>> = vec![None; n];
    for r in replies {
        let i = reply_index(r, n)?;
        if out[i].replace(outcome(r)?).is_some() {
            return Err(format!("two replies with id {i}"));
        }
    }
    Ok(out
        .into_iter()
        .map(|o| o.expect("n distinct ids below n"))
        .collect())
}

/// A value for an error message, cut short.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

fn as_hex(v: &Value) -> Result<Vec<u8>, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{} is not a hex string", short(v)))?;
    hex::decode(s).map_err(|e| format!("bad hex: {e}"))
}

fn as_hash(v: &Value) -> Result<BlockHash, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{} is not a block hash", short(v)))?;
    BlockHash::from_display_hex(s).map_err(|e| format!("bad block hash {s:.80}: {e}"))
}

fn as_height(v: &Value) -> Result<u32, String> {
    v.as_u64()
        .and_then(|h| u32::try_from(h).ok())
        .ok_or_else(|| format!("{} is not a height", short(v)))
}

fn as_header_info(v: &Value) -> Result<HeaderInfo, String> {
    let confirmations = v["confirmations"]
        .as_i64()
        .ok_or("no integer confirmations")?;
    Ok(HeaderInfo {
        height: as_height(&v["height"])?,
        confirmations,
    })
}

/// Reads `user:password` from fluxd's cookie file.
fn read_cookie(path: &Path) -> Result<(String, String), RpcError> {
    let text = std::fs::read_to_string(path).map_err(|source| RpcError::Cookie {
        path: path.to_path_buf(),
        source,
    })?;
    let (user, password) =
        text.trim_end()
            .split_once(':')
            .ok_or_else(|| RpcError::CookieFormat {
                path: path.to_path_buf(),
            })?;
    Ok((user.to_string(), password.to_string()))
}

/// Why one HTTP attempt failed, and whether another is worth it.
enum Attempt {
    Retry(RpcError),
    Fail(RpcError),
}

/// The block the next headers follow: a hash and its height on the node's main chain.
type Fork = (BlockHash, u32);

/// A fluxd JSON-RPC client.
pub struct RpcClient {
    http: reqwest::Client,
    url: reqwest::Url,
    cfg: RpcConfig,
    creds: Option<(String, String)>,
    /// The last header [`ChainSource::headers`] handed out (or its fork point at the tip).
    last: Option<Fork>,
    /// The node's block count, as last seen.
    count: Option<u32>,
}

impl RpcClient {
    /// A client for `cfg` (reads the cookie file now; connects on the first call).
    ///
    /// # Errors
    /// [`RpcError::Url`], [`RpcError::Cookie`], [`RpcError::CookieFormat`], or
    /// [`RpcError::Transport`] when the HTTP client cannot be built.
    pub fn new(mut cfg: RpcConfig) -> Result<RpcClient, RpcError> {
        let url = parse_url(&cfg.url)?;
        let creds = match &cfg.auth {
            RpcAuth::None => None,
            RpcAuth::UserPassword { user, password } => Some((user.clone(), password.clone())),
            RpcAuth::Cookie(path) => Some(read_cookie(path)?),
        };
        cfg.tries = cfg.tries.max(1);
        cfg.batch = cfg.batch.max(1);
        cfg.block_batch = cfg.block_batch.max(1);
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .no_proxy()
            .build()
            .map_err(|source| RpcError::Transport {
                what: "building the HTTP client".to_string(),
                source,
            })?;
        Ok(RpcClient {
            http,
            url,
            cfg,
            creds,
            last: None,
            count: None,
        })
    }

    /// `getblockcount`: the height of the node's tip.
    ///
    /// # Errors
    /// An [`RpcError`].
    pub async fn block_count(&self) -> Result<u32, RpcError> {
        self.call(Call::new("getblockcount", json!([])), as_height)
            .await
    }

    /// `getblockhash height`.
    ///
    /// # Errors
    /// An [`RpcError`]; [`CODE_OUT_OF_RANGE`] above the tip.
    pub async fn block_hash(&self, height: u32) -> Result<BlockHash, RpcError> {
        self.call(Call::new("getblockhash", json!([height])), as_hash)
            .await
    }

    /// `getblockheader hash true`: the header's height and confirmations.
    ///
    /// # Errors
    /// An [`RpcError`]; [`CODE_NOT_FOUND`] for an unknown hash.
    pub async fn header_info(&self, hash: BlockHash) -> Result<HeaderInfo, RpcError> {
        let call = Call::new("getblockheader", json!([hash.to_display_hex(), true]));
        self.call(call, as_header_info).await
    }

    /// `getblockhash` of each height, [`RpcConfig::batch`] per HTTP request.
    ///
    /// # Errors
    /// An [`RpcError`], the first one.
    pub async fn block_hashes(&self, heights: &[u32]) -> Result<Vec<BlockHash>, RpcError> {
        let calls = heights
            .iter()
            .map(|h| Call::new("getblockhash", json!([h])))
            .collect();
        self.batch_all(calls, self.cfg.batch, as_hash).await
    }

    /// `getblockheader hash false` of each hash (fluxd's raw hex form), [`RpcConfig::batch`]
    /// per HTTP request, parsed; each header must hash to the hash asked.
    ///
    /// # Errors
    /// An [`RpcError`], the first one.
    pub async fn raw_headers(&self, hashes: &[BlockHash]) -> Result<Vec<Header>, RpcError> {
        let calls = hashes
            .iter()
            .map(|h| Call::new("getblockheader", json!([h.to_display_hex(), false])))
            .collect();
        let raw = self.batch_all(calls, self.cfg.batch, as_hex).await?;
        hashes
            .iter()
            .zip(raw)
            .map(|(hash, bytes)| parse_header(*hash, &bytes))
            .collect()
    }

    /// `getblock hash 0` of each hash (the serialized block), [`RpcConfig::block_batch`] per
    /// HTTP request; each must parse as a block whose header hashes to the hash asked.
    ///
    /// # Errors
    /// An [`RpcError`], the first one.
    pub async fn raw_blocks(&self, hashes: &[BlockHash]) -> Result<Vec<Vec<u8>>, RpcError> {
        let calls = hashes
            .iter()
            .map(|h| Call::new("getblock", json!([h.to_display_hex(), 0])))
            .collect();
        let raw = self.batch_all(calls, self.cfg.block_batch, as_hex).await?;
        for (hash, bytes) in hashes.iter().zip(&raw) {
            check_block(*hash, bytes)?;
        }
        Ok(raw)
    }

    /// One call; its result decoded by `decode`.
    async fn call<T>(
        &self,
        call: Call,
        decode: impl Fn(&Value) -> Result<T, String>,
    ) -> Result<T, RpcError> {
        let what = call.describe();
        let body = json!({"jsonrpc": "1.0", "id": 0, "method": call.method, "params": call.params});
        let reply = self.post(&body, &what).await?;
        match reply_index(&reply, 1).and_then(|_| outcome(&reply)) {
            Err(why) => Err(RpcError::malformed(&what, why)),
            Ok(Err((code, message))) => Err(RpcError::Rpc {
                what,
                code,
                message,
            }),
            Ok(Ok(v)) => decode(&v).map_err(|why| RpcError::malformed(&what, why)),
        }
    }

    /// `calls` in batches of `size`, every result decoded by `decode`; any error object fails.
    async fn batch_all<T>(
        &self,
        calls: Vec<Call>,
        size: usize,
        decode: impl Fn(&Value) -> Result<T, String>,
    ) -> Result<Vec<T>, RpcError> {
        let mut out = Vec::with_capacity(calls.len());
        for chunk in calls.chunks(size) {
            for (call, o) in chunk.iter().zip(self.batch(chunk).await?) {
                out.push(decode_outcome(call, o, &decode)?);
            }
        }
        Ok(out)
    }

    /// One HTTP request of `calls`: their outcomes in call order.
    async fn batch(&self, calls: &[Call]) -> Result<Vec<Outcome>, RpcError> {
        let what = describe_batch(calls);
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(id, c)| json!({"jsonrpc": "1.0", "id": id, "method": c.method, "params": c.params}))
            .collect();
        let reply = self.post(&Value::Array(body), &what).await?;
        if reply.is_object() {
            // fluxd refused the batch as a whole.
            if let Ok(Err((code, message))) = outcome(&reply) {
                return Err(RpcError::Rpc {
                    what,
                    code,
                    message,
                });
            }
        }
        batch_outcomes(&reply, calls.len()).map_err(|why| RpcError::malformed(&what, why))
    }

    /// Posts `body` and returns the reply's JSON, retrying what is worth retrying.
    async fn post(&self, body: &Value, what: &str) -> Result<Value, RpcError> {
        let mut delay = self.cfg.backoff;
        let mut attempt = 1;
        loop {
            match self.post_once(body, what).await {
                Ok(v) => return Ok(v),
                Err(Attempt::Retry(e)) if attempt < self.cfg.tries => {
                    debug!("{e}; retrying in {delay:?} (attempt {attempt})");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
                Err(Attempt::Retry(e) | Attempt::Fail(e)) => return Err(e),
            }
        }
    }

    /// One HTTP attempt. A non-2xx reply whose body is JSON-RPC is returned as it is: fluxd
    /// sends failed calls with 500 or 404.
    async fn post_once(&self, body: &Value, what: &str) -> Result<Value, Attempt> {
        let mut req = self.http.post(self.url.clone()).json(body);
        if let Some((user, password)) = &self.creds {
            req = req.basic_auth(user, Some(password));
        }
        let resp = req.send().await.map_err(|e| self.transport(what, e))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(Attempt::Fail(RpcError::Auth {
                what: what.to_string(),
            }));
        }
        let bytes = self.read_body(resp, what).await?;
        let json = serde_json::from_slice::<Value>(&bytes);
        match json {
            Ok(v) if status.is_success() || carries_error(&v) => Ok(v),
            Err(e) if status.is_success() => Err(Attempt::Fail(RpcError::malformed(
                what,
                format!("not JSON: {e}"),
            ))),
            _ => {
                let e = RpcError::Status {
                    what: what.to_string(),
                    status: status.as_u16(),
                };
                Err(if status.is_server_error() {
                    Attempt::Retry(e)
                } else {
                    Attempt::Fail(e)
                })
            }
        }
    }

    /// The reply body, refused past [`RpcConfig::max_body`].
    async fn read_body(&self, mut resp: reqwest::Response, what: &str) -> Result<Vec<u8>, Attempt> {
        let limit = self.cfg.max_body;
        let too_large = || {
            Attempt::Fail(RpcError::TooLarge {
                what: what.to_string(),
                limit,
            })
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(what, e))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport(&self, what: &str, e: reqwest::Error) -> Attempt {
        let what = what.to_string();
        Attempt::Retry(if e.is_timeout() {
            RpcError::Timeout {
                what,
                after: self.cfg.timeout,
            }
        } else {
            RpcError::Transport { what, source: e }
        })
    }

    /// The headers after the first locator hash on the node's main chain.
    async fn headers_after(&mut self, locator: &[BlockHash]) -> Result<Vec<Header>, RpcError> {
        let mut fork = match self.last.filter(|(h, _)| locator.first() == Some(h)) {
            Some(f) => f,
            None => self.locate(locator).await?,
        };
        let mut hashes = self.hashes_after(fork).await?;
        for _ in 0..2 {
            if hashes.is_some() {
                break;
            }
            // The fork left the main chain since it was found: find it again.
            fork = self.locate(locator).await?;
            hashes = self.hashes_after(fork).await?;
        }
        let hashes = hashes.ok_or_else(|| RpcError::Moved {
            what: format!("headers after {} at height {}", fork.0, fork.1),
        })?;
        let headers = self.raw_headers(&hashes).await?;
        self.last = Some(
            hashes
                .last()
                .map_or(fork, |h| (*h, fork.1 + hashes.len() as u32)),
        );
        Ok(headers)
    }

    /// The first locator hash on the node's main chain, with its height: verbose
    /// `getblockheader` of every locator hash, in batches; unknown hashes are skipped.
    async fn locate(&self, locator: &[BlockHash]) -> Result<Fork, RpcError> {
        for chunk in locator.chunks(self.cfg.batch) {
            let calls: Vec<Call> = chunk
                .iter()
                .map(|h| Call::new("getblockheader", json!([h.to_display_hex(), true])))
                .collect();
            for ((hash, call), o) in chunk.iter().zip(&calls).zip(self.batch(&calls).await?) {
                if matches!(o, Err((CODE_NOT_FOUND, _))) {
                    continue;
                }
                let info = decode_outcome(call, o, &as_header_info)?;
                if info.confirmations >= 0 {
                    return Ok((*hash, info.height));
                }
            }
        }
        Err(RpcError::NoFork {
            count: locator.len(),
        })
    }

    /// The main-chain hashes after `fork`, up to a batch (one request, two when the count
    /// last seen was stale); `None` when `fork` is no longer on the main chain.
    async fn hashes_after(&mut self, fork: Fork) -> Result<Option<Vec<BlockHash>>, RpcError> {
        loop {
            let ahead = match self.count {
                Some(c) => c.saturating_sub(fork.1).min(self.cfg.batch as u32),
                None => self.cfg.batch as u32,
            };
            let Some(hashes) = self.range(fork, ahead).await? else {
                return Ok(None);
            };
            let grew = self.count.is_some_and(|c| c > fork.1);
            if ahead > 0 || !grew {
                return Ok(Some(hashes));
            }
        }
    }

    /// One batch: `getblockcount`, `getblockhash` of the fork's height (still the fork?) and
    /// of the `ahead` heights after it. Heights above the tip ([`CODE_OUT_OF_RANGE`]) end the
    /// list; `None` when the fork's height holds another hash or none.
    async fn range(&mut self, fork: Fork, ahead: u32) -> Result<Option<Vec<BlockHash>>, RpcError> {
        let mut calls = vec![
            Call::new("getblockcount", json!([])),
            Call::new("getblockhash", json!([fork.1])),
        ];
        calls.extend((1..=ahead).map(|i| Call::new("getblockhash", json!([fork.1 + i]))));
        let mut outcomes = self.batch(&calls).await?.into_iter();
        let count = outcomes.next().expect("a reply per call");
        self.count = Some(decode_outcome(&calls[0], count, &as_height)?);
        let mut hashes = Vec::with_capacity(ahead as usize + 1);
        for (call, o) in calls[1..].iter().zip(outcomes) {
            if matches!(o, Err((CODE_OUT_OF_RANGE, _))) {
                break;
            }
            hashes.push(decode_outcome(call, o, &as_hash)?);
        }
        if hashes.first() != Some(&fork.0) {
            return Ok(None);
        }
        hashes.remove(0);
        Ok(Some(hashes))
    }
}

/// Whether a JSON reply carries a JSON-RPC error (fluxd's non-2xx replies to failed calls).
fn carries_error(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.get("error").is_some_and(|e| !e.is_null()),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// One outcome decoded, or its error object as [`RpcError::Rpc`].
fn decode_outcome<T>(
    call: &Call,
    o: Outcome,
    decode: &impl Fn(&Value) -> Result<T, String>,
) -> Result<T, RpcError> {
    match o {
        Err((code, message)) => Err(RpcError::Rpc {
            what: call.describe(),
            code,
            message,
        }),
        Ok(v) => decode(&v).map_err(|why| RpcError::malformed(&call.describe(), why)),
    }
}

/// A raw header that must hash to `hash`.
fn parse_header(hash: BlockHash, bytes: &[u8]) -> Result<Header, RpcError> {
    let what = || format!("getblockheader \"{hash}\" false");
    let header =
        Header::from_bytes(bytes).map_err(|e| RpcError::malformed(&what(), e.to_string()))?;
    let got = header.block_hash();
    if got != hash {
        return Err(RpcError::WrongHash { what: what(), got });
    }
    Ok(header)
}

/// A raw block that must parse and hash to `hash`.
fn check_block(hash: BlockHash, bytes: &[u8]) -> Result<(), RpcError> {
    let what = || format!("getblock \"{hash}\" 0");
    let block =
        Block::from_bytes(bytes).map_err(|e| RpcError::malformed(&what(), e.to_string()))?;
    let got = block.header.block_hash();
    if got != hash {
        return Err(RpcError::WrongHash { what: what(), got });
    }
    Ok(())
}

/// The endpoint: `http://` only (this build has no TLS for RPC).
fn parse_url(url: &str) -> Result<reqwest::Url, RpcError> {
    let bad = |why: String| RpcError::Url {
        url: url.to_string(),
        why,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    if parsed.scheme() != "http" {
        return Err(bad(format!(
            "scheme {:?}: only http:// is supported",
            parsed.scheme()
        )));
    }
    Ok(parsed)
}

impl ChainSource for RpcClient {
    type Error = RpcError;

    fn name(&self) -> String {
        let mut shown = self.url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        format!("rpc {shown}")
    }

    async fn headers(&mut self, locator: &[BlockHash]) -> Result<Vec<Header>, RpcError> {
        self.headers_after(locator).await
    }

    async fn blocks(&mut self, hashes: &[BlockHash]) -> Result<Vec<Vec<u8>>, RpcError> {
        self.raw_blocks(hashes).await
    }
}
