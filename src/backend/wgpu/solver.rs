//! [`WgpuSolver`]: pipelines and buffers built once per device, one command buffer per nonce, and
//! [`Solver::solve_many`] queueing the next nonce before the previous result is read back.

use std::time::{Duration, Instant};

use super::device::{self, Opened};
use super::plan::{self, MAX_SOLS, Plan, STATS_WORDS, Table, WG};
use super::wgsl::{self, Kernel, TwistScan};
use crate::backend::{SolveReport, SolveStats, Solver, SolverError};
use crate::equihash::blake::HashInput;
use crate::equihash::{INPUT_LEN, Params, is_valid_indices};

/// Options of a [`WgpuSolver`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Adapter number (`fluxminer devices`); default the first.
    pub device: Option<usize>,
    /// Bucket bits (tuning; default the CPU solver's choice).
    pub bucket_bits: Option<u32>,
    /// The twist scan of the generation kernel; default: subgroups when the device's smallest
    /// subgroup holds a whole 16-counter group, the barrier-free serial scan otherwise.
    pub scan: Option<TwistScan>,
    /// Wait after every stage and time it (slower; fills the per-stage times of the stats).
    pub profile: bool,
}

/// The WGSL solver on one device.
pub struct WgpuSolver {
    plan: Plan,
    gpu: Opened,
    scan: TwistScan,
    profile: bool,
    generate: wgpu::ComputePipeline,
    link: Vec<wgpu::ComputePipeline>,
    pairs: Vec<wgpu::ComputePipeline>,
    recover: wgpu::ComputePipeline,
    /// Bind groups by parity: `[p]` binds heap `p` as output and heap `1 − p` as input.
    groups: [wgpu::BindGroup; 2],
    uniform: wgpu::Buffer,
    counts: wgpu::Buffer,
    stats: wgpu::Buffer,
    sols: wgpu::Buffer,
    heads: Vec<wgpu::Buffer>,
    staging: [wgpu::Buffer; 2],
    /// Every other buffer, kept alive for the bind groups.
    _tables: Vec<wgpu::Buffer>,
    /// Profile mode: time of every submission (generation, link and pairs per round, recovery).
    part_times: std::sync::Mutex<Vec<Duration>>,
}

/// A submitted nonce waiting to be read back.
struct InFlight {
    input: Vec<u8>,
    staging: usize,
    submission: wgpu::SubmissionIndex,
    started: Instant,
}

