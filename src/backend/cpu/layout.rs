//! The memory layout of the CPU solver, derived from the parameters and the thread count.
//!
//! Records live in fixed-size *slots* of `W` 64-bit words, grouped into `2^B` buckets by the top
//! `B` bits of the digit the next round collides on; each bucket is split into one *lane* per
//! thread so threads never share a write position. Two heaps alternate between rounds: layer
//! `r` is written to heap `r % 2`. Each slot holds, from the top bit down, the remaining hash bits
//! of its layer and, from the bottom bit up, the back-pointer *fields* of every earlier layer of
//! the same heap that is still needed for recovery (tromp's layout): layer 0 keeps its leaf index,
//! later layers a tree pointer `(parent bucket, slot a, slot b)`.
//!
//! When the slot is too narrow for all bits, the lowest `D` bits of the last digit are not stored
//! ("dropped"). The final round then finds about `2 · 2^D` candidates instead of about 2; the
//! exact check on recovered candidates removes the false ones.

use thiserror::Error;

use crate::equihash::Params;

/// Largest slot width, in 64-bit words.
pub const MAX_WORDS: usize = 4;
/// Most low bits of the last digit the layout may drop from the slots (they are kept in a side
/// table of `u16`, one per leaf).
pub const MAX_DROPPED_BITS: u32 = 16;
/// Largest collision table inside a bucket: `2^MAX_REST_BITS` entries.
const MAX_REST_BITS: u32 = 20;
/// Heaps smaller than this get eight times the expected lane fill, because small parameter sets have
/// large relative fluctuations and many duplicate records.
const SMALL_HEAP_SLOTS: f64 = (1 << 22) as f64;

/// Why no layout fits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// No slot width up to [`MAX_WORDS`] words holds the records.
    #[error("equihash {params}: records do not fit in {MAX_WORDS} words per slot")]
    TooWide {
        /// The parameters.
        params: Params,
    },
    /// The thread count is zero or too large for the bucket count.
    #[error("thread count {threads} is not usable (1 to {max})")]
    Threads {
        /// The requested thread count.
        threads: usize,
        /// The largest usable count.
        max: usize,
    },
}

/// Where one layer's bits go in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerLayout {
    /// Hash bits kept, most significant first, starting at the top of word 0.
    pub hash_bits: u32,
    /// Bit offset (from the least significant bit of the slot) of this layer's field.
    pub field_at: u32,
    /// Width of the field: the leaf index for layer 0, a tree pointer after that.
    pub field_bits: u32,
}

/// The complete solver layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Equihash parameters.
    pub params: Params,
    /// Worker threads, which is also the number of lanes per bucket.
    pub threads: usize,
    /// Bucket bits `B` taken from each digit.
    pub bucket_bits: u32,
    /// Rest bits `R = c − B` that records inside a bucket collide on.
    pub rest_bits: u32,
    /// Slot width `W` in 64-bit words.
    pub words: usize,
    /// Slots per (bucket, lane).
    pub lane_slots: usize,
    /// Bits of a slot number inside a bucket (`lane · lane_slots + slot`).
    pub slot_bits: u32,
    /// Low bits of the last digit that are not stored.
    pub dropped_bits: u32,
    /// Layers 0 to k−1.
    pub layers: Vec<LayerLayout>,
}

impl Layout {
    /// Chooses a layout for `params` and `threads` workers.
    ///
    /// `bucket_bits` overrides the default choice (about 2^13 records per bucket).
    pub fn new(
        params: Params,
        threads: usize,
        bucket_bits: Option<u32>,
    ) -> Result<Layout, LayoutError> {
        let c = params.collision_bits();
        let b = bucket_bits
            .unwrap_or_else(|| default_bucket_bits(&params))
            .clamp(c.saturating_sub(MAX_REST_BITS).max(1), c.max(2) - 1);
        let buckets = 1usize << b;
        if threads == 0 || threads > buckets.min(256) {
            return Err(LayoutError::Threads {
                threads,
                max: buckets.min(256),
            });
        }
        let mean = params.leaf_count() as f64 / (buckets * threads) as f64;
        let small = params.leaf_count() as f64 <= SMALL_HEAP_SLOTS;
        let lane_slots = lane_capacity(mean).max(if small { (8.0 * mean) as usize } else { 0 });
        let slot_bits = usize::BITS - (threads * lane_slots - 1).leading_zeros();
        for words in 1..=MAX_WORDS {
            for dropped in 0..=MAX_DROPPED_BITS.min(c - 1) {
                let layers = layer_layouts(&params, b, slot_bits, dropped);
                if layers
                    .iter()
                    .all(|l| l.hash_bits + l.field_at + l.field_bits <= 64 * words as u32)
                {
                    return Ok(Layout {
                        params,
                        threads,
                        bucket_bits: b,
                        rest_bits: c - b,
                        words,
                        lane_slots,
                        slot_bits,
                        dropped_bits: dropped,
                        layers,
                    });
                }
            }
        }
        Err(LayoutError::TooWide { params })
    }

    /// Number of buckets, `2^B`.
    pub fn buckets(&self) -> usize {
        1 << self.bucket_bits
    }

    /// Slots in one heap.
    pub fn heap_slots(&self) -> usize {
        self.buckets() * self.threads * self.lane_slots
    }

