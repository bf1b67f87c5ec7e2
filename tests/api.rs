//! The miner's HTTP API, metrics, dashboard and HiveOS package against a real `fluxminer mine`
//! mining Equihash 48,5 on its built-in loopback pool (the CPU solver, one thread).
//!
//! - Every route's JSON against `/v1/status` taken in the same refresh (same `seq`).
//! - `/metrics` parsed by the Prometheus project's own OpenMetrics parser (the Python
//!   `prometheus_client`, installed by scripts/test.sh into target/pydeps, path in
//!   `FLUXMINER_PYDEPS`) and compared with `/v1/status`.
//! - The token: required on every route when set, `?token=` for the page only, control refused
//!   without one, a bind beyond loopback refused without one.
//! - The dashboard in a real headless browser (Debian's chromium-headless-shell): every number
//!   it shows equals the API's.
//! - The HiveOS package: `h-stats.sh` sourced against the running miner sets `khs` and every
//!   key of `stats`; `h-config.sh` writes a config file the miner reads.

#[path = "api_support/mod.rs"]
mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::{Miner, at, dashboard_fields, http, metrics_samples, wait_for};

const TOKEN: &str = "s3cret-token";

/// Every GET route.
const ROUTES: [&str; 6] = [
    "/",
    "/v1/status",
    "/v1/history",
    "/summary",
    "/hiveos",
    "/metrics",
];

