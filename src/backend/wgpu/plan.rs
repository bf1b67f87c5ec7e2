//! The memory plan of the WGSL solver, derived from the parameters and the adapter's limits: the
//! CPU solver's packed layout (one lane per bucket, atomic per-bucket counters instead of
//! per-thread lanes), every large table split into chunks no larger than one storage binding,
//! and the checks that name what a too-small device lacks.

use thiserror::Error;

use crate::backend::cpu::layout::{Layout, LayoutError};
use crate::equihash::Params;

/// Largest total footprint the solver may plan: 3.5 GiB, so 4 GB cards work.
pub const MAX_FOOTPRINT: u64 = 3584 << 20;
/// Invocations per workgroup of the collision, link and recovery kernels.
pub const WG: u32 = 256;
/// Invocations per workgroup of the generation kernel (a multiple of the 16-counter twist group).
pub const WG_GEN: u32 = 64;
/// Largest chunk of one table: 1 GiB, so indices stay within `u32`.
const MAX_CHUNK: u64 = 1 << 30;
/// Solutions kept per nonce (the expected number is about 2).
pub const MAX_SOLS: u32 = 64;

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
    };
}

/// Why the solver cannot run on a device (each names what is lacking).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The CPU layout rules reject the parameters.
    #[error("no layout: {0}")]
    Layout(#[from] LayoutError),
    /// The tables need more storage bindings than one shader stage may have.
    #[error(
        "the device allows {have} storage buffers per shader stage; equihash {params} needs {need} \
         (its largest storage binding is {binding_mib} MiB)"
    )]
    StorageBuffers {
        /// The parameters.
        params: Params,
        /// Bindings needed.
        need: u32,
        /// Bindings allowed.
        have: u32,
        /// Largest binding, MiB.
        binding_mib: u64,
    },
    /// The total footprint is above what the plan allows.
    #[error("equihash {params} needs {need_mib} MiB of device memory, more than {max_mib} MiB")]
    Footprint {
        /// The parameters.
        params: Params,
        /// MiB needed.
        need_mib: u64,
        /// MiB allowed.
        max_mib: u64,
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

/// One large table: `rows` rows (a bucket each, or a leaf for the tails) of `row_units` units of
/// `unit_words` u32 words, split into chunks of whole rows no larger than one binding. A kernel
/// that reads one bucket then touches one chunk only, so its chunk choice is uniform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// Rows.
    pub rows: u64,
    /// Units per row.
    pub row_units: u64,
    /// u32 words per unit (1, 2 or 4: `u32`, `vec2<u32>`, `vec4<u32>`).
    pub unit_words: u32,
    /// Rows per chunk.
    pub rows_per_chunk: u64,
}

impl Table {
    fn new(rows: u64, row_units: u64, unit_words: u32, max_binding: u64) -> Table {
        let row_bytes = 4 * u64::from(unit_words) * row_units;
        Table {
            rows,
            row_units,
            unit_words,
            rows_per_chunk: (max_binding / row_bytes).clamp(1, rows.max(1)),
        }
    }

    /// Number of chunks (bindings); at least 1 so every binding exists.
    pub fn chunks(&self) -> u32 {
        self.rows.div_ceil(self.rows_per_chunk).max(1) as u32
    }

    /// Bytes of chunk `i` (at least 4).
    pub fn chunk_bytes(&self, i: u32) -> u64 {
        let rows = self
            .rows
            .saturating_sub(u64::from(i) * self.rows_per_chunk)
            .min(self.rows_per_chunk);
        (4 * u64::from(self.unit_words) * self.row_units * rows).max(4)
    }

    /// Bytes.
    pub fn bytes(&self) -> u64 {
        (4 * u64::from(self.unit_words) * self.row_units * self.rows).max(4)
    }
}

/// The complete plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The packed record layout (the CPU solver's, with one lane per bucket).
    pub layout: Layout,
    /// u32 words per slot.
    pub slot_words: u32,
    /// Each of the two heaps of slots.
    pub heap: Table,
    /// Chain links, one word per slot.
    pub next: Table,
    /// Chain heads, `2^R` per bucket.
    pub heads: Table,
    /// The dropped low bits of each leaf's last digit, one word per leaf (1 word when none).
    pub tails: Table,
    /// Final-round candidates kept per nonce.
    pub max_cands: u32,
}

