//! The config file (`--config FILE`, TOML) and `fluxminer config --print`.
//!
//! Every long flag is a key, found through clap's command tree, so a flag added later has a key
//! with no change here: the global flags are top-level keys (`log-file = "miner.log"`), and each
//! subcommand has a table (`[mine]`, `[pool]`, `[sync]`, …) keyed by its long flag names
//! (`pool = ["stratum+tcp://a:1"]`, `tls = true`, `_` accepted for `-`). Positional arguments
//! (the input of `verify`, `solve`, …) are per-run data, not settings: they have no key.
//!
//! How a file applies: the command line is parsed first; each file key whose flag the command
//! line did not give (nor a flag that conflicts with it) becomes `--key=value` tokens, and the
//! combined command line is parsed again, so clap checks file values exactly as typed ones and
//! a list on the command line replaces the file's list. A value is a string, integer, float or
//! boolean (a flag without a value: `true` gives it, `false` leaves it out), or an array for a
//! flag that repeats or takes a comma list. Unknown keys and tables, values of the wrong type and
//! values clap rejects are errors naming the file and the key; every table is checked, not only
//! the running subcommand's.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::error::{ContextKind, ContextValue};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};

use super::Cli;
use super::logging::LogArgs;

/// The id of `--config` (the one global flag that is not a key).
const CONFIG_ID: &str = "config";
/// Subcommands without a table: this one, and clap's `help`.
const NO_TABLE: [&str; 2] = ["config", "help"];

/// Options of every command: the config file and logging (before or after the subcommand).
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Read settings from this TOML file: the global flags as top-level keys, a table per
    /// subcommand ([mine], [pool], …) keyed by its long flags; the command line wins.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Logging to a file.
    #[command(flatten)]
    pub log: LogArgs,
}

/// Arguments of `fluxminer config`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Print the effective configuration (command line, then --config file, then defaults) as
    /// TOML that --config reads back; defaults and unset flags as comments.
    #[arg(long, required = true)]
    pub print: bool,
    /// The subcommand and its arguments whose settings to print (default: every subcommand).
    #[arg(
        value_name = "SUBCOMMAND [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

/// Why the arguments could not be resolved.
#[derive(Debug)]
pub enum Failure {
    /// The command line alone is wrong, or asks for help or the version: clap's own report.
    CommandLine(clap::Error),
    /// The config file cannot be read, is not valid, or does not fit the command line.
    File(anyhow::Error),
}

/// Parses `argv` (program name first) with the config file applied. A wrong command line, or
/// `--help`/`--version`, exits here as clap does; a config file problem is an error.
pub fn parse_args(argv: Vec<OsString>) -> anyhow::Result<(Cli, ArgMatches)> {
    let m = match resolve(&Cli::command(), &argv) {
        Ok(m) => m,
        Err(Failure::CommandLine(e)) => e.exit(),
        Err(Failure::File(e)) => return Err(e),
    };
    let cli = Cli::from_arg_matches(&m).map_err(|e| anyhow!(clean(&e)))?;
    Ok((cli, m))
}

/// The matches of `argv` (program name first) against `cmd`, with the settings of the file that
/// `--config` names added where the command line does not give them.
pub fn resolve(cmd: &Command, argv: &[OsString]) -> Result<ArgMatches, Failure> {
    let strict = |argv: &[OsString]| cmd.clone().try_get_matches_from(argv);
    // Required arguments may come from the file: the first look does not insist on them.
    let loose = relaxed(cmd);
    let first = match loose.clone().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => return Err(Failure::CommandLine(strict(argv).err().unwrap_or(e))),
    };
    let Some(path) = first.get_one::<PathBuf>(CONFIG_ID) else {
        return strict(argv).map_err(Failure::CommandLine);
    };
    let file = ConfigFile::read(path, cmd).map_err(Failure::File)?;
    file.check_tables(&loose, first.subcommand_name())
        .map_err(Failure::File)?;
    let (combined, used) = file.splice(cmd, argv, &first);
    strict(&combined).map_err(|e| {
        if let Some(key) = named_key(&e, &used) {
            return Failure::File(anyhow!("{}: key \"{key}\": {}", file.name, clean(&e)));
        }
        match strict(argv) {
            Err(alone) if alone.kind() == e.kind() => Failure::CommandLine(alone),
            _ => Failure::File(anyhow!(
                "{}: {}: {}",
                file.name,
                keys_list(&used),
                clean(&e)
            )),
        }
    })
}

