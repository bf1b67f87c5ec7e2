//! The miner's HTTP API (axum, on the miner's tokio runtime).
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the dashboard: one static page, no build step, no CDN (`assets/dashboard.html`) |
//! | `GET /v1/status` | [`Status`]: per device Sol/s over 10 s / 60 s / 15 min, nonces/s, shares, compute errors, sensors, Sol/W; the pool and its estimate ±σ |
//! | `GET /v1/history` | Sol/s per device, one point per 10 s over the last hour |
//! | `GET /summary` | lolMiner's `/summary` layout ([`lolminer`]) |
//! | `GET /hiveos` | `khs` and `stats` for HiveOS's `h-stats.sh` ([`hiveos`]) |
//! | `GET /metrics` | Prometheus text ([`metrics`]) |
//! | `POST /v1/pause`, `POST /v1/resume` | stop and restart mining (the pool connection stays up) |
//!
//! Access: bound to loopback by default. A bind on any other address needs a token
//! ([`ApiConfig::token`]), and then every route asks for `Authorization: Bearer TOKEN` (the
//! dashboard page also takes `/?token=TOKEN`, which its requests then send as the header). The
//! control routes always need the token: without one configured they answer 403.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::miner::status::{HISTORY_STEP_MS, HistoryPoint, Status, hiveos, lolminer, metrics};

/// The dashboard page.
const DASHBOARD: &str = include_str!("../../assets/dashboard.html");

/// What the miner publishes once per refresh for the API to serve.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Published {
    /// The status document.
    pub status: Status,
    /// The last hour of Sol/s per device.
    pub history: Vec<HistoryPoint>,
}

/// Where and how the API listens.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// The Bearer token: required on every route when set, and for control.
    pub token: Option<String>,
}

/// Why the API could not start.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A bind beyond loopback without a token.
    #[error(
        "the API on {0} would be reachable from other machines: set --api-token, or bind to \
         127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    /// An empty token.
    #[error("--api-token must not be empty")]
    EmptyToken,
    /// The address could not be bound.
    #[error(
        "API: cannot listen on {addr}: {source} (another miner running? use --api ADDR:PORT, or --api 0 to turn it off)"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A running API.
#[derive(Debug)]
pub struct ApiHandle {
    /// The bound address.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ApiHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct AppState {
    published: watch::Receiver<Published>,
    token: Option<Arc<str>>,
    paused: Arc<AtomicBool>,
}

/// Starts the API: serves what is sent on `published`; the control routes set `paused`.
///
/// # Errors
/// [`ApiError`] when the settings are unsafe or the address cannot be bound.
pub async fn start(
    cfg: ApiConfig,
    published: watch::Receiver<Published>,
    paused: Arc<AtomicBool>,
) -> Result<ApiHandle, ApiError> {
    if cfg.token.as_deref() == Some("") {
        return Err(ApiError::EmptyToken);
    }
    if !cfg.listen.ip().is_loopback() && cfg.token.is_none() {
        return Err(ApiError::TokenRequired(cfg.listen));
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| ApiError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ApiError::Bind {
        addr: cfg.listen,
        source,
    })?;
    let state = AppState {
        published,
        token: cfg.token.map(Arc::from),
        paused,
    };
    let app = router(state);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("API server stopped: {e}");
        }
    });
    Ok(ApiHandle { addr, task })
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/v1/status", get(status))
        .route("/v1/history", get(history))
        .route("/summary", get(summary))
        .route("/hiveos", get(hiveos_stats))
        .route("/metrics", get(prometheus))
        .route("/v1/pause", post(pause))
        .route("/v1/resume", post(resume))
        .layer(middleware::from_fn_with_state(state.clone(), auth))
        .with_state(state)
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Every route needs the token when one is set; the page may carry it in `?token=`.
async fn auth(
    State(st): State<AppState>,
    Query(q): Query<TokenQuery>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = &st.token else {
        return next.run(req).await;
    };
    let query_ok = req.uri().path() == "/" && q.token.as_deref().is_some_and(|t| same(t, token));
    if query_ok || bearer(req.headers()).is_some_and(|t| same(t, token)) {
        return next.run(req).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "this API needs Authorization: Bearer <--api-token>\n",
    )
        .into_response()
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Compares without stopping at the first difference (`subtle`'s constant-time equality).
fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

async fn dashboard() -> Html<&'static str> {
    Html(DASHBOARD)
}

async fn status(State(st): State<AppState>) -> impl IntoResponse {
    axum::Json(st.published.borrow().status.clone())
}

/// `GET /v1/history`.
#[derive(Serialize)]
struct History {
    step_s: f64,
    devices: Vec<String>,
    points: Vec<HistoryPoint>,
}

async fn history(State(st): State<AppState>) -> impl IntoResponse {
    let p = st.published.borrow();
    axum::Json(History {
        step_s: HISTORY_STEP_MS as f64 / 1000.0,
        devices: p.status.devices.iter().map(|d| d.name.clone()).collect(),
        points: p.history.clone(),
    })
}

async fn summary(State(st): State<AppState>) -> impl IntoResponse {
    axum::Json(lolminer::summary(&st.published.borrow().status))
}

async fn hiveos_stats(State(st): State<AppState>) -> impl IntoResponse {
    axum::Json(hiveos::stats(&st.published.borrow().status))
}

async fn prometheus(State(st): State<AppState>) -> impl IntoResponse {
    let text = metrics::encode_status(&st.published.borrow().status);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

async fn pause(State(st): State<AppState>) -> Response {
    control(&st, true)
}

async fn resume(State(st): State<AppState>) -> Response {
    control(&st, false)
}

/// The auth layer has checked the token if there is one; with none, control is refused.
fn control(st: &AppState, paused: bool) -> Response {
    if st.token.is_none() {
        return (
            StatusCode::FORBIDDEN,
            "control needs a token: start the miner with --api-token\n",
        )
            .into_response();
    }
    let was = st.paused.swap(paused, Ordering::SeqCst);
    if was != paused {
        tracing::info!("API: mining {}", if paused { "paused" } else { "resumed" });
    }
    axum::Json(serde_json::json!({ "paused": paused })).into_response()
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("s3cret", "s3cret"));
        assert!(!same("s3cret", "s3creT"));
        assert!(!same("s3cret", "s3cre"));
        assert!(!same("", "x"));
    }
}
