//! GPU telemetry: temperature, power and fan of each mining device, read from the driver's own
//! sensors.
//!
//! - NVIDIA cards through NVML ([`nvml`], feature `nvml`, default): `libnvidia-ml` is loaded at
//!   run time, so the build and a machine without the driver are unaffected.
//! - AMD and Intel cards through hwmon in sysfs ([`hwmon`]):
//!   `/sys/class/drm/cardN/device/hwmon/hwmonM/`.
//!
//! A solver says which card it runs on ([`crate::backend::Solver::gpu_id`], a [`GpuId`]); a
//! [`Monitor`], built once, finds the card's sensors and reads them cheaply, as often as every
//! second. Nothing here panics or fails the caller: a device without telemetry gets an
//! [`Absent`] that says why, and [`Monitor::sources`] says what was found or why not.
//!
//! This module is hardware I/O at the backend's level: it imports nothing else of the crate
//! (`scripts/check-layering.sh`).

pub mod hwmon;
pub mod nvml;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use serde::{Serialize, Serializer};
use thiserror::Error;

pub use hwmon::power_from_energy;

/// PCI vendor id of NVIDIA.
pub const NVIDIA: u16 = 0x10de;
/// PCI vendor id of AMD.
pub const AMD: u16 = 0x1002;
/// PCI vendor id of Intel.
pub const INTEL: u16 = 0x8086;

/// A PCI address `domain:bus:device.function`, shown as sysfs names it (`0000:03:00.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PciAddress {
    /// Domain (segment).
    pub domain: u32,
    /// Bus.
    pub bus: u8,
    /// Device (0–31).
    pub device: u8,
    /// Function (0–7).
    pub function: u8,
}

/// A string that is not a PCI address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a PCI address (domain:bus:device.function, e.g. 0000:03:00.0): {0:?}")]
pub struct PciAddressError(pub String);

impl FromStr for PciAddress {
    type Err = PciAddressError;

    /// Parses `0000:03:00.0` (sysfs), `00000000:03:00.0` (NVML) or `03:00.0` (domain 0), in any
    /// case.
    fn from_str(s: &str) -> Result<PciAddress, PciAddressError> {
        let bad = || PciAddressError(s.to_string());
        let (rest, function) = s.trim().rsplit_once('.').ok_or_else(bad)?;
        let mut parts = rest.rsplit(':');
        let (device, bus) = (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
        let domain = parts.next().unwrap_or("0");
        if parts.next().is_some() {
            return Err(bad());
        }
        let hex = |t: &str, digits: usize| {
            if t.is_empty() || t.len() > digits {
                return Err(bad());
            }
            u32::from_str_radix(t, 16).map_err(|_| bad())
        };
        let (device, function) = (hex(device, 2)?, hex(function, 1)?);
        if device > 31 || function > 7 {
            return Err(bad());
        }
        Ok(PciAddress {
            domain: hex(domain, 8)?,
            bus: hex(bus, 2)? as u8,
            device: device as u8,
            function: function as u8,
        })
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.domain, self.bus, self.device, self.function
        )
    }
}

impl Serialize for PciAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Which card a mining device is, as a sensor is matched to it.
///
/// Both sides known: the PCI address decides. Otherwise the vendor, the device id (where both
/// know it) and the ordinal among identical cards (in PCI order) must agree: a fallback for a
/// backend that does not report the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GpuId {
    /// PCI vendor id (0x10de NVIDIA, 0x1002 AMD, 0x8086 Intel).
    pub vendor: u16,
    /// PCI device id, where the backend knows it (CUDA does not).
    pub device: Option<u16>,
    /// PCI address, where the backend knows it.
    pub pci: Option<PciAddress>,
    /// Position among the cards with the same vendor and device id, in the backend's order.
    pub ordinal: u32,
}

