//! The `cuda-cpu` runtime: the generated CUDA source compiled by the system C++ compiler with
//! `kernels/cuda_cpu.h` (threads of a block as fibers on one CPU thread, barriers resumed in a
//! random order per seed, shared memory bounds- and race-checked) into a shared library, loaded
//! with `libloading`, and launched by name. Device memory is host memory. For CI and developers:
//! it proves the CUDA kernels where no NVIDIA card exists, and catches races a card hides.
//!
//! Compiled libraries are cached by a hash of their source (and compiler flags) under
//! `$FLUXMINER_CACHE_DIR`, else the system temporary directory.
#![allow(unsafe_code)] // calling into the compiled kernels (C ABI) through libloading

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use super::solver::{KernelArgs, Runtime};
use crate::backend::SolverError;

/// The shim every CPU build includes first.
pub const SHIM: &str = include_str!("../../../kernels/cuda_cpu.h");

const FLAGS: [&str; 8] = [
    "-std=c++17",
    "-O2",
    // One TLS base per function, not a __tls_get_addr call per shared-memory access.
    "-ftls-model=local-dynamic",
    "-fPIC",
    "-shared",
    "-pthread",
    "-DFLUXMINER_CUDA_CPU",
    "-w",
];

type LaunchFn = unsafe extern "C" fn(u32, u32, u32, u32, u32, u32, *const u8) -> i32;
type ErrorFn = unsafe extern "C" fn() -> *const std::ffi::c_char;

/// Options of the CPU runtime.
#[derive(Debug, Clone, Copy)]
pub struct CpuOptions {
    /// Worker threads (blocks run in parallel, one block per thread at a time); 0 = all cores.
    pub threads: u32,
    /// Seed of the order in which fibers resume at barriers.
    pub seed: u64,
    /// Shared-memory race checks (bounds are always checked).
    pub checks: bool,
}

impl Default for CpuOptions {
    fn default() -> CpuOptions {
        CpuOptions {
            threads: 0,
            seed: 1,
            checks: true,
        }
    }
}

/// One allocation: 16-byte aligned host memory standing in for device memory.
struct Alloc {
    mem: Vec<u128>,
}

impl Alloc {
    fn addr(&self) -> u64 {
        self.mem.as_ptr() as u64
    }

    fn bytes(&self) -> u64 {
        16 * self.mem.len() as u64
    }
}

/// The CPU runtime.
pub struct CpuRuntime {
    opts: CpuOptions,
    lib: Option<libloading::Library>,
    allocs: BTreeMap<u64, Alloc>,
}

impl CpuRuntime {
    /// A runtime with `opts`; the module is compiled at [`Runtime::load`].
    pub fn new(opts: CpuOptions) -> CpuRuntime {
        CpuRuntime {
            opts,
            lib: None,
            allocs: BTreeMap::new(),
        }
    }

    /// The allocation holding `[at, at + bytes)` and the byte offset of `at` in it.
    fn find(&mut self, at: u64, bytes: u64) -> Result<(&mut Alloc, usize), SolverError> {
        let (&base, alloc) = self
            .allocs
            .range_mut(..=at)
            .next_back()
            .ok_or_else(|| SolverError::Device(format!("no allocation at 0x{at:x}")))?;
        if at + bytes > base + alloc.bytes() || !at.is_multiple_of(4) {
            return Err(SolverError::Device(format!(
                "copy of {bytes} bytes at 0x{at:x} leaves its allocation"
            )));
        }
        Ok((alloc, (at - base) as usize))
    }

    fn symbol<T: Copy>(&self, name: &str) -> Result<T, SolverError> {
        let lib = self
            .lib
            .as_ref()
            .ok_or_else(|| SolverError::Device("no module loaded".into()))?;
        // SAFETY: the symbols are the C functions the generated source exports
        // (`CUDA_CPU_EXPORT`, the shim's runtime functions), with the signatures of `T`.
        let sym = unsafe { lib.get::<T>(name.as_bytes()) }
            .map_err(|e| SolverError::Device(format!("{name}: {e}")))?;
        Ok(*sym)
    }

    fn last_error(&self) -> String {
        match self.symbol::<ErrorFn>("fmcpu_last_error") {
            Ok(f) => {
                // SAFETY: returns a NUL-terminated string owned by the library, or null.
                let p = unsafe { f() };
                if p.is_null() {
                    "unknown error".into()
                } else {
                    // SAFETY: non-null, NUL-terminated, valid until the next launch.
                    unsafe { std::ffi::CStr::from_ptr(p) }
                        .to_string_lossy()
                        .into_owned()
                }
            }
            Err(e) => e.to_string(),
        }
    }
}

