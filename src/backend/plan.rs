//! The memory plan of the GPU solvers (kernel v2: WGSL and CUDA share it), derived from the
//! parameters and the device's limits: for every layer, how many *regions* its records are sorted into (the top bits of the
//! digit the next round collides on), how many slots a region holds, how many hash and
//! back-pointer bits a record keeps and in how many words; which heap each layer lives in; how
//! every large table splits into storage bindings; what each kernel binds; and the traffic model.
//! Pure and tested without a device. The design and its figures: `docs/kernel-design.md`.
//!
//! A round collides one region of its input layer inside workgroup memory, so a region's hash
//! words, chain links and chain heads must fit there: the plan picks the fewest regions for which
//! they do (2^16 for ZelHash with 32 KiB, 2^15 with 48 KiB), then lets each later layer take up to
//! three more region bits where that saves a word per record.

use thiserror::Error;

use crate::backend::{SolveReport, SolveStats, SolverError, StageCount};
use crate::equihash::blake::HashInput;
use crate::equihash::{INPUT_LEN, Params, is_valid_indices};

/// Largest total footprint the solver may plan: 3.5 GiB, so 4 GB cards work.
pub const MAX_FOOTPRINT: u64 = 3584 << 20;
/// Invocations per workgroup of the collision and recovery kernels on a GPU.
pub const WG: u32 = 256;
/// The same on a CPU device (lavapipe), which runs a workgroup's invocations as coroutines that
/// switch at every barrier: fewer invocations, fewer switches.
pub const WG_CPU: u32 = 64;
/// Invocations per workgroup of the generation kernel (a multiple of the 16-counter twist group).
pub const WG_GEN: u32 = 64;
/// Largest chunk of one table: 1 GiB, so word indices stay within `u32`.
const MAX_CHUNK: u64 = 1 << 30;
/// Solutions kept per nonce (the expected number is about 2).
pub const MAX_SOLS: u32 = 64;
/// Final-round candidates kept per nonce (the exact final round gives about 2 to 10).
pub const MAX_CANDS: u32 = 1024;
/// Bits of the partner rank in a [`Pointer::Rank`] back-pointer: pairs whose partner has a rank
/// of 16 or more among equal-digit records (a chain of 18 or more) are dropped and counted.
pub const RANK_BITS: u32 = 4;
/// Widest record, in 32-bit words.
pub const MAX_WORDS: u32 = 8;
/// Most chain-key bits (2^12 heads in workgroup memory); longer rest bits are compared in full.
pub const MAX_KEY_BITS: u32 = 12;
/// Workgroups of the recovery kernel (each walks candidates in turn).
pub const RECOVER_GROUPS: u32 = 64;
/// Records with equal digit a recovery search may collect for one node.
pub const MAX_MATCHES: u32 = 32;
/// Region bits a later layer may add to the base to save a word per record.
const MAX_EXTRA_BITS: u32 = 3;
/// Parameter sets with at most this many leaves get four times the expected region fill: small
/// sets have large relative fluctuations and many duplicate records.
const SMALL_LEAVES: u64 = 1 << 22;
/// Workgroup memory a round needs besides the records, links and heads (fill, profile counters).
const SMEM_EXTRA: u32 = 64;

/// The adapter limits the plan depends on (a copy, so planning stays pure and testable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceLimits {
    /// Largest storage-buffer binding, bytes.
    pub max_binding: u64,
    /// Largest buffer, bytes.
    pub max_buffer: u64,
    /// Storage buffers one shader stage may bind.
    pub max_storage_buffers: u32,
    /// Workgroup (shared) memory, bytes.
    pub max_workgroup_storage: u32,
    /// Invocations per workgroup.
    pub max_invocations: u32,
    /// Workgroups per dispatch dimension.
    pub max_workgroups_per_dim: u32,
    /// Whether the device is a CPU (a software rasterizer such as lavapipe).
    pub cpu: bool,
}

impl DeviceLimits {
    /// lavapipe's limits (Mesa 22.3, measured): the device CI proves the kernels on.
    pub const LAVAPIPE: DeviceLimits = DeviceLimits {
        max_binding: 128 << 20,
        max_buffer: (2 << 30) - 1,
        max_storage_buffers: 32,
        max_workgroup_storage: 32 << 10,
        max_invocations: 1024,
        max_workgroups_per_dim: 65_535,
        cpu: true,
    };

    /// An NVIDIA card under Vulkan (2 GiB − 1 bindings, 48 KiB of workgroup memory).
    pub const NVIDIA_VULKAN: DeviceLimits = DeviceLimits {
        max_binding: (2 << 30) - 1,
        max_buffer: (2 << 30) - 1,
        max_storage_buffers: 64,
        max_workgroup_storage: 48 << 10,
        cpu: false,
        ..DeviceLimits::LAVAPIPE
    };

    /// CUDA on any NVIDIA card: 48 KiB of static shared memory per block; one allocation per
    /// table (the kernels address records in 64-bit arithmetic).
    pub const CUDA: DeviceLimits = DeviceLimits {
        max_binding: 1 << 40,
        max_buffer: 1 << 40,
        max_storage_buffers: 64,
        max_workgroup_storage: 48 << 10,
        max_invocations: 1024,
        max_workgroups_per_dim: 65_535,
        cpu: false,
    };

    /// Most AMD cards (64 KiB of workgroup memory).
    pub const AMD: DeviceLimits = DeviceLimits {
        max_workgroup_storage: 64 << 10,
        ..DeviceLimits::NVIDIA_VULKAN
    };
}

