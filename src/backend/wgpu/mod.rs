//! The portable GPU backend: the whole Wagner pipeline in WGSL kernels (`shaders/`), run through
//! wgpu on Vulkan, Metal or DX12, and proven on lavapipe (Mesa's CPU Vulkan driver) in CI.
//!
//! - [`plan`](crate::backend::plan): the memory plan (shared with the CUDA backend).
//! - [`wgsl`]: the kernel sources, a generated prelude in front of the `shaders/` templates.
//! - [`device`]: adapters, their limits, opening one.
//! - [`solver`]: [`WgpuSolver`], pipelines and buffers built once, nonces pipelined.
//!
//! Design and per-stage traffic: `docs/kernel-design.md`.

pub mod device;
pub mod solver;
pub mod wgsl;

pub use solver::WgpuSolver;
