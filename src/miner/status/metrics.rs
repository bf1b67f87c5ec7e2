//! `GET /metrics`: the [`Status`] document as Prometheus text (prometheus-client's OpenMetrics
//! encoder). Names follow Prometheus practice (prometheus.io/docs/practices/naming): the
//! `fluxminer_` prefix, base units in the name (`_seconds`, `_celsius`, `_ratio` 0–1; `_watts`
//! as every GPU exporter does), `_total` on counters, and one label set per device
//! (`device="0"`, its name and PCI address only on `fluxminer_device_info`) and per pool
//! (`pool="stratum+tcp://…"`). Rates are gauges over the 60 s window; the counters under them
//! let Prometheus compute its own.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

use super::Status;

type Labels = Vec<(&'static str, String)>;
type GaugeF = Family<Labels, Gauge<f64, AtomicU64>>;
type CounterU = Family<Labels, Counter>;

/// The registry's families, filled from one document.
#[derive(Default)]
struct Families {
    uptime: Gauge<f64, AtomicU64>,
    paused: Gauge,
    device_info: GaugeF,
    sol_rate: GaugeF,
    nonce_rate: GaugeF,
    nonces: CounterU,
    solutions: CounterU,
    compute_errors: CounterU,
    restarts: CounterU,
    device_shares: CounterU,
    temperature: GaugeF,
    power: GaugeF,
    fan: GaugeF,
    pool_connected: GaugeF,
    pool_difficulty: GaugeF,
    pool_estimate: GaugeF,
    shares: CounterU,
}

/// The Prometheus text exposition of `s`.
pub fn encode_status(s: &Status) -> String {
    let f = Families::default();
    fill(&f, s);
    let mut r = Registry::with_prefix("fluxminer");
    register(&mut r, &f, s);
    let mut out = String::new();
    encode(&mut out, &r).expect("writing to a String cannot fail");
    out
}

fn register(r: &mut Registry, f: &Families, s: &Status) {
    r.register(
        "build",
        "fluxminer's version",
        Info::new(vec![("version", version(s))]),
    );
    r.register_with_unit(
        "uptime",
        "Time since the miner started",
        Unit::Seconds,
        f.uptime.clone(),
    );
    r.register(
        "paused",
        "1 while mining is paused through the API",
        f.paused.clone(),
    );
    let g =
        |r: &mut Registry, name: &str, help: &str, m: &GaugeF| r.register(name, help, m.clone());
    let c =
        |r: &mut Registry, name: &str, help: &str, m: &CounterU| r.register(name, help, m.clone());
    g(
        r,
        "device_info",
        "A mining device: its name and PCI address (value 1)",
        &f.device_info,
    );
    g(
        r,
        "device_solutions_per_second",
        "Equihash solutions per second over the last 60 s",
        &f.sol_rate,
    );
    g(
        r,
        "device_nonces_per_second",
        "Nonces (solver runs) per second over the last 60 s",
        &f.nonce_rate,
    );
    c(r, "device_nonces", "Nonces finished", &f.nonces);
    c(
        r,
        "device_solutions",
        "Equihash solutions found",
        &f.solutions,
    );
    c(
        r,
        "device_compute_errors",
        "Solutions that failed the CPU re-check, and failed solver runs",
        &f.compute_errors,
    );
    c(
        r,
        "device_restarts",
        "Times the watchdog restarted the device's solver",
        &f.restarts,
    );
    c(
        r,
        "device_shares",
        "Shares the pool answered, by result",
        &f.device_shares,
    );
    r.register_with_unit(
        "device_temperature",
        "GPU temperature",
        Unit::Celsius,
        f.temperature.clone(),
    );
    r.register_with_unit(
        "device_power",
        "Board power",
        Unit::Other("watts".into()),
        f.power.clone(),
    );
    r.register_with_unit(
        "device_fan",
        "Fan speed as a fraction of its maximum",
        Unit::Other("ratio".into()),
        f.fan.clone(),
    );
    g(
        r,
        "pool_connected",
        "1 while connected to the pool",
        &f.pool_connected,
    );
    g(
        r,
        "pool_difficulty",
        "Share difficulty set by the pool (pool scale)",
        &f.pool_difficulty,
    );
    g(
        r,
        "pool_estimated_solutions_per_second",
        "Sol/s the pool credits, 8192·ΣD/Δt over the run",
        &f.pool_estimate,
    );
    c(r, "shares", "Shares by what happened to them", &f.shares);
}

fn version(s: &Status) -> String {
    s.software
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn fill(f: &Families, s: &Status) {
    f.uptime.set(s.uptime_s);
    f.paused.set(i64::from(s.paused));
    for d in &s.devices {
        let id = || vec![("device", d.index.to_string())];
        let mut info = id();
        info.push(("name", d.name.clone()));
        info.push(("bus_id", d.bus_id.clone().unwrap_or_default()));
        f.device_info.get_or_create(&info).set(1.0);
        f.sol_rate.get_or_create(&id()).set(d.sol_per_s.s60);
        f.nonce_rate.get_or_create(&id()).set(d.nonces_per_s.s60);
        f.nonces.get_or_create(&id()).inc_by(d.nonces);
        f.solutions.get_or_create(&id()).inc_by(d.solutions);
        f.compute_errors
            .get_or_create(&id())
            .inc_by(d.compute_errors);
        f.restarts.get_or_create(&id()).inc_by(d.restarts);
        by_result(
            &f.device_shares,
            &id(),
            &[
                ("accepted", d.accepted),
                ("stale", d.stale),
                ("duplicate", d.duplicate),
                ("low_difficulty", d.low_difficulty),
                ("other_rejected", d.other_rejected),
            ],
        );
        let sensors = d.sensors.unwrap_or_default();
        if let Some(t) = sensors.temperature_c {
            f.temperature.get_or_create(&id()).set(t);
        }
        if let Some(w) = sensors.power_w {
            f.power.get_or_create(&id()).set(w);
        }
        if let Some(p) = sensors.fan_percent {
            f.fan.get_or_create(&id()).set(p / 100.0);
        }
    }
    fill_pool(f, s);
}

fn fill_pool(f: &Families, s: &Status) {
    let Some(url) = &s.pool.url else {
        return;
    };
    let pool = || vec![("pool", url.clone())];
    f.pool_connected
        .get_or_create(&pool())
        .set(if s.pool.connected { 1.0 } else { 0.0 });
    if let Some(d) = s.pool.difficulty {
        f.pool_difficulty.get_or_create(&pool()).set(d);
    }
    if let Some(e) = s.pool.estimate_sol_per_s {
        f.pool_estimate.get_or_create(&pool()).set(e);
    }
    for p in &s.pool.shares_by_pool {
        let sh = &p.shares;
        by_result(
            &f.shares,
            &vec![("pool", p.url.clone())],
            &[
                ("accepted", sh.accepted),
                ("stale", sh.stale),
                ("duplicate", sh.duplicate),
                ("low_difficulty", sh.low_difficulty),
                ("other_rejected", sh.other_rejected),
                ("dropped_stale", sh.dropped_stale),
                ("dropped_below_target", sh.dropped_below_target),
                ("lost_at_disconnect", sh.lost_at_disconnect),
            ],
        );
    }
}

/// One sample of `family` per result, labelled `base` plus `result`.
fn by_result(family: &CounterU, base: &Labels, counts: &[(&str, u64)]) {
    for &(result, n) in counts {
        let mut l = base.clone();
        l.push(("result", result.to_string()));
        family.get_or_create(&l).inc_by(n);
    }
}
