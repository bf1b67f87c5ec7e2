//! The WGSL solver on a real Vulkan device (lavapipe in CI): every kernel of every plan validates,
//! block 400000's input gives exactly its two solutions, random inputs give the CPU solver's
//! solution sets at full ZelHash size and at small parameters, and the kernels' own traffic
//! counters equal the model. A test that finds no usable adapter fails: `WgpuSolver::new` errors
//! and the test panics.
//!
//! `FLUXMINER_WGPU_FULL_N` sets how many random full-size ZelHash inputs to compare (default
//! [`DEFAULT_FULL_N`]; `scripts/test.sh --full` runs 20).

use std::sync::Mutex;

use fluxminer::backend::cpu::CpuSolver;
use fluxminer::backend::plan::{DeviceLimits, Plan};
use fluxminer::backend::wgpu::solver::Options;
use fluxminer::backend::wgpu::wgsl::{self, TwistScan};
use fluxminer::backend::wgpu::{WgpuSolver, device};
use fluxminer::backend::{SolveReport, Solver};
use fluxminer::equihash::Params;

mod solver_support;
use solver_support::{assert_clean, block_400000, counts_of, random_inputs, threads};

/// Random full-size inputs compared by default.
const DEFAULT_FULL_N: usize = 1;

/// One solver at a time: each holds gigabytes and lavapipe uses every core.
static DEVICE: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    DEVICE.lock().unwrap_or_else(|e| e.into_inner())
}

fn gpu_with(params: Params, opts: Options) -> WgpuSolver {
    WgpuSolver::new(params, opts)
        .expect("a usable wgpu adapter (install mesa-vulkan-drivers for lavapipe)")
}

fn gpu(params: Params) -> WgpuSolver {
    gpu_with(params, Options::default())
}

/// Solves `inputs` on the GPU (pipelined) and the CPU and asserts equal solution sets; returns
/// the GPU reports.
fn compare_with_cpu(
    gpu: &mut WgpuSolver,
    cpu: &mut CpuSolver,
    inputs: &[Vec<u8>],
) -> Vec<SolveReport> {
    let reports: Vec<SolveReport> = gpu
        .solve_many(inputs)
        .into_iter()
        .map(|r| r.expect("gpu solve"))
        .collect();
    assert_eq!(reports.len(), inputs.len());
    for (i, (input, g)) in inputs.iter().zip(&reports).enumerate() {
        let c = cpu.solve(input).expect("cpu solve");
        assert_eq!(
            g.solutions,
            c.solutions,
            "input {i} ({}): GPU {:?} CPU {:?}",
            hex::encode(input),
            g.stats,
            c.stats
        );
        assert_clean(&format!("input {i}"), g);
    }
    reports
}

#[test]
fn every_kernel_of_every_plan_validates_with_naga() {
    let mut checked = 0;
    let limits = [
        DeviceLimits::LAVAPIPE,
        DeviceLimits::NVIDIA_VULKAN,
        DeviceLimits::AMD,
    ];
    let params = [
        Params::ZELHASH,
        Params::EH96_5,
        Params::EH48_5,
        Params::EH144_5,
        Params::EH96_5.with_twist(true).unwrap(),
    ];
    let mut plans = Vec::new();
    for l in &limits {
        for p in params {
            plans.push(Plan::new(p, l, None).unwrap());
        }
    }
    // Every base region count the plan can choose for ZelHash.
    for b in [15, 16] {
        plans.push(Plan::new(Params::ZELHASH, &DeviceLimits::AMD, Some(b)).unwrap());
    }
    plans.dedup();
    for plan in &plans {
        for profile in [false, true] {
            for (name, kernel) in wgsl::all_kernels(plan, true, true) {
                let src = wgsl::source(plan, kernel, profile);
                let what = format!("{} {name} profile={profile}", plan.params);
                let module = naga::front::wgsl::parse_str(&src)
                    .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(&src)));
                let mut v = naga::valid::Validator::new(
                    naga::valid::ValidationFlags::all(),
                    naga::valid::Capabilities::SUBGROUP | naga::valid::Capabilities::SHADER_INT64,
                );
                v.subgroup_stages(naga::valid::ShaderStages::COMPUTE);
                v.subgroup_operations(naga::valid::SubgroupOperationSet::all());
                v.validate(&module)
                    .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(&src)));
                checked += 1;
            }
        }
    }
    // Per plan and profile setting: 3 scans × 2 BLAKE2b variants + k rounds + recovery.
    let expected: usize = plans
        .iter()
        .map(|p| 2 * (6 + p.params.k() as usize + 1))
        .sum();
    assert_eq!(checked, expected);
    assert!(plans.len() >= 10, "{} plans", plans.len());
}

#[test]
fn an_adapter_exists_and_can_run_zelhash() {
    let all = device::summaries();
    assert!(
        !all.is_empty(),
        "no GPU adapter: install mesa-vulkan-drivers (lavapipe)"
    );
    let first = &all[0];
    assert!(
        first.zelhash.is_ok(),
        "{}: {:?}",
        first.info.name,
        first.zelhash
    );
}

