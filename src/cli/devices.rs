//! `fluxminer devices`: every GPU adapter wgpu finds, its limits, and whether it can run ZelHash.

use std::process::ExitCode;

/// Arguments of `fluxminer devices` (none).
#[derive(Debug, Clone, clap::Args)]
pub struct DevicesArgs {}

/// Lists the adapters; exit code 1 when there is none.
#[cfg(feature = "wgpu")]
pub fn run(_args: &DevicesArgs) -> anyhow::Result<ExitCode> {
    let all = crate::backend::wgpu::device::summaries();
    if all.is_empty() {
        println!("no GPU adapter found (Vulkan, Metal, DX12)");
        return Ok(ExitCode::from(1));
    }
    for a in &all {
        let l = &a.limits;
        println!(
            "[{}] {} — {:?}, {:?}, driver {} {}",
            a.index,
            a.info.name,
            a.info.backend,
            a.info.device_type,
            a.info.driver,
            a.info.driver_info
        );
        println!(
            "    max storage binding {} MiB, max buffer {} MiB, {} storage buffers per stage, \
             {} KiB workgroup memory, subgroups: {}",
            l.max_binding >> 20,
            l.max_buffer >> 20,
            l.max_storage_buffers,
            l.max_workgroup_storage >> 10,
            if a.subgroups {
                format!(
                    "yes ({}..{})",
                    a.info.subgroup_min_size, a.info.subgroup_max_size
                )
            } else {
                "no".to_string()
            }
        );
        match &a.zelhash {
            Ok(mib) => println!("    ZelHash: yes ({mib} MiB of device memory)"),
            Err(why) => println!("    ZelHash: no — {why}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Without the wgpu feature there is nothing to list.
#[cfg(not(feature = "wgpu"))]
pub fn run(_args: &DevicesArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this build has no wgpu backend (cargo feature `wgpu`)")
}