impl GpuId {
    /// Whether `self` and `other` name the same card (see [`GpuId`]).
    pub fn matches(&self, other: &GpuId) -> bool {
        if let (Some(a), Some(b)) = (self.pci, other.pci) {
            return a == b;
        }
        let device = match (self.device, other.device) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.vendor == other.vendor && device && self.ordinal == other.ordinal
    }
}

impl fmt::Display for GpuId {
    /// `1002:744c at 0000:03:00.0`, or `1002:744c #1` without an address; `10de:????` when the
    /// device id is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:", self.vendor)?;
        match self.device {
            Some(d) => write!(f, "{d:04x}")?,
            None => write!(f, "????")?,
        }
        match self.pci {
            Some(p) => write!(f, " at {p}"),
            None => write!(f, " #{}", self.ordinal),
        }
    }
}

/// One reading of a card's sensors; a field is `None` where the card or driver has no such
/// sensor (or, for power from an energy counter, until a second reading).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reading {
    /// Where it came from: `NVML 0` (device index), `hwmon card0 (amdgpu)`.
    pub source: String,
    /// Temperature, °C.
    pub temperature_c: Option<f64>,
    /// Which temperature: the hwmon label (`edge`) or file (`temp1`), `gpu` for NVML.
    pub temperature_sensor: Option<String>,
    /// Board power, W.
    pub power_w: Option<f64>,
    /// Fan speed, RPM.
    pub fan_rpm: Option<u32>,
    /// Fan duty, % (0–100).
    pub fan_percent: Option<f64>,
}

impl Reading {
    /// Whether no value was read.
    pub fn is_empty(&self) -> bool {
        self.temperature_c.is_none()
            && self.power_w.is_none()
            && self.fan_rpm.is_none()
            && self.fan_percent.is_none()
    }

    /// One line: `61.0 °C (edge), 182.0 W, fan 1650 RPM 40 % [hwmon card0 (amdgpu)]`; each
    /// missing value says so.
    pub fn summary(&self) -> String {
        let temp = match (self.temperature_c, &self.temperature_sensor) {
            (Some(t), Some(s)) => format!("{t:.1} °C ({s})"),
            (Some(t), None) => format!("{t:.1} °C"),
            (None, _) => "temperature n/a".to_string(),
        };
        let power = self
            .power_w
            .map_or_else(|| "power n/a".to_string(), |p| format!("{p:.1} W"));
        let fan = match (self.fan_rpm, self.fan_percent) {
            (None, None) => "fan n/a".to_string(),
            (Some(r), None) => format!("fan {r} RPM"),
            (None, Some(p)) => format!("fan {p:.0} %"),
            (Some(r), Some(p)) => format!("fan {r} RPM {p:.0} %"),
        };
        format!("{temp}, {power}, {fan} [{}]", self.source)
    }
}

/// Why a device has no reading.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Absent {
    /// The device has no PCI identity: a software adapter (lavapipe), or the CPU.
    #[error("no PCI identity (a software adapter or the CPU)")]
    NoIdentity,
    /// No source knows the card.
    #[error("no telemetry source has {id} ({searched})")]
    NotFound {
        /// The card asked for.
        id: GpuId,
        /// What was searched, in words.
        searched: String,
    },
    /// The card was found, but its driver exposes no sensor.
    #[error("{origin}: {why}")]
    NoSensors {
        /// The card: `hwmon card2 (i915)`.
        origin: String,
        /// What is missing.
        why: String,
    },
    /// Reading the sensors failed (e.g. the card was removed).
    #[error("{origin}: {why}")]
    Failed {
        /// The card: `NVML 0`, `hwmon card0 (amdgpu)`.
        origin: String,
        /// The error.
        why: String,
    },
}