/// The raw per-nonce results read back from the device.
struct Readback {
    stats: Vec<u32>,
    counts: Vec<u32>,
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
        let scan = match opts.scan {
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
        };
        let d = &gpu.device;
        let scope = d.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom = d.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let layout = bind_group_layout(d, &plan);
        let pl = d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("fluxminer"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipe = |kernel: Kernel, entry: &str| {
            let module = d.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(entry),
                source: wgpu::ShaderSource::Wgsl(wgsl::source(&plan, kernel).into()),
            });
            d.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pl),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let k = params.k();
        let generate = pipe(Kernel::Generate(scan), scan.entry());
        let link = (1..=k).map(|r| pipe(Kernel::Round(r), "link")).collect();
        let pairs = (1..=k).map(|r| pipe(Kernel::Round(r), "pairs")).collect();
        let recover = pipe(Kernel::Recover, "recover");
        let buffers = Buffers::new(d, &plan);
        let groups = [0, 1].map(|p| buffers.bind_group(d, &layout, p));
        let staging = [0, 1].map(|_| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("staging"),
                size: buffers.readback_bytes(&plan),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(SolverError::OutOfMemory {
                bytes: plan.footprint() as usize,
            })
            .inspect_err(|_| eprintln!("{e}"));
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(SolverError::Device(format!("building the kernels: {e}")));
        }
        let Buffers {
            uniform,
            counts,
            stats,
            cands,
            sols,
            heaps,
            next,
            heads,
            tails,
        } = buffers;
        let mut tables: Vec<wgpu::Buffer> = heaps.into_iter().flatten().collect();
        tables.extend(next);
        tables.extend(tails);
        tables.push(cands);
        Ok(WgpuSolver {
            plan,
            gpu,
            scan,
            profile: opts.profile,
            generate,
            link,
            pairs,
            recover,
            groups,
            uniform,
            counts,
            stats,
            sols,
            heads,
            staging,
            _tables: tables,
            part_times: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Profile mode: the times of every submission so far (generation; link and pairs of each
    /// round; recovery), then cleared.
    pub fn take_part_times(&self) -> Vec<Duration> {
        self.part_times
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    /// The plan in use.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The twist scan in use.
    pub fn scan(&self) -> TwistScan {
        self.scan
    }

    /// Dispatches one nonce needs: generation, link and pairs per round, recovery.
    pub fn dispatches_per_nonce(&self) -> u32 {
        2 + 2 * self.plan.layout.params.k()
    }

    fn write_midstate(&self, input: &[u8]) -> Result<(), SolverError> {
        let words = midstate_words(&self.plan.layout.params, input)?;
        self.gpu
            .queue
            .write_buffer(&self.uniform, 0, bytemuck::cast_slice(&words));
        Ok(())
    }

    /// Records stage `stage` (0 generation, 1..=k rounds, k+1 recovery) into `enc`; for a round,
    /// `parts` selects the link pass (bit 0) and the pairs pass (bit 1).
    fn encode_stage(&self, enc: &mut wgpu::CommandEncoder, stage: u32) {
        self.encode_parts(enc, stage, 3);
    }

    fn encode_parts(&self, enc: &mut wgpu::CommandEncoder, stage: u32, parts: u32) {
        let k = self.plan.layout.params.k();
        if stage == 0 {
            enc.clear_buffer(&self.counts, 0, None);
            enc.clear_buffer(&self.stats, 0, None);
        }
        if (1..=k).contains(&stage) && parts & 1 == 1 {
            for h in &self.heads {
                enc.clear_buffer(h, 0, None);
            }
        }
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("stage"),
            timestamp_writes: None,
        });
        match stage {
            0 => {
                let (x, y) = self.plan.generate_groups(self.scan == TwistScan::Serial);
                pass.set_pipeline(&self.generate);
                pass.set_bind_group(0, &self.groups[0], &[]);
                pass.dispatch_workgroups(x, y, 1);
            }
            r if r <= k => {
                let (x, y) = (self.plan.slot_groups(), self.plan.layout.buckets() as u32);
                pass.set_bind_group(0, &self.groups[(r % 2) as usize], &[]);
                if parts & 1 == 1 {
                    pass.set_pipeline(&self.link[(r - 1) as usize]);
                    pass.dispatch_workgroups(x, y, 1);
                }
                if parts & 2 == 2 {
                    pass.set_pipeline(&self.pairs[(r - 1) as usize]);
                    pass.dispatch_workgroups(x, y, 1);
                }
            }
            _ => {
                pass.set_pipeline(&self.recover);
                pass.set_bind_group(0, &self.groups[0], &[]);
                pass.dispatch_workgroups(self.plan.max_cands.div_ceil(WG), 1, 1);
            }
        }
    }

    fn encode_readback(&self, enc: &mut wgpu::CommandEncoder, staging: usize) {
        let dst = &self.staging[staging];
        let stats = 4 * STATS_WORDS;
        let counts = 4 * self.plan.counts_words();
        enc.copy_buffer_to_buffer(&self.stats, 0, dst, 0, stats);
        enc.copy_buffer_to_buffer(&self.counts, 0, dst, stats, counts);
        enc.copy_buffer_to_buffer(&self.sols, 0, dst, stats + counts, None);
    }

    /// Queues the whole nonce (one submission) and returns its handle.
    fn submit(&self, input: &[u8], staging: usize) -> Result<InFlight, SolverError> {
        let started = Instant::now();
        self.write_midstate(input)?;
        let mut enc = self.encoder();
        for stage in 0..=self.plan.layout.params.k() + 1 {
            self.encode_stage(&mut enc, stage);
        }
        self.encode_readback(&mut enc, staging);
        let submission = self.gpu.queue.submit([enc.finish()]);
        Ok(InFlight {
            input: input.to_vec(),
            staging,
            submission,
            started,
        })
    }

    /// Runs the stages one submission at a time, waiting after each, and times them.
    fn solve_profiled(&self, input: &[u8]) -> Result<SolveReport, SolverError> {
        self.write_midstate(input)?;
        let k = self.plan.layout.params.k();
        let mut times = Vec::new();
        let last = std::env::var("FLUXMINER_PROFILE_STAGES")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(k + 2);
        let mut last_sub = None;
        for stage in (0..=k + 1).take(last as usize) {
            let t = Instant::now();
            let round = (1..=k).contains(&stage);
            for part in if round { vec![1, 2] } else { vec![3] } {
                let tp = Instant::now();
                let mut enc = self.encoder();
                self.encode_parts(&mut enc, stage, part);
                if stage == k + 1 {
                    self.encode_readback(&mut enc, 0);
                }
                let sub = self.gpu.queue.submit([enc.finish()]);
                self.wait(sub.clone())?;
                last_sub = Some(sub);
                self.part_times
                    .lock()
                    .map(|mut v| v.push(tp.elapsed()))
                    .ok();
            }
            times.push(t.elapsed());
        }
        if last < k + 2 {
            return Err(SolverError::Device(format!(
                "stopped after {last} stages: {:?}",
                self.take_part_times()
            )));
        }
        let t = Instant::now();
        let raw = self.read(0, last_sub.expect("the final stage was submitted"))?;
        let mut report = self.finish(input, &raw);
        if std::env::var_os("FLUXMINER_PROFILE_PARTS").is_some() {
            eprintln!("parts (s): {:?}", self.take_part_times());
        }
        report.stats.generate = times[0];
        report.stats.rounds = times[1..=k as usize].to_vec();
        report.stats.recover = times[k as usize + 1] + t.elapsed();
        Ok(report)
    }

    fn encoder(&self) -> wgpu::CommandEncoder {
        self.gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("nonce"),
            })
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
        let c = s + self.plan.counts_words() as usize;
        Ok(Readback {
            stats: words[..s].to_vec(),
            counts: words[s..c].to_vec(),
            sols: words[c..].to_vec(),
        })
    }

    fn collect(&self, f: InFlight) -> Result<SolveReport, SolverError> {
        let raw = self.read(f.staging, f.submission)?;
        let mut report = self.finish(&f.input, &raw);
        report.stats.generate = f.started.elapsed();
        Ok(report)
    }

    /// Turns the device's results into a report: every solution re-verified on the CPU.
    fn finish(&self, input: &[u8], raw: &Readback) -> SolveReport {
        let plan = &self.plan;
        let params = plan.layout.params;
        let cap = plan.layout.lane_slots as u64;
        let mut stats = SolveStats::default();
        for layer in raw.counts.chunks_exact(plan.layout.buckets()) {
            let mut stored = 0;
            for &n in layer {
                stored += u64::from(n).min(cap);
                stats.lane_totals.overflowed += u64::from(n).saturating_sub(cap);
            }
            stats.layer_records.push(stored);
            stats.lane_totals.written += stored;
        }
        stats.lane_totals.pruned = raw.stats[plan::ST_PRUNED as usize].into();
        stats.candidates = raw.stats[plan::ST_CANDS as usize].into();
        stats.duplicate_candidates = raw.stats[plan::ST_DUPS as usize].into();
        stats.false_candidates = raw.stats[plan::ST_FALSE as usize].into();
        let found = (raw.stats[plan::ST_SOLS as usize]).min(MAX_SOLS) as usize;
        let ni = plan.solution_indices();
        let hash_input = HashInput::new(&params, input);
        let mut solutions = Vec::new();
        for s in raw.sols.chunks_exact(ni).take(found) {
            match is_valid_indices(&params, &hash_input, s) {
                Ok(()) => solutions.push(s.to_vec()),
                Err(e) => stats.count_rejected(Some(e.kind()), s.to_vec()),
            }
        }
        stats.dedup_solutions(&mut solutions);
        SolveReport { solutions, stats }
    }
}

