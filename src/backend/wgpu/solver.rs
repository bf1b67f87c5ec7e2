//! [`WgpuSolver`]: pipelines, bind groups and buffers built once per device; one command buffer
//! per nonce; [`Solver::solve_stream`] keeps [`DEPTH`] nonces in flight so the device never waits
//! for the host. Only the stats block and the solutions come back (≈ 4.5 KiB per nonce);
//! profile mode runs the stages one by one, timed, with kernels that count their own traffic.

use std::time::Instant;

use super::device::{self, Opened};
use super::wgsl::{self, FIRST_VIEW_BINDING, Kernel, SMALL_BINDING, TwistScan, UNIFORM_BINDING};
use crate::backend::pipeline::{self, Pipelined};
use crate::backend::plan::{self, MAX_SOLS, Plan, STATS_WORDS, Stage};
use crate::backend::{Feed, SolveReport, Solver, SolverError};
use crate::equihash::Params;
use crate::telemetry::GpuId;

pub use crate::backend::pipeline::DEPTH;

/// Options of a [`WgpuSolver`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Adapter number (`fluxminer devices`); default the first.
    pub device: Option<usize>,
    /// Base region bits (tuning; default: the fewest regions that fit workgroup memory).
    pub bucket_bits: Option<u32>,
    /// The twist scan of the generation kernel; default: subgroups when the device's smallest
    /// subgroup holds a whole 16-counter group, the barrier-free serial scan otherwise.
    pub scan: Option<TwistScan>,
    /// BLAKE2b on 64-bit integers; default: where the adapter offers `SHADER_INT64`.
    pub int64: Option<bool>,
    /// Run the stages one by one, time them, and count each kernel's global-memory traffic.
    pub profile: bool,
}

/// One kernel ready to dispatch.
struct Pipe {
    kernel: Kernel,
    pipeline: wgpu::ComputePipeline,
    group: wgpu::BindGroup,
    groups: (u32, u32),
}

/// The WGSL solver on one device.
pub struct WgpuSolver {
    plan: Plan,
    gpu: Opened,
    scan: TwistScan,
    int64: bool,
    profile: bool,
    /// Generation, rounds 1..k (k is the final round), recovery.
    pipes: Vec<Pipe>,
    uniform: wgpu::Buffer,
    small: wgpu::Buffer,
    staging: Vec<wgpu::Buffer>,
    /// Every table, kept alive for the bind groups.
    _tables: Vec<wgpu::Buffer>,
}

/// A submitted nonce waiting to be read back.
pub struct InFlight {
    input: Vec<u8>,
    staging: usize,
    submission: wgpu::SubmissionIndex,
    started: Instant,
}

/// The raw per-nonce results read back from the device.
struct Readback {
    stats: Vec<u32>,
    sols: Vec<u32>,
}