impl Serialize for Absent {
    /// As its message: an API shows it as it is.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `reading.summary()`, or `absent: <why>`: a line for `fluxminer devices` and logs.
pub fn describe(r: &Result<Reading, Absent>) -> String {
    match r {
        Ok(r) => r.summary(),
        Err(why) => format!("absent: {why}"),
    }
}

/// Every telemetry source found at start-up; reads a device's sensors on demand.
///
/// Build it once ([`Monitor::discover`]); [`Monitor::read`] is cheap (a few small sysfs reads
/// or NVML calls), takes `&self` and may be called from any thread (`Monitor` is `Send + Sync`).
pub struct Monitor {
    nvml: Result<nvml::Nvml, String>,
    hwmon: hwmon::Hwmon,
    sources: Vec<String>,
}

impl Monitor {
    /// NVML (where the library loads) and hwmon under `/sys`.
    pub fn discover() -> Monitor {
        Monitor::build(nvml::Nvml::open(), Path::new("/sys"), Instant::now())
    }

    /// hwmon under `root` (a fake sysfs tree in tests) and no NVML.
    pub fn with_sysfs_root(root: impl AsRef<Path>) -> Monitor {
        Monitor::build(
            Err("not searched (a sysfs root was given)".to_string()),
            root.as_ref(),
            Instant::now(),
        )
    }

    /// The monitor of these sources; energy counters are first sampled at `now`.
    fn build(nvml: Result<nvml::Nvml, String>, root: &Path, now: Instant) -> Monitor {
        let hwmon = hwmon::Hwmon::discover(root, now);
        let mut sources = match &nvml {
            Ok(n) => n.lines(),
            Err(why) => vec![format!("NVML: {why}")],
        };
        sources.extend(hwmon.lines());
        for line in &sources {
            tracing::debug!("telemetry source: {line}");
        }
        Monitor {
            nvml,
            hwmon,
            sources,
        }
    }

    /// What was found, or why not, one line each: `NVML: unavailable (…)`,
    /// `NVML: 0 NVIDIA H200 10de:2335 at 0000:03:00.0`,
    /// `hwmon: card0 amdgpu 1002:744c at 0000:03:00.0: hwmon2 temp edge, power1_average, …`.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The sensors of card `id` now.
    ///
    /// # Errors
    /// Why there is no reading ([`Absent`]).
    pub fn read(&self, id: &GpuId) -> Result<Reading, Absent> {
        self.read_at(id, Instant::now())
    }

    /// [`Monitor::read`] for a solver's [`crate::backend::Solver::gpu_id`]: `None` is
    /// [`Absent::NoIdentity`].
    ///
    /// # Errors
    /// Why there is no reading ([`Absent`]).
    pub fn read_device(&self, id: Option<&GpuId>) -> Result<Reading, Absent> {
        self.read(id.ok_or(Absent::NoIdentity)?)
    }

    /// [`Monitor::read`] at time `now`: power from an energy counter is the energy used since the
    /// previous reading of that card, divided by the time between them.
    ///
    /// # Errors
    /// Why there is no reading ([`Absent`]).
    pub fn read_at(&self, id: &GpuId, now: Instant) -> Result<Reading, Absent> {
        if let Ok(n) = &self.nvml
            && let Some(r) = n.read(id)
        {
            return r;
        }
        if let Some(r) = self.hwmon.read(id, now) {
            return r;
        }
        Err(Absent::NotFound {
            id: id.clone(),
            searched: self.searched(),
        })
    }

    /// "NVML: 2 devices, hwmon: 1 card" / "no NVML, hwmon: no card".
    fn searched(&self) -> String {
        let nvml = match &self.nvml {
            Ok(n) => format!("NVML: {}", count(n.len(), "device")),
            Err(_) => "no NVML".to_string(),
        };
        format!("{nvml}, hwmon: {}", count(self.hwmon.len(), "card"))
    }
}

/// "no card", "1 card", "2 cards".
fn count(n: usize, what: &str) -> String {
    match n {
        0 => format!("no {what}"),
        1 => format!("1 {what}"),
        _ => format!("{n} {what}s"),
    }
}

#[cfg(test)]
mod tests;
