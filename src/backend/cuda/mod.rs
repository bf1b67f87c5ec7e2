//! The CUDA backend: the kernel v2 design (`docs/kernel-design.md`) in CUDA C++ (`kernels/`),
//! sharing the plan, the record layout and the counters with the WGSL backend.
//!
//! - [`source`]: the module's source for a plan: a generated prelude per kernel in front of the
//!   `kernels/*.cu` templates (pure).
//! - [`solver`]: [`CudaSolver`] over a [`Runtime`]: buffers, launches, read-back, CPU
//!   re-verification.
//! - `driver` (feature `cuda`, default): NVIDIA cards through the driver API (`cudarc`, loaded
//!   at run time), embedded cubins for sm_61…sm_120 plus PTX, NVRTC where installed.
//! - `cpu` (feature `cuda-cpu`): the runtime that compiles the same source for the CPU with
//!   `kernels/cuda_cpu.h` and runs it, checked for races and out-of-bounds shared memory.

#[cfg(feature = "cuda-cpu")]
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod driver;
pub mod solver;
pub mod source;

pub use solver::{CudaSolver, KernelArgs, Runtime};