impl WgpuSolver {
    /// A solver for `params` on the device chosen by `opts`.
    ///
    /// # Errors
    /// When there is no usable adapter, the device is too small (the error names what it
    /// lacks), or a kernel fails to build.
    pub fn new(params: Params, opts: Options) -> Result<WgpuSolver, SolverError> {
        let gpu = device::open(opts.device)?;
        let plan = Plan::new(params, &gpu.limits, opts.bucket_bits).map_err(|e| {
            SolverError::Unsupported(format!(
                "{} cannot run equihash {params}: {e}",
                gpu.info.name
            ))
        })?;
        let scan = choose_scan(&gpu, params, opts.scan)?;
        let int64 = match opts.int64 {
            Some(true) if !gpu.int64 => {
                return Err(SolverError::Unsupported(format!(
                    "{} has no 64-bit integers in shaders",
                    gpu.info.name
                )));
            }
            Some(x) => x,
            None => gpu.int64,
        };
        let d = &gpu.device;
        let scope = d.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom = d.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let tables = Tables::new(d, &plan);
        let mut kernels = vec![Kernel::Generate { scan, int64 }];
        kernels.extend((1..=params.k()).map(Kernel::Round));
        kernels.push(Kernel::Recover);
        let pipes = kernels
            .into_iter()
            .map(|kernel| make_pipe(d, &plan, &tables, kernel, opts.profile))
            .collect();
        let staging = (0..DEPTH)
            .map(|_| {
                d.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("staging"),
                    size: readback_bytes(&plan),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(SolverError::OutOfMemory {
                bytes: plan.footprint() as usize,
            })
            .inspect_err(|_| tracing::error!("{e}"));
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(SolverError::Device(format!("building the kernels: {e}")));
        }
        let Tables {
            uniform,
            small,
            heaps,
            index,
        } = tables;
        let mut rest: Vec<wgpu::Buffer> = heaps.into_iter().flatten().collect();
        rest.extend(index);
        Ok(WgpuSolver {
            plan,
            gpu,
            scan,
            int64,
            profile: opts.profile,
            pipes,
            uniform,
            small,
            staging,
            _tables: rest,
        })
    }

    /// The plan in use.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The twist scan in use.
    pub fn scan(&self) -> TwistScan {
        self.scan
    }

    /// Whether BLAKE2b runs on 64-bit integers.
    pub fn int64(&self) -> bool {
        self.int64
    }

    /// Dispatches one nonce needs: generation, k rounds, recovery.
    pub fn dispatches_per_nonce(&self) -> u32 {
        self.pipes.len() as u32
    }

    fn write_midstate(&self, input: &[u8]) -> Result<(), SolverError> {
        let words = plan::midstate_words(&self.plan.params, input)?;
        self.gpu
            .queue
            .write_buffer(&self.uniform, 0, bytemuck::cast_slice(&words));
        Ok(())
    }

    fn encoder(&self) -> wgpu::CommandEncoder {
        self.gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("nonce"),
            })
    }

    /// Records kernel `i` (in [`WgpuSolver::pipes`] order) into `enc`; the first also clears the
    /// stats block.
    fn encode(&self, enc: &mut wgpu::CommandEncoder, i: usize) {
        if i == 0 {
            enc.clear_buffer(&self.small, 0, Some(4 * STATS_WORDS));
        }
        let p = &self.pipes[i];
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(p.kernel.entry()),
            timestamp_writes: None,
        });
        pass.set_pipeline(&p.pipeline);
        pass.set_bind_group(0, &p.group, &[]);
        pass.dispatch_workgroups(p.groups.0, p.groups.1, 1);
    }

    fn encode_readback(&self, enc: &mut wgpu::CommandEncoder, staging: usize) {
        let dst = &self.staging[staging];
        let stats = 4 * STATS_WORDS;
        enc.copy_buffer_to_buffer(&self.small, 0, dst, 0, stats);
        enc.copy_buffer_to_buffer(
            &self.small,
            4 * self.plan.sols_at(),
            dst,
            stats,
            4 * sols_words(&self.plan),
        );
    }

    /// Queues the whole nonce (one submission) and returns its handle, or the input back with
    /// the reason it cannot be solved.
    fn submit(&self, input: Vec<u8>, staging: usize) -> Result<InFlight, (Vec<u8>, SolverError)> {
        let started = Instant::now();
        if let Err(e) = self.write_midstate(&input) {
            return Err((input, e));
        }
        let mut enc = self.encoder();
        for i in 0..self.pipes.len() {
            self.encode(&mut enc, i);
        }
        self.encode_readback(&mut enc, staging);
        let submission = self.gpu.queue.submit([enc.finish()]);
        Ok(InFlight {
            input,
            staging,
            submission,
            started,
        })
    }

    /// Runs the kernels one submission at a time, waiting after each, and times them.
    fn solve_profiled(&self, input: &[u8]) -> Result<SolveReport, SolverError> {
        self.write_midstate(input)?;
        let mut times = Vec::with_capacity(self.pipes.len());
        let mut last = None;
        for i in 0..self.pipes.len() {
            let t = Instant::now();
            let mut enc = self.encoder();
            self.encode(&mut enc, i);
            if i + 1 == self.pipes.len() {
                self.encode_readback(&mut enc, 0);
            }
            let sub = self.gpu.queue.submit([enc.finish()]);
            self.wait(sub.clone())?;
            last = Some(sub);
            times.push(t.elapsed());
        }
        let t = Instant::now();
        let raw = self.read(0, last.expect("at least one kernel"))?;
        let mut report = self.finish(input, &raw);
        let k = self.plan.params.k() as usize;
        report.stats.generate = times[0];
        report.stats.rounds = times[1..=k].to_vec();
        report.stats.recover = times[k + 1] + t.elapsed();
        Ok(report)
    }

    fn wait(&self, sub: wgpu::SubmissionIndex) -> Result<(), SolverError> {
        self.gpu
            .device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(sub),
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| SolverError::Device(format!("waiting for the device: {e}")))
    }

    /// Maps staging buffer `i` once `sub` (the submission that copied into it) has completed,
    /// and copies the results out. Waits for `sub` only, not for work queued after it, so the
    /// next nonce keeps the device busy meanwhile.
    fn read(&self, i: usize, sub: wgpu::SubmissionIndex) -> Result<Readback, SolverError> {
        let buf = &self.staging[i];
        let (tx, rx) = std::sync::mpsc::channel();
        buf.slice(..)
            .map_async(wgpu::MapMode::Read, move |r| drop(tx.send(r)));
        self.wait(sub)?;
        rx.recv()
            .map_err(|e| SolverError::Device(e.to_string()))?
            .map_err(|e| SolverError::Device(format!("reading results back: {e}")))?;
        let words: Vec<u32> = {
            let view = buf
                .slice(..)
                .get_mapped_range()
                .map_err(|e| SolverError::Device(format!("reading results back: {e}")))?;
            bytemuck::cast_slice(&view).to_vec()
        };
        buf.unmap();
        let s = STATS_WORDS as usize;
        Ok(Readback {
            stats: words[..s].to_vec(),
            sols: words[s..].to_vec(),
        })
    }

    fn collect(&self, f: InFlight) -> (Vec<u8>, Result<SolveReport, SolverError>) {
        let report = self.read(f.staging, f.submission).map(|raw| {
            let mut report = self.finish(&f.input, &raw);
            report.stats.generate = f.started.elapsed();
            report
        });
        (f.input, report)
    }

    /// Turns the device's results into a report: every solution re-verified on the CPU.
    fn finish(&self, input: &[u8], raw: &Readback) -> SolveReport {
        self.plan.report(input, &raw.stats, &raw.sols, self.profile)
    }
}