/// `cmd` with no argument required (they may come from the file, or are not needed to print).
fn relaxed(cmd: &Command) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut c = cmd.clone().mut_args(|a| a.required(false));
    for n in names {
        c = c.mut_subcommand(n, |s| s.mut_args(|a| a.required(false)));
    }
    c
}

/// `cmd` built: help added, global flags propagated into the subcommands.
fn built(cmd: &Command) -> Command {
    let mut c = cmd.clone();
    c.build();
    c
}

/// Whether `arg` is clap's `--help` or `--version`.
fn is_help(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

/// The top-level keys of the built `cmd`: its global flags but `--config`.
fn global_keys(cmd: &Command) -> Vec<&Arg> {
    cmd.get_arguments()
        .filter(|a| a.is_global_set() && a.get_id() != CONFIG_ID)
        .filter(|a| a.get_long().is_some() && !is_help(a))
        .collect()
}

/// The keys of subcommand `sub` of the built `root`: its own long flags (not the global ones,
/// nor positionals).
fn table_keys<'a>(root: &Command, sub: &'a Command) -> Vec<&'a Arg> {
    let globals: BTreeSet<&str> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().as_str())
        .collect();
    sub.get_arguments()
        .filter(|a| !globals.contains(a.get_id().as_str()))
        .filter(|a| a.get_long().is_some() && !a.is_positional() && !is_help(a))
        .collect()
}

/// The subcommands that have a table.
fn table_subcommands(root: &Command) -> Vec<&Command> {
    root.get_subcommands()
        .filter(|s| !NO_TABLE.contains(&s.get_name()))
        .collect()
}

/// One key of the file, turned into command-line tokens.
#[derive(Debug, Clone)]
struct Setting {
    /// As the file spells it, with its table: `mine.pool`, `log-file`.
    key: String,
    /// The flag's id in clap.
    id: String,
    /// The flag's long name.
    long: String,
    /// `--long=value` tokens (none for a flag set to false).
    tokens: Vec<OsString>,
}

/// A config file, checked against the command tree.
#[derive(Debug)]
struct ConfigFile {
    /// The path as given, for messages.
    name: String,
    /// The settings per table, "" for the top level.
    tables: BTreeMap<String, Vec<Setting>>,
}