/// Why the solver cannot run on a device (each names what is lacking).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// No record layout fits the parameters.
    #[error("equihash {params}: {reason}")]
    Layout {
        /// The parameters.
        params: Params,
        /// What does not fit.
        reason: String,
    },
    /// A kernel needs more storage bindings than one shader stage may have.
    #[error(
        "the device allows {have} storage buffers per shader stage; equihash {params} needs {need} \
         in its {kernel} kernel (its largest storage binding is {binding_mib} MiB)"
    )]
    StorageBuffers {
        /// The parameters.
        params: Params,
        /// The kernel.
        kernel: &'static str,
        /// Bindings needed.
        need: u32,
        /// Bindings allowed.
        have: u32,
        /// Largest binding, MiB.
        binding_mib: u64,
    },
    /// The total footprint is above what the plan allows.
    #[error(
        "equihash {params} needs {need_mib} MiB of device memory, more than {max_mib} MiB \
         (with 2^{region_bits} regions, the fewest whose rounds fit the device's {smem_kib} KiB \
         of workgroup memory)"
    )]
    Footprint {
        /// The parameters.
        params: Params,
        /// MiB needed.
        need_mib: u64,
        /// MiB allowed.
        max_mib: u64,
        /// Region bits of layer 0.
        region_bits: u32,
        /// Workgroup memory, KiB.
        smem_kib: u32,
    },
    /// A limit is below what a kernel needs.
    #[error("the device's {what} is {have}; the solver needs at least {need}")]
    Limit {
        /// Which limit.
        what: &'static str,
        /// Its value.
        have: u64,
        /// The minimum.
        need: u64,
    },
}

/// How a record points back at the two records of the layer below that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pointer {
    /// Layer 0: no field; the leaf index lives in the index table at the same slot.
    Leaf,
    /// `(parent region, slot a, slot b)`.
    Pair,
    /// `(parent region, slot a, rank)`: the partner is the `rank`-th (from 0, by slot) other
    /// record of the parent region with the same digit, found again by a search at recovery.
    Rank,
}

/// One large table as a kernel sees it: `rows` rows (a region each) of `row_units` units of
/// `unit_words` u32 words, split into chunks no larger than one binding. A chunk holds a band of
/// *columns*: chunk c holds units `[c·chunk_units, (c+1)·chunk_units)` of every row, at
/// `row·chunk_units + unit − c·chunk_units`. A round appends to all regions of the next layer
/// at once and they fill at the same pace, so the stores one SIMD group makes at a time fall in
/// one or two chunks (with chunks of whole rows they fell in ~6 of 10 on lavapipe, and a
/// divergent `switch` over bindings runs each taken case in turn); reading a region front to
/// back stays uniform except where a band ends. With one chunk the layout is row-major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// Rows.
    pub rows: u64,
    /// Units per row.
    pub row_units: u64,
    /// u32 words per unit (1, 2 or 4: `u32`, `vec2<u32>`, `vec4<u32>`).
    pub unit_words: u32,
    /// Units of every row held by one chunk (a multiple of a record's units, so a record never
    /// straddles two chunks); the last chunk is padded to the same width.
    pub chunk_units: u64,
}

impl Table {
    /// A table whose records are `record_units` units, in chunks of at most `max_binding`
    /// bytes (as few chunks as fit, the columns shared out evenly; at least one record column
    /// per chunk, which [`Plan::new`] checks fits).
    fn new(
        rows: u64,
        row_units: u64,
        unit_words: u32,
        record_units: u64,
        max_binding: u64,
    ) -> Table {
        let column_bytes = 4 * u64::from(unit_words) * rows.max(1);
        let fit = (max_binding / column_bytes / record_units).max(1) * record_units;
        let chunks = row_units.div_ceil(fit).max(1);
        let chunk_units = row_units.div_ceil(chunks).div_ceil(record_units) * record_units;
        Table {
            rows,
            row_units,
            unit_words,
            chunk_units,
        }
    }

    /// Number of chunks (bindings); at least 1 so every binding exists.
    pub fn chunks(&self) -> u32 {
        self.row_units.div_ceil(self.chunk_units).max(1) as u32
    }

    /// Bytes of each chunk (at least 4).
    pub fn chunk_bytes(&self) -> u64 {
        (4 * u64::from(self.unit_words) * self.chunk_units * self.rows).max(4)
    }

    /// Bytes of one row.
    pub fn row_bytes(&self) -> u64 {
        4 * u64::from(self.unit_words) * self.row_units
    }

    /// Bytes of the table in one allocation, row-major (CUDA).
    pub fn bytes(&self) -> u64 {
        (self.row_bytes() * self.rows).max(4)
    }

    /// Bytes of all its chunks (the padded last band included).
    pub fn chunked_bytes(&self) -> u64 {
        u64::from(self.chunks()) * self.chunk_bytes()
    }
}

/// Where one layer's records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Region bits: the top bits of the digit the next round collides on, implied by the region.
    pub region_bits: u32,
    /// Slots per region.
    pub cap: u32,
    /// Bits of a slot number.
    pub slot_bits: u32,
    /// Hash bits kept, most significant first from the top of word 0: the rest of the next
    /// digit (`rest_bits`), then every later digit.
    pub hash_bits: u32,
    /// The back-pointer kind.
    pub pointer: Pointer,
    /// Bits of the back-pointer, at the bottom of the last word(s).
    pub pointer_bits: u32,
    /// Words per record.
    pub words: u32,
    /// The heap this layer lives in.
    pub heap: usize,
    /// The layer's view of its heap.
    pub table: Table,
}

impl Layer {
    /// Regions.
    pub fn regions(&self) -> u64 {
        1 << self.region_bits
    }

