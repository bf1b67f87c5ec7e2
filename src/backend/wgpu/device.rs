//! Adapters: enumeration (for `fluxminer devices` and `--device I`), their limits, and opening a
//! device with the adapter's own limits and the `SUBGROUP` and `SHADER_INT64` features when
//! present.

use crate::backend::SolverError;
use crate::backend::plan::{DeviceLimits, Plan};
use crate::equihash::Params;
use crate::telemetry::GpuId;

/// Backends searched for adapters: Vulkan, Metal, DX12 (whichever the platform has).
pub const BACKENDS: wgpu::Backends = wgpu::Backends::PRIMARY;

/// One adapter as `fluxminer devices` shows it.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Position in the list (the `--device` number).
    pub index: usize,
    /// Name, backend, type and driver.
    pub info: wgpu::AdapterInfo,
    /// The limits the plan depends on.
    pub limits: DeviceLimits,
    /// Whether subgroup operations are available.
    pub subgroups: bool,
    /// Whether shaders may use 64-bit integers.
    pub int64: bool,
    /// `Ok(MiB)` when ZelHash fits, with the footprint; otherwise what the adapter lacks.
    pub zelhash: Result<u64, String>,
    /// The card, for its sensors ([`gpu_id`]).
    pub gpu_id: Option<GpuId>,
}

/// The plan-relevant limits of an adapter.
pub fn device_limits(info: &wgpu::AdapterInfo, l: &wgpu::Limits) -> DeviceLimits {
    DeviceLimits {
        cpu: info.device_type == wgpu::DeviceType::Cpu,
        max_binding: l.max_storage_buffer_binding_size,
        max_buffer: l.max_buffer_size,
        max_storage_buffers: l.max_storage_buffers_per_shader_stage,
        max_workgroup_storage: l.max_compute_workgroup_storage_size,
        max_invocations: l.max_compute_invocations_per_workgroup,
        max_workgroups_per_dim: l.max_compute_workgroups_per_dimension,
    }
}

/// The card adapter `index` of `all` (every adapter, in `--device` order) is: its PCI vendor
/// and device id, its PCI address where the driver reports it, and its position among the
/// adapters of the same graphics API with the same ids. `None` for a CPU adapter (lavapipe) or a
/// vendor id that is not a PCI one (Vulkan's Khronos ids, such as Mesa's 0x10005).
pub fn gpu_id(all: &[wgpu::AdapterInfo], index: usize) -> Option<GpuId> {
    let info = all.get(index)?;
    if info.device_type == wgpu::DeviceType::Cpu {
        return None;
    }
    let vendor = u16::try_from(info.vendor).ok().filter(|&v| v != 0)?;
    let same = |o: &&wgpu::AdapterInfo| {
        (o.backend, o.vendor, o.device) == (info.backend, info.vendor, info.device)
    };
    Some(GpuId {
        vendor,
        device: u16::try_from(info.device).ok(),
        pci: info.device_pci_bus_id.parse().ok(),
        ordinal: all[..index].iter().filter(same).count() as u32,
    })
}

/// Every adapter wgpu finds, in `--device` order.
pub fn adapters() -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = BACKENDS;
    let instance = wgpu::Instance::new(desc);
    pollster::block_on(instance.enumerate_adapters(BACKENDS))
}

/// A summary of every adapter.
pub fn summaries() -> Vec<AdapterSummary> {
    let all = adapters();
    let infos: Vec<wgpu::AdapterInfo> = all.iter().map(wgpu::Adapter::get_info).collect();
    all.iter()
        .enumerate()
        .map(|(index, a)| {
            let limits = device_limits(&a.get_info(), &a.limits());
            AdapterSummary {
                index,
                info: a.get_info(),
                limits,
                subgroups: a.features().contains(wgpu::Features::SUBGROUP),
                int64: a.features().contains(wgpu::Features::SHADER_INT64),
                zelhash: Plan::new(Params::ZELHASH, &limits, None)
                    .map(|p| p.footprint() >> 20)
                    .map_err(|e| e.to_string()),
                gpu_id: gpu_id(&infos, index),
            }
        })
        .collect()
}