impl ConfigFile {
    /// Reads and checks the file at `path`.
    fn read(path: &std::path::Path, cmd: &Command) -> anyhow::Result<ConfigFile> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--config {name}: cannot read it"))?;
        ConfigFile::parse(name, &text, cmd)
    }

    /// Checks `text` (the file `name`) against `cmd`: tables, keys and value types.
    fn parse(name: String, text: &str, cmd: &Command) -> anyhow::Result<ConfigFile> {
        let doc: toml::Table = text
            .parse()
            .map_err(|e| anyhow!("{name}: not valid TOML: {e}"))?;
        let root = built(cmd);
        let subs = table_subcommands(&root);
        let mut tables = BTreeMap::new();
        for (key, value) in &doc {
            if let Some(sub) = subs.iter().find(|s| s.get_name() == key) {
                let toml::Value::Table(t) = value else {
                    bail!(
                        "{name}: \"{key}\" is the table of `fluxminer {key}` ([{key}]), not {}{}",
                        kind(value),
                        elsewhere(&root, key, "")
                    );
                };
                let keys = table_keys(&root, sub);
                let settings = settings(&name, t, &keys, &format!("{key}."))
                    .map_err(|e| e.explain(&root, key))?;
                tables.insert(key.clone(), settings);
            } else if let toml::Value::Table(_) = value
                && !global_keys(&root).iter().any(|a| a.get_long() == Some(key))
            {
                let names: Vec<&str> = subs.iter().map(|s| s.get_name()).collect();
                bail!(
                    "{name}: unknown table \"{key}\"{} (the tables are the subcommands: {})",
                    suggest(key, names.iter().copied(), &[]),
                    names.join(", ")
                );
            }
        }
        let top: toml::Table = doc
            .into_iter()
            .filter(|(k, _)| !subs.iter().any(|s| s.get_name() == k))
            .collect();
        let settings =
            settings(&name, &top, &global_keys(&root), "").map_err(|e| e.explain(&root, ""))?;
        tables.insert(String::new(), settings);
        Ok(ConfigFile { name, tables })
    }

    /// Parses every table but the running subcommand's (`chosen`) on its own, so that a value
    /// clap rejects is an error wherever it is.
    fn check_tables(&self, loose: &Command, chosen: Option<&str>) -> anyhow::Result<()> {
        for (table, settings) in &self.tables {
            if table.is_empty() || Some(table.as_str()) == chosen {
                continue;
            }
            let tokens: Vec<OsString> = settings.iter().flat_map(|s| s.tokens.clone()).collect();
            if tokens.is_empty() {
                continue;
            }
            let argv = [OsString::from("fluxminer"), OsString::from(table)]
                .into_iter()
                .chain(tokens);
            if let Err(e) = loose.clone().try_get_matches_from(argv) {
                let used: Vec<&Setting> = settings.iter().collect();
                return Err(match named_key(&e, &used) {
                    Some(key) => anyhow!("{}: key \"{key}\": {}", self.name, clean(&e)),
                    None => anyhow!("{}: {}: {}", self.name, keys_list(&used), clean(&e)),
                });
            }
        }
        Ok(())
    }

    /// `argv` with the file's settings added: the top-level ones after the program name, the
    /// running subcommand's at the end (before a `--`); each only where `first` (the command
    /// line's matches) has neither the flag nor one that conflicts with it. Also the settings
    /// used.
    fn splice(
        &self,
        cmd: &Command,
        argv: &[OsString],
        first: &ArgMatches,
    ) -> (Vec<OsString>, Vec<&Setting>) {
        let given = |m: &ArgMatches, id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
        let mut used: Vec<&Setting> = Vec::new();
        let top = self.tables.get("").into_iter().flatten();
        used.extend(top.filter(|s| !given(first, &s.id)));
        let n_top = used.len();
        if let Some((name, m)) = first.subcommand()
            && let Some(settings) = self.tables.get(name)
        {
            let root = built(cmd);
            let sub = root.find_subcommand(name).expect("a parsed subcommand");
            let on_line: Vec<&Arg> = sub
                .get_arguments()
                .filter(|a| !a.is_global_set() && given(m, a.get_id().as_str()))
                .collect();
            for s in settings {
                let arg = sub.get_arguments().find(|a| a.get_id() == s.id.as_str());
                let clash = arg.is_some_and(|a| on_line.iter().any(|b| conflict(sub, a, b)));
                if !given(m, &s.id) && !clash {
                    used.push(s);
                }
            }
        }
        let program = argv
            .first()
            .cloned()
            .unwrap_or_else(|| OsString::from("fluxminer"));
        let rest = argv.get(1..).unwrap_or_default();
        let sub_tokens = used[n_top..].iter().flat_map(|s| s.tokens.iter().cloned());
        let at = rest.iter().position(|t| t == "--").unwrap_or(rest.len());
        let combined = std::iter::once(program)
            .chain(used[..n_top].iter().flat_map(|s| s.tokens.iter().cloned()))
            .chain(rest[..at].iter().cloned())
            .chain(sub_tokens)
            .chain(rest[at..].iter().cloned())
            .collect();
        (combined, used)
    }
}

