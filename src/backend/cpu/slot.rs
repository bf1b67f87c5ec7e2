//! Bit operations on a slot of `W` 64-bit words (word 0 most significant).
//!
//! Hash bits are numbered from the top (MSB first); fields from the bottom (LSB first).

use std::sync::atomic::{AtomicU64, Ordering};

/// A record: `W` words, word 0 holds the most significant bits.
pub type Slot<const W: usize> = [u64; W];

/// Loads a slot starting at word `at`.
#[inline(always)]
pub fn load<const W: usize>(heap: &[AtomicU64], at: usize) -> Slot<W> {
    let words = &heap[at..at + W];
    std::array::from_fn(|i| words[i].load(Ordering::Relaxed))
}

/// Stores a slot starting at word `at`.
#[inline(always)]
pub fn store<const W: usize>(heap: &[AtomicU64], at: usize, v: Slot<W>) {
    let words = &heap[at..at + W];
    for (w, x) in words.iter().zip(v) {
        w.store(x, Ordering::Relaxed);
    }
}

/// Hints the CPU to fetch the cache line holding word `at` (if it exists) into L1.
#[inline(always)]
pub fn prefetch(heap: &[AtomicU64], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(w) = heap.get(at) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        #[allow(unsafe_code)]
        // SAFETY: a prefetch is only a hint: it never faults and never changes memory, and the
        // pointer comes from a live reference anyway.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(w.as_ptr().cast::<i8>());
        }
    }
}

/// A mask with the top `bits` bits set.
pub fn top_mask<const W: usize>(bits: u32) -> Slot<W> {
    std::array::from_fn(|i| {
        let start = 64 * i as u32;
        match bits.saturating_sub(start) {
            0 => 0,
            n if n >= 64 => u64::MAX,
            n => !(u64::MAX >> n),
        }
    })
}

/// A mask with the bottom `bits` bits set.
pub fn low_mask<const W: usize>(bits: u32) -> Slot<W> {
    let mut m = top_mask::<W>((64 * W as u32).saturating_sub(bits));
    for w in m.iter_mut() {
        *w = !*w;
    }
    m
}

/// `a & b`, word by word.
#[inline(always)]
pub fn and<const W: usize>(a: &Slot<W>, b: &Slot<W>) -> Slot<W> {
    std::array::from_fn(|i| a[i] & b[i])
}

/// `a ^ b`, word by word.
#[inline(always)]
pub fn xor<const W: usize>(a: &Slot<W>, b: &Slot<W>) -> Slot<W> {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// Whether every bit is zero.
#[inline(always)]
pub fn is_zero<const W: usize>(a: &Slot<W>) -> bool {
    a.iter().fold(0, |acc, w| acc | w) == 0
}

/// Shifts the whole slot left (towards the top) by `s` bits, `0 < s < 64`.
#[inline(always)]
pub fn shl<const W: usize>(x: &Slot<W>, s: u32) -> Slot<W> {
    std::array::from_fn(|i| {
        let next = if i + 1 < W { x[i + 1] >> (64 - s) } else { 0 };
        (x[i] << s) | next
    })
}

/// ORs `value` (at most `bits ≤ 64` bits wide) into the field at LSB offset `at`.
#[inline(always)]
pub fn set_field<const W: usize>(x: &mut Slot<W>, at: u32, bits: u32, value: u64) {
    debug_assert!(
        bits == 64 || value >> bits == 0,
        "field value wider than its field"
    );
    let (w, off) = (W - 1 - (at / 64) as usize, at % 64);
    x[w] |= value << off;
    if off > 0 && off + bits > 64 {
        x[w - 1] |= value >> (64 - off);
    }
}

/// Reads the `bits ≤ 64` wide field at LSB offset `at`.
#[inline(always)]
pub fn get_field<const W: usize>(x: &Slot<W>, at: u32, bits: u32) -> u64 {
    let (w, off) = (W - 1 - (at / 64) as usize, at % 64);
    let mut v = x[w] >> off;
    if off > 0 && off + bits > 64 {
        v |= x[w - 1] << (64 - off);
    }
    if bits < 64 { v & ((1 << bits) - 1) } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(top_mask::<2>(68), [u64::MAX, 0xf000_0000_0000_0000]);
        assert_eq!(low_mask::<2>(68), [0xf, u64::MAX]);
        assert_eq!(low_mask::<2>(0), [0, 0]);
    }

    #[test]
    fn fields_round_trip_across_word_boundaries() {
        for at in [0u32, 26, 41, 60, 63, 64, 100] {
            for bits in [1u32, 26, 41, 64 - (at % 64).min(1)] {
                if at + bits > 192 {
                    continue;
                }
                let v =
                    0x5555_5555_5555_5555u64 & if bits < 64 { (1 << bits) - 1 } else { u64::MAX };
                let mut x = [0u64; 3];
                set_field(&mut x, at, bits, v);
                assert_eq!(get_field(&x, at, bits), v, "at {at} bits {bits}");
            }
        }
    }

    #[test]
    fn shift_moves_bits_across_words() {
        let x = [0x0000_0000_0000_0001u64, 0x8000_0000_0000_0000];
        assert_eq!(shl(&x, 1), [0x3, 0]);
    }
}
