//! The status document, its windows and its other views, on counters driven with fake time.

use super::*;
use crate::stratum::ShareOutcome;

fn acc(devices: usize) -> Accounting {
    let names: Vec<String> = (0..devices).map(|i| format!("dev{i}")).collect();
    Accounting::for_devices(&names)
}

/// Device 0 finishes 2 nonces/s with 4 solutions each, device 1 1 nonce/s with 2 solutions,
/// sampled every second for `secs` seconds.
fn run(meter: &mut RateMeter, a: &mut Accounting, from_s: u64, secs: u64) {
    for t in from_s..from_s + secs {
        for _ in 0..2 {
            a.record_nonce(0, 4, 0);
        }
        a.record_nonce(1, 2, 0);
        meter.record((t + 1) * 1000, a);
    }
}

#[test]
fn windows_give_each_devices_rate_and_forget_what_is_older() {
    let mut m = RateMeter::default();
    let mut a = acc(2);
    m.record(0, &a);
    run(&mut m, &mut a, 0, 120);
    let r = m.rates();
    assert_eq!(
        r[0].sol_per_s,
        Windows {
            s10: 8.0,
            s60: 8.0,
            m15: 8.0
        }
    );
    assert_eq!(r[1].nonces_per_s.s60, 1.0);
    // Device 0 stops: its 10 s rate drops to 0 at once, the 60 s one falls to 5/6 after 10 s.
    for t in 120..130 {
        a.record_nonce(1, 2, 0);
        m.record((t + 1) * 1000, &a);
    }
    let r = m.rates();
    assert_eq!(r[0].sol_per_s.s10, 0.0);
    assert!((r[0].sol_per_s.s60 - 8.0 * 50.0 / 60.0).abs() < 1e-9);
    assert_eq!(r[1].sol_per_s.s10, 2.0);
    // The 15 min window holds at most 15 min of samples.
    run(&mut m, &mut a, 130, 1000);
    assert!(m.samples.len() <= 901, "{}", m.samples.len());
    assert_eq!(m.rates()[0].sol_per_s.m15, 8.0);
}

#[test]
fn history_has_one_point_per_step_for_the_last_hour() {
    let mut m = RateMeter::default();
    let mut a = acc(2);
    m.record(0, &a);
    run(&mut m, &mut a, 0, 35);
    let h = m.history();
    assert_eq!(h.len(), 3);
    assert_eq!(h[0].t_s, 10.0);
    assert_eq!(h[2].sol_per_s, vec![8.0, 2.0]);
    run(&mut m, &mut a, 35, 4000);
    assert_eq!(m.history().len(), HISTORY_POINTS);
    assert_eq!(m.history().last().unwrap().t_s, 4030.0);
}

#[test]
fn a_young_miner_rates_over_the_time_so_far_and_an_empty_one_is_zero() {
    let mut m = RateMeter::default();
    assert!(m.rates().is_empty());
    // Before the workers start, the counters hold no device yet.
    m.record(0, &Accounting::default());
    let mut a = acc(1);
    m.record(500, &a);
    assert_eq!(m.rates()[0].sol_per_s, Windows::default());
    a.record_nonce(0, 3, 0);
    m.record(2000, &a);
    assert_eq!(m.rates()[0].sol_per_s.m15, 1.5);
}

fn status_of(a: &Accounting, m: &RateMeter) -> Status {
    let ctx = MinerInfo {
        software: "fluxminer 0.1.0".into(),
        algorithm: "ZelHash (Equihash 125,4)".into(),
        equihash: (125, 4),
        user: "t1abc.rig7".into(),
        started_unix: 1_764_592_496,
        paused: false,
        bus_ids: vec![Some("0000:0a:00.0".into()), None],
        sensors: vec![
            Ok(Sensors {
                temperature_c: Some(61.0),
                power_w: Some(200.0),
                fan_percent: Some(45.0),
                fan_rpm: Some(1500),
            }),
            Err("NVML: unavailable".into()),
        ],
    };
    Status::build(7, 120_000, 1_764_592_616, a, m, &ctx)
}

fn mined() -> (Accounting, RateMeter) {
    let mut m = RateMeter::default();
    let mut a = acc(2);
    m.record(0, &a);
    run(&mut m, &mut a, 0, 120);
    a.connected = true;
    a.pool = Some("stratum+tcp://pool.example:2032".into());
    a.difficulty = Some(0.5);
    a.connections = 1;
    a.submitted = 5;
    let rejected = ShareOutcome::Rejected(crate::stratum::wire::RpcError::new(
        crate::stratum::wire::ErrorCode::JobNotFound,
        "Job not found",
    ));
    for w in [0, 0, 1] {
        a.record(&ShareOutcome::Accepted, 0.5, Some(w));
    }
    a.record(&rejected, 0.5, Some(1));
    let duplicate = ShareOutcome::Rejected(crate::stratum::wire::RpcError::new(
        crate::stratum::wire::ErrorCode::Duplicate,
        "Duplicate share",
    ));
    a.record(&duplicate, 0.5, Some(0));
    a.record_restart(1, "no nonce for 61.0 s");
    (a, m)
}

