//! AMD and Intel (and nouveau) cards through hwmon in sysfs.
//!
//! Cards are `<root>/class/drm/cardN` (connectors such as `card0-DP-1` and render nodes are
//! skipped); `cardN/device/` is the PCI device: `vendor` and `device` hold `0x1002`-style ids,
//! `uevent` holds `PCI_SLOT_NAME` and `DRIVER` (else the `device` and `device/driver` link
//! targets name them). Its sensors are in `device/hwmon/hwmonM/` (the first directory that is
//! not a per-GT one such as `i915_gt0`):
//!
//! | file | unit | becomes |
//! |---|---|---|
//! | `temp*_input` (the one labelled `edge` in `temp*_label`, else the first) | m°C | °C |
//! | `power1_average`, else `power1_input` | µW | W |
//! | `energy1_input` (Intel i915/xe; may wrap at 32 bits) | µJ | W, from two readings ([`power_from_energy`]) |
//! | `fan1_input` | RPM | RPM |
//! | `pwm1` | 0–255 | % |
//!
//! Which files a card has is found once; each reading opens only those.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Absent, GpuId, PciAddress, Reading};

/// The shortest time between two energy readings that gives a power figure; a reading sooner
/// than that repeats the last figure and keeps the older sample.
pub const MIN_ENERGY_WINDOW: Duration = Duration::from_millis(200);

/// Power above which a counter that went backwards is taken for a reset, not a wrap.
const MAX_PLAUSIBLE_W: f64 = 5000.0;

/// Power in W from two readings of an energy counter in µJ taken `elapsed` apart.
///
/// A counter that went backwards from a value that fits 32 bits wrapped once at 2³² µJ (i915's
/// register is 32 bits wide); from a larger value, or giving an implausible power (over 5 kW), it
/// was reset: `None`. `None` also when no time passed.
pub fn power_from_energy(prev_uj: u64, cur_uj: u64, elapsed: Duration) -> Option<f64> {
    if elapsed.is_zero() {
        return None;
    }
    let used = if cur_uj >= prev_uj {
        cur_uj - prev_uj
    } else if prev_uj <= u64::from(u32::MAX) {
        (1u64 << 32) - prev_uj + cur_uj
    } else {
        return None;
    };
    let watts = used as f64 / 1e6 / elapsed.as_secs_f64();
    (watts <= MAX_PLAUSIBLE_W).then_some(watts)
}

/// The hwmon files of one card.
#[derive(Debug)]
struct Sensors {
    /// `hwmon2`.
    dir: String,
    /// The chip's `name` (`amdgpu`, `i915`).
    chip: String,
    /// The temperature file and its label (or `tempN`).
    temp: Option<(PathBuf, String)>,
    /// `power1_average`, `power1_input`: those present, in that order.
    power: Vec<PathBuf>,
    energy: Option<PathBuf>,
    fan: Option<PathBuf>,
    pwm: Option<PathBuf>,
}

impl Sensors {
    /// `hwmon2 (amdgpu): temp edge, power1_average, fan1_input, pwm1`.
    fn describe(&self) -> String {
        let mut what = Vec::new();
        if let Some((_, label)) = &self.temp {
            what.push(format!("temp {label}"));
        }
        let name = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned());
        what.extend(self.power.iter().filter_map(name));
        what.extend(
            [&self.energy, &self.fan, &self.pwm]
                .into_iter()
                .flatten()
                .filter_map(name),
        );
        format!("{} ({}): {}", self.dir, self.chip, what.join(", "))
    }
}

/// One DRM card.
#[derive(Debug)]
struct Card {
    /// `card0`.
    name: String,
    number: u32,
    driver: Option<String>,
    id: GpuId,
    /// Its sensors, or why there are none.
    sensors: Result<Sensors, String>,
}

impl Card {
    /// `hwmon card0 (amdgpu)`.
    fn origin(&self) -> String {
        match &self.driver {
            Some(d) => format!("hwmon {} ({d})", self.name),
            None => format!("hwmon {}", self.name),
        }
    }
}

/// The last energy sample of a card and the power it gave.
#[derive(Debug, Clone, Copy)]
struct EnergyState {
    uj: u64,
    at: Instant,
    power: Option<f64>,
}

/// Every DRM card under a sysfs root, with its hwmon files.
#[derive(Debug)]
pub struct Hwmon {
    drm: PathBuf,
    cards: Vec<Card>,
    /// Why the DRM class could not be listed, or cards that were skipped.
    notes: Vec<String>,
    energy: Mutex<HashMap<usize, EnergyState>>,
}