    /// Bytes of both heaps together.
    pub fn heap_bytes(&self) -> usize {
        2 * self.heap_slots() * self.words * 8
    }

    /// Width of a tree pointer field.
    pub fn tree_bits(&self) -> u32 {
        self.bucket_bits + 2 * self.slot_bits
    }

    /// Whether pairs with an all-zero XOR are dropped when making layer `r`.
    ///
    /// An all-zero record almost always comes from the same leaves combined twice (a duplicate).
    /// A genuine one appears with probability `2^-h` per record and is part of a solution with
    /// probability about `2^(r+1)/N`, so pruning costs about `2^(r+1-h)` solutions per run: we
    /// prune where that is below 1/128.
    pub fn prunes_zero(&self, r: usize) -> bool {
        self.layers[r].hash_bits >= r as u32 + 8
    }

    /// Index of the first 64-bit word of slot `slot` of lane `lane` in bucket `bucket`.
    #[inline]
    pub fn word_index(&self, bucket: usize, lane: usize, slot: usize) -> usize {
        ((bucket * self.threads + lane) * self.lane_slots + slot) * self.words
    }

    /// Word index of a slot given its number inside the bucket (`lane · lane_slots + slot`).
    #[inline]
    pub fn word_index_of(&self, bucket: usize, slot_number: u32) -> usize {
        (bucket * self.threads * self.lane_slots + slot_number as usize) * self.words
    }
}

/// About 2^15 records per bucket: few enough buckets that every thread's write positions (one
/// cache line per bucket) stay in L2, and a bucket's records still fit there too. Measured on
/// ZelHash (single thread, this project's 2-core AMD EPYC VM): 2^13 buckets 15.5 s per nonce, 2^12 13.6 s,
/// 2^11 11.4 s. Small parameter sets still get at least 16 buckets so several threads have work.
///
/// Wide records (n > 128, e.g. 200,9 with 4-word slots) do best with about 2^13 records per
/// bucket: 200,9 on one thread took 0.88 s per nonce with 2^15, 0.79 s with 2^13, 0.90 s with
/// 2^9.
fn default_bucket_bits(params: &Params) -> u32 {
    let per_bucket_log = if params.n() > 128 { 13 } else { 15 };
    params
        .index_bits()
        .saturating_sub(per_bucket_log)
        .max(4.min(params.collision_bits() - 1))
        .max(1)
}

/// Slots for a lane whose expected fill is `mean`: room for more than 6 standard deviations, so
/// overflow (which drops records) is rare; small lanes get proportionally more.
fn lane_capacity(mean: f64) -> usize {
    (mean + 6.0 * mean.sqrt() + 8.0).ceil() as usize
}

fn layer_layouts(params: &Params, b: u32, slot_bits: u32, dropped: u32) -> Vec<LayerLayout> {
    let (c, k) = (params.collision_bits(), params.k());
    let mut out: Vec<LayerLayout> = Vec::with_capacity(k as usize);
    for r in 0..k {
        let hash_bits = (k + 1 - r) * c - b - dropped;
        let field_bits = if r == 0 {
            params.index_bits()
        } else {
            b + 2 * slot_bits
        };
        let field_at = if r >= 2 {
            let below = &out[r as usize - 2];
            below.field_at + below.field_bits
        } else {
            0
        };
        out.push(LayerLayout {
            hash_bits,
            field_at,
            field_bits,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zelhash_fits_two_words_with_twelve_dropped_bits() {
        let l = Layout::new(Params::ZELHASH, 2, None).unwrap();
        assert_eq!(
            (l.bucket_bits, l.rest_bits, l.words, l.dropped_bits),
            (11, 14, 2, 12)
        );
        assert_eq!(l.tree_bits(), 11 + 2 * l.slot_bits);
        // Both heaps: 2 × 2048 buckets × 2 lanes × lane_slots × 16 bytes, under 2.5 GiB with the
        // 2^26 two-byte tails.
        assert!(
            l.heap_bytes() + (2 << 26) < 2_500 * (1 << 20),
            "{} bytes",
            l.heap_bytes()
        );
    }

    #[test]
    fn every_named_set_has_a_layout() {
        for p in [
            Params::ZELHASH,
            Params::EH200_9,
            Params::EH144_5,
            Params::EH96_5,
            Params::EH48_5,
        ] {
            for threads in [1, 2, 3, 8] {
                let l = Layout::new(p, threads, None).unwrap();
                for (r, layer) in l.layers.iter().enumerate() {
                    assert!(
                        layer.hash_bits + layer.field_at + layer.field_bits <= 64 * l.words as u32,
                        "{p} layer {r}"
                    );
                }
                assert!(l.dropped_bits <= MAX_DROPPED_BITS);
            }
        }
    }

    #[test]
    fn fields_of_one_heap_never_overlap() {
        let l = Layout::new(Params::EH200_9, 1, None).unwrap();
        for r in 2..l.layers.len() {
            let (lo, hi) = (&l.layers[r - 2], &l.layers[r]);
            assert_eq!(hi.field_at, lo.field_at + lo.field_bits);
        }
    }

    #[test]
    fn rejects_zero_threads() {
        assert!(matches!(
            Layout::new(Params::EH48_5, 0, None),
            Err(LayoutError::Threads { .. })
        ));
    }
}
