//! Helpers of tests/api.rs: a `fluxminer mine` child process with its API on a free loopback
//! port, a minimal HTTP/1.1 client, the Prometheus reference parser, headless chromium, and the
//! HiveOS package.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_fluxminer");

/// The miner's common flags: Equihash 48,5 on one CPU thread against the built-in pool.
const MINE: &[&str] = &[
    "mine",
    "--backend",
    "cpu",
    "--params",
    "48,5",
    "--threads",
    "1",
    "--log-interval",
    "600",
];

/// A running `fluxminer mine`, killed on drop.
pub struct Miner {
    child: Child,
    /// Where its API listens.
    pub addr: SocketAddr,
}

impl Miner {
    /// Starts the miner with its API on a free loopback port and `extra` flags; returns once
    /// the API is up (it logs its address).
    pub fn start(extra: &[&str]) -> Miner {
        let mut child = Command::new(BIN)
            .args(MINE)
            .args(["--api", "127.0.0.1:0", "--duration", "180"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start fluxminer");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps draining stderr so that the miner never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = api_addr(&line) {
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the miner logs its API address");
        Miner { child, addr }
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in "API and dashboard on http://127.0.0.1:PORT/".
fn api_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split("API and dashboard on http://").nth(1)?;
    rest.split('/').next()?.parse().ok()
}

/// Runs `fluxminer mine` with `extra` flags briefly (a second of mining at most) and returns
/// its output.
pub fn mine_once(extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(MINE)
        .args(["--duration", "1"])
        .args(extra)
        .output()
        .expect("run fluxminer")
}

/// A free loopback port (nobody listens on it once this returns).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// One HTTP/1.1 request; returns the status code and the body.
pub fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the API");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read the answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a whole answer");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
    (code, body.to_string())
}

/// Polls `f` every 200 ms until it gives a value; panics naming `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The value at a dotted path ("devices.0.sol_per_s.60s").
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) if v.is_array() => &v[i],
        _ => &v[k],
    })
}

/// The samples of a Prometheus exposition, parsed by the Prometheus project's reference
/// OpenMetrics parser (Python `prometheus_client`; any syntax error fails): a JSON array of
/// `{name, labels, value}`.
pub fn metrics_samples(text: &str) -> Value {
    const PARSE: &str = "import sys, json\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n\
        print(json.dumps([{'name': s.name, 'labels': s.labels, 'value': s.value}\n\
            for f in p(sys.stdin.read()) for s in f.samples]))";
    let pydeps = std::env::var("FLUXMINER_PYDEPS")
        .expect("FLUXMINER_PYDEPS: the folder prometheus_client is installed in (scripts/test.sh)");
    let mut child = Command::new("python3")
        .args(["-c", PARSE])
        .env("PYTHONPATH", pydeps)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Headless chromium (Debian's chromium-headless-shell, or `FLUXMINER_CHROMIUM`).
fn chromium() -> String {
    if let Ok(c) = std::env::var("FLUXMINER_CHROMIUM") {
        return c;
    }
    for c in ["chromium-headless-shell", "chromium", "chromium-browser"] {
        if Command::new(c).arg("--version").output().is_ok() {
            return c.to_string();
        }
    }
    panic!("no headless chromium: install chromium-headless-shell (scripts/test.sh does)");
}

/// The page's DOM after its scripts ran (its first refresh).
pub fn browser_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=4000", "--dump-dom", url])
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A number on the page.
#[derive(Debug)]
pub struct Field {
    /// Its path in /v1/status.
    pub field: String,
    /// `data-value`: the exact number ("" for none).
    pub value: String,
    /// Decimal places of the text.
    pub digits: u32,
    /// The unit after the number.
    pub unit: String,
    /// What the page shows.
    pub text: String,
}

/// The `seq` the page rendered, its numbers, and its chart's lines.
pub fn dashboard_fields(dom: &str) -> (u64, Vec<Field>, usize) {
    let body = dom.split("<body").nth(1).expect("a body");
    let seq = attr(body.split('>').next().unwrap(), "data-seq")
        .and_then(|s| s.parse().ok())
        .expect("the page rendered (body data-seq)");
    let mut fields = Vec::new();
    for (i, _) in dom.match_indices("data-field=\"") {
        let start = dom[..i].rfind('<').unwrap();
        let end = i + dom[i..].find('>').unwrap();
        let tag = &dom[start..end];
        let text = &dom[end + 1..end + 1 + dom[end + 1..].find('<').unwrap()];
        fields.push(Field {
            field: attr(tag, "data-field").unwrap(),
            value: attr(tag, "data-value").expect("filled by the script"),
            digits: attr(tag, "data-digits").map_or(2, |d| d.parse().unwrap()),
            unit: attr(tag, "data-unit").unwrap_or_default(),
            text: text.to_string(),
        });
    }
    let lines = dom.matches("<polyline").count();
    (seq, fields, lines)
}

/// The value of attribute `name` in a tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let v = &tag[i..i + tag[i..].find('"')?];
    Some(v.replace("&amp;", "&").replace("&quot;", "\""))
}

/// Builds the HiveOS package with the test binary and unpacks it: the `fluxminer/` folder.
pub fn hiveos_package() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("scripts/package-hiveos.sh"))
        .args(["--binary", BIN, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    succeeded(&out);
    let tarball = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let name = format!("fluxminer-{}.tar.gz", env!("CARGO_PKG_VERSION"));
    assert!(tarball.ends_with(&name), "{tarball}");
    let st = Command::new("tar")
        .args(["-xzf", &tarball, "-C"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let pkg = dir.path().join("fluxminer");
    (dir, pkg)
}

/// Sources the package's `h-stats.sh` as the HiveOS agent does (in a function, with the
/// manifest's port set to `port`) and returns `khs` and `stats`; the script must print nothing.
pub fn source_h_stats(pkg: &(tempfile::TempDir, PathBuf), port: u16) -> (f64, Value) {
    let script = "miner_stats() { . \"$PKG/h-stats.sh\"; }; miner_stats; \
                  printf '%s\\n%s\\n' \"$khs\" \"$stats\"";
    let out = Command::new("bash")
        .args(["-c", script])
        .env("PKG", &pkg.1)
        .env("FLUXMINER_API_PORT", port.to_string())
        .output()
        .unwrap();
    succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "h-stats.sh printed something: {text:?}");
    let khs = lines[0]
        .parse()
        .unwrap_or_else(|_| panic!("khs {:?}", lines[0]));
    (khs, serde_json::from_str(lines[1]).unwrap())
}

/// Sources the package's `h-config.sh` with the flight-sheet variables `vars` and the config
/// file moved into the package folder; returns the file it wrote.
pub fn source_h_config(pkg: &(tempfile::TempDir, PathBuf), vars: &[(&str, &str)]) -> PathBuf {
    let file = pkg.1.join("fluxminer.toml");
    let manifest = pkg.1.join("h-manifest.conf");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let moved = text.replace(
        "/hive/miners/custom/fluxminer/fluxminer.toml",
        file.to_str().unwrap(),
    );
    assert_ne!(text, moved, "the manifest names the config file");
    std::fs::write(&manifest, moved).unwrap();
    let out = Command::new("bash")
        .args(["-c", ". \"$PKG/h-config.sh\""])
        .env("PKG", &pkg.1)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    succeeded(&out);
    assert!(out.stdout.is_empty(), "h-config.sh printed something");
    file
}

/// `fluxminer --config FILE config --print mine`.
pub fn config_print(file: &Path) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(file)
        .args(["config", "--print", "mine"])
        .output()
        .unwrap();
    succeeded(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// Panics with its stderr unless `out` is a success.
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