impl Solver for WgpuSolver {
    fn name(&self) -> String {
        format!(
            "wgpu ({}, {:?}, {} scan{})",
            self.gpu.info.name,
            self.gpu.info.backend,
            match self.scan {
                TwistScan::Subgroup => "subgroup",
                TwistScan::Workgroup => "workgroup",
                TwistScan::Serial => "serial",
            },
            if self.int64 { ", 64-bit BLAKE2b" } else { "" }
        )
    }

    fn params(&self) -> Params {
        self.plan.params
    }

    fn gpu_id(&self) -> Option<GpuId> {
        self.gpu.gpu_id.clone()
    }

    fn solve(&mut self, input: &[u8]) -> Result<SolveReport, SolverError> {
        if self.profile {
            return self.solve_profiled(input);
        }
        let f = self.submit(input.to_vec(), 0).map_err(|(_, e)| e)?;
        self.collect(f).1
    }

    /// Keeps [`DEPTH`] nonces queued ([`pipeline::stream`]): nonce i + 1 is submitted before
    /// nonce i is read back. Profile mode solves one at a time (its stages are timed
    /// separately).
    fn solve_stream(
        &mut self,
        next: &mut dyn FnMut() -> Feed,
        done: &mut dyn FnMut(Vec<u8>, Result<SolveReport, SolverError>),
    ) {
        let profile = self.profile;
        pipeline::stream_unless_profiling(self, profile, next, done);
    }
}

impl Pipelined for WgpuSolver {
    type Ticket = InFlight;

    fn queue(&mut self, input: Vec<u8>, slot: usize) -> Result<InFlight, (Vec<u8>, SolverError)> {
        self.submit(input, slot)
    }

    fn collect(&mut self, f: InFlight) -> (Vec<u8>, Result<SolveReport, SolverError>) {
        WgpuSolver::collect(self, f)
    }
}

fn choose_scan(
    gpu: &Opened,
    params: Params,
    asked: Option<TwistScan>,
) -> Result<TwistScan, SolverError> {
    Ok(match asked {
        // Without the twist the scans differ in nothing; the plain kernel has no scan.
        _ if !params.twist() => TwistScan::Workgroup,
        Some(TwistScan::Subgroup) if !gpu.subgroups => {
            return Err(SolverError::Unsupported(format!(
                "{} has no subgroup operations",
                gpu.info.name
            )));
        }
        Some(s) => s,
        None if gpu.subgroups && gpu.info.subgroup_min_size >= 16 => TwistScan::Subgroup,
        None => TwistScan::Serial,
    })
}

