//! The GPUs this machine has, as the backends see them, and the rule `mine --backend auto`
//! follows: every usable GPU, one solver each, CUDA where it is available, else wgpu; the CPU
//! solver only when there is no GPU.
//!
//! The rule ([`auto`]) is a pure function of the list, so it is tested with made-up machines;
//! [`gpus`] asks the drivers.

use super::factory::BackendKind;

/// PCI vendor id of NVIDIA.
const NVIDIA: u32 = 0x10de;

/// One GPU as one backend sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    /// The backend that sees it: [`BackendKind::Cuda`] or [`BackendKind::Wgpu`].
    pub kind: BackendKind,
    /// Its number in that backend (`--device`).
    pub index: usize,
    /// Its name.
    pub name: String,
    /// PCI vendor id (0 when unknown).
    pub vendor: u32,
    /// The graphics API it came through (wgpu: "Vulkan", "Metal", "Dx12"; CUDA: "CUDA").
    pub api: String,
    /// A software rasterizer (Mesa's lavapipe, SwiftShader, WARP): slower than the CPU solver.
    pub software: bool,
    /// `Err(why)` when ZelHash does not fit (too little memory, limits).
    pub usable: Result<(), String>,
}

impl Gpu {
    /// "NAME (CUDA 0)" / "NAME (Vulkan 1)".
    pub fn label(&self) -> String {
        format!("{} ({} {})", self.name, self.api, self.index)
    }
}

/// The GPUs `--backend auto` mines on, in order: every CUDA device; then the usable hardware
/// wgpu adapters of one graphics API (the first hardware adapter's: an adapter seen through
/// both Vulkan and DX12 is one card), leaving out NVIDIA cards when CUDA has any (CUDA sees
/// them). Software adapters never count. Empty: mine on the CPU.
pub fn auto(all: &[Gpu]) -> Vec<Gpu> {
    let cuda: Vec<Gpu> = all
        .iter()
        .filter(|g| g.kind == BackendKind::Cuda && g.usable.is_ok())
        .cloned()
        .collect();
    let hardware = |g: &&Gpu| g.kind == BackendKind::Wgpu && !g.software && g.usable.is_ok();
    let api = all.iter().find(hardware).map(|g| g.api.clone());
    let has_cuda = !cuda.is_empty();
    let wgpu = all
        .iter()
        .filter(hardware)
        .filter(|g| Some(&g.api) == api.as_ref())
        .filter(|g| !has_cuda || g.vendor != NVIDIA)
        .cloned();
    cuda.into_iter().chain(wgpu).collect()
}

/// Every GPU the drivers report (CUDA devices first), and what could not be asked, one line each
/// (e.g. "CUDA unavailable: the NVIDIA driver library (libcuda.so) is not installed").
pub fn gpus() -> (Vec<Gpu>, Vec<String>) {
    let mut all = Vec::new();
    let mut notes = Vec::new();
    match cuda_gpus() {
        Ok(g) => all.extend(g),
        Err(why) => notes.push(why),
    }
    all.extend(wgpu_gpus());
    (all, notes)
}

#[cfg(feature = "cuda")]
fn cuda_gpus() -> Result<Vec<Gpu>, String> {
    let all = super::cuda::driver::devices().map_err(|e| e.to_string())?;
    Ok(all
        .into_iter()
        .map(|d| Gpu {
            kind: BackendKind::Cuda,
            index: d.index,
            name: d.name,
            vendor: NVIDIA,
            api: "CUDA".into(),
            software: false,
            usable: Ok(()),
        })
        .collect())
}

#[cfg(not(feature = "cuda"))]
fn cuda_gpus() -> Result<Vec<Gpu>, String> {
    Err("CUDA unavailable: this build has no CUDA backend (cargo feature `cuda`)".into())
}

#[cfg(feature = "wgpu")]
fn wgpu_gpus() -> Vec<Gpu> {
    super::wgpu::device::summaries()
        .into_iter()
        .map(|a| Gpu {
            kind: BackendKind::Wgpu,
            index: a.index,
            name: a.info.name.clone(),
            vendor: a.info.vendor,
            api: format!("{:?}", a.info.backend),
            software: a.info.device_type == wgpu::DeviceType::Cpu,
            usable: a.zelhash.map(|_| ()),
        })
        .collect()
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_gpus() -> Vec<Gpu> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(kind: BackendKind, index: usize, name: &str, vendor: u32, api: &str) -> Gpu {
        Gpu {
            kind,
            index,
            name: name.into(),
            vendor,
            api: api.into(),
            software: false,
            usable: Ok(()),
        }
    }

    fn labels(g: &[Gpu]) -> Vec<String> {
        g.iter().map(Gpu::label).collect()
    }

    /// CI: only lavapipe. The CPU solver is faster than a software adapter.
    #[test]
    fn a_software_adapter_is_not_a_gpu() {
        let mut lvp = gpu(BackendKind::Wgpu, 0, "llvmpipe", 0x10005, "Vulkan");
        lvp.software = true;
        assert!(auto(&[lvp]).is_empty());
    }

    /// Two NVIDIA cards seen through CUDA and Vulkan, one AMD card through Vulkan: both CUDA
    /// devices and the AMD card, each once.
    #[test]
    fn nvidia_cards_go_through_cuda_others_through_wgpu() {
        let all = [
            gpu(BackendKind::Cuda, 0, "NVIDIA H200", NVIDIA, "CUDA"),
            gpu(BackendKind::Cuda, 1, "NVIDIA H200", NVIDIA, "CUDA"),
            gpu(BackendKind::Wgpu, 0, "NVIDIA H200", NVIDIA, "Vulkan"),
            gpu(
                BackendKind::Wgpu,
                1,
                "AMD Radeon RX 7900 XTX",
                0x1002,
                "Vulkan",
            ),
            gpu(BackendKind::Wgpu, 2, "NVIDIA H200", NVIDIA, "Vulkan"),
        ];
        assert_eq!(
            labels(&auto(&all)),
            [
                "NVIDIA H200 (CUDA 0)",
                "NVIDIA H200 (CUDA 1)",
                "AMD Radeon RX 7900 XTX (Vulkan 1)"
            ]
        );
    }

    /// Without the CUDA driver, NVIDIA cards are mined through Vulkan; an adapter the card also
    /// shows through DX12 is not mined twice; one too small for ZelHash is left out.
    #[test]
    fn without_cuda_every_usable_hardware_adapter_of_one_api() {
        let mut small = gpu(BackendKind::Wgpu, 3, "GeForce GT 710", NVIDIA, "Vulkan");
        small.usable = Err("2048 MiB of device memory, needs 2600".into());
        let all = [
            gpu(
                BackendKind::Wgpu,
                0,
                "NVIDIA GeForce RTX 4090",
                NVIDIA,
                "Vulkan",
            ),
            gpu(
                BackendKind::Wgpu,
                1,
                "NVIDIA GeForce RTX 4090",
                NVIDIA,
                "Dx12",
            ),
            gpu(BackendKind::Wgpu, 2, "Intel Arc A770", 0x8086, "Vulkan"),
            small,
        ];
        assert_eq!(
            labels(&auto(&all)),
            [
                "NVIDIA GeForce RTX 4090 (Vulkan 0)",
                "Intel Arc A770 (Vulkan 2)"
            ]
        );
    }
}