    /// Words holding hash bits (the words a round loads into workgroup memory).
    pub fn hash_words(&self) -> u32 {
        self.hash_bits.div_ceil(32)
    }

    /// Rest bits of the next digit that a round must match inside a region.
    pub fn rest_bits(&self, params: &Params) -> u32 {
        params.collision_bits() - self.region_bits
    }

    /// Chain-key bits of the round that reads this layer (heads in workgroup memory).
    pub fn key_bits(&self, params: &Params) -> u32 {
        self.rest_bits(params).min(MAX_KEY_BITS)
    }

    /// Slots of every region.
    pub fn slots(&self) -> u64 {
        self.regions() * u64::from(self.cap)
    }
}

/// The kernels of one nonce, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Round 0: BLAKE2b, the twist, leaves scattered into layer 0.
    Generate,
    /// Collision round `r` (1..k−1): layer r−1 → layer r.
    Round(u32),
    /// The final round `k`: layer k−1 → candidates.
    Final,
    /// Candidates → solutions.
    Recover,
}

impl Stage {
    /// A short name (kernel labels, error messages).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Generate => "generate",
            Stage::Round(_) => "round",
            Stage::Final => "final",
            Stage::Recover => "recover",
        }
    }

    /// Its position in [`Plan::stages`] (0 = generate, r = round r, k = final, k + 1 = recover):
    /// the slot of its traffic counters.
    pub fn index(self, k: u32) -> u32 {
        match self {
            Stage::Generate => 0,
            Stage::Round(r) => r,
            Stage::Final => k,
            Stage::Recover => k + 1,
        }
    }
}

/// One storage table a kernel binds: a heap (or the index table) seen through a layer's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// The WGSL name prefix (`hin`, `hout`, `ix`, `hl1`, ...).
    pub name: &'static str,
    /// Which buffer set: a heap number, or `None` for the index table.
    pub heap: Option<usize>,
    /// The rows as this kernel sees them.
    pub table: Table,
    /// Words per record (slot).
    pub record_words: u32,
    /// Whether the kernel only reads it.
    pub read_only: bool,
}

/// The complete plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The parameters.
    pub params: Params,
    /// Layers 0 to k−1.
    pub layers: Vec<Layer>,
    /// Chunk sizes of each heap, bytes (every layer of the heap fits each chunk it uses).
    pub heaps: Vec<Vec<u64>>,
    /// The leaf index of every layer-0 slot (same rows as layer 0, one word per slot).
    pub index: Table,
    /// Invocations per workgroup of the collision and recovery kernels.
    pub wg: u32,
    /// Whether round `r` (index r−1, r = 1..k−1) drops pairs whose remaining bits are all zero
    /// (almost always the same leaves combined twice), as the CPU solver does.
    pub prune: Vec<bool>,
}