impl Solver for WgpuSolver {
    fn name(&self) -> String {
        format!(
            "wgpu ({}, {:?}{})",
            self.gpu.info.name,
            self.gpu.info.backend,
            match self.scan {
                TwistScan::Subgroup => ", subgroup scan",
                TwistScan::Workgroup => ", workgroup scan",
                TwistScan::Serial => ", serial scan",
            }
        )
    }

    fn params(&self) -> Params {
        self.plan.layout.params
    }

    fn solve(&mut self, input: &[u8]) -> Result<SolveReport, SolverError> {
        if self.profile {
            return self.solve_profiled(input);
        }
        let f = self.submit(input, 0)?;
        self.collect(f)
    }

    /// Queues nonce `i + 1` before reading back nonce `i`, so the device never waits on the host.
    fn solve_many(&mut self, inputs: &[Vec<u8>]) -> Vec<Result<SolveReport, SolverError>> {
        if self.profile {
            return inputs.iter().map(|i| self.solve_profiled(i)).collect();
        }
        let mut out = Vec::with_capacity(inputs.len());
        let mut pending: Option<InFlight> = None;
        for (i, input) in inputs.iter().enumerate() {
            let next = self.submit(input, i % 2);
            if let Some(f) = pending.take() {
                out.push(self.collect(f));
            }
            match next {
                Ok(f) => pending = Some(f),
                Err(e) => out.push(Err(e)),
            }
        }
        if let Some(f) = pending {
            out.push(self.collect(f));
        }
        out
    }
}