#[test]
fn too_small_a_device_is_named() {
    let tiny = DeviceLimits {
        max_storage_buffers: 8,
        ..DeviceLimits::LAVAPIPE
    };
    let e = Plan::new(Params::ZELHASH, &tiny, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("8 storage buffers per shader stage"), "{e}");
    let small_wg = DeviceLimits {
        max_workgroup_storage: 8 << 10,
        ..DeviceLimits::LAVAPIPE
    };
    let e = Plan::new(Params::ZELHASH, &small_wg, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("8 KiB of workgroup memory"), "{e}");
    let no_wg = DeviceLimits {
        max_workgroup_storage: 1 << 10,
        ..DeviceLimits::LAVAPIPE
    };
    let e = Plan::new(Params::ZELHASH, &no_wg, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("workgroup storage (bytes) is 1024"), "{e}");
}

#[test]
fn block_400000_and_random_full_inputs_equal_the_cpu_solver() {
    let _guard = lock();
    let (input, [onchain, alt]) = block_400000();
    let mut g = gpu(Params::ZELHASH);
    let golden = g.solve(&input).expect("gpu solve");
    eprintln!("{}: {:?}", g.name(), golden.stats);
    assert_eq!(golden.solutions, vec![onchain, alt]);
    assert_clean("block 400000", &golden);
    let n = std::env::var("FLUXMINER_WGPU_FULL_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_FULL_N);
    if n > 0 {
        let mut cpu = CpuSolver::new(Params::ZELHASH, threads()).unwrap();
        let start = std::time::Instant::now();
        compare_with_cpu(&mut g, &mut cpu, &random_inputs(1254, n));
        eprintln!("{n} full inputs (GPU and CPU) in {:?}", start.elapsed());
    }
}

#[test]
fn two_hundred_small_inputs_equal_the_cpu_solver() {
    let _guard = lock();
    // Floors well under each set's yield, so the comparison cannot pass on empty sets: 96,5
    // gives about 1.9 solutions per input, 48,5 about 0.7 (143 over 200 inputs by exhaustive
    // Wagner in tests/cpu_solver.rs).
    for (params, seed, floor) in [(Params::EH96_5, 96u64, 150), (Params::EH48_5, 48, 50)] {
        let mut g = gpu(params);
        let mut cpu = CpuSolver::new(params, threads()).unwrap();
        let reports = compare_with_cpu(&mut g, &mut cpu, &random_inputs(seed, 100));
        let found: usize = reports.iter().map(|r| r.solutions.len()).sum();
        eprintln!("{params}: {found} solutions in 100 inputs");
        assert!(
            found >= floor,
            "{params}: only {found} solutions in 100 inputs (floor {floor})"
        );
    }
}

#[test]
fn every_twist_scan_and_blake2b_variant_equals_the_cpu_solver() {
    let _guard = lock();
    let params = Params::EH96_5.with_twist(true).unwrap();
    let mut cpu = CpuSolver::new(params, threads()).unwrap();
    let inputs = random_inputs(16, 12);
    let mut found = 0;
    let int64 = device::summaries().first().is_some_and(|a| a.int64);
    for scan in [TwistScan::Serial, TwistScan::Workgroup, TwistScan::Subgroup] {
        for wide in [false, true] {
            if wide && !int64 {
                continue;
            }
            let mut g = gpu_with(
                params,
                Options {
                    scan: Some(scan),
                    int64: Some(wide),
                    ..Options::default()
                },
            );
            assert_eq!((g.scan(), g.int64()), (scan, wide));
            found += compare_with_cpu(&mut g, &mut cpu, &inputs)
                .iter()
                .map(|r| r.solutions.len())
                .sum::<usize>();
        }
    }
    assert!(
        found > 0,
        "the twisted inputs produced no solution to compare"
    );
}

#[test]
fn counters_equal_the_traffic_model() {
    let _guard = lock();
    for params in [Params::EH96_5, Params::EH48_5] {
        let mut g = gpu_with(
            params,
            Options {
                profile: true,
                ..Options::default()
            },
        );
        let plan = g.plan().clone();
        let k = plan.layers.len();
        for (i, r) in g.solve_many(&random_inputs(7, 4)).iter().enumerate() {
            let r = r.as_ref().expect("gpu solve");
            assert_clean(&format!("{params} input {i}"), r);
            assert_eq!(r.stats.counted.len(), k + 2);
            assert_eq!(r.stats.dispatches, g.dispatches_per_nonce());
            let model = plan.traffic(&counts_of(&plan, r));
            for (stage, (c, m)) in r.stats.counted.iter().zip(&model).enumerate() {
                let what = format!("{params} input {i} stage {stage}");
                assert_eq!(c.read_bytes as f64, m.read, "{what}: read");
                assert_eq!(c.written_bytes as f64, m.written, "{what}: written");
                assert_eq!(c.atomics as f64, m.atomics, "{what}: atomics");
            }
        }
    }
}
