//! NVIDIA cards through NVML (feature `nvml`, default), with the `nvml-wrapper` crate:
//! `libnvidia-ml.so.1` is loaded at run time, so building and running need no driver; without
//! it [`Nvml::open`] says why. Cards are matched by their PCI bus id; a reading is the GPU
//! temperature, the board power (mW → W) and the first fan's duty (%) and speed (RPM, newer
//! drivers); a value the card does not support (a passively cooled card's fan) is `None`.

#[cfg(feature = "nvml")]
pub use with_nvml::Nvml;
#[cfg(not(feature = "nvml"))]
pub use without_nvml::Nvml;

#[cfg(feature = "nvml")]
mod with_nvml {
    use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

    use crate::telemetry::{Absent, GpuId, NVIDIA, PciAddress, Reading};

    /// One NVML device.
    #[derive(Debug)]
    struct Device {
        index: u32,
        name: String,
        id: GpuId,
    }

    /// The NVML library, initialised, and its devices.
    pub struct Nvml {
        lib: nvml_wrapper::Nvml,
        devices: Vec<Device>,
    }

    /// An error with its causes: `a: b: c`; a library that cannot be opened as the loader says
    /// it (`libnvidia-ml.so.1: cannot open shared object file: …`).
    fn chain(e: &nvml_wrapper::error::NvmlError) -> String {
        use std::error::Error;
        let mut s = match e {
            nvml_wrapper::error::NvmlError::LibloadingError(l) => l.to_string(),
            e => e.to_string(),
        };
        let mut cause = e.source();
        while let Some(c) = cause {
            let next = c.to_string();
            if !s.contains(&next) {
                s = format!("{s}: {next}");
            }
            cause = c.source();
        }
        s
    }

    impl Nvml {
        /// Loads and initialises NVML and lists its devices.
        ///
        /// # Errors
        /// `unavailable (<why>)`: no library, no driver loaded, no permission.
        pub fn open() -> Result<Nvml, String> {
            let lib =
                nvml_wrapper::Nvml::init().map_err(|e| format!("unavailable ({})", chain(&e)))?;
            let count = lib
                .device_count()
                .map_err(|e| format!("unavailable (device count: {})", chain(&e)))?;
            let mut devices = Vec::new();
            for index in 0..count {
                match device(&lib, index) {
                    Ok(d) => devices.push(d),
                    Err(e) => tracing::warn!("NVML device {index}: {e}"),
                }
            }
            number_identical(&mut devices);
            Ok(Nvml { lib, devices })
        }

        /// Devices listed.
        pub fn len(&self) -> usize {
            self.devices.len()
        }

        /// Whether no device was listed.
        pub fn is_empty(&self) -> bool {
            self.devices.is_empty()
        }

        /// One line per device, each starting `NVML: `.
        pub fn lines(&self) -> Vec<String> {
            if self.devices.is_empty() {
                return vec!["NVML: no device".to_string()];
            }
            self.devices
                .iter()
                .map(|d| format!("NVML: {} {} {}", d.index, d.name, d.id))
                .collect()
        }

        /// The sensors of the device `id` names; `None` when no device matches.
        pub fn read(&self, id: &GpuId) -> Option<Result<Reading, Absent>> {
            let d = self.devices.iter().find(|d| d.id.matches(id))?;
            let origin = format!("NVML {}", d.index);
            let dev = match self.lib.device_by_index(d.index) {
                Ok(dev) => dev,
                Err(e) => {
                    return Some(Err(Absent::Failed {
                        origin,
                        why: chain(&e),
                    }));
                }
            };
            let temperature_c = dev.temperature(TemperatureSensor::Gpu).ok().map(f64::from);
            let reading = Reading {
                source: origin.clone(),
                temperature_c,
                temperature_sensor: temperature_c.map(|_| "gpu".to_string()),
                power_w: dev.power_usage().ok().map(|mw| f64::from(mw) / 1000.0),
                fan_rpm: dev.fan_speed_rpm(0).ok(),
                fan_percent: dev.fan_speed(0).ok().map(f64::from),
            };
            Some(if reading.is_empty() {
                Err(Absent::NoSensors {
                    origin,
                    why: "NVML reports no temperature, power or fan".to_string(),
                })
            } else {
                Ok(reading)
            })
        }
    }

    /// Device `index`'s name and identity.
    fn device(lib: &nvml_wrapper::Nvml, index: u32) -> Result<Device, String> {
        let dev = lib.device_by_index(index).map_err(|e| chain(&e))?;
        let pci = dev.pci_info().map_err(|e| chain(&e))?;
        // `pci_device_id` holds the device id above the vendor id.
        let vendor = (pci.pci_device_id & 0xffff) as u16;
        Ok(Device {
            index,
            name: dev.name().unwrap_or_else(|_| "NVIDIA GPU".to_string()),
            id: GpuId {
                vendor: if vendor == 0 { NVIDIA } else { vendor },
                device: Some((pci.pci_device_id >> 16) as u16).filter(|&d| d != 0),
                pci: pci.bus_id.parse::<PciAddress>().ok(),
                ordinal: 0,
            },
        })
    }

    /// Numbers each device among those with the same device id, in NVML's order (PCI order).
    fn number_identical(devices: &mut [Device]) {
        for i in 0..devices.len() {
            let same = devices[..i]
                .iter()
                .filter(|d| {
                    d.id.vendor == devices[i].id.vendor && d.id.device == devices[i].id.device
                })
                .count();
            devices[i].id.ordinal = same as u32;
        }
    }
}

#[cfg(not(feature = "nvml"))]
mod without_nvml {
    use crate::telemetry::{Absent, GpuId, Reading};

    /// NVML is not in this build: never constructed.
    pub enum Nvml {}

    impl Nvml {
        /// Always fails: the build has no NVML.
        ///
        /// # Errors
        /// Always.
        pub fn open() -> Result<Nvml, String> {
            Err("not in this build (cargo feature `nvml`)".to_string())
        }

        /// Never called.
        pub fn len(&self) -> usize {
            match *self {}
        }

        /// Never called.
        pub fn is_empty(&self) -> bool {
            match *self {}
        }

        /// Never called.
        pub fn lines(&self) -> Vec<String> {
            match *self {}
        }

        /// Never called.
        pub fn read(&self, _id: &GpuId) -> Option<Result<Reading, Absent>> {
            match *self {}
        }
    }
}
