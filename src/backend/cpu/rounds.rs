//! The rounds of Wagner's algorithm on one thread's share of the buckets: leaf generation,
//! collision rounds, and the final round that emits candidates.
//!
//! Every function here works on one *lane* (thread): it reads any lane of the input heap but
//! writes only its own lane of the output heap, so threads need no atomics read-modify-write and
//! no locks; bucket counts are per lane.

use std::ops::Range;
use std::sync::atomic::AtomicU64;

use super::layout::Layout;
use super::slot::{self, Slot};
use crate::equihash::blake::HashInput;
use crate::equihash::leaves::{TWIST_GROUP, digest_group};

/// Fill counts of one lane: `counts[bucket]`.
pub type LaneCounts = Vec<u32>;

/// What one lane did in one round (the backends' common counter type).
pub use crate::backend::RecordTotals as LaneStats;

/// A final-round candidate: two records of layer k−1 in one bucket whose XOR is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The bucket both records are in.
    pub bucket: u32,
    /// Slot numbers (`lane · lane_slots + slot`) of the two records.
    pub slots: [u32; 2],
}

/// Reusable per-thread buffers for walking a bucket.
pub struct Scratch<const W: usize> {
    hashes: Vec<Slot<W>>,
    slots: Vec<u32>,
    next: Vec<u32>,
    head: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// How far ahead of a bucket's write position (in words) to prefetch: the next cache line, so the
/// line is in cache by the time the bucket is written again.
const PREFETCH_AHEAD: usize = 8;

impl<const W: usize> Scratch<W> {
    /// Buffers sized for `layout`.
    pub fn new(layout: &Layout) -> Scratch<W> {
        let cap = layout.threads * layout.lane_slots;
        Scratch {
            hashes: Vec::with_capacity(cap),
            slots: Vec::with_capacity(cap),
            next: vec![NONE; cap],
            head: vec![NONE; 1 << layout.rest_bits],
        }
    }
}

/// Round 0: hashes the counters in `counters` (a range of whole twist groups), and writes every
/// leaf into this lane of its bucket in heap 0.
#[inline(never)]
///
/// When the layout drops the low bits of the last digit, they go to `tails[index − first]`,
/// where `first` is the first leaf index of `counters`.
pub fn generate<const W: usize>(
    layout: &Layout,
    input: &HashInput,
    heap: &[AtomicU64],
    lane: usize,
    counters: Range<u32>,
    tails: &mut [u16],
) -> (LaneCounts, LaneStats) {
    let params = &layout.params;
    let mut counts = vec![0u32; layout.buckets()];
    let mut stats = LaneStats::default();
    let (leaves, per, slice_len) = (
        params.leaf_count(),
        params.leaves_per_hash(),
        params.slice_len(),
    );
    let layer = layout.layers[0];
    let mask = slot::top_mask::<W>(layer.hash_bits);
    let (b, shift_out) = (layout.bucket_bits, 64 - layout.bucket_bits);
    let aligned = slice_len % 8 == 0;
    let first = u64::from(counters.start) * u64::from(per);
    let tail_bits = layout.dropped_bits;
    let tail_at = params.n() - tail_bits;
    let mut bytes = [0u8; 64 + 8 * (super::layout::MAX_WORDS + 1)];
    for base in counters.step_by(TWIST_GROUP as usize) {
        let group = digest_group(params, input, base);
        for (j, digest) in group.iter().enumerate() {
            if !aligned {
                for (chunk, w) in bytes.chunks_exact_mut(8).zip(digest) {
                    chunk.copy_from_slice(&w.to_le_bytes());
                }
            }
            let g = u64::from(base) + j as u64;
            for s in 0..per as usize {
                let index = g * u64::from(per) + s as u64;
                if index >= leaves {
                    break;
                }
                // The leaf's bits as big-endian words: straight from the digest words when slices
                // are whole words (ZelHash), through the byte buffer otherwise.
                let words: [u64; super::layout::MAX_WORDS + 1] = if aligned {
                    let sw = slice_len / 8;
                    std::array::from_fn(|w| {
                        if w < sw {
                            digest[s * sw + w].swap_bytes()
                        } else {
                            0
                        }
                    })
                } else {
                    let at = s * slice_len;
                    std::array::from_fn(|w| {
                        u64::from_be_bytes(
                            bytes[at + 8 * w..at + 8 * w + 8]
                                .try_into()
                                .expect("8 bytes"),
                        )
                    })
                };
                if tail_bits > 0 {
                    tails[(index - first) as usize] =
                        leaf_bits_at(&words, tail_at, tail_bits) as u16;
                }
                let bucket = (words[0] >> shift_out) as usize;
                let hash: Slot<W> =
                    std::array::from_fn(|w| (words[w] << b) | (words[w + 1] >> shift_out));
                let mut v = slot::and(&hash, &mask);
                slot::set_field(&mut v, layer.field_at, layer.field_bits, index);
                push(layout, heap, lane, &mut counts, &mut stats, bucket, v);
            }
        }
    }
    (counts, stats)
}

/// `len ≤ 32` bits at MSB-first position `pos` of big-endian words.
#[inline(always)]
fn leaf_bits_at(words: &[u64], pos: u32, len: u32) -> u32 {
    let (w, off) = ((pos / 64) as usize, pos % 64);
    let hi = words[w] << off;
    let lo = if off > 0 {
        words[w + 1] >> (64 - off)
    } else {
        0
    };
    ((hi | lo) >> (64 - len)) as u32
}

/// Appends `v` to this lane of `bucket`, or counts an overflow.
#[inline(always)]
fn push<const W: usize>(
    layout: &Layout,
    heap: &[AtomicU64],
    lane: usize,
    counts: &mut [u32],
    stats: &mut LaneStats,
    bucket: usize,
    v: Slot<W>,
) {
    let n = counts[bucket] as usize;
    if n >= layout.lane_slots {
        stats.overflowed += 1;
        return;
    }
    counts[bucket] += 1;
    stats.written += 1;
    let at = layout.word_index(bucket, lane, n);
    slot::store(heap, at, v);
    slot::prefetch(heap, at + PREFETCH_AHEAD);
}

/// Calls `f(slot_a, slot_b, xor)` for every pair of records in `bucket` of the input layer whose
/// rest bits are equal; `xor` is the XOR of their hash bits (fields masked off).
#[inline(always)]
fn for_each_pair<const W: usize>(
    layout: &Layout,
    heap: &[AtomicU64],
    counts: &[LaneCounts],
    hash_mask: &Slot<W>,
    bucket: usize,
    scratch: &mut Scratch<W>,
    mut f: impl FnMut(u32, u32, Slot<W>),
) {
    scratch.hashes.clear();
    scratch.slots.clear();
    for (lane, lane_counts) in counts.iter().enumerate() {
        for s in 0..lane_counts[bucket] as usize {
            let v = slot::load::<W>(heap, layout.word_index(bucket, lane, s));
            scratch.hashes.push(slot::and(&v, hash_mask));
            scratch.slots.push((lane * layout.lane_slots + s) as u32);
        }
    }
    scratch.head.fill(NONE);
    let rest_shift = 64 - layout.rest_bits;
    for i in 0..scratch.hashes.len() {
        let hi = scratch.hashes[i];
        let rest = (hi[0] >> rest_shift) as usize;
        let mut j = scratch.head[rest];
        while j != NONE {
            let x = slot::xor(&scratch.hashes[j as usize], &hi);
            f(scratch.slots[j as usize], scratch.slots[i], x);
            j = scratch.next[j as usize];
        }
        scratch.next[i] = scratch.head[rest];
        scratch.head[rest] = i as u32;
    }
}

/// A collision round making layer `r` (1 ≤ r < k) from layer `r − 1`, for the buckets in
/// `buckets`, writing into this lane of the output heap.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn collide<const W: usize>(
    layout: &Layout,
    r: usize,
    heap_in: &[AtomicU64],
    counts_in: &[LaneCounts],
    heap_out: &[AtomicU64],
    lane: usize,
    buckets: Range<usize>,
    scratch: &mut Scratch<W>,
) -> (LaneCounts, LaneStats) {
    let (inl, outl) = (layout.layers[r - 1], layout.layers[r]);
    let hash_mask = slot::top_mask::<W>(inl.hash_bits);
    let keep_mask = slot::low_mask::<W>(outl.field_at);
    let keeps_fields = outl.field_at > 0;
    let prune = layout.prunes_zero(r);
    let (c, rb, bb) = (
        layout.params.collision_bits(),
        layout.rest_bits,
        layout.bucket_bits,
    );
    let sb = layout.slot_bits;
    let mut counts = vec![0u32; layout.buckets()];
    let mut stats = LaneStats::default();
    for bucket in buckets {
        let parent = (bucket as u64) << (2 * sb);
        for_each_pair(
            layout,
            heap_in,
            counts_in,
            &hash_mask,
            bucket,
            scratch,
            |a, b, x| {
                let next = ((x[0] << rb) >> (64 - bb)) as usize;
                let mut v = slot::shl(&x, c);
                if prune && slot::is_zero(&v) {
                    stats.pruned += 1;
                    return;
                }
                let n = counts[next] as usize;
                if n >= layout.lane_slots {
                    stats.overflowed += 1;
                    return;
                }
                counts[next] += 1;
                stats.written += 1;
                let at = layout.word_index(next, lane, n);
                slot::prefetch(heap_out, at + PREFETCH_AHEAD);
                if keeps_fields {
                    let old = slot::load::<W>(heap_out, at);
                    v = slot::xor(&v, &slot::and(&old, &keep_mask));
                }
                let tree = parent | (u64::from(a) << sb) | u64::from(b);
                slot::set_field(&mut v, outl.field_at, outl.field_bits, tree);
                slot::store(heap_out, at, v);
            },
        );
    }
    (counts, stats)
}

/// The final round over layer k−1: pairs whose stored bits XOR to zero.
#[inline(never)]
pub fn final_round<const W: usize>(
    layout: &Layout,
    heap_in: &[AtomicU64],
    counts_in: &[LaneCounts],
    buckets: Range<usize>,
    scratch: &mut Scratch<W>,
) -> Vec<Candidate> {
    let inl = layout.layers[layout.layers.len() - 1];
    let hash_mask = slot::top_mask::<W>(inl.hash_bits);
    let mut out = Vec::new();
    for bucket in buckets {
        for_each_pair(
            layout,
            heap_in,
            counts_in,
            &hash_mask,
            bucket,
            scratch,
            |a, b, x| {
                if slot::is_zero(&x) {
                    out.push(Candidate {
                        bucket: bucket as u32,
                        slots: [a, b],
                    });
                }
            },
        );
    }
    out
}
