//! `fluxminer devices`: every GPU adapter wgpu finds, its limits, and whether it can run ZelHash;
//! then every CUDA device (name, compute capability, memory, SMs), or why CUDA is unavailable.
//! Each device gets a telemetry line (temperature, power, fan, or why there is none), and the
//! telemetry sources come last.

use std::process::ExitCode;

use crate::telemetry::{self, GpuId, Monitor};

/// Arguments of `fluxminer devices` (none).
#[derive(Debug, Clone, clap::Args)]
pub struct DevicesArgs {}

/// Lists the wgpu adapters and the CUDA devices; exit code 1 when there is neither.
pub fn run(_args: &DevicesArgs) -> anyhow::Result<ExitCode> {
    let monitor = Monitor::discover();
    let wgpu = list_wgpu(&monitor);
    let cuda = list_cuda(&monitor);
    list_auto();
    println!("telemetry sources:");
    for line in monitor.sources() {
        println!("  {line}");
    }
    Ok(if wgpu + cuda == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The device's telemetry line: `    telemetry (1002:744c at 0000:03:00.0): 61.0 °C (edge), …`
/// or `    telemetry: absent: <why>`.
fn print_telemetry(monitor: &Monitor, id: Option<&GpuId>) {
    let card = id.map_or_else(String::new, |id| format!(" ({id})"));
    println!(
        "    telemetry{card}: {}",
        telemetry::describe(&monitor.read_device(id))
    );
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
fn list_cuda(monitor: &Monitor) -> usize {
    use crate::backend::cuda::driver;
    match driver::devices() {
        Ok(all) if all.is_empty() => {
            println!("CUDA: no device");
            0
        }
        Ok(all) => {
            for d in &all {
                let (ma, mi) = d.capability;
                let pci = d.pci.map_or_else(String::new, |p| format!(", PCI {p}"));
                println!(
                    "[cuda {}] {} — CUDA, compute capability {ma}.{mi}, {} MiB, {} SMs{pci}",
                    d.index,
                    d.name,
                    d.memory >> 20,
                    d.sms
                );
                print_telemetry(monitor, Some(&d.gpu_id()));
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
fn list_cuda(_monitor: &Monitor) -> usize {
    println!("CUDA unavailable: this build has no CUDA backend (cargo feature `cuda`)");
    0
}

/// Prints the wgpu adapters; how many.
#[cfg(feature = "wgpu")]
fn list_wgpu(monitor: &Monitor) -> usize {
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
        print_telemetry(monitor, a.gpu_id.as_ref());
    }
    all.len()
}

#[cfg(not(feature = "wgpu"))]
fn list_wgpu(_monitor: &Monitor) -> usize {
    println!("wgpu: this build has no wgpu backend (cargo feature `wgpu`)");
    0
}
