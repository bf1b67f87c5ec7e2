//! `GET /hiveos`: the two values a HiveOS `h-stats.sh` must set, so that the package's script
//! is two `jq` reads of one request. The contract (minershive/hiveos-linux
//! `hive/miners/custom/README.md`): `khs` is the total rate in kH/s; `stats` holds `hs`
//! (per-device rates, here Sol/s with `hs_units` "hs", as HiveOS's own lolMiner, GMiner and miniZ
//! scripts report Equihash), `temp`, `fan`, `uptime`, `ver`, `ar` ([accepted, rejected]),
//! `algo` ("equihash N/K": "equihash 125/4" is the name HiveOS maps Flux to) and `bus_numbers` (decimal PCI bus
//! numbers), every array in device order.

use serde_json::{Value, json};

use super::Status;
use crate::telemetry::PciAddress;

/// `{"khs": …, "stats": {…}}` for `s`.
pub fn stats(s: &Status) -> Value {
    let hs: Vec<f64> = s.devices.iter().map(|d| d.sol_per_s.s60).collect();
    let sensor = |f: fn(&super::Sensors) -> Option<f64>| -> Vec<f64> {
        s.devices
            .iter()
            .map(|d| d.sensors.as_ref().and_then(f).unwrap_or(0.0).round())
            .collect()
    };
    let bus: Vec<Value> = s
        .devices
        .iter()
        .map(|d| {
            d.bus_id
                .as_deref()
                .and_then(bus_number)
                .map_or(Value::Null, Value::from)
        })
        .collect();
    json!({
        "khs": s.total.sol_per_s.s60 / 1000.0,
        "stats": {
            "hs": hs,
            "hs_units": "hs",
            "temp": sensor(|x| x.temperature_c),
            "fan": sensor(|x| x.fan_percent),
            "uptime": s.uptime_s.floor() as u64,
            "ver": s.software.rsplit(' ').next().unwrap_or_default(),
            "ar": [s.total.shares.accepted, s.rejected()],
            "algo": format!("equihash {}/{}", s.equihash.0, s.equihash.1),
            "bus_numbers": bus,
        }
    })
}

/// The decimal bus number of a PCI address ("0000:0a:00.0" → 10).
pub fn bus_number(bus_id: &str) -> Option<u32> {
    bus_id.parse::<PciAddress>().ok().map(|a| u32::from(a.bus))
}
