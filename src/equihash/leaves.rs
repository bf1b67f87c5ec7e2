//! Leaf generation: digests (with the ZelHash twist where the parameters ask for it) and the
//! extraction of each leaf's `n`-bit value.

use super::blake::{Digest, HashInput, LANES};
use super::params::Params;

/// Counters per twist group: the ZelHash prefix sum restarts every 16 counters.
pub const TWIST_GROUP: u32 = 16;

/// Digest state words (little-endian) for one aligned group of [`TWIST_GROUP`] counters.
pub type DigestGroup = [[u64; 8]; TWIST_GROUP as usize];

/// Adds two words as two independent wrapping little-endian `u32` lanes.
#[inline(always)]
fn add_u32x2(a: u64, b: u64) -> u64 {
    const LO: u64 = 0xffff_ffff;
    (a.wrapping_add(b & LO) & LO) | ((a & !LO).wrapping_add(b & !LO))
}

/// Clears the low 3 bits of bytes 15, 31, 47 and 63 (the top byte of every odd word).
const TWIST_MASK: u64 = !(0x07 << 56);

/// Applies the twist in place to 16 consecutive digests `B(base) … B(base+15)`, turning them into
/// `D(base) … D(base+15)`.
///
/// # Consensus
/// fluxd `GenerateHash` for (125,4) (`src/crypto/equihash.cpp:52-89`, commit 2dfb5046);
/// `spec/flux-consensus.md` §5.6: an inclusive prefix sum of little-endian `u32` words inside each
/// aligned group of 16 counters, then `AND 0xF8` on bytes 15, 31, 47 and 63.
pub fn twist_group(group: &mut DigestGroup) {
    for j in 1..group.len() {
        let prev = group[j - 1];
        for (w, p) in group[j].iter_mut().zip(prev) {
            *w = add_u32x2(*w, p);
        }
    }
    for d in group.iter_mut() {
        for w in [1, 3, 5, 7] {
            d[w] &= TWIST_MASK;
        }
    }
}

/// The leaf digests for the aligned group of 16 counters starting at `base` (a multiple of 16):
/// twisted when `params.twist()`, plain otherwise.
#[inline(never)]
pub fn digest_group(params: &Params, input: &HashInput, base: u32) -> DigestGroup {
    debug_assert_eq!(base % TWIST_GROUP, 0);
    let mut group = [[0u64; 8]; TWIST_GROUP as usize];
    for (j, chunk) in group.chunks_exact_mut(LANES).enumerate() {
        chunk.copy_from_slice(&input.hash_lanes(base + (j * LANES) as u32));
    }
    if params.twist() {
        twist_group(&mut group);
    }
    group
}

