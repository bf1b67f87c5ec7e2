//! Logging for every command: tracing to stderr (RUST_LOG overrides the default `info`) and, with
//! `--log-file PATH`, also to that file without ANSI colours, rotated by size: when the live file
//! passes `--log-max-size` MiB it becomes PATH.1, the older ones move up to PATH.N, and only
//! `--log-keep` of them are kept (the `file-rotate` crate does the moving).

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

/// The global logging options (`--log-file`, `--log-max-size`, `--log-keep`), usable before or
/// after the subcommand and as top-level keys of the config file.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Also write the log to this file (no colours), rotated by size.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Rotate the log file when it passes this many MiB.
    #[arg(long, global = true, value_name = "MiB", default_value_t = 16,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub log_max_size: u64,
    /// Rotated log files to keep (PATH.1 is the newest).
    #[arg(long, global = true, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub log_keep: u64,
}

/// Installs the process's tracing subscriber: stderr as before, plus the rotated file when
/// `--log-file` is given. A file that cannot be opened is an error naming its path. Calling it
/// again (or after another subscriber was installed) changes nothing.
pub fn init(args: &LogArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = match &args.log_file {
        Some(path) => Some(rotating_writer(
            path,
            args.log_max_size.saturating_mul(1 << 20),
            args.log_keep,
        )?),
        None => None,
    };
    let file_layer = file.map(|w| fmt::layer().with_ansi(false).with_writer(Mutex::new(w)));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(file_layer)
        .try_init();
    Ok(())
}

/// A writer appending to `path` that moves it to `path.1` (older files to `.2` … `.keep`, the
/// oldest dropped) once it has passed `max_bytes`; a line is never split between two files.
/// Fails, naming the path, when the file or its directory cannot be created or opened.
pub fn rotating_writer(
    path: &Path,
    max_bytes: u64,
    keep: u64,
) -> anyhow::Result<FileRotate<AppendCount>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| {
            format!("--log-file {}: cannot create its directory", path.display())
        })?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("--log-file {}: cannot open it for writing", path.display()))?;
    let max = usize::try_from(max_bytes.max(1)).unwrap_or(usize::MAX);
    let keep = usize::try_from(keep.max(1)).unwrap_or(usize::MAX);
    Ok(FileRotate::new(
        path,
        AppendCount::new(keep),
        ContentLimit::BytesSurpassed(max),
        Compression::None,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::rotating_writer;

    /// A fresh empty directory under the target's temp dir, unique to `name`.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("fluxminer-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn rotates_by_size_keeps_n_files_and_the_newest_lines_are_live() {
        let dir = scratch("rotate");
        let path = dir.join("miner.log");
        let mut w = rotating_writer(&path, 100, 3).unwrap();
        // 40 lines of 19 bytes: a file is rotated once it has passed 100 bytes, after 6 lines.
        for i in 0..40 {
            w.write_all(format!("line {i:04} of logs.\n").as_bytes())
                .unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
        let live = read(&path);
        assert!(live.ends_with("line 0039 of logs.\n"), "{live}");
        assert!(live.len() <= 120, "{live}");
        for n in 1..=3 {
            let old = dir.join(format!("miner.log.{n}"));
            let text = read(&old);
            assert!(
                text.len() > 100 && text.len() <= 120,
                "{}: {text}",
                old.display()
            );
            assert!(text.lines().all(|l| l.len() == 18), "{text}");
        }
        assert!(
            !dir.join("miner.log.4").exists(),
            "only 3 old files are kept"
        );
        // .1 is newer than .2: its first line follows .2's last.
        let last_of = |n: u32| {
            let t = read(&dir.join(format!("miner.log.{n}")));
            t.lines().last().unwrap()[5..9].parse::<u32>().unwrap()
        };
        let first_of_1: u32 = read(&dir.join("miner.log.1"))[5..9].parse().unwrap();
        assert_eq!(first_of_1, last_of(2) + 1);
        let first_live: u32 = live[5..9].parse().unwrap();
        assert_eq!(first_live, last_of(1) + 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_log_file_that_cannot_be_opened_names_its_path() {
        let dir = scratch("bad");
        // A directory where the file should be.
        let path = dir.join("taken");
        std::fs::create_dir_all(&path).unwrap();
        let Err(e) = rotating_writer(&path, 100, 2) else {
            panic!("a directory opened as a log file");
        };
        let e = format!("{e:#}");
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains("cannot open"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
