//! The final BLAKE2b compression for 8 counters at once, written with explicit AVX-512 and AVX2
//! intrinsics for the 140-byte Equihash input (message words 2–15 are zero). Chosen at run time;
//! anything else goes through the portable lane code in the parent module.

#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{IV, LANES, LaneMidstate, SIGMA, final_lanes};

/// Eight counters through AVX-512F (one counter per 64-bit lane of a zmm register).
pub(super) fn final8_avx512(mid: &LaneMidstate, g0: u32) -> [[u64; 8]; LANES] {
    // SAFETY: the only caller checked `is_x86_feature_detected!("avx512f")`.
    unsafe { avx512(mid, g0) }
}

#[target_feature(enable = "avx512f")]
fn avx512(mid: &LaneMidstate, g0: u32) -> [[u64; 8]; LANES] {
    if !mid.sparse {
        return final_lanes::<LANES>(mid, g0);
    }
    let splat = |x: u64| _mm512_set1_epi64(x as i64);
    let counters = _mm512_add_epi64(
        splat(u64::from(g0)),
        _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
    );
    let counters = _mm512_and_epi64(counters, splat(0xffff_ffff));
    let m0 = splat(mid.template[0]);
    let m1 = _mm512_or_epi64(splat(mid.template[1]), _mm512_slli_epi64::<32>(counters));
    let zero = _mm512_setzero_si512();
    let m = |i: usize| match i {
        0 => m0,
        1 => m1,
        _ => zero,
    };
    let h: [__m512i; 8] = std::array::from_fn(|i| splat(mid.h[i]));
    let mut v: [__m512i; 16] = std::array::from_fn(|i| if i < 8 { h[i] } else { splat(IV[i - 8]) });
    v[12] = _mm512_xor_epi64(v[12], splat(mid.total_len));
    v[14] = _mm512_xor_epi64(v[14], splat(u64::MAX));
    let add = |a, b| _mm512_add_epi64(a, b);
    let xor = |a, b| _mm512_xor_epi64(a, b);
    let r32 = |a| _mm512_ror_epi64::<32>(a);
    let r24 = |a| _mm512_ror_epi64::<24>(a);
    let r16 = |a| _mm512_ror_epi64::<16>(a);
    let r63 = |a| _mm512_ror_epi64::<63>(a);
    blake_rounds!(v, m, add, xor, r32, r24, r16, r63);
    let words: [[u64; 8]; 8] = std::array::from_fn(|i| {
        let w = _mm512_xor_epi64(h[i], _mm512_xor_epi64(v[i], v[i + 8]));
        // SAFETY: `__m512i` and `[u64; 8]` have the same size and every bit pattern is valid.
        unsafe { std::mem::transmute::<__m512i, [u64; 8]>(w) }
    });
    transpose(&words)
}

/// Eight counters through AVX2, as two groups of four lanes.
pub(super) fn final8_avx2(mid: &LaneMidstate, g0: u32) -> [[u64; 8]; LANES] {
    // SAFETY: the only caller checked `is_x86_feature_detected!("avx2")`.
    unsafe { avx2(mid, g0) }
}

#[target_feature(enable = "avx2")]
fn avx2(mid: &LaneMidstate, g0: u32) -> [[u64; 8]; LANES] {
    if !mid.sparse {
        return final_lanes::<LANES>(mid, g0);
    }
    let a = avx2_4(mid, g0);
    let b = avx2_4(mid, g0.wrapping_add(4));
    let mut words = [[0u64; 8]; 8];
    for i in 0..8 {
        words[i][..4].copy_from_slice(&a[i]);
        words[i][4..].copy_from_slice(&b[i]);
    }
    transpose(&words)
}

/// Four counters; returns word-major output `[word][lane]`.
#[target_feature(enable = "avx2")]
fn avx2_4(mid: &LaneMidstate, g0: u32) -> [[u64; 4]; 8] {
    let splat = |x: u64| _mm256_set1_epi64x(x as i64);
    let g = |l: u32| i64::from(g0.wrapping_add(l));
    let counters = _mm256_set_epi64x(g(3), g(2), g(1), g(0));
    let m0 = splat(mid.template[0]);
    let m1 = _mm256_or_si256(splat(mid.template[1]), _mm256_slli_epi64::<32>(counters));
    let zero = _mm256_setzero_si256();
    let m = |i: usize| match i {
        0 => m0,
        1 => m1,
        _ => zero,
    };
    let h: [__m256i; 8] = std::array::from_fn(|i| splat(mid.h[i]));
    let mut v: [__m256i; 16] = std::array::from_fn(|i| if i < 8 { h[i] } else { splat(IV[i - 8]) });
    v[12] = _mm256_xor_si256(v[12], splat(mid.total_len));
    v[14] = _mm256_xor_si256(v[14], splat(u64::MAX));
    let rot24 = _mm256_setr_epi8(
        3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13,
        14, 15, 8, 9, 10,
    );
    let rot16 = _mm256_setr_epi8(
        2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12,
        13, 14, 15, 8, 9,
    );
    let add = |a, b| _mm256_add_epi64(a, b);
    let xor = |a, b| _mm256_xor_si256(a, b);
    let r32 = |a| _mm256_shuffle_epi32::<0b10_11_00_01>(a);
    let r24 = |a| _mm256_shuffle_epi8(a, rot24);
    let r16 = |a| _mm256_shuffle_epi8(a, rot16);
    let r63 = |a| _mm256_or_si256(_mm256_srli_epi64::<63>(a), _mm256_add_epi64(a, a));
    blake_rounds!(v, m, add, xor, r32, r24, r16, r63);
    std::array::from_fn(|i| {
        let w = _mm256_xor_si256(h[i], _mm256_xor_si256(v[i], v[i + 8]));
        // SAFETY: `__m256i` and `[u64; 4]` have the same size and every bit pattern is valid.
        unsafe { std::mem::transmute::<__m256i, [u64; 4]>(w) }
    })
}

/// Word-major `[word][lane]` to lane-major `[lane][word]`.
#[inline(always)]
fn transpose(words: &[[u64; 8]; 8]) -> [[u64; 8]; LANES] {
    std::array::from_fn(|l| std::array::from_fn(|i| words[i][l]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equihash::{Params, blake::HashInput};

    /// Each SIMD path the CPU has, and the portable one, against blake2b_simd.
    #[test]
    fn every_path_matches_blake2b_simd() {
        let p = Params::ZELHASH;
        let input: Vec<u8> = (0..140u32).map(|i| (i * 13 + 1) as u8).collect();
        let hi = HashInput::new(&p, &input);
        let mid = hi.lanes.expect("140-byte inputs have a midstate");
        assert!(mid.sparse);
        type Path = fn(&LaneMidstate, u32) -> [[u64; 8]; LANES];
        let mut paths: Vec<(&str, Path)> = vec![("portable", |m, g| {
            super::super::final_lanes_sparse::<LANES>(m, g)
        })];
        if std::is_x86_feature_detected!("avx2") {
            paths.push(("avx2", final8_avx2));
        }
        if std::is_x86_feature_detected!("avx512f") {
            paths.push(("avx512", final8_avx512));
        }
        for (name, f) in paths {
            for g0 in [0u32, 8, 123_456, u32::MAX - 5] {
                for (j, words) in f(&mid, g0).iter().enumerate() {
                    let want = hi.hash(g0.wrapping_add(j as u32));
                    assert_eq!(
                        super::super::Digest::from_state_words(words, 64),
                        want,
                        "{name} g0 {g0} lane {j}"
                    );
                }
            }
        }
    }
}