/// An open device.
pub struct Opened {
    /// The adapter's description.
    pub info: wgpu::AdapterInfo,
    /// Its limits.
    pub limits: DeviceLimits,
    /// The device (with the adapter's limits).
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Whether `SUBGROUP` was enabled.
    pub subgroups: bool,
    /// Whether `SHADER_INT64` was enabled.
    pub int64: bool,
    /// The card, for its sensors ([`gpu_id`]).
    pub gpu_id: Option<GpuId>,
}

/// Opens adapter `index` (default: the first), requesting its own limits and `SUBGROUP` when
/// present.
///
/// # Errors
/// When there is no such adapter or the device cannot be created.
pub fn open(index: Option<usize>) -> Result<Opened, SolverError> {
    let all = adapters();
    if all.is_empty() {
        return Err(SolverError::Device(
            "no GPU adapter found (Vulkan, Metal or DX12); install a driver, e.g. Mesa's lavapipe \
             (mesa-vulkan-drivers) for a CPU device"
                .into(),
        ));
    }
    let i = index.unwrap_or(0);
    let adapter = all.get(i).ok_or_else(|| {
        SolverError::Device(format!(
            "no adapter {i}: {} found (see `fluxminer devices`)",
            all.len()
        ))
    })?;
    let wanted = wgpu::Features::SUBGROUP | wgpu::Features::SHADER_INT64;
    let required_features = adapter.features() & wanted;
    let subgroups = required_features.contains(wgpu::Features::SUBGROUP);
    let int64 = required_features.contains(wgpu::Features::SHADER_INT64);
    let wl = adapter.limits();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("fluxminer"),
        required_features,
        required_limits: wl.clone(),
        ..Default::default()
    }))
    .map_err(|e| SolverError::Device(format!("cannot open adapter {i}: {e}")))?;
    let infos: Vec<wgpu::AdapterInfo> = all.iter().map(wgpu::Adapter::get_info).collect();
    Ok(Opened {
        gpu_id: gpu_id(&infos, i),
        info: adapter.get_info(),
        limits: device_limits(&adapter.get_info(), &wl),
        device,
        queue,
        subgroups,
        int64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(
        device_type: wgpu::DeviceType,
        backend: wgpu::Backend,
        ids: (u32, u32),
        bus: &str,
    ) -> wgpu::AdapterInfo {
        let mut i = wgpu::AdapterInfo::new(device_type, backend);
        (i.vendor, i.device) = ids;
        i.device_pci_bus_id = bus.to_string();
        i
    }

    /// Two identical AMD cards (one without an address) and the first again through DX12,
    /// lavapipe, and a Mesa virtual device: the cards get their ids, address and position among
    /// their twins of the same API; the software and non-PCI adapters get none.
    #[test]
    fn adapters_name_their_card_by_pci_ids_address_and_position() {
        use wgpu::{Backend, DeviceType};
        let all = [
            info(
                DeviceType::DiscreteGpu,
                Backend::Vulkan,
                (0x1002, 0x744c),
                "0000:03:00.0",
            ),
            info(DeviceType::Cpu, Backend::Vulkan, (0x10005, 0), ""),
            info(
                DeviceType::DiscreteGpu,
                Backend::Vulkan,
                (0x1002, 0x744c),
                "",
            ),
            info(DeviceType::DiscreteGpu, Backend::Dx12, (0x1002, 0x744c), ""),
            info(DeviceType::VirtualGpu, Backend::Vulkan, (0x10005, 0), ""),
        ];
        let ids: Vec<Option<String>> = (0..=all.len())
            .map(|i| gpu_id(&all, i).map(|g| format!("{g} ordinal {}", g.ordinal)))
            .collect();
        assert_eq!(
            ids,
            [
                Some("1002:744c at 0000:03:00.0 ordinal 0".to_string()),
                None,
                Some("1002:744c #1 ordinal 1".to_string()),
                Some("1002:744c #0 ordinal 0".to_string()),
                None,
                None,
            ]
        );
    }
}
