//! Every CUDA kernel compiles for every shipped target (sm_61, 70, 75, 80, 86, 89, 90, 120 and
//! the compute_61 PTX) with NVRTC, for every module the code generates (ZelHash with and without
//! profile counters, 96,5, 48,5, 200,9), and ptxas reports no register spill: through
//! `scripts/cuda-kernels.py check`, which prints registers, shared memory and spills per kernel
//! per target. Needs Python 3 and NVRTC from PyPI (`scripts/test.sh` installs
//! nvidia-cuda-nvrtc-cu12 and sets `FLUXMINER_NVRTC`); without them the test fails, it never
//! skips. No GPU or CUDA driver is involved.

use std::process::Command;

use fluxminer::backend::cuda::source;
use fluxminer::backend::plan::{DeviceLimits, Plan};
use fluxminer::equihash::Params;

#[test]
fn every_kernel_compiles_for_every_target_without_spills() {
    let dir = std::env::temp_dir().join(format!("fluxminer-nvrtc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cuda-kernels.py");
    for (params, profile) in [
        (Params::ZELHASH, false),
        (Params::ZELHASH, true),
        (Params::EH96_5, false),
        (Params::EH48_5, true),
    ] {
        let plan = Plan::new(params, &DeviceLimits::CUDA, None).unwrap();
        let file = dir.join(format!("{}_{}_{profile}.cu", params.n(), params.k()));
        std::fs::write(&file, source::module(&plan, profile)).unwrap();
        let out = Command::new("python3")
            .arg(script)
            .arg("check")
            .arg(&file)
            .output()
            .expect("python3 (scripts/cuda-kernels.py needs it)");
        let text = String::from_utf8_lossy(&out.stdout);
        eprintln!("== {params} profile={profile}\n{text}");
        assert!(
            out.status.success(),
            "{params} profile={profile}: {}\n{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("no spills"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