impl Hwmon {
    /// Lists the cards under `<root>/class/drm` and their hwmon files; a first energy sample is
    /// taken at `now`.
    pub fn discover(root: &Path, now: Instant) -> Hwmon {
        let drm = root.join("class").join("drm");
        let mut notes = Vec::new();
        let mut cards = Vec::new();
        match fs::read_dir(&drm) {
            Err(e) => notes.push(format!("{}: {e}", drm.display())),
            Ok(entries) => {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let Some(number) = card_number(&name) else {
                        continue;
                    };
                    match card(&entry.path(), name.clone(), number) {
                        Ok(c) => cards.push(c),
                        Err(why) => notes.push(format!("{name} skipped: {why}")),
                    }
                }
            }
        }
        cards.sort_by_key(|c| c.number);
        assign_ordinals(&mut cards);
        let hwmon = Hwmon {
            drm,
            cards,
            notes,
            energy: Mutex::new(HashMap::new()),
        };
        for i in 0..hwmon.cards.len() {
            // The first sample; a counter that cannot be read says so at the first reading.
            let _ = hwmon.energy_power(i, now);
        }
        hwmon
    }

    /// Cards found.
    pub fn len(&self) -> usize {
        self.cards.len()
    }

    /// Whether no card was found.
    pub fn is_empty(&self) -> bool {
        self.cards.is_empty()
    }

    /// One line per card (or why there is none), each starting `hwmon: `.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .cards
            .iter()
            .map(|c| {
                let driver = c.driver.as_deref().unwrap_or("(no driver)");
                let sensors = match &c.sensors {
                    Ok(s) => s.describe(),
                    Err(why) => why.clone(),
                };
                format!("hwmon: {} {driver} {}: {sensors}", c.name, c.id)
            })
            .collect();
        out.extend(self.notes.iter().map(|n| format!("hwmon: {n}")));
        if out.is_empty() {
            out.push(format!("hwmon: no DRM card under {}", self.drm.display()));
        }
        out
    }

    /// The sensors of the card `id` names at `now`; `None` when no card matches.
    pub fn read(&self, id: &GpuId, now: Instant) -> Option<Result<Reading, Absent>> {
        let i = self.cards.iter().position(|c| c.id.matches(id))?;
        Some(self.read_card(i, now))
    }

    fn read_card(&self, i: usize, now: Instant) -> Result<Reading, Absent> {
        let card = &self.cards[i];
        let origin = card.origin();
        let s = card.sensors.as_ref().map_err(|why| Absent::NoSensors {
            origin: origin.clone(),
            why: why.clone(),
        })?;
        let mut errors = Vec::new();
        let mut reading = Reading {
            source: origin.clone(),
            ..Reading::default()
        };
        if let Some((path, label)) = &s.temp {
            reading.temperature_c = keep(&mut errors, read_int(path)).map(|m| m as f64 / 1000.0);
            reading.temperature_sensor = reading.temperature_c.map(|_| label.clone());
        }
        reading.power_w = s
            .power
            .iter()
            .find_map(|p| keep(&mut errors, read_int(p)))
            .map(|uw| uw as f64 / 1e6);
        if reading.power_w.is_none() && s.energy.is_some() {
            reading.power_w = keep(&mut errors, self.energy_power(i, now)).flatten();
        }
        if let Some(p) = &s.fan {
            reading.fan_rpm = keep(&mut errors, read_int(p)).and_then(|r| u32::try_from(r).ok());
        }
        if let Some(p) = &s.pwm {
            reading.fan_percent =
                keep(&mut errors, read_int(p)).map(|d| d.clamp(0, 255) as f64 * 100.0 / 255.0);
        }
        if reading.is_empty() && !errors.is_empty() {
            return Err(Absent::Failed {
                origin,
                why: errors.join("; "),
            });
        }
        Ok(reading)
    }

    /// Reads card `i`'s energy counter at `now` and returns the power since the sample kept (or
    /// the last figure, within [`MIN_ENERGY_WINDOW`]); `Ok(None)` without a counter or before a
    /// second sample.
    fn energy_power(&self, i: usize, now: Instant) -> Result<Option<f64>, String> {
        let Some(path) = self.cards[i]
            .sensors
            .as_ref()
            .ok()
            .and_then(|s| s.energy.as_ref())
        else {
            return Ok(None);
        };
        let uj = read_int(path).and_then(|v| {
            u64::try_from(v).map_err(|_| format!("{}: negative energy {v}", file_name(path)))
        })?;
        let mut states = self.energy.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = EnergyState {
            uj,
            at: now,
            power: None,
        };
        let state = states.entry(i).or_insert(fresh);
        match now.checked_duration_since(state.at) {
            Some(elapsed) if elapsed >= MIN_ENERGY_WINDOW => {
                *state = EnergyState {
                    power: power_from_energy(state.uj, uj, elapsed),
                    ..fresh
                };
                Ok(state.power)
            }
            _ => Ok(state.power),
        }
    }
}

