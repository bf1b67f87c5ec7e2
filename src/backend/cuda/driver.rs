//! The NVIDIA runtime (feature `cuda`): the driver API through `cudarc`, loaded at run time, so
//! the binary builds and runs without CUDA and a machine without the driver gets
//! `"CUDA unavailable: <reason>"` (the library is probed before any call into it).
//!
//! Which code runs on a card, in order:
//! 1. the embedded cubin built for exactly its architecture (`kernels/bin/`, built ahead with
//!    NVRTC and ptxas by `scripts/cuda-kernels.py build`): no compiler needed on the rig, no
//!    start-up delay, the same SASS that CI's resource report describes;
//! 2. where no cubin matches exactly (a newer card, other parameters, `--profile`) and NVRTC is
//!    installed: the source compiled by NVRTC for the card;
//! 3. else, for ZelHash, the embedded cubin of the same major architecture, or the embedded PTX
//!    (JIT-compiled by the driver).
#![allow(unsafe_code)] // kernel launches and the DeviceRepr marker (cudarc's API is unsafe there)

use std::collections::BTreeMap;
use std::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaEvent, CudaFunction, CudaModule, CudaSlice, CudaStream, DevicePtr, DeviceRepr,
    LaunchConfig, PushKernelArg, sys,
};
use cudarc::nvrtc::Ptx;

use super::solver::{KernelArgs, Runtime};
use crate::backend::SolverError;
use crate::telemetry::{GpuId, NVIDIA, PciAddress};

// SAFETY: `KernelArgs` is `#[repr(C)]` plain data matching `struct Args` of the generated source.
unsafe impl DeviceRepr for KernelArgs {}

/// The shipped cubins: (architecture as major·10 + minor, image).
const CUBINS: [(u32, &[u8]); 8] = [
    (61, include_bytes!("../../../kernels/bin/sm_61.cubin")),
    (70, include_bytes!("../../../kernels/bin/sm_70.cubin")),
    (75, include_bytes!("../../../kernels/bin/sm_75.cubin")),
    (80, include_bytes!("../../../kernels/bin/sm_80.cubin")),
    (86, include_bytes!("../../../kernels/bin/sm_86.cubin")),
    (89, include_bytes!("../../../kernels/bin/sm_89.cubin")),
    (90, include_bytes!("../../../kernels/bin/sm_90.cubin")),
    (120, include_bytes!("../../../kernels/bin/sm_120.cubin")),
];
/// The shipped PTX (compute_61), JIT-compiled by the driver for any newer card.
const PTX: &str = include_str!("../../../kernels/bin/compute_61.ptx");
/// The generated module the shipped binaries were built from.
pub const SHIPPED_SOURCE: &str = include_str!("../../../kernels/zelhash.cu");

/// One CUDA device, as `fluxminer devices` lists it.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// Ordinal.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Compute capability (major, minor).
    pub capability: (u32, u32),
    /// Memory, bytes.
    pub memory: u64,
    /// Streaming multiprocessors.
    pub sms: u32,
    /// PCI address (domain, bus, device; function 0), where the driver reports it.
    pub pci: Option<PciAddress>,
}

impl DeviceInfo {
    /// The card, for its sensors: matched by PCI address (CUDA gives no PCI device id; without
    /// an address, the CUDA ordinal stands in for the position among NVIDIA cards).
    pub fn gpu_id(&self) -> GpuId {
        GpuId {
            vendor: NVIDIA,
            device: None,
            pci: self.pci,
            ordinal: self.index as u32,
        }
    }
}

/// Why CUDA cannot be used here, or `Ok` with the library present.
///
/// # Errors
/// The NVIDIA driver library is not installed.
pub fn probe() -> Result<(), SolverError> {
    // SAFETY: only tries to open the library (libloading), calls nothing in it.
    if unsafe { sys::is_culib_present() } {
        Ok(())
    } else {
        Err(unavailable(
            "the NVIDIA driver library (libcuda.so) is not installed",
        ))
    }
}

fn unavailable(why: impl std::fmt::Display) -> SolverError {
    SolverError::Unavailable(format!("CUDA unavailable: {why}"))
}

fn device_err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> SolverError + '_ {
    move |e| SolverError::Device(format!("CUDA {what}: {e}"))
}

/// Every CUDA device, or why there are none.
///
/// # Errors
/// No driver, or the driver fails to initialise.
pub fn devices() -> Result<Vec<DeviceInfo>, SolverError> {
    probe()?;
    let n = CudaContext::device_count().map_err(unavailable)?;
    (0..n.max(0) as usize).map(info).collect()
}

