//! `GET /summary` in lolMiner's current layout (1.82–1.92: `Software`, `Session`, `Workers[]`,
//! `Algorithms[]` with `Total_Performance` and per-worker arrays), so that tools written for
//! lolMiner read fluxminer. Field names follow lolMiner's samples and the parsers that read
//! them (UG-Miner `Includes/MinerAPIs/lolMiner.ps1`, HiveOS `miners/lolminer/h-stats.sh`):
//! `Worker_Performance` is singular, a missing sensor reads 0, `PCIE_Address` is "bus:device"
//! in decimal, and the rate is `Total_Performance × Performance_Factor` per second (here Sol/s,
//! factor 1, 60 s window).

use serde_json::{Value, json};

use super::Status;
use crate::telemetry::PciAddress;

/// lolMiner's `/summary` document for `s`.
pub fn summary(s: &Status) -> Value {
    let workers: Vec<Value> = s
        .devices
        .iter()
        .map(|d| {
            let sensor = |f: fn(&super::Sensors) -> Option<f64>| {
                d.sensors.as_ref().and_then(f).unwrap_or(0.0)
            };
            json!({
                "Index": d.index,
                "Name": d.name,
                "Power": sensor(|x| x.power_w),
                "CCLK": 0,
                "MCLK": 0,
                "Core_Temp": sensor(|x| x.temperature_c),
                "Juc_Temp": 0,
                "Mem_Temp": 0,
                "Fan_Speed": sensor(|x| x.fan_percent),
                "LHR_Unlock_Pct": 0,
                "PCIE_Address": d.bus_id.as_deref().map_or_else(String::new, pcie_address),
            })
        })
        .collect();
    let per = |f: fn(&super::DeviceStatus) -> Value| s.devices.iter().map(f).collect::<Vec<_>>();
    let (worker_name, wallet) = split_user(&s.pool.user);
    json!({
        "Software": s.software,
        "Session": {
            "Startup": s.started_unix,
            "Startup_String": utc_string(s.started_unix),
            "Uptime": s.uptime_s.floor() as u64,
            "Last_Update": s.updated_unix,
        },
        "Num_Workers": s.devices.len(),
        "Workers": workers,
        "Num_Algorithms": 1,
        "Algorithms": [{
            "Algorithm": s.algorithm,
            "Algorithm_Appendix": "",
            "Pool": s.pool.url.clone().unwrap_or_default(),
            "User": wallet,
            "Worker": worker_name,
            "Performance_Unit": "Sol/s",
            "Performance_Factor": 1,
            "Total_Performance": s.total.sol_per_s.s60,
            "Total_Accepted": s.total.shares.accepted,
            "Total_Rejected": s.rejected() - s.total.shares.stale,
            "Total_Stales": s.total.shares.stale,
            "Total_Errors": s.total.compute_errors,
            "Worker_Performance": per(|d| json!(d.sol_per_s.s60)),
            "Worker_Accepted": per(|d| json!(d.accepted)),
            "Worker_Rejected": per(|d| json!(d.rejected)),
            "Worker_Stales": per(|d| json!(d.stale)),
            "Worker_Errors": per(|d| json!(d.compute_errors)),
        }],
    })
}

/// ("WORKER", "ADDR") from "ADDR.WORKER" (no worker: "").
fn split_user(user: &str) -> (String, String) {
    match user.split_once('.') {
        Some((addr, worker)) => (worker.to_string(), addr.to_string()),
        None => (String::new(), user.to_string()),
    }
}

/// lolMiner's "bus:device" in decimal from a PCI address "0000:0a:00.0" ("10:0"; "" when it
/// is not one).
pub fn pcie_address(bus_id: &str) -> String {
    bus_id
        .parse::<PciAddress>()
        .map_or_else(|_| String::new(), |a| format!("{}:{}", a.bus, a.device))
}

/// "YYYY-MM-DD HH:MM:SS UTC" for a Unix time (civil-from-days, H. Hinnant's algorithm).
pub fn utc_string(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}
