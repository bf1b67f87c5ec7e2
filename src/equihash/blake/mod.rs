//! Personalized BLAKE2b over the Equihash input: the scalar path (blake2b_simd, cloned state)
//! and a multi-lane path that hashes many counters per SIMD pass from one midstate.
//!
//! Every Equihash digest is `BLAKE2b(input ‖ LE32(g))` for a counter `g`. The input is the same
//! for all `2^(c+1) / (512/n)` counters of a nonce, so everything before the block holding the
//! counter is compressed once (the *midstate*) and each digest costs one compression. The
//! multi-lane path runs that last compression for `L` counters at once on `[u64; L]` lanes, which
//! the compiler turns into AVX-512 or AVX2 code; it is checked against blake2b_simd in tests.

use super::params::Params;

/// Expands the 12 BLAKE2b rounds over vectors, given the vector operations.
///
/// `$m` maps a message word number to its vector; the compiler folds the constant zero words.
macro_rules! blake_rounds {
    ($v:ident, $m:ident, $add:ident, $xor:ident, $r32:ident, $r24:ident, $r16:ident, $r63:ident) => {{
        macro_rules! g {
            ($a:expr, $b:expr, $c:expr, $d:expr, $x:expr, $y:expr) => {
                $v[$a] = $add($add($v[$a], $v[$b]), $m($x));
                $v[$d] = $r32($xor($v[$d], $v[$a]));
                $v[$c] = $add($v[$c], $v[$d]);
                $v[$b] = $r24($xor($v[$b], $v[$c]));
                $v[$a] = $add($add($v[$a], $v[$b]), $m($y));
                $v[$d] = $r16($xor($v[$d], $v[$a]));
                $v[$c] = $add($v[$c], $v[$d]);
                $v[$b] = $r63($xor($v[$b], $v[$c]));
            };
        }
        macro_rules! round {
            ($r:expr) => {
                let s = &SIGMA[$r];
                g!(0, 4, 8, 12, s[0], s[1]);
                g!(1, 5, 9, 13, s[2], s[3]);
                g!(2, 6, 10, 14, s[4], s[5]);
                g!(3, 7, 11, 15, s[6], s[7]);
                g!(0, 5, 10, 15, s[8], s[9]);
                g!(1, 6, 11, 12, s[10], s[11]);
                g!(2, 7, 8, 13, s[12], s[13]);
                g!(3, 4, 9, 14, s[14], s[15]);
            };
        }
        round!(0);
        round!(1);
        round!(2);
        round!(3);
        round!(4);
        round!(5);
        round!(6);
        round!(7);
        round!(8);
        round!(9);
        round!(10);
        round!(11);
    }};
}

/// BLAKE2b initialization vector.
pub(crate) const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// BLAKE2b message schedule.
pub(crate) const SIGMA: [[usize; 16]; 12] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

/// Counters hashed per call of [`HashInput::hash_lanes`].
pub const LANES: usize = 8;

/// One BLAKE2b digest: up to 64 bytes, `len` of them used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    bytes: [u8; 64],
    len: usize,
}

impl Digest {
    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Builds a digest from the eight output words of a BLAKE2b state (little-endian).
    pub fn from_state_words(words: &[u64; 8], len: usize) -> Digest {
        let mut bytes = [0u8; 64];
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        Digest { bytes, len }
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({})", hex::encode(self.as_bytes()))
    }
}

/// The hashing state for one Equihash input: a blake2b_simd state that has absorbed the input
/// (for the scalar path) and our own midstate plus final-block template (for the lane path).
#[derive(Clone)]
pub struct HashInput {
    digest_len: usize,
    simd_state: blake2b_simd::State,
    pub(crate) lanes: Option<LaneMidstate>,
}

/// Midstate and final-block template for the multi-lane path.
#[derive(Clone, Copy)]
pub(crate) struct LaneMidstate {
    pub(crate) h: [u64; 8],
    /// Message words of the final block with the counter bytes zero.
    pub(crate) template: [u64; 16],
    /// Byte offset of the counter inside the final block.
    pub(crate) counter_at: usize,
    /// Total message length in bytes (`input.len() + 4`).
    pub(crate) total_len: u64,
    /// The final block is 12 input bytes and the counter (the 140-byte Equihash input): only
    /// message words 0 and 1 are non-zero, which [`final_lanes_sparse`] exploits.
    pub(crate) sparse: bool,
}