#[test]
fn the_status_document_carries_counters_rates_pool_and_sensors() {
    let (a, m) = mined();
    let s = status_of(&a, &m);
    assert_eq!(s.uptime_s, 120.0);
    assert_eq!(s.total.sol_per_s.s60, 10.0);
    assert_eq!(s.total.power_w, Some(200.0));
    assert_eq!(s.devices[0].sol_per_watt, Some(8.0 / 200.0));
    assert_eq!(
        s.devices[1].sensors_absent.as_deref(),
        Some("NVML: unavailable")
    );
    assert_eq!((s.devices[1].accepted, s.devices[1].stale), (1, 1));
    assert_eq!(s.devices[1].restarts, 1);
    assert_eq!(
        s.devices[1].last_restart.as_deref(),
        Some("no nonce for 61.0 s")
    );
    assert_eq!(s.total.shares.accepted, 3);
    assert_eq!(s.rejected(), 2);
    let d0 = &s.devices[0];
    assert_eq!(
        (
            d0.duplicate,
            d0.low_difficulty,
            d0.other_rejected,
            d0.rejected
        ),
        (1, 0, 0, 1)
    );
    let e = s.pool.estimate_sol_per_s.unwrap();
    assert!((e - 8192.0 * 1.5 / 120.0).abs() < 1e-9);
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["devices"][0]["sol_per_s"]["60s"], 8.0);
    assert_eq!(v["pool"]["difficulty"], 0.5);
}

#[test]
fn lolminer_summary_has_the_fields_lolminer_readers_use() {
    let (a, m) = mined();
    let v = lolminer::summary(&status_of(&a, &m));
    assert_eq!(v["Software"], "fluxminer 0.1.0");
    assert_eq!(v["Session"]["Startup_String"], "2025-12-01 12:34:56 UTC");
    assert_eq!(v["Session"]["Uptime"], 120);
    assert_eq!(v["Num_Workers"], 2);
    assert_eq!(v["Algorithms"][0]["Algorithm"], "ZelHash (Equihash 125,4)");
    assert_eq!(v["Workers"][0]["PCIE_Address"], "10:0");
    assert_eq!(v["Workers"][0]["Core_Temp"], 61.0);
    assert_eq!(
        v["Workers"][1]["Core_Temp"], 0.0,
        "a missing sensor reads 0"
    );
    let alg = &v["Algorithms"][0];
    assert_eq!(alg["Total_Performance"], 10.0);
    assert_eq!(alg["Performance_Factor"], 1);
    assert_eq!(alg["User"], "t1abc");
    assert_eq!(alg["Worker"], "rig7");
    assert_eq!(
        (alg["Total_Accepted"].as_u64(), alg["Total_Stales"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(alg["Worker_Performance"], serde_json::json!([8.0, 2.0]));
    assert_eq!(alg["Worker_Accepted"], serde_json::json!([2, 1]));
    assert_eq!(alg["Worker_Rejected"], serde_json::json!([1, 0]));
    assert_eq!(alg["Worker_Stales"], serde_json::json!([0, 1]));
    assert_eq!(alg["Total_Rejected"], 1);
}

#[test]
fn hiveos_stats_line_up_with_the_devices() {
    let (a, m) = mined();
    let v = hiveos::stats(&status_of(&a, &m));
    assert_eq!(v["khs"], 0.01);
    let st = &v["stats"];
    assert_eq!(st["hs"], serde_json::json!([8.0, 2.0]));
    assert_eq!(st["hs_units"], "hs");
    assert_eq!(st["temp"], serde_json::json!([61.0, 0.0]));
    assert_eq!(st["bus_numbers"], serde_json::json!([10, null]));
    assert_eq!(st["ar"], serde_json::json!([3, 2]));
    assert_eq!(st["algo"], "equihash 125/4");
    assert_eq!(st["ver"], "0.1.0");
    assert_eq!(hiveos::bus_number("0000:c1:00.0"), Some(193));
    assert_eq!(hiveos::bus_number("nonsense"), None);
}

#[test]
fn metrics_name_families_by_the_conventions() {
    let (a, m) = mined();
    let text = metrics::encode_status(&status_of(&a, &m));
    for line in [
        "fluxminer_build_info{version=\"0.1.0\"} 1",
        "fluxminer_uptime_seconds 120.0",
        "fluxminer_device_solutions_per_second{device=\"0\"} 8.0",
        "fluxminer_device_temperature_celsius{device=\"0\"} 61.0",
        "fluxminer_device_fan_ratio{device=\"0\"} 0.45",
        "fluxminer_device_shares_total{device=\"1\",result=\"stale\"} 1",
        "fluxminer_device_restarts_total{device=\"1\"} 1",
        "fluxminer_device_shares_total{device=\"0\",result=\"duplicate\"} 1",
        "fluxminer_shares_total{pool=\"stratum+tcp://pool.example:2032\",result=\"accepted\"} 3",
        "fluxminer_pool_difficulty{pool=\"stratum+tcp://pool.example:2032\"} 0.5",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    assert!(
        !text.contains("fluxminer_device_temperature_celsius{device=\"1\"}"),
        "no sensor, no sample"
    );
}

/// After a failover each pool's shares keep their own label, and the status lists them.
#[test]
fn shares_keep_their_pool_after_a_failover() {
    let (mut a, m) = mined();
    a.pool = Some("stratum+tcp://backup.example:3333".into());
    a.record(&ShareOutcome::Accepted, 0.5, Some(0));
    let s = status_of(&a, &m);
    let by_pool: Vec<_> = s
        .pool
        .shares_by_pool
        .iter()
        .map(|p| (p.url.as_str(), p.shares.accepted, p.shares.stale))
        .collect();
    assert_eq!(
        by_pool,
        [
            ("stratum+tcp://pool.example:2032", 3, 1),
            ("stratum+tcp://backup.example:3333", 1, 0)
        ]
    );
    assert_eq!(s.total.shares.accepted, 4);
    let text = metrics::encode_status(&s);
    for line in [
        "fluxminer_shares_total{pool=\"stratum+tcp://pool.example:2032\",result=\"accepted\"} 3",
        "fluxminer_shares_total{pool=\"stratum+tcp://backup.example:3333\",result=\"accepted\"} 1",
        "fluxminer_pool_connected{pool=\"stratum+tcp://backup.example:3333\"} 1.0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
}
