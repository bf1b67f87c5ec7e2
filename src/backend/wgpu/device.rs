//! Adapters: enumeration (for `fluxminer devices` and `--device I`), their limits, and opening a
//! device with the adapter's own limits and the `SUBGROUP` and `SHADER_INT64` features when
//! present.

use crate::backend::SolverError;
use crate::backend::plan::{DeviceLimits, Plan};
use crate::equihash::Params;

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

/// Every adapter wgpu finds, in `--device` order.
pub fn adapters() -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = BACKENDS;
    let instance = wgpu::Instance::new(desc);
    pollster::block_on(instance.enumerate_adapters(BACKENDS))
}

/// A summary of every adapter.
pub fn summaries() -> Vec<AdapterSummary> {
    adapters()
        .iter()
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
    Ok(Opened {
        info: adapter.get_info(),
        limits: device_limits(&adapter.get_info(), &wl),
        device,
        queue,
        subgroups,
        int64,
    })
}