/// The kernels' midstate block: BLAKE2b state (8 words), final-block template (16 words) and
/// the message length, as little-endian `u32` pairs (52 words).
///
/// # Errors
/// An input that is not the 140-byte Equihash input.
pub fn midstate_words(params: &Params, input: &[u8]) -> Result<Vec<u32>, SolverError> {
    if input.len() != INPUT_LEN {
        return Err(SolverError::Unsupported(format!(
            "the GPU solvers take the {INPUT_LEN}-byte Equihash input, got {} bytes",
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

/// Capacity of a region whose expected fill is `mean`: room for more than 6 standard
/// deviations; small sets get four times the mean.
fn region_capacity(mean: f64, small: bool) -> u32 {
    let cap = (mean + 6.0 * mean.sqrt() + 8.0).ceil();
    (if small { cap.max(4.0 * mean) } else { cap }) as u32
}

/// Words a record of `bits` is stored in: 1, 2 or 4, then multiples of 4, so that every record
/// is one `u32`, `vec2` or `vec4` store (or whole `vec4`s). A round scatters its outputs to
/// random regions, and what such stores cost is the number of them more than their bytes:
/// measured on lavapipe, three `u32` stores per 12-byte record took round 2 from ≈ 15 s to
/// ≈ 20 s per nonce against one `vec4` store per 16-byte record.
fn store_words(bits: u32) -> u32 {
    match bits.div_ceil(32) {
        w @ (1 | 2) => w,
        w => w.next_multiple_of(4),
    }
}

fn bits_for(max_value: u32) -> u32 {
    (u32::BITS - max_value.leading_zeros()).max(1)
}

/// Workgroup memory of the round that reads `layer`: its hash words, two 16-bit links per word
/// and the chain heads.
fn round_smem(hash_words: u32, cap: u32, key_bits: u32) -> u32 {
    4 * hash_words * cap + 4 * cap.div_ceil(2) + 4 * (1 << key_bits) + SMEM_EXTRA
}

impl Plan {
    /// Plans `params` for a device with `limits`; `region_bits` overrides the base region bits
    /// (default: the fewest regions whose round fits in workgroup memory).
    ///
    /// # Errors
    /// When the device is too small; the error names what it lacks.
    pub fn new(
        params: Params,
        limits: &DeviceLimits,
        region_bits: Option<u32>,
    ) -> Result<Plan, PlanError> {
        let max = limits.max_binding.min(limits.max_buffer).min(MAX_CHUNK);
        let c = params.collision_bits();
        if params.k() > MAX_K || params.k() < 2 {
            return Err(PlanError::Layout {
                params,
                reason: format!("the GPU kernels take k from 2 to {MAX_K}"),
            });
        }
        let base = match region_bits {
            Some(b) => b.clamp(1, c - 1),
            None => Self::base_bits(&params, limits)?,
        };
        let mut layers: Vec<Layer> = Vec::new();
        for r in 0..params.k() {
            let layer = Self::choose_layer(&params, limits, base, r, layers.last(), max)?;
            layers.push(layer);
        }
        let heaps = assign_heaps(&mut layers);
        let index_rows = layers[0].table.rows;
        let plan = Plan {
            params,
            heaps: heap_chunks(&layers, heaps),
            index: Table::new(index_rows, u64::from(layers[0].cap), 1, 1, max),
            prune: prune_rounds(&params),
            wg: if limits.cpu { WG_CPU } else { WG },
            layers,
        };
        plan.check(limits)?;
        Ok(plan)
    }

    /// The fewest region bits (at least enough for ≤ 2^11 records per region) whose first
    /// round fits in workgroup memory.
    fn base_bits(params: &Params, limits: &DeviceLimits) -> Result<u32, PlanError> {
        let c = params.collision_bits();
        let lo = params.index_bits().saturating_sub(11).clamp(1, c - 1);
        let n = params.leaf_count();
        let small = n <= SMALL_LEAVES;
        let mut need = u32::MAX;
        for b in lo..c {
            let cap = region_capacity(n as f64 / f64::from(1u32 << b), small);
            let hash_words = (params.n() - b).div_ceil(32);
            let smem = round_smem(hash_words, cap, (c - b).min(MAX_KEY_BITS));
            if smem <= limits.max_workgroup_storage && cap < 1 << 16 {
                return Ok(b);
            }
            need = need.min(smem);
        }
        Err(PlanError::Limit {
            what: "workgroup storage (bytes)",
            have: limits.max_workgroup_storage.into(),
            need: need.into(),
        })
    }

    /// Layer `r`: among `base` to `base + 3` region bits and both pointer kinds, the fewest
    /// words per record, then the fewest regions, then [`Pointer::Pair`] (no search at recovery).
    fn choose_layer(
        params: &Params,
        limits: &DeviceLimits,
        base: u32,
        r: u32,
        below: Option<&Layer>,
        max_binding: u64,
    ) -> Result<Layer, PlanError> {
        let (c, k) = (params.collision_bits(), params.k());
        let n = params.leaf_count();
        let mut best: Option<Layer> = None;
        let mut smallest_smem = u32::MAX;
        for b in base..=(base + MAX_EXTRA_BITS).min(c - 1) {
            let cap = region_capacity(n as f64 / f64::from(1u32 << b), n <= SMALL_LEAVES);
            let hash_bits = (k + 1 - r) * c - b;
            let smem = round_smem(hash_bits.div_ceil(32), cap, (c - b).min(MAX_KEY_BITS));
            smallest_smem = smallest_smem.min(smem);
            if smem > limits.max_workgroup_storage || cap >= 1 << 16 {
                continue;
            }
            let kinds: &[Pointer] = match (r, below) {
                (0, _) | (_, None) => &[Pointer::Leaf],
                // Layer 1 points at leaves directly, so layer 0 need not outlive round 1.
                (1, _) => &[Pointer::Pair],
                _ => &[Pointer::Pair, Pointer::Rank],
            };
            for &pointer in kinds {
                let pointer_bits = match (pointer, below) {
                    (Pointer::Leaf, _) | (_, None) => 0,
                    (Pointer::Pair, Some(l)) => l.region_bits + 2 * l.slot_bits,
                    (Pointer::Rank, Some(l)) => l.region_bits + l.slot_bits + RANK_BITS,
                };
                let words = store_words(hash_bits + pointer_bits);
                if words > MAX_WORDS {
                    continue;
                }
                let unit_words = words.min(4);
                let record_units = u64::from(words / unit_words);
                let row_units = u64::from(cap) * record_units;
                let layer = Layer {
                    region_bits: b,
                    cap,
                    slot_bits: bits_for(cap - 1),
                    hash_bits,
                    pointer,
                    pointer_bits,
                    words,
                    heap: 0,
                    table: Table::new(1 << b, row_units, unit_words, record_units, max_binding),
                };
                let better = best.as_ref().is_none_or(|x| {
                    (
                        layer.words,
                        layer.region_bits,
                        layer.pointer == Pointer::Rank,
                    ) < (x.words, x.region_bits, x.pointer == Pointer::Rank)
                });
                if better {
                    best = Some(layer);
                }
            }
        }
        if smallest_smem > limits.max_workgroup_storage {
            return Err(PlanError::Limit {
                what: "workgroup storage (bytes)",
                have: limits.max_workgroup_storage.into(),
                need: smallest_smem.into(),
            });
        }
        let layer = best.ok_or_else(|| PlanError::Layout {
            params: *params,
            reason: format!("layer {r} does not fit in {MAX_WORDS} words per record"),
        })?;
        let column = layer.table.rows * u64::from(layer.words) * 4;
        if column > max_binding {
            return Err(PlanError::Limit {
                what: "largest storage binding (bytes)",
                have: max_binding,
                need: column,
            });
        }
        Ok(layer)
    }

    fn check(&self, limits: &DeviceLimits) -> Result<(), PlanError> {
        let small = 4 * self.small_words();
        for (what, have, need) in [
            (
                "invocations per workgroup",
                u64::from(limits.max_invocations),
                u64::from(self.wg.max(WG_GEN)),
            ),
            (
                "workgroups per dispatch dimension",
                u64::from(limits.max_workgroups_per_dim),
                self.max_dispatch_dim(),
            ),
            ("largest storage binding (bytes)", limits.max_binding, small),
            (
                "workgroup storage (bytes)",
                u64::from(limits.max_workgroup_storage),
                u64::from(self.recover_smem().max(WG_GEN * 16 * 4)),
            ),
        ] {
            if have < need {
                return Err(PlanError::Limit { what, have, need });
            }
        }
        let params = self.params;
        for stage in self.stages() {
            let need = self.storage_bindings(stage);
            if need > limits.max_storage_buffers {
                return Err(PlanError::StorageBuffers {
                    params,
                    kernel: stage.name(),
                    need,
                    have: limits.max_storage_buffers,
                    binding_mib: limits.max_binding >> 20,
                });
            }
        }
        if self.footprint() > MAX_FOOTPRINT {
            return Err(PlanError::Footprint {
                params,
                need_mib: self.footprint() >> 20,
                max_mib: MAX_FOOTPRINT >> 20,
                region_bits: self.layers[0].region_bits,
                smem_kib: limits.max_workgroup_storage >> 10,
            });
        }
        Ok(())
    }

    /// The stages of one nonce, in order.
    pub fn stages(&self) -> Vec<Stage> {
        let k = self.params.k();
        let mut v = vec![Stage::Generate];
        v.extend((1..k).map(Stage::Round));
        v.push(Stage::Final);
        v.push(Stage::Recover);
        v
    }

    /// Storage bindings of `stage`'s kernel: the small buffer and every chunk of its tables.
    pub fn storage_bindings(&self, stage: Stage) -> u32 {
        FIXED_STORAGE_BINDINGS
            + self
                .views(stage)
                .iter()
                .map(|v| v.table.chunks())
                .sum::<u32>()
    }

    /// The layers of heap `h`.
    pub fn heap_layers(&self, h: usize) -> impl Iterator<Item = (usize, &Layer)> {
        self.layers
            .iter()
            .enumerate()
            .filter(move |(_, l)| l.heap == h)
    }

    fn view(&self, name: &'static str, layer: usize, read_only: bool) -> View {
        let l = &self.layers[layer];
        View {
            name,
            heap: Some(l.heap),
            table: l.table,
            record_words: l.words,
            read_only,
        }
    }

    /// The chunked tables `stage` binds, in binding order after the fixed bindings.
    pub fn views(&self, stage: Stage) -> Vec<View> {
        let k = self.layers.len();
        let index = View {
            name: "ix",
            heap: None,
            table: self.index,
            record_words: 1,
            read_only: stage == Stage::Recover,
        };
        match stage {
            Stage::Generate => vec![self.view("hout", 0, false), index],
            Stage::Round(r) => vec![
                self.view("hin", r as usize - 1, true),
                self.view("hout", r as usize, false),
            ],
            Stage::Final => vec![self.view("hin", k - 1, true)],
            Stage::Recover => {
                const NAMES: [&str; 8] = ["hl1", "hl2", "hl3", "hl4", "hl5", "hl6", "hl7", "hl8"];
                let mut v: Vec<View> = (1..k.saturating_sub(1))
                    .map(|l| self.view(NAMES[l - 1], l, true))
                    .collect();
                v.push(index);
                v
            }
        }
    }

    /// Turns a device's results into a report: the stats block (`STATS_WORDS` words from word
    /// 0 of the small buffer) and the solutions area, every solution re-verified on the CPU
    /// (an invalid one is counted, never returned).
    pub fn report(
        &self,
        input: &[u8],
        raw_stats: &[u32],
        raw_sols: &[u32],
        profile: bool,
    ) -> SolveReport {
        let plan = self;
        let params = plan.params;
        let k = plan.layers.len();
        let st = |i: u32| u64::from(raw_stats[i as usize]);
        let mut stats = SolveStats::default();
        for r in 0..k as u32 {
            stats.layer_records.push(st(ST_RECORDS + r));
            stats.lane_totals.written += st(ST_RECORDS + r);
            stats.lane_totals.overflowed += st(ST_OVERFLOW + r);
        }
        stats.round_pruned = (1..k as u32).map(|r| st(ST_PRUNED + r - 1)).collect();
        stats.lane_totals.pruned = stats.round_pruned.iter().sum();
        stats.rank_lost = (1..k as u32).map(|r| st(ST_RANK_LOST + r - 1)).sum();
        stats.candidates = st(ST_CANDS);
        stats.duplicate_candidates = st(ST_DUPS);
        stats.lost_candidates = st(ST_LOST);
        if profile {
            stats.counted = (0..k as u32 + 2)
                .map(|s| {
                    let at = ST_TRAFFIC + 3 * s;
                    StageCount {
                        read_bytes: 4 * st(at),
                        written_bytes: 4 * st(at + 1),
                        atomics: st(at + 2),
                    }
                })
                .collect();
            stats.dispatches = raw_stats[ST_DISPATCHES as usize];
        }
        let found = (raw_stats[ST_SOLS as usize]).min(MAX_SOLS) as usize;
        let ni = plan.solution_indices();
        let hash_input = HashInput::new(&params, input);
        let mut solutions = Vec::new();
        for s in raw_sols.chunks_exact(ni).take(found) {
            match is_valid_indices(&params, &hash_input, s) {
                Ok(()) => solutions.push(s.to_vec()),
                Err(e) => stats.count_rejected(Some(e.kind()), s.to_vec()),
            }
        }
        stats.dedup_solutions(&mut solutions);
        SolveReport { solutions, stats }
    }

    /// Bytes of device memory the solver allocates.
    pub fn footprint(&self) -> u64 {
        self.heaps.iter().flatten().sum::<u64>()
            + self.index.chunked_bytes()
            + 4 * self.small_words()
    }

    /// Indices per solution.
    pub fn solution_indices(&self) -> usize {
        self.params.solution_indices()
    }

    /// Words of one final-round candidate: region, two slots, a spare word, then both records.
    pub fn cand_words(&self) -> u32 {
        4 + 2 * self.layers[self.layers.len() - 1].words
    }

    /// Word offset of layer `r`'s region counters in the small buffer.
    pub fn counts_at(&self, r: usize) -> u64 {
        STATS_WORDS + self.layers[..r].iter().map(Layer::regions).sum::<u64>()
    }

    /// Word offset of the candidates in the small buffer.
    pub fn cands_at(&self) -> u64 {
        self.counts_at(self.layers.len())
    }

    /// Word offset of the solutions in the small buffer.
    pub fn sols_at(&self) -> u64 {
        self.cands_at() + u64::from(MAX_CANDS) * u64::from(self.cand_words())
    }

    /// Words of the small buffer: stats, region counters, candidates, solutions.
    pub fn small_words(&self) -> u64 {
        self.sols_at() + u64::from(MAX_SOLS) * self.solution_indices() as u64
    }

    /// Workgroup memory of the recovery kernel, bytes.
    pub fn recover_smem(&self) -> u32 {
        let ni = self.solution_indices() as u32;
        // Nodes (2 words) twice, pointer decode (3 words + key), matches and their counts.
        4 * (2 * 2 * ni + 4 * ni + (ni / 2) * (MAX_MATCHES + 1) + ni) + SMEM_EXTRA
    }

    /// Workgroup memory of the round that reads layer `r`, bytes.
    pub fn round_smem(&self, r: usize) -> u32 {
        let l = &self.layers[r];
        round_smem(l.hash_words(), l.cap, l.key_bits(&self.params))
    }

    /// The dispatch of one workgroup per region of layer `r`: `(x, y)` with `x · y` = regions.
    pub fn region_groups(&self, r: usize) -> (u32, u32) {
        let regions = self.layers[r].regions() as u32;
        let x = regions.min(32_768);
        (x, regions / x)
    }

    /// The generation dispatch: `(x, y)` workgroups of [`WG_GEN`] covering every counter, or
    /// every 16-counter group when `serial`.
    pub fn generate_groups(&self, serial: bool) -> (u32, u32) {
        let per = u64::from(WG_GEN) * if serial { 16 } else { 1 };
        let groups = self.params.hash_count().div_ceil(per) as u32;
        let x = groups.min(32_768);
        (x, groups.div_ceil(x))
    }

    fn max_dispatch_dim(&self) -> u64 {
        let (gx, gy) = self.generate_groups(false);
        let regions = (0..self.layers.len()).flat_map(|r| {
            let (x, y) = self.region_groups(r);
            [x, y]
        });
        [gx, gy, RECOVER_GROUPS]
            .into_iter()
            .chain(regions)
            .max()
            .map_or(1, u64::from)
    }
}

/// Puts each layer in a heap: layer r may reuse a heap only when nothing in it is still needed,
/// i.e. when it holds only layer 0 and r ≥ 2 (layer 1 points at leaves through the index
/// table, and every layer from 1 up is walked at recovery). Returns the layers of each heap.
fn assign_heaps(layers: &mut [Layer]) -> Vec<Vec<usize>> {
    let mut heaps: Vec<Vec<usize>> = Vec::new();
    for (r, layer) in layers.iter_mut().enumerate() {
        let free = heaps
            .iter()
            .position(|h| r >= 2 && h.iter().all(|&q| q == 0));
        let h = free.unwrap_or_else(|| {
            heaps.push(Vec::new());
            heaps.len() - 1
        });
        heaps[h].push(r);
        layer.heap = h;
    }
    heaps
}

/// Chunk sizes of each heap: chunk i holds chunk i of every layer of the heap.
fn heap_chunks(layers: &[Layer], heaps: Vec<Vec<usize>>) -> Vec<Vec<u64>> {
    heaps
        .into_iter()
        .map(|members| {
            let n = members
                .iter()
                .map(|&r| layers[r].table.chunks())
                .max()
                .unwrap_or(1);
            (0..n)
                .map(|i| {
                    members
                        .iter()
                        .map(|&r| layers[r].table)
                        .filter(|t| i < t.chunks())
                        .map(|t| t.chunk_bytes())
                        .max()
                        .unwrap_or(4)
                })
                .collect()
        })
        .collect()
}

/// The CPU solver's zero-pruning decisions per round (so both find the same solution sets).
fn prune_rounds(params: &Params) -> Vec<bool> {
    let k = params.k() as usize;
    match crate::backend::cpu::layout::Layout::new(*params, 1, None) {
        Ok(l) => (1..k).map(|r| l.prunes_zero(r)).collect(),
        Err(_) => vec![false; k.saturating_sub(1)],
    }
}

/// Global-memory traffic of one stage, per nonce, counted in words by the kernels (profile
/// mode) or computed by [`Plan::traffic`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTraffic {
    /// Bytes read.
    pub read: f64,
    /// Bytes written.
    pub written: f64,
    /// Global atomic read-modify-writes per record or event (the one or two bookkeeping atomics
    /// per workgroup are not counted).
    pub atomics: f64,
    /// Compute dispatches.
    pub dispatches: u32,
}

/// What the traffic of a nonce depends on, per layer and round: the measured counts (for the
/// test that compares the model with the kernels' counters) or their expectation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counts {
    /// Records stored in each layer.
    pub records: Vec<f64>,
    /// Records lost to full regions in each layer.
    pub overflowed: Vec<f64>,
    /// Pairs pruned (all-zero) in each round 1..k−1 (index r−1).
    pub pruned: Vec<f64>,
    /// Pairs dropped for a rank that does not fit, in each round 1..k−1.
    pub rank_lost: Vec<f64>,
    /// Final-round candidates.
    pub candidates: f64,
    /// Words the recovery read (data-dependent: the regions its searches scan).
    pub recover_read_words: f64,
    /// Solutions the recovery wrote (before the host's verification and de-duplication).
    pub solutions: f64,
}

impl Plan {
    /// The traffic model of `docs/kernel-design.md`: per stage (generation, rounds 1..k−1, the
    /// final round, recovery), from `counts`. It restates what each kernel loads and stores, so
    /// for measured counts it equals the kernels' own counters exactly (generation and rounds).
    pub fn traffic(&self, counts: &Counts) -> Vec<StageTraffic> {
        let k = self.layers.len();
        let w = |r: usize| f64::from(self.layers[r].words);
        let regions = |r: usize| self.layers[r].regions() as f64;
        let n = self.params.leaf_count() as f64;
        let mut out = vec![StageTraffic {
            read: 0.0,
            // Records and their leaf indices; it zeroes the counters of layers 1..k−1.
            written: 4.0 * (counts.records[0] * (w(0) + 1.0) + (1..k).map(regions).sum::<f64>()),
            atomics: n + counts.overflowed[0],
            dispatches: 1,
        }];
        for r in 1..k {
            out.push(StageTraffic {
                read: 4.0 * counts.records[r - 1] * w(r - 1),
                written: 4.0 * counts.records[r] * w(r),
                atomics: counts.records[r]
                    + 2.0 * counts.overflowed[r]
                    + counts.pruned[r - 1]
                    + counts.rank_lost[r - 1],
                dispatches: 1,
            });
        }
        let cands = counts.candidates;
        let kept = cands.min(f64::from(MAX_CANDS));
        out.push(StageTraffic {
            // Every record's hash; both records of each kept candidate again, whole.
            read: 4.0 * (counts.records[k - 1] * w(k - 1) + 2.0 * kept * w(k - 1)),
            // The candidates; it zeroes layer 0's counters for the next nonce.
            written: 4.0 * (kept * f64::from(self.cand_words()) + regions(0)),
            atomics: cands,
            dispatches: 1,
        });
        let ni = self.solution_indices() as f64;
        let sols = counts.solutions.min(f64::from(MAX_SOLS));
        let dups = (kept - counts.solutions).max(0.0);
        out.push(StageTraffic {
            read: 4.0 * counts.recover_read_words,
            written: 4.0 * ni * sols,
            // One per solution and per rejected (repeated-index) candidate.
            atomics: counts.solutions + dups,
            dispatches: 1,
        });
        out
    }

    /// The model's expectation for a random input: `2^(c+1)` records in every layer, nothing
    /// lost, two candidates, and recovery searches scanning full-mean regions.
    pub fn expected_counts(&self) -> Counts {
        let k = self.layers.len();
        let n = self.params.leaf_count() as f64;
        let cands = 2.0;
        Counts {
            records: vec![n; k],
            overflowed: vec![0.0; k],
            pruned: vec![0.0; k - 1],
            rank_lost: vec![0.0; k - 1],
            candidates: cands,
            recover_read_words: cands * self.recover_words_per_candidate(),
            solutions: cands,
        }
    }

    /// Words one candidate's walk reads at mean fills: each node's record, and each rank
    /// search's scan of the first word of every record of a region.
    pub fn recover_words_per_candidate(&self) -> f64 {
        let k = self.layers.len();
        let n = self.params.leaf_count() as f64;
        let mut words = 0.0;
        for l in 1..k {
            let nodes = f64::from(1u32 << (k - l));
            let layer = &self.layers[l];
            if l < k - 1 {
                words += nodes * f64::from(layer.words);
            }
            if layer.pointer == Pointer::Rank {
                let below = &self.layers[l - 1];
                words += nodes * (1.0 + n / below.regions() as f64);
            }
        }
        words + f64::from(1u32 << k)
    }
}

/// Storage bindings every kernel has besides its chunked tables: the small buffer (stats,
/// region counters, candidates, solutions).
pub const FIXED_STORAGE_BINDINGS: u32 = 1;
/// Words of the stats block at the start of the small buffer.
pub const STATS_WORDS: u64 = 128;
/// Stats word: final-round candidates.
pub const ST_CANDS: u32 = 0;
/// Stats word: solutions written.
pub const ST_SOLS: u32 = 1;
/// Stats word: candidates with a repeated index.
pub const ST_DUPS: u32 = 2;
/// Stats word: candidates whose walk failed (a partner not found again: a solver bug).
pub const ST_LOST: u32 = 3;
/// Stats word: dispatches (profile mode).
pub const ST_DISPATCHES: u32 = 5;
/// Stats words 8..8+k: records lost to full regions, per layer.
pub const ST_OVERFLOW: u32 = 8;
/// Stats words 20..20+k: records stored, per layer.
pub const ST_RECORDS: u32 = 20;
/// Stats words 32..32+k−1: pairs dropped for a rank that does not fit, per round.
pub const ST_RANK_LOST: u32 = 32;
/// Stats words 40..40+k−1: pairs pruned because their remaining bits were all zero, per round.
pub const ST_PRUNED: u32 = 40;
/// Stats words 48..48+3·(k+2): per stage (generation, rounds, final, recovery), words read,
/// words written and global atomics, counted by the kernels in profile mode.
pub const ST_TRAFFIC: u32 = 48;
/// Largest k the stats block has room for.
pub const MAX_K: u32 = 9;

#[cfg(test)]
mod tests {
    use super::*;

    const LAVAPIPE: DeviceLimits = DeviceLimits::LAVAPIPE;

    #[test]
    fn zelhash_fits_lavapipe_with_shrinking_records() {
        let p = Plan::new(Params::ZELHASH, &LAVAPIPE, None).unwrap();
        let shape: Vec<(u32, u32, Pointer)> = p
            .layers
            .iter()
            .map(|l| (l.region_bits, l.words, l.pointer))
            .collect();
        assert_eq!(
            shape,
            [
                (16, 4, Pointer::Leaf),
                (16, 4, Pointer::Pair),
                (16, 4, Pointer::Pair),
                (17, 2, Pointer::Rank)
            ]
        );
        assert!(p.footprint() <= MAX_FOOTPRINT, "{}", p.footprint() >> 20);
        let bindings: Vec<u32> = p
            .stages()
            .into_iter()
            .map(|s| p.storage_bindings(s))
            .collect();
        // generate, rounds 1-3, final, recover: chunks of 128 MiB (10 for 16-byte layers).
        assert_eq!(bindings, [14, 21, 21, 17, 7, 24]);
        for r in 0..p.layers.len() {
            assert!(
                p.round_smem(r) <= 32 << 10,
                "layer {r}: {}",
                p.round_smem(r)
            );
        }
        // Layer 2 reuses layer 0's heap; layers 1 and 3 have their own.
        let heaps: Vec<usize> = p.layers.iter().map(|l| l.heap).collect();
        assert_eq!(heaps, [0, 1, 0, 2]);
    }

    /// Every table's chunks cover its columns in bands of whole records, each within the
    /// binding limit, padded by less than a record column per chunk; one chunk is row-major.
    #[test]
    fn tables_split_into_column_bands_of_whole_records() {
        for limits in [LAVAPIPE, DeviceLimits::NVIDIA_VULKAN] {
            let p = Plan::new(Params::ZELHASH, &limits, None).unwrap();
            let tables = p
                .layers
                .iter()
                .map(|l| (l.table, u64::from(l.words / l.table.unit_words)))
                .chain([(p.index, 1)]);
            for (t, record_units) in tables {
                let chunks = u64::from(t.chunks());
                assert_eq!(t.chunk_units % record_units, 0, "{t:?}");
                assert!(chunks * t.chunk_units >= t.row_units, "{t:?}");
                assert!(
                    chunks * t.chunk_units < t.row_units + chunks * record_units,
                    "{t:?}"
                );
                assert!(t.chunk_bytes() <= limits.max_binding, "{t:?}");
                if chunks == 1 {
                    assert_eq!((t.chunk_units, t.chunked_bytes()), (t.row_units, t.bytes()));
                }
            }
        }
        let p = Plan::new(Params::ZELHASH, &LAVAPIPE, None).unwrap();
        // 1,224 slots of 16 bytes in 10 bands of 123 (2^16 rows: 123 MiB each).
        assert_eq!(
            (p.layers[0].table.chunks(), p.layers[0].table.chunk_units),
            (10, 123)
        );
    }

    #[test]
    fn more_workgroup_memory_means_fewer_regions() {
        let nv = Plan::new(Params::ZELHASH, &DeviceLimits::NVIDIA_VULKAN, None).unwrap();
        assert_eq!(nv.layers[0].region_bits, 15);
        let amd = Plan::new(Params::ZELHASH, &DeviceLimits::AMD, None).unwrap();
        assert_eq!(amd.layers[0].region_bits, 15);
        for p in [&nv, &amd] {
            assert!(p.footprint() <= MAX_FOOTPRINT);
        }
    }

    #[test]
    fn the_expected_traffic_of_zelhash_is_under_8_gib() {
        let p = Plan::new(Params::ZELHASH, &LAVAPIPE, None).unwrap();
        let t = p.traffic(&p.expected_counts());
        let total: f64 = t.iter().map(|s| s.read + s.written).sum();
        assert!(total < 8.0 * f64::from(1u32 << 30), "{total}");
        assert_eq!(t.iter().map(|s| s.dispatches).sum::<u32>(), 6);
    }

    #[test]
    fn too_few_bindings_is_named() {
        let small = DeviceLimits {
            max_storage_buffers: 8,
            ..LAVAPIPE
        };
        let e = Plan::new(Params::ZELHASH, &small, None).unwrap_err();
        assert!(
            matches!(e, PlanError::StorageBuffers { have: 8, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("storage buffers per shader stage"));
    }

    #[test]
    fn tiny_workgroup_memory_is_named() {
        let small = DeviceLimits {
            max_workgroup_storage: 1024,
            ..LAVAPIPE
        };
        let e = Plan::new(Params::EH48_5, &small, None).unwrap_err();
        assert!(e.to_string().contains("workgroup storage"), "{e}");
    }

    #[test]
    fn pointers_and_hashes_fit_their_words() {
        for params in [
            Params::ZELHASH,
            Params::EH96_5,
            Params::EH48_5,
            Params::EH144_5,
        ] {
            for limits in [LAVAPIPE, DeviceLimits::NVIDIA_VULKAN] {
                let p = Plan::new(params, &limits, None).unwrap();
                for (r, l) in p.layers.iter().enumerate() {
                    assert!(l.hash_bits + l.pointer_bits <= 32 * l.words, "{params} {r}");
                    assert!(l.cap < 1 << 16, "{params} {r}: links are 16 bits");
                    assert!(l.region_bits < params.collision_bits());
                }
                assert_eq!(p.layers[1].pointer, Pointer::Pair);
            }
        }
    }
}