/// Whether flags `a` and `b` of `sub` exclude each other.
fn conflict(sub: &Command, a: &Arg, b: &Arg) -> bool {
    let names = |x: &Arg, y: &Arg| {
        sub.get_arg_conflicts_with(x)
            .iter()
            .any(|c| c.get_id() == y.get_id())
    };
    names(a, b) || names(b, a)
}

/// A key the file got wrong: the message, the key (as normalized) and whether it is unknown
/// (then [`elsewhere`] may say where it belongs).
#[derive(Debug)]
struct KeyError {
    message: String,
    key: String,
    unknown: bool,
}

impl KeyError {
    /// The message, with where the key belongs when it is unknown here (`table`: "" for the
    /// top level).
    fn explain(self, root: &Command, table: &str) -> anyhow::Error {
        if self.unknown {
            anyhow!("{}{}", self.message, elsewhere(root, &self.key, table))
        } else {
            anyhow!(self.message)
        }
    }
}

/// The settings of one table (`prefix` is `mine.` or empty), each key one of `keys`.
fn settings(
    file: &str,
    table: &toml::Table,
    keys: &[&Arg],
    prefix: &str,
) -> Result<Vec<Setting>, KeyError> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut out = Vec::new();
    for (written, value) in table {
        let norm = written.replace('_', "-");
        let key = format!("{prefix}{written}");
        let fail = |what: String, unknown: bool| KeyError {
            message: format!("{file}: {what}"),
            key: norm.clone(),
            unknown,
        };
        let Some(arg) = keys.iter().find(|a| a.get_long() == Some(norm.as_str())) else {
            let longs = keys.iter().filter_map(|a| a.get_long());
            return Err(fail(
                format!("unknown key \"{key}\"{}", suggest(&norm, longs, keys)),
                true,
            ));
        };
        if let Some(other) = seen.insert(norm.clone(), written.as_str()) {
            return Err(fail(
                format!("key \"{key}\" is given twice (as \"{other}\" and \"{written}\")"),
                false,
            ));
        }
        let tokens =
            tokens(arg, value).map_err(|why| fail(format!("key \"{key}\": {why}"), false))?;
        out.push(Setting {
            key,
            id: arg.get_id().to_string(),
            long: norm,
            tokens,
        });
    }
    Ok(out)
}

/// The command-line tokens for `value` of flag `arg`.
fn tokens(arg: &Arg, value: &toml::Value) -> Result<Vec<OsString>, String> {
    let long = arg.get_long().unwrap_or_default();
    let action = arg.get_action();
    if !action.takes_values() {
        let times = match (value, action) {
            (toml::Value::Boolean(b), _) => usize::from(*b),
            (toml::Value::Integer(n), ArgAction::Count) => {
                usize::try_from(*n).map_err(|_| format!("expected a count, got {n}"))?
            }
            _ => {
                return Err(format!(
                    "expected true or false (a flag without a value), got {}",
                    kind(value)
                ));
            }
        };
        return Ok(vec![OsString::from(format!("--{long}")); times]);
    }
    let one = |v: String| OsString::from(format!("--{long}={v}"));
    let toml::Value::Array(items) = value else {
        return Ok(vec![one(scalar_text(value)?)]);
    };
    let items = items
        .iter()
        .map(scalar_text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("in the array: {e}"))?;
    if matches!(action, ArgAction::Append) || items.len() <= 1 {
        Ok(items.into_iter().map(one).collect())
    } else if let Some(d) = arg.get_value_delimiter() {
        Ok(vec![one(items.join(&d.to_string()))])
    } else {
        Err(format!("takes one value, got an array of {}", items.len()))
    }
}

/// A string, number or boolean as the command line would spell it.
fn scalar_text(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        v => Err(format!(
            "expected a string, number or boolean, got {}",
            kind(v)
        )),
    }
}