/// Words of the solutions block.
fn sols_words(plan: &Plan) -> u64 {
    u64::from(MAX_SOLS) * plan.solution_indices() as u64
}

fn readback_bytes(plan: &Plan) -> u64 {
    4 * (STATS_WORDS + sols_words(plan))
}

/// Every buffer, allocated once: the midstate uniform, the small buffer, the chunks of each
/// heap and of the index table.
struct Tables {
    uniform: wgpu::Buffer,
    small: wgpu::Buffer,
    heaps: Vec<Vec<wgpu::Buffer>>,
    index: Vec<wgpu::Buffer>,
}

impl Tables {
    fn new(d: &wgpu::Device, plan: &Plan) -> Tables {
        let storage = |label: &str, bytes: u64| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.max(4),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        };
        Tables {
            uniform: d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("midstate"),
                size: 4 * 52,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            // Zero-initialized: layer 0's region counters start at zero; later nonces find
            // them zeroed by the previous final round.
            small: storage("small", 4 * plan.small_words()),
            heaps: plan
                .heaps
                .iter()
                .enumerate()
                .map(|(h, chunks)| {
                    let label = format!("heap{h}");
                    chunks.iter().map(|&b| storage(&label, b)).collect()
                })
                .collect(),
            index: (0..plan.index.chunks())
                .map(|_| storage("index", plan.index.chunk_bytes()))
                .collect(),
        }
    }
}

/// The pipeline, bind group layout and bind group of `kernel`.
fn make_pipe(d: &wgpu::Device, plan: &Plan, t: &Tables, kernel: Kernel, profile: bool) -> Pipe {
    let stage = kernel.stage(plan);
    let views = plan.views(stage);
    let buffer = |read_only: bool| wgpu::BindingType::Buffer {
        ty: wgpu::BufferBindingType::Storage { read_only },
        has_dynamic_offset: false,
        min_binding_size: None,
    };
    let entry = |binding: u32, ty: wgpu::BindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty,
        count: None,
    };
    let mut layout = vec![entry(SMALL_BINDING, buffer(false))];
    let mut bound: Vec<(u32, &wgpu::Buffer)> = vec![(SMALL_BINDING, &t.small)];
    if stage == Stage::Generate {
        layout.push(entry(
            UNIFORM_BINDING,
            wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
        ));
        bound.push((UNIFORM_BINDING, &t.uniform));
    }
    let mut binding = FIRST_VIEW_BINDING;
    for v in &views {
        let set = match v.heap {
            Some(h) => &t.heaps[h],
            None => &t.index,
        };
        for chunk in set.iter().take(v.table.chunks() as usize) {
            layout.push(entry(binding, buffer(v.read_only)));
            bound.push((binding, chunk));
            binding += 1;
        }
    }
    let bgl = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(kernel.entry()),
        entries: &layout,
    });
    let entries: Vec<wgpu::BindGroupEntry> = bound
        .iter()
        .map(|&(binding, b)| wgpu::BindGroupEntry {
            binding,
            resource: b.as_entire_binding(),
        })
        .collect();
    let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(kernel.entry()),
        layout: &bgl,
        entries: &entries,
    });
    let pl = d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(kernel.entry()),
        bind_group_layouts: &[Some(&bgl)],
        immediate_size: 0,
    });
    let module = d.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(kernel.entry()),
        source: wgpu::ShaderSource::Wgsl(wgsl::source(plan, kernel, profile).into()),
    });
    let pipeline = d.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(kernel.entry()),
        layout: Some(&pl),
        module: &module,
        entry_point: Some(kernel.entry()),
        // Every kernel clears the workgroup memory it reads before reading it.
        compilation_options: wgpu::PipelineCompilationOptions {
            zero_initialize_workgroup_memory: false,
            ..Default::default()
        },
        cache: None,
    });
    let k = plan.params.k();
    let groups = match kernel {
        Kernel::Generate { scan, .. } => plan.generate_groups(scan == TwistScan::Serial),
        Kernel::Round(r) => plan.region_groups(r.min(k) as usize - 1),
        Kernel::Recover => (plan::RECOVER_GROUPS, 1),
    };
    debug_assert!(plan.wg >= plan.solution_indices() as u32);
    Pipe {
        kernel,
        pipeline,
        group,
        groups,
    }
}