/// Compiles `src` with the shim into a shared library (cached), returning its path.
///
/// # Errors
/// No C++ compiler, or the compiler's own error output.
pub fn compile(src: &str) -> Result<PathBuf, SolverError> {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let mut h = blake2b_simd::Params::new().hash_length(16).to_state();
    for part in [SHIM, src, &cxx, &FLAGS.join(" ")] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    let tag = hex::encode(h.finalize().as_bytes());
    let dir = std::env::var_os("FLUXMINER_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("fluxminer-cuda-cpu"));
    let lib = dir.join(format!("kernels-{tag}.so"));
    if lib.exists() {
        return Ok(lib);
    }
    let io = |e: std::io::Error| SolverError::Device(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(io)?;
    let work = dir.join(format!("build-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(io)?;
    std::fs::write(work.join("cuda_cpu.h"), SHIM).map_err(io)?;
    let cu = work.join("kernels.cpp");
    std::fs::write(&cu, format!("#include \"cuda_cpu.h\"\n{src}")).map_err(io)?;
    let out = work.join("kernels.so");
    let run = Command::new(&cxx)
        .args(FLAGS)
        .arg(&cu)
        .arg("-o")
        .arg(&out)
        .output()
        .map_err(|e| {
            SolverError::Device(format!("CUDA-on-CPU needs a C++ compiler ({cxx}): {e}"))
        })?;
    if !run.status.success() {
        return Err(SolverError::Device(format!(
            "{cxx} failed on the CUDA kernels:\n{}",
            String::from_utf8_lossy(&run.stderr)
        )));
    }
    std::fs::rename(&out, &lib).map_err(io)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(lib)
}

impl Runtime for CpuRuntime {
    fn describe(&self) -> String {
        format!("CPU shim, seed {}", self.opts.seed)
    }

    fn load(&mut self, src: &str) -> Result<(), SolverError> {
        let path = compile(src)?;
        // SAFETY: a library we just compiled from our own source; its initialisers only set up
        // the shim's globals.
        let lib = unsafe { libloading::Library::new(&path) }
            .map_err(|e| SolverError::Device(format!("{}: {e}", path.display())))?;
        self.lib = Some(lib);
        let threads = self.symbol::<unsafe extern "C" fn(u32)>("fmcpu_set_threads")?;
        let seed = self.symbol::<unsafe extern "C" fn(u64)>("fmcpu_set_seed")?;
        let checks = self.symbol::<unsafe extern "C" fn(i32)>("fmcpu_set_checks")?;
        // SAFETY: plain setters of the shim (see `kernels/cuda_cpu.h`).
        unsafe {
            threads(self.opts.threads);
            seed(self.opts.seed);
            checks(i32::from(self.opts.checks));
        }
        Ok(())
    }

    fn alloc(&mut self, bytes: u64) -> Result<u64, SolverError> {
        let alloc = Alloc {
            mem: vec![0u128; bytes.div_ceil(16).max(1) as usize],
        };
        let addr = alloc.addr();
        self.allocs.insert(addr, alloc);
        Ok(addr)
    }

    fn write(&mut self, at: u64, words: &[u32]) -> Result<(), SolverError> {
        let (alloc, off) = self.find(at, 4 * words.len() as u64)?;
        let mem: &mut [u32] = bytemuck::cast_slice_mut(&mut alloc.mem);
        mem[off / 4..off / 4 + words.len()].copy_from_slice(words);
        Ok(())
    }

    fn read(&mut self, at: u64, out: &mut [u32]) -> Result<(), SolverError> {
        let (alloc, off) = self.find(at, 4 * out.len() as u64)?;
        let mem: &[u32] = bytemuck::cast_slice(&alloc.mem);
        out.copy_from_slice(&mem[off / 4..off / 4 + out.len()]);
        Ok(())
    }

    fn launch(
        &mut self,
        entry: &str,
        grid: (u32, u32),
        block: u32,
        args: &KernelArgs,
    ) -> Result<(), SolverError> {
        let f = self.symbol::<LaunchFn>(&format!("fmcpu_{entry}"))?;
        let bytes = args.to_bytes();
        // SAFETY: `bytes` is `struct Args` in the C layout; every address in it is one of our
        // live allocations, and the kernels stay inside them (the plan sized them).
        let rc = unsafe { f(grid.0, grid.1, 1, block, 1, 1, bytes.as_ptr()) };
        if rc != 0 {
            return Err(SolverError::Device(format!(
                "{entry}: {}",
                self.last_error()
            )));
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), SolverError> {
        Ok(())
    }

    fn copy(&mut self, from: u64, to: u64, words: usize) -> Result<(), SolverError> {
        let mut buf = vec![0; words];
        self.read(from, &mut buf)?;
        self.write(to, &buf)
    }

    /// Work runs as it is queued here: every mark is already reached.
    fn mark(&mut self) -> Result<u64, SolverError> {
        Ok(0)
    }

    fn read_marked(&mut self, _mark: u64, at: u64, out: &mut [u32]) -> Result<(), SolverError> {
        self.read(at, out)
    }
}