/// "a string", "an array", … for messages.
fn kind(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// ` (did you mean "pool"?)` for an alias or a near miss among `names`, else nothing.
fn suggest<'a>(key: &str, names: impl Iterator<Item = &'a str>, args: &[&Arg]) -> String {
    let alias = args
        .iter()
        .find(|a| a.get_all_aliases().is_some_and(|al| al.contains(&key)));
    let best = alias.and_then(|a| a.get_long()).or_else(|| {
        names
            .map(|n| (edit_distance(key, n), n))
            .filter(|&(d, _)| d <= 2)
            .min()
            .map(|(_, n)| n)
    });
    best.map(|n| format!(" (did you mean \"{n}\"?)"))
        .unwrap_or_default()
}

/// Where else `key` is a key, as a hint: ` (a key of [mine], [pool])` or ` (a top-level key)`;
/// `table` is where it was found ("" for the top level).
fn elsewhere(root: &Command, key: &str, table: &str) -> String {
    let mut homes: Vec<String> = table_subcommands(root)
        .into_iter()
        .filter(|s| s.get_name() != table)
        .filter(|s| {
            table_keys(root, s)
                .iter()
                .any(|a| a.get_long() == Some(key))
        })
        .map(|s| format!("[{}]", s.get_name()))
        .collect();
    if !table.is_empty() && global_keys(root).iter().any(|a| a.get_long() == Some(key)) {
        homes.insert(0, "the top level, before any table".into());
    }
    if homes.is_empty() {
        String::new()
    } else {
        format!(" (a key of {})", homes.join(", "))
    }
}

/// Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let here = (prev + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = here;
        }
    }
    row[b.len()]
}

/// The file key whose flag clap's error `e` is about, among `used`.
fn named_key(e: &clap::Error, used: &[&Setting]) -> Option<String> {
    let named: Vec<String> = match e.get(ContextKind::InvalidArg)? {
        ContextValue::String(s) => vec![s.clone()],
        ContextValue::Strings(v) => v.clone(),
        _ => return None,
    };
    named.iter().find_map(|n| {
        let long = n.trim_start_matches("--");
        let long = long.split([' ', '=', '<']).next().unwrap_or_default();
        used.iter()
            .find(|s| s.long == long && !s.tokens.is_empty())
            .map(|s| s.key.clone())
    })
}

/// `key "mine.server"` or `keys "mine.server", "mine.port"` (those that gave tokens).
fn keys_list(used: &[&Setting]) -> String {
    let keys: Vec<String> = used
        .iter()
        .filter(|s| !s.tokens.is_empty())
        .map(|s| format!("\"{}\"", s.key))
        .collect();
    let s = if keys.len() == 1 { "" } else { "s" };
    format!("key{s} {}", keys.join(", "))
}