/// The leaf digest for counter `g` through the scalar path: `B(g)`, or `D(g)` with the twist.
pub fn leaf_digest(params: &Params, input: &HashInput, g: u32) -> Digest {
    if !params.twist() {
        return input.hash(g);
    }
    let base = g - g % TWIST_GROUP;
    let mut acc = [0u64; 8];
    for j in base..=g {
        let d = input.hash(j);
        for (w, chunk) in acc.iter_mut().zip(d.as_bytes().chunks_exact(8)) {
            *w = add_u32x2(*w, u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
    }
    for w in [1, 3, 5, 7] {
        acc[w] &= TWIST_MASK;
    }
    Digest::from_state_words(&acc, input.digest_len())
}

/// Up to 512 leaf bits, most significant first: bit 0 of the leaf is the top bit of word 0.
pub type LeafBits = [u64; 8];

/// The `n`-bit value of the leaf in slice `slice` of a digest given as little-endian state words,
/// most significant bit first, zero past bit `n`.
///
/// # Consensus
/// fluxd `ExpandArray` in `IsValidSolution` (`src/crypto/equihash.cpp:765-813`, commit 2dfb5046):
/// the first `n` bits of the slice in big-endian bit order.
pub fn leaf_bits(params: &Params, digest_words: &[u64; 8], slice: u32) -> LeafBits {
    let mut bytes = [0u8; 64];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(digest_words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    let len = params.slice_len();
    let start = slice as usize * len;
    let mut padded = [0u8; 64];
    padded[..len].copy_from_slice(&bytes[start..start + len]);
    let mut out = [0u64; 8];
    for (w, chunk) in out.iter_mut().zip(padded.chunks_exact(8)) {
        *w = u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
    }
    mask_to(&mut out, params.n());
    out
}

/// Zeroes every bit at position `bits` and beyond (MSB-first numbering).
pub fn mask_to(words: &mut [u64], bits: u32) {
    for (i, w) in words.iter_mut().enumerate() {
        let start = 64 * i as u32;
        if start >= bits {
            *w = 0;
        } else if bits - start < 64 {
            *w &= !(u64::MAX >> (bits - start));
        }
    }
}

/// Reads `len ≤ 32` bits starting at bit `pos` (MSB-first numbering) of `words`.
#[inline]
pub fn bits_at(words: &[u64], pos: u32, len: u32) -> u32 {
    debug_assert!(len <= 32);
    let (w, off) = ((pos / 64) as usize, pos % 64);
    let hi = words[w] << off;
    let lo = if off > 0 && w + 1 < words.len() {
        words[w + 1] >> (64 - off)
    } else {
        0
    };
    ((hi | lo) >> (64 - len)) as u32
}

/// Computes leaf `index` the slow, obviously correct way: one scalar digest (and up to 15 more for
/// the twist) through blake2b_simd.
pub fn leaf_bits_scalar(params: &Params, input: &HashInput, index: u32) -> LeafBits {
    let per = params.leaves_per_hash();
    let d = leaf_digest(params, input, index / per);
    let mut words = [0u64; 8];
    for (w, chunk) in words.iter_mut().zip(d.as_bytes().chunks(8)) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        *w = u64::from_le_bytes(b);
    }
    leaf_bits(params, &words, index % per)
}

/// The expanded row of a leaf as in the test vectors: `k+1` chunks of `n/(k+1)` bits, each
/// right-aligned in a big-endian `⌈c/8⌉`-byte field.
pub fn expanded_row(params: &Params, leaf: &LeafBits) -> Vec<u8> {
    let c = params.collision_bits();
    let width = c.div_ceil(8) as usize;
    let mut out = Vec::with_capacity(width * (params.k() as usize + 1));
    for j in 0..=params.k() {
        let v = bits_at(leaf, j * c, c);
        out.extend_from_slice(&v.to_be_bytes()[4 - width..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_add_is_two_wrapping_u32_adds() {
        let a = 0xffff_ffff_0000_0001u64;
        let b = 0x0000_0002_ffff_ffffu64;
        assert_eq!(add_u32x2(a, b), 0x0000_0001_0000_0000);
    }

    #[test]
    fn lane_group_equals_scalar_twist() {
        let p = Params::ZELHASH;
        let input: Vec<u8> = (0..140u8).collect();
        let hi = HashInput::new(&p, &input);
        for base in [0u32, 16, 4096] {
            let group = digest_group(&p, &hi, base);
            for (j, words) in group.iter().enumerate() {
                let want = leaf_digest(&p, &hi, base + j as u32);
                assert_eq!(Digest::from_state_words(words, 64), want);
            }
        }
    }

    #[test]
    fn bits_at_crosses_word_boundaries() {
        let w = [0x0123_4567_89ab_cdefu64, 0xfedc_ba98_7654_3210];
        assert_eq!(bits_at(&w, 0, 8), 0x01);
        assert_eq!(bits_at(&w, 60, 8), 0xff);
        assert_eq!(bits_at(&w, 56, 16), 0xeffe);
        assert_eq!(bits_at(&w, 100, 28), 0x654_3210);
    }
}