impl Plan {
    /// Plans `params` for a device with `limits`; `bucket_bits` overrides the default (2^11 for
    /// ZelHash, as the CPU solver).
    ///
    /// # Errors
    /// When the device is too small; the error names what it lacks.
    pub fn new(
        params: Params,
        limits: &DeviceLimits,
        bucket_bits: Option<u32>,
    ) -> Result<Plan, PlanError> {
        let layout = Layout::new(params, 1, bucket_bits)?;
        let max = limits.max_binding.min(limits.max_buffer).min(MAX_CHUNK);
        let slot_words = 2 * layout.words as u32;
        let unit = if slot_words.is_multiple_of(4) { 4 } else { 2 };
        let (nb, cap) = (layout.buckets() as u64, layout.lane_slots as u64);
        let heap = Table::new(nb, cap * u64::from(slot_words / unit), unit, max);
        let need = 4 * u64::from(slot_words) * cap;
        if need > max {
            return Err(PlanError::Limit {
                what: "largest storage binding (bytes)",
                have: max,
                need,
            });
        }
        let tails = if layout.dropped_bits > 0 {
            params.leaf_count()
        } else {
            1
        };
        let plan = Plan {
            heap,
            next: Table::new(nb, cap, 1, max),
            heads: Table::new(nb, 1 << layout.rest_bits, 1, max),
            tails: Table::new(tails, 1, 1, max),
            max_cands: (8u32 << layout.dropped_bits).max(4096) + 4096,
            slot_words,
            layout,
        };
        plan.check(limits)?;
        Ok(plan)
    }

    fn check(&self, limits: &DeviceLimits) -> Result<(), PlanError> {
        let params = self.layout.params;
        let need = self.storage_bindings();
        if need > limits.max_storage_buffers {
            return Err(PlanError::StorageBuffers {
                params,
                need,
                have: limits.max_storage_buffers,
                binding_mib: limits.max_binding >> 20,
            });
        }
        if self.footprint() > MAX_FOOTPRINT {
            return Err(PlanError::Footprint {
                params,
                need_mib: self.footprint() >> 20,
                max_mib: MAX_FOOTPRINT >> 20,
            });
        }
        let wg_mem = WG_GEN * 16 * 4;
        for (what, have, need) in [
            (
                "workgroup storage (bytes)",
                u64::from(limits.max_workgroup_storage),
                u64::from(wg_mem),
            ),
            (
                "invocations per workgroup",
                u64::from(limits.max_invocations),
                u64::from(WG.max(WG_GEN)),
            ),
            (
                "workgroups per dispatch dimension",
                u64::from(limits.max_workgroups_per_dim),
                self.max_dispatch_dim(),
            ),
        ] {
            if have < need {
                return Err(PlanError::Limit { what, have, need });
            }
        }
        Ok(())
    }

    /// Storage bindings of the one bind group layout every kernel shares.
    pub fn storage_bindings(&self) -> u32 {
        2 * self.heap.chunks()
            + self.next.chunks()
            + self.heads.chunks()
            + self.tails.chunks()
            + FIXED_STORAGE_BINDINGS
    }

    /// Bytes of device memory the solver allocates.
    pub fn footprint(&self) -> u64 {
        2 * self.heap.bytes()
            + self.next.bytes()
            + self.heads.bytes()
            + self.tails.bytes()
            + self.small_bytes()
    }

    /// Bytes of the small buffers: counters, candidates, solutions.
    pub fn small_bytes(&self) -> u64 {
        4 * (self.counts_words() + STATS_WORDS + 3 * u64::from(self.max_cands))
            + 4 * u64::from(MAX_SOLS) * self.solution_indices() as u64
    }

    /// Bucket counters of every layer.
    pub fn counts_words(&self) -> u64 {
        (self.layout.layers.len() * self.layout.buckets()) as u64
    }

    /// Indices per solution.
    pub fn solution_indices(&self) -> usize {
        self.layout.params.solution_indices()
    }

    /// Workgroups along x of a per-slot pass.
    pub fn slot_groups(&self) -> u32 {
        (self.layout.lane_slots as u32).div_ceil(WG)
    }

    /// The generation dispatch: `(x, y)` workgroups of [`WG_GEN`] covering every counter, or
    /// every 16-counter group when `serial`.
    pub fn generate_groups(&self, serial: bool) -> (u32, u32) {
        let per = u64::from(WG_GEN) * if serial { 16 } else { 1 };
        let groups = self.layout.params.hash_count().div_ceil(per) as u32;
        let x = groups.min(32_768);
        (x, groups.div_ceil(x))
    }

