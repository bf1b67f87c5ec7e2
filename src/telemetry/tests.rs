//! The monitor on a fake sysfs tree (an AMD card with every hwmon file, an Intel card with an
//! energy counter reached through links as in real sysfs, a card without hwmon, one without
//! sensor files, a connector, a non-PCI card), the energy arithmetic, PCI addresses and
//! identity matching, and discovery on this machine.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::*;

/// A directory under the system's temp dir, removed on drop.
struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str) -> Tree {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "fluxminer-telemetry-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Tree(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn file(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn dir(&self, rel: &str) {
        fs::create_dir_all(self.path(rel)).unwrap();
    }

    /// `rel` → `target` (relative to `rel`'s directory, as sysfs links are).
    fn link(&self, rel: &str, target: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    fn monitor_at(&self, now: Instant) -> Monitor {
        Monitor::build(Err("not searched".to_string()), &self.0, now)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const AMD_HWMON: &str = "class/drm/card0/device/hwmon/hwmon2";
const INTEL_PCI: &str = "devices/pci0000:00/0000:00:02.0";

/// The fake machine described in the module documentation.
fn rig() -> Tree {
    let t = Tree::new("rig");
    // card0: AMD 1002:744c at 0000:03:00.0, everything amdgpu exposes.
    t.file("class/drm/card0/device/vendor", "0x1002\n");
    t.file("class/drm/card0/device/device", "0x744c\n");
    t.file(
        "class/drm/card0/device/uevent",
        "DRIVER=amdgpu\nPCI_CLASS=30000\nPCI_ID=1002:744C\nPCI_SLOT_NAME=0000:03:00.0\n",
    );
    for (f, v) in [
        ("name", "amdgpu"),
        ("temp1_input", "61000"),
        ("temp1_label", "edge"),
        ("temp2_input", "75000"),
        ("temp2_label", "junction"),
        ("temp3_input", "80000"),
        ("temp3_label", "mem"),
        ("power1_average", "182000000"),
        ("power1_input", "190500000"),
        ("power1_cap", "300000000"),
        ("fan1_input", "1650"),
        ("pwm1", "102"),
    ] {
        t.file(&format!("{AMD_HWMON}/{f}"), &format!("{v}\n"));
    }
    // A connector of card0: skipped by its name although it leads to a device.
    t.file("class/drm/card0-DP-1/status", "connected\n");
    t.file("class/drm/card0-DP-1/device/vendor", "0x1002\n");
    // card1: Intel 8086:56a0 through links, no uevent: address and driver from the link targets;
    // the device-level hwmon, not the per-GT one.
    t.link("class/drm/card1/device", &format!("../../../{INTEL_PCI}"));
    t.file(&format!("{INTEL_PCI}/vendor"), "0x8086\n");
    t.file(&format!("{INTEL_PCI}/device"), "0x56a0\n");
    t.link(
        &format!("{INTEL_PCI}/driver"),
        "../../../bus/pci/drivers/i915",
    );
    t.file(&format!("{INTEL_PCI}/hwmon/hwmon3/name"), "i915\n");
    t.file(
        &format!("{INTEL_PCI}/hwmon/hwmon3/energy1_input"),
        "1000000\n",
    );
    t.file(&format!("{INTEL_PCI}/hwmon/hwmon4/name"), "i915_gt0\n");
    t.file(&format!("{INTEL_PCI}/hwmon/hwmon4/energy1_input"), "7\n");
    // card2: the same Intel model at 0000:04:00.0, no hwmon directory.
    t.file("class/drm/card2/device/vendor", "0x8086\n");
    t.file("class/drm/card2/device/device", "0x56a0\n");
    t.file(
        "class/drm/card2/device/uevent",
        "DRIVER=i915\nPCI_SLOT_NAME=0000:04:00.0\n",
    );
    // card3: the same AMD model at 0000:01:00.0 (first in PCI order), hwmon without sensors.
    t.file("class/drm/card3/device/vendor", "0x1002\n");
    t.file("class/drm/card3/device/device", "0x744c\n");
    t.file(
        "class/drm/card3/device/uevent",
        "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:01:00.0\n",
    );
    t.file("class/drm/card3/device/hwmon/hwmon5/name", "amdgpu\n");
    // card9: not a PCI device (simpledrm); a render node and the version file.
    t.dir("class/drm/card9/device");
    t.dir("class/drm/renderD128/device");
    t.file("class/drm/version", "drm 1.1.0 20060810\n");
    t
}

fn pci(s: &str) -> PciAddress {
    s.parse().unwrap()
}

fn at(addr: &str) -> GpuId {
    GpuId {
        vendor: 0,
        device: None,
        pci: Some(pci(addr)),
        ordinal: 0,
    }
}

fn model(vendor: u16, device: u16, ordinal: u32) -> GpuId {
    GpuId {
        vendor,
        device: Some(device),
        pci: None,
        ordinal,
    }
}

fn amd_reading() -> Reading {
    Reading {
        source: "hwmon card0 (amdgpu)".into(),
        temperature_c: Some(61.0),
        temperature_sensor: Some("edge".into()),
        power_w: Some(182.0),
        fan_rpm: Some(1650),
        fan_percent: Some(40.0),
    }
}

#[test]
fn sources_list_every_card_and_why_not() {
    let t = rig();
    let m = t.monitor_at(Instant::now());
    assert_eq!(
        m.sources(),
        [
            "NVML: not searched",
            "hwmon: card0 amdgpu 1002:744c at 0000:03:00.0: hwmon2 (amdgpu): temp edge, \
             power1_average, power1_input, fan1_input, pwm1",
            "hwmon: card1 i915 8086:56a0 at 0000:00:02.0: hwmon3 (i915): energy1_input",
            "hwmon: card2 i915 8086:56a0 at 0000:04:00.0: no hwmon directory",
            "hwmon: card3 amdgpu 1002:744c at 0000:01:00.0: hwmon5 (amdgpu) has no temperature, \
             power, energy or fan file",
            "hwmon: card9 skipped: no PCI vendor id (device/vendor)",
        ]
    );
}

#[test]
fn an_amd_card_by_pci_address_reads_every_sensor_in_base_units() {
    let t = rig();
    let m = Monitor::with_sysfs_root(&t.0);
    assert_eq!(m.read(&at("0000:03:00.0")), Ok(amd_reading()));
    // NVML's eight-digit domain names the same card.
    assert_eq!(m.read(&at("00000000:03:00.0")), Ok(amd_reading()));
}

#[test]
fn without_an_address_identical_cards_are_matched_in_pci_order() {
    let t = rig();
    let m = Monitor::with_sysfs_root(&t.0);
    // card3 (0000:01:00.0) comes before card0 (0000:03:00.0).
    assert_eq!(m.read(&model(AMD, 0x744c, 1)), Ok(amd_reading()));
    assert_eq!(
        m.read(&model(AMD, 0x744c, 0)),
        Err(Absent::NoSensors {
            origin: "hwmon card3 (amdgpu)".into(),
            why: "hwmon5 (amdgpu) has no temperature, power, energy or fan file".into(),
        })
    );
    assert_eq!(
        m.read(&model(INTEL, 0x56a0, 1)),
        Err(Absent::NoSensors {
            origin: "hwmon card2 (i915)".into(),
            why: "no hwmon directory".into(),
        })
    );
    // An address decides over the ordinal: card0 is ordinal 1, not 0.
    let mut id = model(AMD, 0x744c, 0);
    id.pci = Some(pci("0000:03:00.0"));
    assert_eq!(m.read(&id), Ok(amd_reading()));
}

#[test]
fn unknown_cards_and_missing_identities_say_why() {
    let t = rig();
    let m = Monitor::with_sysfs_root(&t.0);
    let id = model(AMD, 0x73bf, 0);
    let err = m.read(&id).unwrap_err();
    assert_eq!(
        err,
        Absent::NotFound {
            id,
            searched: "no NVML, hwmon: 4 cards".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "no telemetry source has 1002:73bf #0 (no NVML, hwmon: 4 cards)"
    );
    assert_eq!(
        m.read(&at("0000:0a:00.0")).unwrap_err().to_string(),
        "no telemetry source has 0000:???? at 0000:0a:00.0 (no NVML, hwmon: 4 cards)"
    );
    assert_eq!(m.read_device(None), Err(Absent::NoIdentity));
    assert_eq!(m.read_device(Some(&at("0000:03:00.0"))), Ok(amd_reading()));
}

#[test]
fn power_falls_back_to_power1_input_and_a_vanished_card_fails() {
    let t = rig();
    let m = Monitor::with_sysfs_root(&t.0);
    fs::remove_file(t.path(&format!("{AMD_HWMON}/power1_average"))).unwrap();
    let r = m.read(&at("0000:03:00.0")).unwrap();
    assert_eq!(r.power_w, Some(190.5));
    // One sensor failing leaves the others.
    fs::write(t.path(&format!("{AMD_HWMON}/fan1_input")), "n/a\n").unwrap();
    let r = m.read(&at("0000:03:00.0")).unwrap();
    assert_eq!((r.fan_rpm, r.fan_percent), (None, Some(40.0)));
    // All of them failing is an error naming the files.
    fs::remove_dir_all(t.path(AMD_HWMON)).unwrap();
    match m.read(&at("0000:03:00.0")) {
        Err(Absent::Failed { origin, why }) => {
            assert_eq!(origin, "hwmon card0 (amdgpu)");
            assert!(why.starts_with("temp1_input: "), "{why}");
            assert!(why.contains("pwm1: "), "{why}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn an_intel_energy_counter_gives_power_between_readings() {
    let t = rig();
    let t0 = Instant::now();
    let m = t.monitor_at(t0);
    let card1 = at("0000:00:02.0");
    let energy = t.path(&format!("{INTEL_PCI}/hwmon/hwmon3/energy1_input"));
    // Too soon after discovery's sample: no power yet, and not an error.
    let r = m.read_at(&card1, t0 + Duration::from_millis(100)).unwrap();
    assert_eq!(
        r,
        Reading {
            source: "hwmon card1 (i915)".into(),
            ..Reading::default()
        }
    );
    fs::write(&energy, "31000000\n").unwrap();
    let r = m.read_at(&card1, t0 + Duration::from_secs(1)).unwrap();
    assert_eq!(r.power_w, Some(30.0));
    // Within the window the figure repeats and the sample at 1 s is kept.
    fs::write(&energy, "31500000\n").unwrap();
    let r = m.read_at(&card1, t0 + Duration::from_millis(1100)).unwrap();
    assert_eq!(r.power_w, Some(30.0));
    fs::write(&energy, "131000000\n").unwrap();
    let r = m.read_at(&card1, t0 + Duration::from_secs(3)).unwrap();
    assert_eq!(r.power_w, Some(50.0));
    // Matched by model too, and a time before the sample repeats the figure.
    let r = m.read_at(&model(INTEL, 0x56a0, 0), t0).unwrap();
    assert_eq!(r.power_w, Some(50.0));
}

#[test]
fn power_from_energy_handles_wraps_resets_and_no_time() {
    let s = Duration::from_secs(1);
    assert_eq!(power_from_energy(1_000_000, 151_000_000, s), Some(150.0));
    assert_eq!(power_from_energy(5, 5, s), Some(0.0));
    // A 32-bit counter wrapped: 967,296 µJ to the wrap, 1,032,704 after it.
    assert_eq!(power_from_energy(4_294_000_000, 1_032_704, s), Some(2.0));
    assert_eq!(
        power_from_energy(4_294_000_000, 1_032_704, Duration::from_millis(500)),
        Some(4.0)
    );
    // Backwards from beyond 32 bits: a reset.
    assert_eq!(power_from_energy(1 << 40, 1_000, s), None);
    // A "wrap" that would mean over 5 kW is a reset too.
    assert_eq!(power_from_energy(10, 5, Duration::from_millis(500)), None);
    assert_eq!(power_from_energy(1, 2, Duration::ZERO), None);
}

#[test]
fn the_edge_sensor_is_preferred_over_the_first() {
    let t = Tree::new("edge");
    t.file("class/drm/card0/device/vendor", "0x1002\n");
    t.file("class/drm/card0/device/device", "0x73bf\n");
    let h = "class/drm/card0/device/hwmon/hwmon0";
    t.file(&format!("{h}/name"), "amdgpu\n");
    t.file(&format!("{h}/temp1_input"), "90000\n");
    t.file(&format!("{h}/temp1_label"), "junction\n");
    t.file(&format!("{h}/temp2_input"), "-5500\n");
    t.file(&format!("{h}/temp2_label"), "edge\n");
    t.file(&format!("{h}/temp10_input"), "1000\n");
    let m = Monitor::with_sysfs_root(&t.0);
    let r = m.read(&model(AMD, 0x73bf, 0)).unwrap();
    assert_eq!(
        (r.temperature_c, r.temperature_sensor.as_deref()),
        (Some(-5.5), Some("edge"))
    );
    // Unlabelled: the lowest number, by number (temp2 before temp10).
    fs::remove_file(t.path(&format!("{h}/temp2_label"))).unwrap();
    fs::remove_file(t.path(&format!("{h}/temp1_input"))).unwrap();
    let m = Monitor::with_sysfs_root(&t.0);
    let r = m.read(&model(AMD, 0x73bf, 0)).unwrap();
    assert_eq!(r.temperature_sensor.as_deref(), Some("temp2"));
    assert_eq!(
        r.summary(),
        "-5.5 °C (temp2), power n/a, fan n/a [hwmon card0]"
    );
}

#[test]
fn no_drm_class_is_a_source_line_not_a_failure() {
    let t = Tree::new("empty");
    let m = Monitor::with_sysfs_root(&t.0);
    let drm = t.path("class/drm");
    assert_eq!(m.sources().len(), 2);
    assert!(
        m.sources()[1].starts_with(&format!("hwmon: {}: ", drm.display())),
        "{:?}",
        m.sources()
    );
    fs::create_dir_all(&drm).unwrap();
    let m = Monitor::with_sysfs_root(&t.0);
    assert_eq!(
        m.sources()[1],
        format!("hwmon: no DRM card under {}", drm.display())
    );
    assert!(matches!(
        m.read(&model(AMD, 1, 0)),
        Err(Absent::NotFound { .. })
    ));
}

#[test]
fn pci_addresses_parse_in_every_spelling_and_reject_the_rest() {
    let a = pci("0000:03:00.0");
    assert_eq!(
        a,
        PciAddress {
            domain: 0,
            bus: 3,
            device: 0,
            function: 0
        }
    );
    assert_eq!(pci("00000000:03:00.0"), a);
    assert_eq!(pci("03:00.0"), a);
    assert_eq!(pci("0001:C1:1F.7").to_string(), "0001:c1:1f.7");
    for bad in [
        "",
        "03:00",
        "0000:03:20.0",
        "0000:03:00.8",
        "0:0:03:00.0",
        "zz:00.0",
        "0000:103:00.0",
    ] {
        assert_eq!(
            bad.parse::<PciAddress>(),
            Err(PciAddressError(bad.to_string())),
            "{bad}"
        );
    }
}

#[test]
fn identities_match_by_address_else_by_model_and_ordinal() {
    let card = GpuId {
        vendor: AMD,
        device: Some(0x744c),
        pci: Some(pci("0000:03:00.0")),
        ordinal: 1,
    };
    assert!(card.matches(&at("0000:03:00.0")));
    assert!(!card.matches(&at("0000:04:00.0")));
    assert!(card.matches(&model(AMD, 0x744c, 1)));
    assert!(!card.matches(&model(AMD, 0x744c, 0)));
    assert!(!card.matches(&model(AMD, 0x73bf, 1)));
    assert!(!card.matches(&model(INTEL, 0x744c, 1)));
    // CUDA knows no device id: any device id of the vendor, by ordinal.
    let cuda = GpuId {
        vendor: NVIDIA,
        device: None,
        pci: None,
        ordinal: 1,
    };
    assert!(cuda.matches(&model(NVIDIA, 0x2335, 1)));
    assert!(!cuda.matches(&model(NVIDIA, 0x2335, 0)));
    assert_eq!(card.to_string(), "1002:744c at 0000:03:00.0");
    assert_eq!(cuda.to_string(), "10de:???? #1");
}

#[test]
fn readings_and_reasons_serialize_for_the_api() {
    let json = serde_json::to_value(amd_reading()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "source": "hwmon card0 (amdgpu)",
            "temperature_c": 61.0,
            "temperature_sensor": "edge",
            "power_w": 182.0,
            "fan_rpm": 1650,
            "fan_percent": 40.0
        })
    );
    assert_eq!(
        serde_json::to_value(Absent::NoIdentity).unwrap(),
        "no PCI identity (a software adapter or the CPU)"
    );
    assert_eq!(
        serde_json::to_value(at("0000:03:00.0")).unwrap(),
        serde_json::json!({"vendor": 0, "device": null, "pci": "0000:03:00.0", "ordinal": 0})
    );
    assert_eq!(
        amd_reading().summary(),
        "61.0 °C (edge), 182.0 W, fan 1650 RPM 40 % [hwmon card0 (amdgpu)]"
    );
    assert_eq!(
        describe(&Err(Absent::NoIdentity)),
        "absent: no PCI identity (a software adapter or the CPU)"
    );
}

/// This machine: NVML is loaded if present and said to be absent otherwise; nothing panics, and
/// every line names its source.
#[test]
fn discovery_on_this_machine_reports_every_source() {
    let m = Monitor::discover();
    let nvml: Vec<&String> = m
        .sources()
        .iter()
        .filter(|l| l.starts_with("NVML: "))
        .collect();
    assert!(!nvml.is_empty(), "{:?}", m.sources());
    if nvml[0].starts_with("NVML: unavailable") {
        assert_eq!(nvml.len(), 1);
        assert!(
            nvml[0].starts_with("NVML: unavailable (") && nvml[0].ends_with(')'),
            "{}",
            nvml[0]
        );
    }
    assert!(m.sources().iter().any(|l| l.starts_with("hwmon: ")));
    assert!(
        m.sources()
            .iter()
            .all(|l| l.starts_with("NVML: ") || l.starts_with("hwmon: "))
    );
    assert_eq!(m.read_device(None), Err(Absent::NoIdentity));
    // lavapipe reports Mesa's vendor id, which no PCI source knows.
    assert!(matches!(
        m.read(&model(0xffff, 0, 0)),
        Err(Absent::NotFound { .. })
    ));
}

/// A monitor may be shared between the mining threads and the API (checked at compile time).
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<Monitor>();
};