/// The uniform block: BLAKE2b midstate (8 words), final-block template (16 words) and the
/// message length, as little-endian `u32` pairs.
fn midstate_words(params: &Params, input: &[u8]) -> Result<Vec<u32>, SolverError> {
    if input.len() != INPUT_LEN {
        return Err(SolverError::Unsupported(format!(
            "the wgpu solver takes the {INPUT_LEN}-byte Equihash input, got {} bytes",
            input.len()
        )));
    }
    let hi = HashInput::new(params, input);
    let mid = hi
        .lanes
        .ok_or_else(|| SolverError::Unsupported("no BLAKE2b midstate for this input".into()))?;
    debug_assert!(mid.counter_at == 12 && mid.template[2..].iter().all(|&w| w == 0));
    let mut words = Vec::with_capacity(52);
    let split = |w: u64| [w as u32, (w >> 32) as u32];
    for w in mid.h.iter().chain(&mid.template).copied() {
        words.extend(split(w));
    }
    words.extend(split(mid.total_len));
    words.extend([0, 0]);
    Ok(words)
}

/// Every buffer, allocated once.
struct Buffers {
    uniform: wgpu::Buffer,
    counts: wgpu::Buffer,
    stats: wgpu::Buffer,
    cands: wgpu::Buffer,
    sols: wgpu::Buffer,
    heaps: [Vec<wgpu::Buffer>; 2],
    next: Vec<wgpu::Buffer>,
    heads: Vec<wgpu::Buffer>,
    tails: Vec<wgpu::Buffer>,
}

impl Buffers {
    fn new(d: &wgpu::Device, plan: &Plan) -> Buffers {
        let storage = |label: &str, words: u64| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 4 * words.max(1),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        };
        let chunks = |label: &str, t: &Table| -> Vec<wgpu::Buffer> {
            (0..t.chunks())
                .map(|i| storage(label, t.chunk_bytes(i) / 4))
                .collect()
        };
        Buffers {
            uniform: d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("midstate"),
                size: 4 * 52,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            counts: storage("counts", plan.counts_words()),
            stats: storage("stats", STATS_WORDS),
            cands: storage("candidates", 3 * u64::from(plan.max_cands)),
            sols: storage(
                "solutions",
                u64::from(MAX_SOLS) * plan.solution_indices() as u64,
            ),
            heaps: [chunks("heap0", &plan.heap), chunks("heap1", &plan.heap)],
            next: chunks("next", &plan.next),
            heads: chunks("heads", &plan.heads),
            tails: chunks("tails", &plan.tails),
        }
    }

    fn readback_bytes(&self, plan: &Plan) -> u64 {
        4 * (STATS_WORDS + plan.counts_words())
            + 4 * u64::from(MAX_SOLS) * plan.solution_indices() as u64
    }

    /// The bind group of parity `p`: heap `p` as `hout`, heap `1 − p` as `hin`.
    fn bind_group(
        &self,
        d: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        p: usize,
    ) -> wgpu::BindGroup {
        let mut bufs: Vec<&wgpu::Buffer> = vec![
            &self.uniform,
            &self.counts,
            &self.stats,
            &self.cands,
            &self.sols,
        ];
        for table in [
            &self.heaps[1 - p],
            &self.heaps[p],
            &self.next,
            &self.heads,
            &self.tails,
        ] {
            bufs.extend(table.iter());
        }
        let entries: Vec<wgpu::BindGroupEntry> = bufs
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("fluxminer"),
            layout,
            entries: &entries,
        })
    }
}

fn bind_group_layout(d: &wgpu::Device, plan: &Plan) -> wgpu::BindGroupLayout {
    let storage_bindings = plan.storage_bindings();
    let mut entries = vec![wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }];
    for b in 1..=storage_bindings {
        entries.push(wgpu::BindGroupLayoutEntry {
            binding: b,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: false },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        });
    }
    d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("fluxminer"),
        entries: &entries,
    })
}