    fn max_dispatch_dim(&self) -> u64 {
        let (gx, gy) = self.generate_groups(false);
        [
            gx,
            gy,
            self.slot_groups(),
            self.layout.buckets() as u32,
            self.max_cands.div_ceil(WG),
        ]
        .into_iter()
        .max()
        .map_or(1, u64::from)
    }
}

/// Global-memory traffic of one stage, per nonce.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTraffic {
    /// Bytes read.
    pub read: f64,
    /// Bytes written (including buffer clears).
    pub written: f64,
    /// Atomic read-modify-writes.
    pub atomics: f64,
    /// Compute dispatches.
    pub dispatches: u32,
}

impl Plan {
    /// The traffic model of `docs/kernel-design.md`: per stage (generation, rounds 1..=k,
    /// recovery), from the records of each layer (`records[r]`, r = 0..k−1), the pairs the final
    /// round examines (`final_pairs`) and the candidates.
    pub fn traffic(&self, records: &[f64], final_pairs: f64, candidates: f64) -> Vec<StageTraffic> {
        let l = &self.layout;
        let k = l.layers.len();
        let slot = 4.0 * f64::from(self.slot_words);
        let unit = 4.0 * f64::from(self.heap.unit_words);
        let tails = if l.dropped_bits > 0 { 4.0 } else { 0.0 };
        let mut out = vec![StageTraffic {
            read: 0.0,
            written: records[0] * (slot + tails) + 4.0 * self.counts_words() as f64,
            atomics: records[0],
            dispatches: 1,
        }];
        for r in 1..=k {
            let n = records[r - 1];
            // Pairs examined: every output record of a collision round is one pair (plus the
            // pruned ones); the final round's pairs are counted by the caller.
            let pairs = if r < k { records[r] } else { final_pairs };
            let rmw = r < k && l.layers[r].field_at > 0;
            out.push(StageTraffic {
                // link: first unit of each slot; pairs: own slot and next link, partner slot and
                // its next link per pair, old slot of every output when fields are kept.
                read: n * unit
                    + n * (slot + 4.0)
                    + pairs * (slot + 4.0)
                    + if rmw { pairs * slot } else { 0.0 },
                written: self.heads.bytes() as f64
                    + n * 4.0
                    + if r < k { pairs * slot } else { 0.0 },
                atomics: n + if r < k { pairs } else { 0.0 },
                dispatches: 2,
            });
        }
        let ni = self.solution_indices() as f64;
        out.push(StageTraffic {
            read: candidates * (12.0 + ni * (k as f64) * slot + ni * tails),
            written: 0.0,
            atomics: candidates,
            dispatches: 1,
        });
        out
    }

    /// The model's expectation for a random input: `2^(c+1)` records in every layer and as many
    /// pairs in every round (Wagner's fixed point), about `2 · 2^D` final candidates.
    pub fn expected_traffic(&self) -> Vec<StageTraffic> {
        let n = self.layout.params.leaf_count() as f64;
        let k = self.layout.layers.len();
        let cands = 2.0 * f64::from(1u32 << self.layout.dropped_bits);
        self.traffic(&vec![n; k], n, cands)
    }
}

/// Storage bindings besides the chunked tables: counts, stats, candidates, solutions.
pub const FIXED_STORAGE_BINDINGS: u32 = 4;
/// Words of the stats buffer.
pub const STATS_WORDS: u64 = 8;
/// Stats word: final-round candidates.
pub const ST_CANDS: u32 = 0;
/// Stats word: solutions written.
pub const ST_SOLS: u32 = 1;
/// Stats word: candidates with a repeated index.
pub const ST_DUPS: u32 = 2;
/// Stats word: candidates whose dropped bits do not XOR to zero.
pub const ST_FALSE: u32 = 3;
/// Stats word: pairs pruned because their XOR was zero.
pub const ST_PRUNED: u32 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    const LAVAPIPE: DeviceLimits = DeviceLimits::LAVAPIPE;

    #[test]
    fn zelhash_fits_lavapipe_in_128_mib_bindings() {
        let p = Plan::new(Params::ZELHASH, &LAVAPIPE, None).unwrap();
        assert_eq!(p.heap.unit_words, 4);
        assert!(p.footprint() <= MAX_FOOTPRINT, "{}", p.footprint());
        assert!(p.storage_bindings() <= 32, "{}", p.storage_bindings());
        for t in [p.heap, p.next, p.heads, p.tails] {
            for i in 0..t.chunks() {
                assert!(t.chunk_bytes(i) <= LAVAPIPE.max_binding);
            }
        }
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
}
