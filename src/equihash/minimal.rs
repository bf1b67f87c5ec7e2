//! Minimal solution encoding: `2^k` indices of `n/(k+1)+1` bits as one big-endian bit stream.

use super::params::Params;

/// Unpacks a minimally encoded solution into its `2^k` indices.
///
/// Returns `None` when `bytes` is not exactly [`Params::solution_len`] long.
///
/// # Consensus
/// fluxd `GetIndicesFromMinimal` (`src/crypto/equihash.cpp:137-239`, commit 2dfb5046): the first
/// index occupies the most significant bits of byte 0, with no padding between indices.
pub fn indices_from_minimal(params: &Params, bytes: &[u8]) -> Option<Vec<u32>> {
    if bytes.len() != params.solution_len() {
        return None;
    }
    let width = params.index_bits();
    let mask = (1u64 << width) - 1;
    let mut out = Vec::with_capacity(params.solution_indices());
    let (mut acc, mut acc_bits) = (0u64, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u64::from(b);
        acc_bits += 8;
        if acc_bits >= width {
            acc_bits -= width;
            out.push(((acc >> acc_bits) & mask) as u32);
        }
    }
    Some(out)
}

/// Packs `indices` into the minimal encoding, or `None` when they are not `2^k` indices of
/// `n/(k+1)+1` bits each (a backend's output that cannot be a solution).
pub fn try_minimal_from_indices(params: &Params, indices: &[u32]) -> Option<Vec<u8>> {
    let fits = indices.len() == params.solution_indices()
        && indices.iter().all(|&i| u64::from(i) < params.leaf_count());
    fits.then(|| minimal_from_indices(params, indices))
}

/// Packs `2^k` indices into the minimal encoding.
///
/// # Panics
/// If `indices.len()` is not `2^k` or an index does not fit in `n/(k+1)+1` bits: callers build
/// index lists from the solver or from [`indices_from_minimal`], which guarantee both.
pub fn minimal_from_indices(params: &Params, indices: &[u32]) -> Vec<u8> {
    assert_eq!(
        indices.len(),
        params.solution_indices(),
        "one index per leaf of the tree"
    );
    let width = params.index_bits();
    let mut out = Vec::with_capacity(params.solution_len());
    let (mut acc, mut acc_bits) = (0u64, 0u32);
    for &i in indices {
        assert!(
            u64::from(i) < params.leaf_count(),
            "index {i} out of range for {params}"
        );
        acc = (acc << width) | u64::from(i);
        acc_bits += width;
        while acc_bits >= 8 {
            acc_bits -= 8;
            out.push((acc >> acc_bits) as u8);
        }
    }
    debug_assert_eq!(acc_bits, 0, "2^k · (c+1) is a multiple of 8 for k ≥ 3");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_param_set() {
        for p in [
            Params::ZELHASH,
            Params::EH200_9,
            Params::EH144_5,
            Params::EH96_5,
            Params::EH48_5,
        ] {
            let max = p.leaf_count() as u32 - 1;
            let idx: Vec<u32> = (0..p.solution_indices() as u32)
                .map(|i| (i.wrapping_mul(2654435761)) & max)
                .collect();
            let bytes = minimal_from_indices(&p, &idx);
            assert_eq!(bytes.len(), p.solution_len());
            assert_eq!(indices_from_minimal(&p, &bytes).unwrap(), idx, "{p}");
        }
    }

    #[test]
    fn wrong_length_is_refused() {
        assert_eq!(indices_from_minimal(&Params::ZELHASH, &[0u8; 51]), None);
        assert_eq!(indices_from_minimal(&Params::ZELHASH, &[0u8; 53]), None);
    }

    #[test]
    fn first_index_sits_in_the_top_bits() {
        let mut idx = vec![0u32; 16];
        idx[0] = (1 << 25) | 1; // top bit and bottom bit of a 26-bit index
        let bytes = minimal_from_indices(&Params::ZELHASH, &idx);
        assert_eq!(bytes[0], 0x80);
        assert_eq!(bytes[3], 0x40); // bit 25 of the stream, MSB first
    }
}