/// The value, or `None` with the error kept.
fn keep<T>(errors: &mut Vec<String>, r: Result<T, String>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// `card12` → 12; `card0-DP-1`, `renderD128`, `version` → `None`.
fn card_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("card")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The card at `dir` (`<root>/class/drm/cardN`), or why it is not a PCI card.
fn card(dir: &Path, name: String, number: u32) -> Result<Card, String> {
    let dev = dir.join("device");
    let vendor = read_hex(&dev.join("vendor")).ok_or("no PCI vendor id (device/vendor)")?;
    let device = read_hex(&dev.join("device"));
    let uevent = fs::read_to_string(dev.join("uevent")).unwrap_or_default();
    let field = |key: &str| {
        uevent
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().to_string())
    };
    let pci = field("PCI_SLOT_NAME")
        .or_else(|| link_name(&dev))
        .and_then(|s| s.parse::<PciAddress>().ok());
    let driver = field("DRIVER").or_else(|| link_name(&dev.join("driver")));
    Ok(Card {
        name,
        number,
        driver,
        id: GpuId {
            vendor,
            device,
            pci,
            ordinal: 0,
        },
        sensors: sensors(&dev.join("hwmon")),
    })
}

/// Numbers each card among those with the same vendor and device id, in PCI order (cards
/// without an address last, by card number).
fn assign_ordinals(cards: &mut [Card]) {
    let mut order: Vec<usize> = (0..cards.len()).collect();
    order.sort_by_key(|&i| (cards[i].id.pci.is_none(), cards[i].id.pci, cards[i].number));
    let mut seen: HashMap<(u16, Option<u16>), u32> = HashMap::new();
    for i in order {
        let n = seen
            .entry((cards[i].id.vendor, cards[i].id.device))
            .or_insert(0);
        cards[i].id.ordinal = *n;
        *n += 1;
    }
}

/// The hwmon files under `dir` (`device/hwmon`), or why there are none.
fn sensors(dir: &Path) -> Result<Sensors, String> {
    let mut dirs: Vec<(u32, PathBuf, String)> = fs::read_dir(dir)
        .map_err(|_| "no hwmon directory".to_string())?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("hwmon")?.parse().ok()?;
            let chip = fs::read_to_string(e.path().join("name")).unwrap_or_default();
            Some((n, e.path(), chip.trim().to_string()))
        })
        .collect();
    dirs.sort_by_key(|d| d.0);
    let (n, path, chip) = dirs
        .iter()
        .find(|(_, _, chip)| !chip.contains("_gt"))
        .or(dirs.first())
        .cloned()
        .ok_or("no hwmonN directory under device/hwmon")?;
    let has = |f: &str| Some(path.join(f)).filter(|p| p.is_file());
    let s = Sensors {
        dir: format!("hwmon{n}"),
        temp: temperature(&path),
        power: ["power1_average", "power1_input"]
            .into_iter()
            .filter_map(has)
            .collect(),
        energy: has("energy1_input"),
        fan: has("fan1_input"),
        pwm: has("pwm1"),
        chip,
    };
    if s.temp.is_none()
        && s.power.is_empty()
        && s.energy.is_none()
        && s.fan.is_none()
        && s.pwm.is_none()
    {
        return Err(format!(
            "{} ({}) has no temperature, power, energy or fan file",
            s.dir, s.chip
        ));
    }
    Ok(s)
}

/// The temperature file to read: the one labelled `edge`, else the lowest-numbered; with its
/// label (or `tempN` without one).
fn temperature(dir: &Path) -> Option<(PathBuf, String)> {
    let mut temps: Vec<(u32, PathBuf)> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix("temp")?
                .strip_suffix("_input")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    temps.sort_by_key(|t| t.0);
    let labelled: Vec<(PathBuf, String)> = temps
        .into_iter()
        .map(|(n, p)| {
            let label = fs::read_to_string(dir.join(format!("temp{n}_label")))
                .map(|l| l.trim().to_string())
                .ok()
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| format!("temp{n}"));
            (p, label)
        })
        .collect();
    let edge = labelled.iter().position(|(_, l)| l == "edge").unwrap_or(0);
    labelled.into_iter().nth(edge)
}

/// An integer sysfs file; the error names the file.
fn read_int(path: &Path) -> Result<i64, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", file_name(path)))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{}: not an integer: {:?}", file_name(path), text.trim()))
}

/// A `0x1002`-style id file.
fn read_hex(path: &Path) -> Option<u16> {
    let text = fs::read_to_string(path).ok()?;
    let t = text.trim();
    u16::from_str_radix(t.strip_prefix("0x").unwrap_or(t), 16).ok()
}

/// The last component of a link's target (`device` → `0000:03:00.0`, `driver` → `amdgpu`).
fn link_name(path: &Path) -> Option<String> {
    let target = fs::read_link(path).ok()?;
    Some(target.file_name()?.to_string_lossy().into_owned())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
