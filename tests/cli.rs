//! The binary end to end: `solve`, `verify`, `bench`, help and `mine`'s watchdog exit, through
//! their exit codes and output.

use std::process::{Command, Output};

mod solver_support;
use solver_support::vector;

fn fluxminer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fluxminer"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn block_400000() -> String {
    vector("mainnet_block_400000_zelhash.json")["serialized_header_193_hex"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn no_arguments_prints_help() {
    let out = fluxminer(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: fluxminer [OPTIONS] <COMMAND>"));
}

#[test]
fn verify_exit_codes_name_the_rule() {
    let good = block_400000();
    let out = fluxminer(&["verify", &good]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "000000390342f0e52443ad79b43e5d85b78bf519667aeb3aa980d76caeda0369 125_4 valid"
    );

    // Flip one solution bit: invalid, and the rule and round are named.
    let mut bad = hex::decode(&good).unwrap();
    bad[150] ^= 0x01;
    let out = fluxminer(&["verify", &hex::encode(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("invalid: invalid-solution:"),
        "{}",
        text(&out.stdout)
    );

    // The alternative solution is valid Equihash but misses nBits.
    let v = vector("mainnet_block_400000_zelhash.json");
    let alt = format!(
        "{}34{}",
        &good[..280],
        v["alternative_valid_solution_hex"].as_str().unwrap()
    );
    let out = fluxminer(&["verify", &alt]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with(
        "39ab568907dba09f3a9a2236142ca1d6a5dddd209a92c8999e772fbd3ea0ff59 invalid: high-hash"
    ));

    for (input, message) in [
        ("zz", "not a hex header"),
        (&good[..201], "not a hex header"),
        (&good[..200], "cannot decode the header"),
    ] {
        let out = fluxminer(&["verify", input]);
        assert_eq!(out.status.code(), Some(2), "{input}");
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }
}

#[test]
fn verify_reads_a_file_of_headers() {
    let mut lines = vec![
        "# block 400000 and the three genesis blocks".to_string(),
        block_400000(),
    ];
    for net in ["mainnet", "testnet", "regtest"] {
        lines.push(
            vector(&format!("genesis_{net}.json"))["serialized_header_hex"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let path = std::env::temp_dir().join(format!("fluxminer-verify-{}.txt", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n\n").unwrap();
    let out = fluxminer(&["verify", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 4);
    assert!(
        stdout.contains(
            "00052461a5006c2e3b74ce48992a08695607912d5604c3eb8da25749b0900444 200_9 valid"
        )
    );
    assert!(
        stdout.contains(
            "01998760a88dc2b5715f69d2f18c1d90e0b604612242d9099eaff3048dd1e0ce 48_5 valid"
        )
    );
}

#[test]
fn solve_prints_the_regtest_genesis_solution() {
    let v = vector("genesis_regtest.json");
    let header = v["serialized_header_hex"].as_str().unwrap();
    let out = fluxminer(&["solve", header, "--params", "48,5", "--threads", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert!(
        lines.contains(&v["solution_hex"].as_str().unwrap().to_string()),
        "{lines:?}"
    );
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines.len(), sorted.len());

    let out = fluxminer(&["solve", "00ff", "--params", "48,5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("input is 2 bytes"));
    let out = fluxminer(&["solve", header, "--params", "125,3"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_checks_its_golden_answer_then_reports() {
    let out = fluxminer(&[
        "bench",
        "--params",
        "48,5",
        "--nonces",
        "3",
        "--threads",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("golden check: regtest genesis (48,5) — ok"),
        "{stdout}"
    );
    for field in [
        "nonces/s:",
        "Sol/s:",
        "solutions per nonce:",
        "median split:",
        "peak memory:",
    ] {
        assert!(stdout.contains(field), "{field} missing in {stdout}");
    }
}

/// Interop fault 6: `pool --difficulty` refuses at start-up a value no connection could be served
/// with, naming it, instead of starting and resetting every connection.
#[test]
fn pool_refuses_a_difficulty_it_cannot_serve_at_start_up() {
    let out = fluxminer(&["pool", "--difficulty", "1e300", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("--difficulty 1e300") && err.contains("cannot serve"),
        "{err}"
    );
}

/// Interop fault 9: the pool's TLS listener, difficulty message and scheduled requests from the
/// command line: it starts (self-signed certificate), says where it listens for TLS, sends the
/// reconnect, and stops by itself; certificate files that cannot be read are named at start-up.
#[test]
fn pool_tls_and_requests_from_the_command_line() {
    let pool = |more: &[&str]| {
        let base = [
            "pool",
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
        ];
        let out = fluxminer(&[&base[..], more].concat());
        (out.status.code(), text(&out.stderr))
    };
    let (code, err) = pool(&[
        "--difficulty-message",
        "both",
        "--difficulty-scale",
        "ccminer",
        "--reconnect-to",
        "127.0.0.1:3334",
        "--reconnect-after",
        "0.2",
        "--extranonce-every",
        "0.2",
        "--duration",
        "1",
        "--report-interval",
        "1",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("pool listening for TLS on 127.0.0.1:"),
        "{err}"
    );
    assert!(
        err.contains("sending client.reconnect to 127.0.0.1:3334"),
        "{err}"
    );
    let (code, err) = pool(&[
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
}

/// `cuda` without the NVIDIA driver says why, as an error, never a panic (on a machine with a
/// card the golden self-test must pass instead).
#[test]
fn cuda_backend_says_why_it_is_unavailable() {
    let out = fluxminer(&["bench", "--backend", "cuda", "--nonces", "1"]);
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    if out.status.code() != Some(0) {
        assert!(err.contains("CUDA unavailable: "), "{err}");
    }
}

/// `devices`: a telemetry line under every device listed (a software adapter such as lavapipe
/// has no PCI identity, so its telemetry is absent and says why), then the telemetry sources,
/// NVML's among them whether or not the library loads.
#[test]
fn devices_show_telemetry_per_device_and_the_sources() {
    let out = fluxminer(&["devices"]);
    let stdout = text(&out.stdout);
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let devices: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with('['))
        .collect();
    let telemetry = lines
        .iter()
        .filter(|l| l.starts_with("    telemetry"))
        .count();
    assert_eq!(telemetry, devices.len(), "{stdout}");
    let expected = if devices.is_empty() { 1 } else { 0 };
    assert_eq!(out.status.code(), Some(expected), "{stdout}");
    for &i in &devices {
        let line = lines[i..]
            .iter()
            .find(|l| l.starts_with("    telemetry"))
            .unwrap();
        assert!(
            line.starts_with("    telemetry: absent: ") || line.starts_with("    telemetry ("),
            "{line}"
        );
        if lines[i].contains(", Cpu, ") {
            assert_eq!(
                *line,
                "    telemetry: absent: no PCI identity (a software adapter or the CPU)"
            );
        }
    }
    let (_, sources) = stdout
        .split_once("telemetry sources:\n")
        .unwrap_or_else(|| panic!("no telemetry sources in {stdout}"));
    let sources: Vec<&str> = sources.lines().collect();
    assert!(
        sources.iter().any(|l| l.starts_with("  NVML: ")),
        "{stdout}"
    );
    assert!(
        sources.iter().any(|l| l.starts_with("  hwmon: ")),
        "{stdout}"
    );
    assert!(
        sources
            .iter()
            .all(|l| l.starts_with("  NVML: ") || l.starts_with("  hwmon: ")),
        "{stdout}"
    );
}

/// `mine` exits with code 3 and the reason when its watchdog gives up: a zero floor and a tiny
/// factor make every check with work a stall, so the fourth restart needed within ten minutes
/// ends the run (each restart rebuilds and self-tests the CPU solver).
#[test]
fn mine_exits_3_with_the_reason_when_the_watchdog_gives_up() {
    let out = fluxminer(&[
        "mine",
        "--params",
        "48,5",
        "--backend",
        "cpu",
        "-t",
        "1",
        "--duration",
        "30",
        "--watchdog-min",
        "0",
        "--watchdog-factor",
        "0.001",
        "--api",
        "0",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(
        err.matches("watchdog: restarting solver 0: no nonce")
            .count(),
        3,
        "{err}"
    );
    assert!(
        err.contains("error: watchdog: solver 0 (cpu (1 threads)): no nonce for ")
            && err.contains("; restarted 3 times in the last 10 min already\n"),
        "{err}"
    );
}