impl HashInput {
    /// Absorbs `input` under the BLAKE2b parameters of `params`.
    ///
    /// # Consensus
    /// fluxd `Equihash::InitialiseState` (`src/crypto/equihash.cpp:33-50`, commit 2dfb5046):
    /// unkeyed, fanout 1, depth 1, digest length [`Params::digest_len`], personalization
    /// [`Params::blake2b_personal`].
    pub fn new(params: &Params, input: &[u8]) -> HashInput {
        let digest_len = params.digest_len();
        let personal = params.blake2b_personal();
        let mut simd_state = blake2b_simd::Params::new()
            .hash_length(digest_len)
            .personal(&personal)
            .to_state();
        simd_state.update(input);
        let lanes = LaneMidstate::new(digest_len, &personal, input);
        HashInput {
            digest_len,
            simd_state,
            lanes,
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(&self) -> usize {
        self.digest_len
    }

    /// `BLAKE2b(input ‖ LE32(g))` through blake2b_simd (the reference path).
    pub fn hash(&self, g: u32) -> Digest {
        let mut state = self.simd_state.clone();
        state.update(&g.to_le_bytes());
        let out = state.finalize();
        let mut bytes = [0u8; 64];
        bytes[..self.digest_len].copy_from_slice(out.as_bytes());
        Digest {
            bytes,
            len: self.digest_len,
        }
    }

    /// The output words (little-endian) of `BLAKE2b(input ‖ LE32(g0 + j))` for `j < LANES`.
    ///
    /// Words past the digest length are whatever BLAKE2b's state holds there; callers use only
    /// the first [`HashInput::digest_len`] bytes.
    pub fn hash_lanes(&self, g0: u32) -> [[u64; 8]; LANES] {
        match &self.lanes {
            Some(mid) => mid.hash8(g0),
            None => std::array::from_fn(|j| {
                let d = self.hash(g0.wrapping_add(j as u32));
                let mut w = [0u64; 8];
                for (i, word) in w.iter_mut().enumerate() {
                    *word =
                        u64::from_le_bytes(d.bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"));
                }
                w
            }),
        }
    }
}

impl LaneMidstate {
    /// Compresses every block before the one holding the counter. Returns `None` when the
    /// counter would straddle two blocks (input lengths 125–127 mod 128), which then use the
    /// scalar path.
    fn new(digest_len: usize, personal: &[u8; 16], input: &[u8]) -> Option<LaneMidstate> {
        let total = input.len() + 4;
        let prefix_blocks = (total - 1) / 128;
        let final_start = prefix_blocks * 128;
        if input.len() < final_start {
            return None;
        }
        let mut h = IV;
        h[0] ^= 0x0101_0000 ^ digest_len as u64;
        h[6] ^= u64::from_le_bytes(personal[..8].try_into().expect("8 bytes"));
        h[7] ^= u64::from_le_bytes(personal[8..].try_into().expect("8 bytes"));
        for (b, block) in input[..final_start].chunks_exact(128).enumerate() {
            let m: [[u64; 1]; 16] = std::array::from_fn(|i| {
                [u64::from_le_bytes(
                    block[8 * i..8 * i + 8].try_into().expect("8 bytes"),
                )]
            });
            let hv = h.map(|x| [x]);
            h = compress::<1>(&hv, &m, (b as u64 + 1) * 128, false).map(|x| x[0]);
        }
        let mut tail = [0u8; 128];
        tail[..input.len() - final_start].copy_from_slice(&input[final_start..]);
        let template = std::array::from_fn(|i| {
            u64::from_le_bytes(tail[8 * i..8 * i + 8].try_into().expect("8 bytes"))
        });
        let counter_at = input.len() - final_start;
        Some(LaneMidstate {
            h,
            template,
            counter_at,
            total_len: total as u64,
            sparse: counter_at == 12,
        })
    }

    /// The final block for `LANES` counters starting at `g0`, through the widest SIMD available.
    fn hash8(&self, g0: u32) -> [[u64; 8]; LANES] {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                return x86::final8_avx512(self, g0);
            }
            if std::is_x86_feature_detected!("avx2") {
                return x86::final8_avx2(self, g0);
            }
        }
        if self.sparse {
            final_lanes_sparse::<LANES>(self, g0)
        } else {
            final_lanes::<LANES>(self, g0)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86;

/// Runs the final compression for `L` consecutive counters and returns each lane's 8 state
/// words.
#[inline(always)]
pub(crate) fn final_lanes<const L: usize>(mid: &LaneMidstate, g0: u32) -> [[u64; 8]; L] {
    let mut m: [[u64; L]; 16] = std::array::from_fn(|i| [mid.template[i]; L]);
    let word = mid.counter_at / 8;
    let shift = 8 * (mid.counter_at % 8) as u32;
    for (l, g) in (0..L).map(|l| (l, u64::from(g0.wrapping_add(l as u32)))) {
        m[word][l] |= g << shift;
        if shift > 32 {
            m[word + 1][l] |= g >> (64 - shift);
        }
    }
    let h: [[u64; L]; 8] = std::array::from_fn(|i| [mid.h[i]; L]);
    let out = compress::<L>(&h, &m, mid.total_len, true);
    std::array::from_fn(|l| std::array::from_fn(|i| out[i][l]))
}

/// [`final_lanes`] for the 140-byte input: message words 2 to 15 are the constant zero, so the
/// compiler drops their additions (about 15 % of the compression).
#[inline(always)]
pub(crate) fn final_lanes_sparse<const L: usize>(mid: &LaneMidstate, g0: u32) -> [[u64; 8]; L] {
    let mut m: [[u64; L]; 16] = [[0; L]; 16];
    m[0] = [mid.template[0]; L];
    m[1] = std::array::from_fn(|l| mid.template[1] | u64::from(g0.wrapping_add(l as u32)) << 32);
    let h: [[u64; L]; 8] = std::array::from_fn(|i| [mid.h[i]; L]);
    let out = compress::<L>(&h, &m, mid.total_len, true);
    std::array::from_fn(|l| std::array::from_fn(|i| out[i][l]))
}

/// One BLAKE2b compression on `L` independent lanes.
#[inline(always)]
fn compress<const L: usize>(
    h: &[[u64; L]; 8],
    m: &[[u64; L]; 16],
    counter: u64,
    last: bool,
) -> [[u64; L]; 8] {
    let mut v: [[u64; L]; 16] = [[0; L]; 16];
    v[..8].copy_from_slice(h);
    for i in 0..8 {
        v[8 + i] = [IV[i]; L];
    }
    xor_splat(&mut v[12], counter);
    if last {
        xor_splat(&mut v[14], u64::MAX);
    }
    let add =
        |a: [u64; L], b: [u64; L]| -> [u64; L] { std::array::from_fn(|l| a[l].wrapping_add(b[l])) };
    let xor = |a: [u64; L], b: [u64; L]| -> [u64; L] { std::array::from_fn(|l| a[l] ^ b[l]) };
    let r32 = |a: [u64; L]| a.map(|x| x.rotate_right(32));
    let r24 = |a: [u64; L]| a.map(|x| x.rotate_right(24));
    let r16 = |a: [u64; L]| a.map(|x| x.rotate_right(16));
    let r63 = |a: [u64; L]| a.map(|x| x.rotate_right(63));
    let msg = |i: usize| m[i];
    blake_rounds!(v, msg, add, xor, r32, r24, r16, r63);
    std::array::from_fn(|i| std::array::from_fn(|l| h[i][l] ^ v[i][l] ^ v[i + 8][l]))
}

#[inline(always)]
fn xor_splat<const L: usize>(x: &mut [u64; L], c: u64) {
    for e in x.iter_mut() {
        *e ^= c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane_digest(words: &[u64; 8], len: usize) -> Vec<u8> {
        Digest::from_state_words(words, len).as_bytes().to_vec()
    }

    #[test]
    fn lanes_match_blake2b_simd_for_every_param_set_and_input_length() {
        let sets = [
            Params::ZELHASH,
            Params::EH200_9,
            Params::EH144_5,
            Params::EH48_5,
            Params::EH96_5,
        ];
        for p in sets {
            for len in [0usize, 1, 100, 123, 124, 128, 140, 200, 252, 300] {
                let input: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let hi = HashInput::new(&p, &input);
                for g0 in [0u32, 8, 1 << 20, u32::MAX - 3] {
                    let lanes = hi.hash_lanes(g0);
                    for (j, w) in lanes.iter().enumerate() {
                        let g = g0.wrapping_add(j as u32);
                        assert_eq!(
                            lane_digest(w, p.digest_len()),
                            hi.hash(g).as_bytes(),
                            "{p} len {len} g {g}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn scalar_path_is_personalized_blake2b() {
        let p = Params::ZELHASH;
        let input = [0x5au8; 140];
        let mut msg = input.to_vec();
        msg.extend_from_slice(&7u32.to_le_bytes());
        let want = blake2b_simd::Params::new()
            .hash_length(64)
            .personal(b"ZelProof\x7d\x00\x00\x00\x04\x00\x00\x00")
            .hash(&msg);
        assert_eq!(
            HashInput::new(&p, &input).hash(7).as_bytes(),
            want.as_bytes()
        );
    }
}