/// Clap's message on one line, without its `error: ` prefix, usage and help lines.
fn clean(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut out = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information")
        {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out.trim_start_matches("error: ").to_string()
}

/// Runs `fluxminer config --print`: `matches` are those of the whole command line (for the
/// global flags it gave).
pub fn run(args: &ConfigArgs, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    print!("{}", effective(args, matches)?);
    Ok(ExitCode::SUCCESS)
}

/// The effective configuration as TOML (see [`ConfigArgs::print`]).
pub fn effective(args: &ConfigArgs, matches: &ArgMatches) -> anyhow::Result<String> {
    let cmd = relaxed(&Cli::command())
        .subcommand_required(false)
        .arg_required_else_help(false);
    let root = built(&cmd);
    let subs = table_subcommands(&root);
    let mut prefix = vec![OsString::from("fluxminer")];
    for arg in root.get_arguments().filter(|a| a.is_global_set()) {
        prefix.extend(given_tokens(arg, matches));
    }
    let resolve_with = |rest: &[OsString]| -> anyhow::Result<ArgMatches> {
        let argv: Vec<OsString> = prefix.iter().chain(rest).cloned().collect();
        resolve(&cmd, &argv).map_err(|f| match f {
            Failure::CommandLine(e) => anyhow!("config --print: {}", clean(&e)),
            Failure::File(e) => e,
        })
    };
    let (top, named) = match args.command.first() {
        Some(name) => {
            let name = name.to_string_lossy();
            if !subs.iter().any(|s| s.get_name() == name) {
                let names: Vec<&str> = subs.iter().map(|s| s.get_name()).collect();
                bail!(
                    "config --print: \"{name}\" is not a subcommand with settings (one of: {})",
                    names.join(", ")
                );
            }
            (resolve_with(&args.command)?, Some(name.into_owned()))
        }
        None => (resolve_with(&[])?, None),
    };
    let mut out = String::from(HEADER);
    write_keys(&mut out, &global_keys(&root), &top);
    for sub in subs {
        let name = sub.get_name();
        let m = match &named {
            Some(n) if n != name => continue,
            Some(_) => top.clone(),
            None => resolve_with(&[OsString::from(name)])?,
        };
        let sm = m
            .subcommand_matches(name)
            .expect("the subcommand was given");
        out.push_str(&format!("\n[{name}]\n"));
        write_keys(&mut out, &table_keys(&root, sub), sm);
    }
    Ok(out)
}

/// The first lines of `config --print`.
const HEADER: &str = "# fluxminer configuration (fluxminer config --print; read back with --config FILE).\n\
# Set lines come from the command line or a config file; commented ones show a default or a\n\
# flag that is not set.\n";

/// The tokens that give `arg` as `m` has it, if the command line (or a file) set it.
fn given_tokens(arg: &Arg, m: &ArgMatches) -> Vec<OsString> {
    let id = arg.get_id().as_str();
    if m.value_source(id) != Some(ValueSource::CommandLine) || is_help(arg) {
        return Vec::new();
    }
    let long = arg.get_long().unwrap_or_default();
    if !arg.get_action().takes_values() {
        return vec![OsString::from(format!("--{long}"))];
    }
    let raw = m.get_raw(id).into_iter().flatten();
    raw.map(|v| {
        let mut t = OsString::from(format!("--{long}="));
        t.push(v);
        t
    })
    .collect()
}

/// One commented help line and one `key = value` line per arg of `args`.
fn write_keys(out: &mut String, args: &[&Arg], m: &ArgMatches) {
    for arg in args {
        let key = arg.get_long().unwrap_or_default();
        if let Some(help) = arg.get_help() {
            for line in wrap(&help.to_string(), 96) {
                out.push_str(&format!("# {line}\n"));
            }
        }
        let line = match m.value_source(arg.get_id().as_str()) {
            Some(ValueSource::DefaultValue) => format!("# {key} = {}  (default)", value(arg, m)),
            Some(_) => format!("{key} = {}", value(arg, m)),
            None => format!("# {key}  (not set)"),
        };
        out.push_str(&line);
        out.push('\n');
    }
}

/// `arg`'s value in `m` as TOML.
fn value(arg: &Arg, m: &ArgMatches) -> String {
    let id = arg.get_id().as_str();
    let action = arg.get_action();
    if !action.takes_values() {
        if matches!(action, ArgAction::Count) {
            return m.get_count(id).to_string();
        }
        return (m.value_source(id) == Some(ValueSource::CommandLine)).to_string();
    }
    let raw: Vec<String> = m
        .get_raw(id)
        .into_iter()
        .flatten()
        .map(|v| toml_scalar(&v.to_string_lossy()))
        .collect();
    if matches!(action, ArgAction::Append) || arg.get_value_delimiter().is_some() {
        format!("[{}]", raw.join(", "))
    } else {
        raw.last().cloned().unwrap_or_else(|| "\"\"".into())
    }
}

/// `s` as a TOML scalar: bare when it reads back as the same text (booleans, integers, plain
/// decimals), else a quoted string.
fn toml_scalar(s: &str) -> String {
    let bare = s == "true"
        || s == "false"
        || s.parse::<i64>().is_ok_and(|n| n.to_string() == s)
        || (s.contains('.')
            && s.parse::<f64>()
                .is_ok_and(|f| f.is_finite() && f.to_string() == s));
    if bare {
        return s.to_string();
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                q.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// `text` in lines of at most `width` characters (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// The file text checked against the real command tree.
    fn check(text: &str) -> anyhow::Result<ConfigFile> {
        ConfigFile::parse("f.toml".into(), text, &Cli::command())
    }

    #[test]
    fn keys_are_long_flags_with_dashes_or_underscores() {
        let f = check(
            "log-file = \"m.log\"\n[mine]\ntest_pool_difficulty = 0.001\n\
             pool = [\"stratum+tcp://a:1\", \"stratum+tcp://b:2\"]\ntls = true\nno-extranonce = false\n\
             devices = [0, 2]\n",
        )
        .unwrap();
        let mine: Vec<(String, Vec<OsString>)> = f.tables["mine"]
            .iter()
            .map(|s| (s.key.clone(), s.tokens.clone()))
            .collect();
        assert_eq!(
            mine,
            [
                ("mine.devices".into(), os(&["--devices=0", "--devices=2"])),
                ("mine.no-extranonce".into(), vec![]),
                (
                    "mine.pool".into(),
                    os(&["--pool=stratum+tcp://a:1", "--pool=stratum+tcp://b:2"])
                ),
                (
                    "mine.test_pool_difficulty".into(),
                    os(&["--test-pool-difficulty=0.001"])
                ),
                ("mine.tls".into(), os(&["--tls"])),
            ]
        );
        assert_eq!(f.tables[""][0].tokens, os(&["--log-file=m.log"]));
    }

    #[test]
    fn unknown_keys_and_tables_are_named_with_a_hint() {
        let e = check("[mine]\npools = []\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "f.toml: unknown key \"mine.pools\" (did you mean \"pool\"?)"
        );
        let e = check("[mine]\nurl = []\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "f.toml: unknown key \"mine.url\" (did you mean \"pool\"?)"
        );
        let e = check("[minr]\n").unwrap_err().to_string();
        assert!(
            e.starts_with("f.toml: unknown table \"minr\" (did you mean \"mine\"?)"),
            "{e}"
        );
        let e = check("[mine]\nlog-file = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("unknown key \"mine.log-file\""), "{e}");
        assert!(e.contains("top level"), "{e}");
        let e = check("silence-timeout = 5\n").unwrap_err().to_string();
        assert!(e.contains("unknown key \"silence-timeout\""), "{e}");
        assert!(e.contains("[mine]"), "{e}");
        let e = check("config = \"other.toml\"\n").unwrap_err().to_string();
        assert!(e.contains("unknown key \"config\""), "{e}");
        let e = check("[config]\n").unwrap_err().to_string();
        assert!(e.contains("unknown table \"config\""), "{e}");
        let e = check("pool = [\"stratum+tcp://a:1\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"pool\" is the table of `fluxminer pool`"),
            "{e}"
        );
        assert!(e.contains("[mine]"), "{e}");
        let e = check("[mine]\ntls_insecure = true\ntls-insecure = true\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("given twice"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        for (text, key, why) in [
            (
                "[mine]\ntls = \"yes\"\n",
                "mine.tls",
                "expected true or false",
            ),
            (
                "[mine]\nuser = [\"a\", \"b\"]\n",
                "mine.user",
                "takes one value",
            ),
            ("[mine]\nuser = { a = 1 }\n", "mine.user", "got a table"),
            ("[mine]\npool = [[\"a\"]]\n", "mine.pool", "got an array"),
            ("log-keep = 1979-05-27\n", "log-keep", "got a date-time"),
        ] {
            let e = check(text).unwrap_err().to_string();
            assert!(e.contains(&format!("key \"{key}\": ")), "{e}");
            assert!(e.contains(why), "{e}");
        }
        let e = check("[mine\n").unwrap_err().to_string();
        assert!(e.starts_with("f.toml: not valid TOML"), "{e}");
    }

    /// Every long flag of every subcommand is a key: set alone to its default (or true, or a
    /// string), the file is accepted or clap's complaint names that key.
    #[test]
    fn every_flag_of_every_subcommand_is_a_key() {
        let cmd = Cli::command();
        let root = built(&cmd);
        let loose = relaxed(&cmd);
        let mut n = 0;
        for sub in table_subcommands(&root) {
            for arg in table_keys(&root, sub) {
                let long = arg.get_long().unwrap();
                let value = if !arg.get_action().takes_values() {
                    "true".to_string()
                } else {
                    let d = arg.get_default_values().first();
                    toml_scalar(&d.map_or("x".into(), |d| d.to_string_lossy()))
                };
                let text = format!("[{}]\n{long} = {value}\n", sub.get_name());
                let key = format!("\"{}.{long}\"", sub.get_name());
                let checked = check(&text).and_then(|f| f.check_tables(&loose, None));
                if let Err(e) = checked {
                    let e = e.to_string();
                    assert!(e.contains(&key) && !e.contains("unknown"), "{text}: {e}");
                }
                n += 1;
            }
        }
        assert!(n > 60, "only {n} keys");
        let top = global_keys(&root);
        let longs: Vec<&str> = top.iter().filter_map(|a| a.get_long()).collect();
        assert_eq!(longs, ["log-file", "log-max-size", "log-keep"]);
    }

    #[test]
    fn clap_rejecting_a_file_value_names_the_key() {
        let f = check("[pool]\njob-interval = \"soon\"\n").unwrap();
        let e = f.check_tables(&relaxed(&Cli::command()), None).unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("f.toml: key \"pool.job-interval\": invalid value 'soon'"),
            "{e}"
        );
        let f = check("[mine]\nserver = \"h\"\n").unwrap();
        let e = f.check_tables(&relaxed(&Cli::command()), None).unwrap_err();
        assert!(e.to_string().contains("mine.server"), "{e}");
    }

    #[test]
    fn splice_lets_the_command_line_win_and_drops_conflicting_keys() {
        let cmd = Cli::command();
        let f = check(
            "log-keep = 3\n[mine]\npool = [\"stratum+tcp://a:1\"]\nuser = \"t1a.w\"\ndevices = [1]\n",
        )
        .unwrap();
        let argv = os(&[
            "fluxminer",
            "mine",
            "--pool",
            "stratum+tcp://b:2",
            "--device",
            "0",
        ]);
        let first = relaxed(&cmd).try_get_matches_from(&argv).unwrap();
        let (combined, _) = f.splice(&cmd, &argv, &first);
        assert_eq!(
            combined,
            os(&[
                "fluxminer",
                "--log-keep=3",
                "mine",
                "--pool",
                "stratum+tcp://b:2",
                "--device",
                "0",
                "--user=t1a.w",
            ])
        );
        let argv = os(&["fluxminer", "pool", "--", "x"]);
        let f = check("[pool]\nsynthetic = true\n").unwrap();
        let first = relaxed(&cmd)
            .try_get_matches_from(os(&["fluxminer", "pool"]))
            .unwrap();
        let (combined, _) = f.splice(&cmd, &argv, &first);
        assert_eq!(
            combined,
            os(&["fluxminer", "pool", "--synthetic", "--", "x"])
        );
    }

    #[test]
    fn scalars_print_bare_only_when_they_read_back_the_same() {
        assert_eq!(toml_scalar("300"), "300");
        assert_eq!(toml_scalar("-2"), "-2");
        assert_eq!(toml_scalar("0.0005"), "0.0005");
        assert_eq!(toml_scalar("true"), "true");
        assert_eq!(toml_scalar("60.0"), "\"60.0\"");
        assert_eq!(toml_scalar("007"), "\"007\"");
        assert_eq!(toml_scalar("1e5"), "\"1e5\"");
        assert_eq!(toml_scalar("125,4"), "\"125,4\"");
        assert_eq!(toml_scalar("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        let back: toml::Table = format!("k = {}", toml_scalar("a\"b\\c\n\u{1}\u{7f}"))
            .parse()
            .unwrap();
        assert_eq!(back["k"].as_str(), Some("a\"b\\c\n\u{1}\u{7f}"));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("pools", "pool"), 1);
        assert_eq!(edit_distance("minr", "mine"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn wrap_keeps_lines_short() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert!(wrap("", 6).is_empty());
    }
}
