//! The config file and `--log-file` through the binary: `fluxminer config --print` shows the
//! effective settings (command line over file over defaults), reads back its own output, and
//! refuses unknown keys and bad values with exit code 2 naming the key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap::CommandFactory;

fn fluxminer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fluxminer"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fluxminer-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `body` to `dir/name` and returns the path as a string.
fn file(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_string()
}

/// `config --print` with `args`, which must succeed; its stdout.
fn print(args: &[&str]) -> String {
    let out = fluxminer(args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The uncommented `key = value` lines of a printed configuration.
fn set_lines(printed: &str) -> Vec<&str> {
    printed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
}

const RIG: &str = "log-keep = 3\n\n[mine]\nsilence_timeout = 100\n\
pool = [\"stratum+tcp://a.example:1\", \"stratum+tcp://b.example:2\"]\ntls = true\n\
test-pool-difficulty = 0.001\n\n[pool]\ndifficulty = 0.5\n";

#[test]
fn the_command_line_beats_the_file_which_beats_the_defaults() {
    let dir = scratch("precedence");
    let rig = file(&dir, "rig.toml", RIG);
    let from_file = print(&["--config", &rig, "config", "--print", "mine"]);
    let set = set_lines(&from_file);
    assert!(set.contains(&"log-keep = 3"), "{from_file}");
    assert!(set.contains(&"silence-timeout = 100"), "{from_file}");
    assert!(
        set.contains(&"pool = [\"stratum+tcp://a.example:1\", \"stratum+tcp://b.example:2\"]"),
        "{from_file}"
    );
    assert!(set.contains(&"tls = true"), "{from_file}");
    assert!(
        !from_file.contains("[pool]"),
        "only the named subcommand: {from_file}"
    );
    // Defaults and unset flags are comments.
    assert!(from_file.contains("\n# user = \"t1fluxminer.local\"  (default)\n"));
    assert!(from_file.contains("\n# log-max-size = 16  (default)\n"));
    assert!(from_file.contains("\n# server  (not set)\n"));
    // The command line wins, for a scalar and for a whole list; --config may come anywhere.
    let both = print(&[
        "config",
        "--print",
        "mine",
        "--silence-timeout",
        "7",
        "--pool",
        "stratum+tcp://c.example:3",
        "--log-keep",
        "9",
        "--config",
        &rig,
    ]);
    let set = set_lines(&both);
    assert!(set.contains(&"silence-timeout = 7"), "{both}");
    assert!(
        set.contains(&"pool = [\"stratum+tcp://c.example:3\"]"),
        "{both}"
    );
    assert!(set.contains(&"log-keep = 9"), "{both}");
    assert!(set.contains(&"tls = true"), "{both}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_printed_configuration_reads_back_as_the_same_configuration() {
    let dir = scratch("roundtrip");
    let rig = file(&dir, "rig.toml", RIG);
    // Every subcommand, with a command-line override on top of the file.
    let first = print(&[
        "--config",
        &rig,
        "--log-file",
        "m \"1\".log",
        "config",
        "--print",
    ]);
    for table in ["[mine]", "[pool]", "[sync]", "[bench]", "[rewards]"] {
        assert!(first.contains(&format!("\n{table}\n")), "{first}");
    }
    assert!(first.contains("\ndifficulty = 0.5\n"), "{first}");
    assert!(
        first.contains("\nlog-file = \"m \\\"1\\\".log\"\n"),
        "{first}"
    );
    let printed = file(&dir, "printed.toml", &first);
    let again = print(&["--config", &printed, "config", "--print"]);
    assert_eq!(first, again);
    // One subcommand with its own arguments.
    let first = print(&[
        "config",
        "--print",
        "pool",
        "--vardiff",
        "--nonce1-bytes",
        "3",
    ]);
    let printed = file(&dir, "pool.toml", &first);
    assert_eq!(
        print(&["--config", &printed, "config", "--print", "pool"]),
        first
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_keys_bad_values_and_missing_files_exit_2_naming_the_key() {
    let dir = scratch("errors");
    for (body, expected) in [
        (
            "[mine]\npools = [\"stratum+tcp://a:1\"]\n",
            "rig.toml: unknown key \"mine.pools\" (did you mean \"pool\"?)",
        ),
        ("[mining]\n", "unknown table \"mining\""),
        (
            "[mine]\ntls = \"yes\"\n",
            "key \"mine.tls\": expected true or false",
        ),
        (
            "[mine]\nsilence-timeout = \"soon\"\n",
            "key \"mine.silence-timeout\": invalid value 'soon'",
        ),
        (
            "log-max-size = 0\n",
            "key \"log-max-size\": invalid value '0'",
        ),
        // Another subcommand's table is checked too.
        (
            "[sync]\ntimeout = -1\n",
            "key \"sync.timeout\": invalid value '-1'",
        ),
    ] {
        let rig = file(&dir, "rig.toml", body);
        let out = fluxminer(&["config", "--print", "mine", "--config", &rig]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{body}: {err}");
        assert!(out.stdout.is_empty());
        // Not only for config --print: any command refuses the file before it runs.
        let out = fluxminer(&["--config", &rig, "status", "--datadir", "/nonexistent/x"]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        assert!(text(&out.stderr).contains(expected), "{body}");
    }
    let missing = dir.join("missing.toml");
    let out = fluxminer(&["--config", missing.to_str().unwrap(), "config", "--print"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.toml: cannot read it"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every long flag of every subcommand shows in `config --print`, as a set line or a comment.
#[test]
fn every_flag_of_every_subcommand_is_printed_as_a_key() {
    let all = print(&["config", "--print"]);
    let mut cmd = fluxminer::cli::Cli::command();
    cmd.build();
    let globals: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(|a| a.get_long())
        .collect();
    let mut n = 0;
    for sub in cmd.get_subcommands() {
        if ["config", "help"].contains(&sub.get_name()) {
            continue;
        }
        let at = all
            .find(&format!("\n[{}]\n", sub.get_name()))
            .unwrap_or_else(|| panic!("no [{}]", sub.get_name()));
        let table = all[at + 1..].split("\n[").next().unwrap();
        for long in sub.get_arguments().filter_map(|a| a.get_long()) {
            if long == "help" || globals.contains(&long) {
                continue;
            }
            let shown = table.lines().any(|l| {
                let l = l.trim_start_matches("# ");
                l.starts_with(&format!("{long} = ")) || l == format!("{long}  (not set)")
            });
            assert!(shown, "[{}] lacks {long}: {table}", sub.get_name());
            n += 1;
        }
    }
    assert!(n > 60, "{n}");
}

#[test]
fn log_file_gets_the_log_without_colours() {
    let dir = scratch("logfile");
    let log = dir.join("logs/pool.log");
    let out = Command::new(env!("CARGO_BIN_EXE_fluxminer"))
        .args(["pool", "--listen", "127.0.0.1:0", "--params", "48,5"])
        .args(["--report-interval", "1", "--duration", "0.01", "--log-file"])
        .arg(&log)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("pool listening on 127.0.0.1:"), "{logged}");
    assert!(!logged.contains('\u{1b}'), "no ANSI escapes: {logged}");
    assert!(
        text(&out.stderr).contains("pool listening on"),
        "still on stderr"
    );
    // A log file that cannot be opened stops the command at start-up, naming the path.
    let out = fluxminer(&["--log-file", dir.to_str().unwrap(), "devices"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(&format!("--log-file {}", dir.display())));
    std::fs::remove_dir_all(&dir).unwrap();
}
