//! `fluxminer devices`: every GPU adapter wgpu finds, its limits, and whether it can run ZelHash;
//! then every CUDA device (name, compute capability, memory, SMs), or why CUDA is unavailable.

use std::process::ExitCode;

/// Arguments of `fluxminer devices` (none).
#[derive(Debug, Clone, clap::Args)]
pub struct DevicesArgs {}

/// Lists the wgpu adapters and the CUDA devices; exit code 1 when there is neither.
pub fn run(_args: &DevicesArgs) -> anyhow::Result<ExitCode> {
    let wgpu = list_wgpu();
    let cuda = list_cuda();
    list_auto();
    Ok(if wgpu + cuda == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `mine` (`--backend auto`) would mine on, numbered for `--devices`.
fn list_auto() {
    let (gpus, _) = super::backend_args::auto_gpus();
    if gpus.is_empty() {
        println!("mine --backend auto: no usable GPU, mines on the CPU");
        return;
    }
    println!("mine --backend auto (numbers for --devices):");
    for (i, g) in gpus.iter().enumerate() {
        println!("  #{i} {}", g.label());
    }
}

#[cfg(feature = "cuda")]
fn list_cuda() -> usize {
    use crate::backend::cuda::driver;
    match driver::devices() {
        Ok(all) if all.is_empty() => {
            println!("CUDA: no device");
            0
        }
        Ok(all) => {
            for d in &all {
                let (ma, mi) = d.capability;
                println!(
                    "[cuda {}] {} — CUDA, compute capability {ma}.{mi}, {} MiB, {} SMs",
                    d.index,
                    d.name,
                    d.memory >> 20,
                    d.sms
                );
            }
            all.len()
        }
        Err(e) => {
            println!("{e}");
            0
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn list_cuda() -> usize {
    println!("CUDA unavailable: this build has no CUDA backend (cargo feature `cuda`)");
    0
}

/// Prints the wgpu adapters; how many.
#[cfg(feature = "wgpu")]
fn list_wgpu() -> usize {
    let all = crate::backend::wgpu::device::summaries();
    if all.is_empty() {
        println!("no GPU adapter found (Vulkan, Metal, DX12)");
        return 0;
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
    all.len()
}

#[cfg(not(feature = "wgpu"))]
fn list_wgpu() -> usize {
    println!("wgpu: this build has no wgpu backend (cargo feature `wgpu`)");
    0
}