fn status(m: &Miner, token: Option<&str>) -> Value {
    let (code, body) = http(m.addr, "GET", "/v1/status", token);
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn json(m: &Miner, path: &str, token: Option<&str>) -> Value {
    let (code, body) = http(m.addr, "GET", path, token);
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn mining(m: &Miner, token: Option<&str>) -> Value {
    wait_for(
        Duration::from_secs(40),
        "an accepted share in /v1/status",
        || {
            let s = status(m, token);
            (s["total"]["shares"]["accepted"].as_u64() > Some(0)
                && s["devices"][0]["sol_per_s"]["10s"].as_f64() > Some(0.0))
            .then_some(s)
        },
    )
}

/// Runs `f` on documents taken between two equal `seq`s of `/v1/status` (retrying when a
/// refresh fell in between), so that they come from one refresh.
fn same_refresh<T>(m: &Miner, token: Option<&str>, mut f: impl FnMut(&Value) -> T) -> (Value, T) {
    for _ in 0..10 {
        let a = status(m, token);
        let got = f(&a);
        let b = status(m, token);
        if a["seq"] == b["seq"] {
            return (a, got);
        }
    }
    panic!("no two reads within one refresh in 10 tries");
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn with_a_token_every_route_agrees_with_the_status_and_the_dashboard_shows_it() {
    let m = Miner::start(&["--api-token", TOKEN, "--api-refresh", "4"]);
    let t = Some(TOKEN);
    mining(&m, t);

    for path in ROUTES {
        assert_eq!(
            http(m.addr, "GET", path, None).0,
            401,
            "{path} without token"
        );
        assert_eq!(http(m.addr, "GET", path, Some("wrong")).0, 401, "{path}");
        assert_eq!(http(m.addr, "GET", path, t).0, 200, "{path} with token");
    }
    assert_eq!(
        http(m.addr, "GET", &format!("/?token={TOKEN}"), None).0,
        200
    );
    let query = format!("/v1/status?token={TOKEN}");
    assert_eq!(
        http(m.addr, "GET", &query, None).0,
        401,
        "?token= is for the page only"
    );
    assert_eq!(http(m.addr, "POST", "/v1/pause", None).0, 401);

    let (s, (summary, hive, history, metrics)) = same_refresh(&m, t, |_| {
        (
            json(&m, "/summary", t),
            json(&m, "/hiveos", t),
            json(&m, "/v1/history", t),
            metrics_samples(&http(m.addr, "GET", "/metrics", t).1),
        )
    });
    check_summary(&s, &summary);
    let total60 = s["total"]["sol_per_s"]["60s"].as_f64().unwrap();
    assert!(close(hive["khs"].as_f64().unwrap(), total60 / 1000.0));
    assert_eq!(history["devices"][0], s["devices"][0]["name"]);
    check_metrics(&s, &metrics);

    check_dashboard(&m);
    check_pause_and_resume(&m);
}

fn check_summary(s: &Value, summary: &Value) {
    let alg = &summary["Algorithms"][0];
    assert_eq!(summary["Software"], s["software"]);
    assert_eq!(summary["Num_Workers"], 1);
    assert_eq!(summary["Workers"][0]["Name"], s["devices"][0]["name"]);
    assert_eq!(alg["Total_Accepted"], s["total"]["shares"]["accepted"]);
    assert_eq!(alg["Total_Performance"], s["total"]["sol_per_s"]["60s"]);
    assert_eq!(
        alg["Worker_Performance"][0],
        s["devices"][0]["sol_per_s"]["60s"]
    );
    assert_eq!(alg["Pool"], s["pool"]["url"]);
    assert_eq!(alg["User"], "t1fluxminer");
    let uptime = s["uptime_s"].as_f64().unwrap().floor() as u64;
    assert_eq!(summary["Session"]["Uptime"].as_u64(), Some(uptime));
}

fn check_metrics(s: &Value, samples: &Value) {
    let get = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let found: Vec<f64> = samples
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| {
                x["name"] == name
                    && labels
                        .iter()
                        .all(|(k, v)| x["labels"][*k].as_str() == Some(*v))
            })
            .map(|x| x["value"].as_f64().unwrap())
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?} in {samples}");
        found[0]
    };
    let d = &s["devices"][0];
    let pool = s["pool"]["url"].as_str().unwrap();
    let dev = [("device", "0")];
    assert!(close(
        get("fluxminer_uptime_seconds", &[]),
        s["uptime_s"].as_f64().unwrap()
    ));
    for (metric, field) in [
        ("fluxminer_device_nonces_total", "nonces"),
        ("fluxminer_device_solutions_total", "solutions"),
        ("fluxminer_device_compute_errors_total", "compute_errors"),
    ] {
        assert_eq!(get(metric, &dev), d[field].as_f64().unwrap(), "{metric}");
    }
    assert!(close(
        get("fluxminer_device_solutions_per_second", &dev),
        d["sol_per_s"]["60s"].as_f64().unwrap()
    ));
    let accepted = get(
        "fluxminer_shares_total",
        &[("pool", pool), ("result", "accepted")],
    );
    assert_eq!(accepted, s["total"]["shares"]["accepted"].as_f64().unwrap());
    // One pool all run long: its own counts are the totals.
    let by_pool = s["pool"]["shares_by_pool"].as_array().unwrap();
    assert_eq!(by_pool.len(), 1, "{by_pool:?}");
    assert_eq!(by_pool[0]["url"].as_str(), Some(pool));
    assert_eq!(by_pool[0]["shares"], s["total"]["shares"]);
    assert_eq!(
        get("fluxminer_pool_difficulty", &[("pool", pool)]),
        s["pool"]["difficulty"].as_f64().unwrap()
    );
    let name = d["name"].as_str().unwrap();
    assert_eq!(
        get("fluxminer_device_info", &[("device", "0"), ("name", name)]),
        1.0
    );
    assert_eq!(
        get(
            "fluxminer_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
}

/// The page in chromium: every `data-field` element shows the API's number (exactly in
/// `data-value`, rounded in its text), and the chart has a line per device.
fn check_dashboard(m: &Miner) {
    let url = format!("http://{}/?token={TOKEN}", m.addr);
    let (s, dom) = same_refresh(m, Some(TOKEN), |_| support::browser_dom(&url));
    let (seq, fields, lines) = dashboard_fields(&dom);
    assert_eq!(
        Some(seq),
        s["seq"].as_u64(),
        "the page rendered this refresh"
    );
    assert_eq!(lines, 1, "one chart line per device");
    assert!(fields.len() >= 20, "{} numbers on the page", fields.len());
    for f in &fields {
        let api = at(&s, &f.field);
        match api.as_f64() {
            None => {
                assert!(api.is_null(), "{}: {api}", f.field);
                assert_eq!(
                    (f.value.as_str(), f.text.as_str()),
                    ("", "—"),
                    "{}",
                    f.field
                );
            }
            Some(v) => {
                let shown: f64 = f.value.parse().unwrap_or(f64::NAN);
                assert_eq!(shown, v, "{}: data-value {:?}", f.field, f.value);
                let text: f64 = f.text.trim_end_matches(&f.unit).parse().unwrap();
                let half_step = 0.5 * 10f64.powi(-(f.digits as i32)) + 1e-9;
                assert!(
                    (text - v).abs() <= half_step,
                    "{}: {:?} vs {v}",
                    f.field,
                    f.text
                );
            }
        }
    }
}

fn check_pause_and_resume(m: &Miner) {
    let t = Some(TOKEN);
    let (code, body) = http(m.addr, "POST", "/v1/pause", t);
    assert_eq!((code, body.as_str()), (200, r#"{"paused":true}"#));
    let paused = wait_for(Duration::from_secs(10), "paused in /v1/status", || {
        let s = status(m, t);
        (s["paused"] == true).then_some(s)
    });
    // A nonce in flight when the flag was set may still have finished before this refresh.
    let seq = paused["seq"].as_u64().unwrap();
    let later = wait_for(Duration::from_secs(10), "the next refresh", || {
        let s = status(m, t);
        (s["seq"].as_u64() > Some(seq + 1)).then_some(s)
    });
    assert_eq!(
        later["total"]["nonces"], paused["total"]["nonces"],
        "no nonce while paused"
    );
    assert_eq!(http(m.addr, "POST", "/v1/resume", t).0, 200);
    let n = paused["total"]["nonces"].as_u64().unwrap();
    wait_for(Duration::from_secs(10), "nonces again after resume", || {
        let s = status(m, t);
        (s["paused"] == false && s["total"]["nonces"].as_u64() > Some(n)).then_some(())
    });
}

#[test]
fn without_a_token_reads_are_open_control_is_refused_and_hiveos_reads_the_api() {
    let m = Miner::start(&["--api-refresh", "1"]);
    let s = mining(&m, None);
    for path in ROUTES {
        assert_eq!(http(m.addr, "GET", path, None).0, 200, "{path}");
    }
    let (code, body) = http(m.addr, "POST", "/v1/pause", None);
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("--api-token"), "{body}");
    assert_eq!(s["paused"], false);

    let pkg = support::hiveos_package();
    let (khs, stats) = support::source_h_stats(&pkg, m.addr.port());
    let (s, hive) = same_refresh(&m, None, |_| json(&m, "/hiveos", None));
    assert!(khs > 0.0, "khs {khs}");
    let accepted = s["total"]["shares"]["accepted"].as_u64().unwrap();
    for key in [
        "hs",
        "hs_units",
        "temp",
        "fan",
        "uptime",
        "ver",
        "ar",
        "algo",
        "bus_numbers",
    ] {
        assert!(
            !stats[key].is_null() || key == "bus_numbers",
            "stats.{key}: {stats}"
        );
        assert_eq!(
            stats[key].is_array(),
            hive["stats"][key].is_array(),
            "{key}"
        );
    }
    for key in ["hs", "temp", "fan", "bus_numbers"] {
        assert_eq!(
            stats[key].as_array().map(Vec::len),
            Some(1),
            "{key}: one per device"
        );
    }
    assert_eq!(stats["hs_units"], "hs");
    assert_eq!(stats["algo"], "equihash 48/5");
    assert_eq!(stats["ver"], env!("CARGO_PKG_VERSION"));
    assert!(stats["ar"][0].as_u64() > Some(0) && stats["ar"][0].as_u64() <= Some(accepted));
    assert!(stats["hs"][0].as_f64() > Some(0.0));
    drop(m);
    let (khs, stats) = support::source_h_stats(&pkg, support::free_port());
    assert_eq!(
        (khs, stats),
        (0.0, Value::Null),
        "no miner: khs=0, stats=null"
    );
    check_h_config(&pkg);
}

/// `h-config.sh` turns the flight sheet into a config file that `mine` reads: both pools in
/// order, the worker (quotes escaped), the password and the API port of the manifest.
fn check_h_config(pkg: &(tempfile::TempDir, std::path::PathBuf)) {
    let file = support::source_h_config(
        pkg,
        &[
            (
                "CUSTOM_URL",
                "stratum+tcp://eu.example:2032  stratum+ssl://us.example:3443",
            ),
            ("CUSTOM_TEMPLATE", "t1Wallet.rig\"7"),
            ("CUSTOM_PASS", "x"),
            ("FLUXMINER_API_PORT", "4123"),
        ],
    );
    let printed = support::config_print(&file);
    for line in [
        r#"pool = ["stratum+tcp://eu.example:2032", "stratum+ssl://us.example:3443"]"#,
        r#"user = "t1Wallet.rig\"7""#,
        r#"pass = "x""#,
        r#"api = "127.0.0.1:4123""#,
    ] {
        assert!(printed.lines().any(|l| l == line), "{line} in\n{printed}");
    }
}

#[test]
fn a_bind_beyond_loopback_needs_a_token_and_a_busy_port_is_an_error() {
    let out = support::mine_once(&["--api", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("set --api-token"), "{err}");
    let out = support::mine_once(&["--api-token", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must not be empty"));
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    let out = support::mine_once(&["--api", &port]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on 127.0.0.1:"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