fn info(index: usize) -> Result<DeviceInfo, SolverError> {
    let ctx = CudaContext::new(index).map_err(unavailable)?;
    let attr = |a| {
        ctx.attribute(a)
            .map(|v| v.max(0) as u32)
            .map_err(device_err("attribute"))
    };
    use sys::CUdevice_attribute as A;
    Ok(DeviceInfo {
        index,
        name: ctx.name().map_err(device_err("name"))?,
        capability: (
            attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?,
            attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?,
        ),
        memory: ctx.total_mem().map_err(device_err("memory"))? as u64,
        sms: attr(A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?,
        pci: pci_address(
            attr(A::CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID).ok(),
            attr(A::CU_DEVICE_ATTRIBUTE_PCI_BUS_ID).ok(),
            attr(A::CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID).ok(),
        ),
    })
}

/// The address from the driver's PCI domain, bus and device attributes (function 0).
fn pci_address(domain: Option<u32>, bus: Option<u32>, device: Option<u32>) -> Option<PciAddress> {
    Some(PciAddress {
        domain: domain?,
        bus: u8::try_from(bus?).ok()?,
        device: u8::try_from(device?).ok().filter(|&d| d < 32)?,
        function: 0,
    })
}

/// The runtime on one card.
pub struct CudaRuntime {
    info: DeviceInfo,
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    module: Option<Arc<CudaModule>>,
    functions: BTreeMap<String, CudaFunction>,
    allocs: BTreeMap<u64, CudaSlice<u32>>,
    code: String,
    /// A second stream for reading results back while the next nonce runs on `stream`.
    reader: Option<Arc<CudaStream>>,
    /// Events recorded by [`Runtime::mark`], by number.
    marks: BTreeMap<u64, CudaEvent>,
    next_mark: u64,
}

impl CudaRuntime {
    /// Opens device `index`.
    ///
    /// # Errors
    /// "CUDA unavailable: …" without a driver or with no such device.
    pub fn new(index: usize) -> Result<CudaRuntime, SolverError> {
        let info = devices()?
            .into_iter()
            .find(|d| d.index == index)
            .ok_or_else(|| unavailable(format!("no CUDA device {index}")))?;
        let ctx = CudaContext::new(index).map_err(unavailable)?;
        let stream = ctx.default_stream();
        Ok(CudaRuntime {
            info,
            ctx,
            stream,
            module: None,
            functions: BTreeMap::new(),
            allocs: BTreeMap::new(),
            code: String::new(),
            reader: None,
            marks: BTreeMap::new(),
            next_mark: 0,
        })
    }

    /// The read-back stream, created on first use.
    fn reader(&mut self) -> Result<Arc<CudaStream>, SolverError> {
        if let Some(r) = &self.reader {
            return Ok(r.clone());
        }
        let r = self.ctx.new_stream().map_err(device_err("stream"))?;
        self.reader = Some(r.clone());
        Ok(r)
    }

    /// Which code the module runs: "cubin sm_90", "NVRTC sm_90", "PTX JIT".
    pub fn code(&self) -> &str {
        &self.code
    }

    fn arch(&self) -> u32 {
        10 * self.info.capability.0 + self.info.capability.1
    }

    /// The image to load for `src`, and what it is (see the module documentation).
    fn image(&self, src: &str) -> Result<(Ptx, String), SolverError> {
        let arch = self.arch();
        let shipped = src == SHIPPED_SOURCE;
        if shipped && let Some((a, bin)) = CUBINS.iter().find(|(a, _)| *a == arch) {
            return Ok((Ptx::from_binary(bin.to_vec()), format!("cubin sm_{a}")));
        }
        if nvrtc_present() {
            let opts = cudarc::nvrtc::CompileOptions {
                arch: Some(Box::leak(format!("sm_{arch}").into_boxed_str())),
                options: vec!["-std=c++17".into(), "--use_fast_math".into()],
                ..Default::default()
            };
            let ptx = cudarc::nvrtc::compile_ptx_with_opts(src, opts)
                .map_err(|e| SolverError::Device(format!("NVRTC: {e}")))?;
            return Ok((ptx, format!("NVRTC sm_{arch}")));
        }
        if !shipped {
            return Err(unavailable(
                "these parameters or --profile need NVRTC at run time \
                 (pip install nvidia-cuda-nvrtc-cu12)",
            ));
        }
        let major = CUBINS
            .iter()
            .filter(|(a, _)| a / 10 == arch / 10 && *a <= arch)
            .max_by_key(|(a, _)| *a);
        Ok(match major {
            Some((a, bin)) => (Ptx::from_binary(bin.to_vec()), format!("cubin sm_{a}")),
            None => (Ptx::from_src(PTX), "PTX JIT".to_string()),
        })
    }
}

/// Whether the NVRTC library can be loaded.
fn nvrtc_present() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

impl Runtime for CudaRuntime {
    fn gpu_id(&self) -> Option<GpuId> {
        Some(self.info.gpu_id())
    }

    fn describe(&self) -> String {
        let (ma, mi) = self.info.capability;
        format!(
            "{}, sm_{ma}{mi}, {} SMs, {}",
            self.info.name, self.info.sms, self.code
        )
    }

    fn load(&mut self, src: &str) -> Result<(), SolverError> {
        let (image, code) = self.image(src)?;
        let module = self
            .ctx
            .load_module(image)
            .map_err(device_err("module load"))?;
        self.module = Some(module);
        self.functions.clear();
        self.code = code;
        Ok(())
    }

    fn alloc(&mut self, bytes: u64) -> Result<u64, SolverError> {
        let slice = self
            .stream
            .alloc_zeros::<u32>(bytes.div_ceil(4).max(1) as usize)
            .map_err(device_err("allocation"))?;
        let addr = {
            let (p, _sync) = slice.device_ptr(&self.stream);
            p
        };
        self.allocs.insert(addr, slice);
        Ok(addr)
    }

    fn write(&mut self, at: u64, words: &[u32]) -> Result<(), SolverError> {
        let (base, slice) = find(&mut self.allocs, at, words.len())?;
        let off = ((at - base) / 4) as usize;
        let mut view = slice.slice_mut(off..off + words.len());
        self.stream
            .memcpy_htod(words, &mut view)
            .map_err(device_err("copy to device"))
    }

    fn read(&mut self, at: u64, out: &mut [u32]) -> Result<(), SolverError> {
        let (base, slice) = find(&mut self.allocs, at, out.len())?;
        let off = ((at - base) / 4) as usize;
        let view = slice.slice(off..off + out.len());
        self.stream
            .memcpy_dtoh(&view, out)
            .map_err(device_err("copy from device"))?;
        self.stream.synchronize().map_err(device_err("kernel"))
    }

    fn launch(
        &mut self,
        entry: &str,
        grid: (u32, u32),
        block: u32,
        args: &KernelArgs,
    ) -> Result<(), SolverError> {
        if !self.functions.contains_key(entry) {
            let module = self
                .module
                .as_ref()
                .ok_or_else(|| SolverError::Device("no module loaded".into()))?;
            let f = module
                .load_function(entry)
                .map_err(device_err("kernel lookup"))?;
            self.functions.insert(entry.to_string(), f);
        }
        let f = &self.functions[entry];
        let cfg = LaunchConfig {
            grid_dim: (grid.0, grid.1, 1),
            block_dim: (block, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut b = self.stream.launch_builder(f);
        b.arg(args);
        // SAFETY: `args` matches the kernel's one parameter (`struct Args`); every address in
        // it is a live allocation of this context sized by the plan.
        unsafe { b.launch(cfg) }
            .map(|_| ())
            .map_err(device_err("launch"))
    }

    fn sync(&mut self) -> Result<(), SolverError> {
        self.stream.synchronize().map_err(device_err("kernel"))
    }

    fn copy(&mut self, from: u64, to: u64, words: usize) -> Result<(), SolverError> {
        find(&mut self.allocs, from, words)?;
        find(&mut self.allocs, to, words)?;
        // SAFETY: both ranges lie inside live allocations of this context (checked above); the
        // copy is ordered on the stream after the kernels that write `from`.
        unsafe {
            cudarc::driver::result::memcpy_dtod_async(to, from, 4 * words, self.stream.cu_stream())
        }
        .map_err(device_err("copy on the device"))
    }

    fn mark(&mut self) -> Result<u64, SolverError> {
        let event = self
            .stream
            .record_event(None)
            .map_err(device_err("event"))?;
        self.next_mark += 1;
        self.marks.insert(self.next_mark, event);
        Ok(self.next_mark)
    }

    fn read_marked(&mut self, mark: u64, at: u64, out: &mut [u32]) -> Result<(), SolverError> {
        find(&mut self.allocs, at, out.len())?;
        let event = self
            .marks
            .remove(&mark)
            .ok_or_else(|| SolverError::Device(format!("no mark {mark}")))?;
        let reader = self.reader()?;
        reader.wait(&event).map_err(device_err("event wait"))?;
        // SAFETY: `at..at + 4·len` lies inside a live allocation (checked above); the reader
        // stream waits for the mark, so the copy sees the finished results, and the copy into
        // pageable host memory returns once it is done.
        unsafe { cudarc::driver::result::memcpy_dtoh_async(out, at, reader.cu_stream()) }
            .map_err(device_err("copy from device"))?;
        reader.synchronize().map_err(device_err("kernel"))
    }
}

/// The allocation holding `words` words at `at`, and its base address.
fn find(
    allocs: &mut BTreeMap<u64, CudaSlice<u32>>,
    at: u64,
    words: usize,
) -> Result<(u64, &mut CudaSlice<u32>), SolverError> {
    let (&base, slice) = allocs
        .range_mut(..=at)
        .next_back()
        .ok_or_else(|| SolverError::Device(format!("no allocation at 0x{at:x}")))?;
    if at + 4 * words as u64 > base + 4 * slice.len() as u64 {
        return Err(SolverError::Device(format!(
            "copy of {words} words at 0x{at:x} leaves its allocation"
        )));
    }
    Ok((base, slice))
}
