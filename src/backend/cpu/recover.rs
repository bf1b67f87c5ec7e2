//! Recovery: from a final-round candidate back to its `2^k` leaf indices, in canonical order.

use std::sync::atomic::AtomicU64;

use super::layout::Layout;
use super::rounds::Candidate;
use super::slot;

/// The leaf indices of a candidate in fluxd's canonical order: at every merge the subtree with
/// the smaller first index goes left.
///
/// # Consensus
/// The ordering rule of fluxd `IsValidSolution` (`src/crypto/equihash.cpp:765-813`, commit
/// 2dfb5046): a left index list must sort before its right sibling's.
pub fn candidate_indices<const W: usize>(
    layout: &Layout,
    heaps: [&[AtomicU64]; 2],
    c: &Candidate,
) -> Vec<u32> {
    let k = layout.layers.len();
    let mut out = vec![0u32; 1 << k];
    let half = out.len() / 2;
    let (left, right) = out.split_at_mut(half);
    collect::<W>(layout, heaps, k - 1, c.bucket as usize, c.slots[0], left);
    collect::<W>(layout, heaps, k - 1, c.bucket as usize, c.slots[1], right);
    order(&mut out);
    out
}

/// Fills `out` with the leaves under the record of `layer` at (`bucket`, `slot_number`).
fn collect<const W: usize>(
    layout: &Layout,
    heaps: [&[AtomicU64]; 2],
    layer: usize,
    bucket: usize,
    slot_number: u32,
    out: &mut [u32],
) {
    let heap = heaps[layer % 2];
    let v = slot::load::<W>(heap, layout.word_index_of(bucket, slot_number));
    let l = layout.layers[layer];
    let field = slot::get_field(&v, l.field_at, l.field_bits);
    if layer == 0 {
        out[0] = field as u32;
        return;
    }
    let sb = layout.slot_bits;
    let slot_mask = (1u64 << sb) - 1;
    let parent = (field >> (2 * sb)) as usize;
    let (a, b) = (
        ((field >> sb) & slot_mask) as u32,
        (field & slot_mask) as u32,
    );
    let half = out.len() / 2;
    let (left, right) = out.split_at_mut(half);
    collect::<W>(layout, heaps, layer - 1, parent, a, left);
    collect::<W>(layout, heaps, layer - 1, parent, b, right);
    order(out);
}

/// Swaps the two halves of `out` when the right one starts with the smaller index.
fn order(out: &mut [u32]) {
    let half = out.len() / 2;
    if out[half] < out[0] {
        let (l, r) = out.split_at_mut(half);
        l.swap_with_slice(r);
    }
}

/// Whether all indices differ.
pub fn all_distinct(indices: &[u32]) -> bool {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).all(|w| w[0] != w[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_smaller_first_index_left() {
        let mut v = vec![9, 3, 1, 7];
        order(&mut v);
        assert_eq!(v, [1, 7, 9, 3]);
        assert!(all_distinct(&v));
        assert!(!all_distinct(&[1, 2, 1, 3]));
    }
}
