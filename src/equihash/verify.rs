//! The Equihash solution verifier: the exact rules of fluxd's `IsValidSolution`, in fluxd's order,
//! with an error that names the rule that failed.

use thiserror::Error as ThisError;

use super::blake::HashInput;
use super::leaves::{self, LeafBits, TWIST_GROUP, bits_at};
use super::minimal::indices_from_minimal;
use super::params::Params;

/// Which validity rule a solution broke.
///
/// # Consensus
/// fluxd `IsValidSolution` (`src/crypto/equihash.cpp:765-813`, commit 2dfb5046);
/// `spec/flux-consensus.md` §5.8. At every round the checks run in fluxd's order: collision,
/// ordering, distinct indices. Rounds are numbered 1 to k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum Kind {
    /// The solution is not `2^k · (n/(k+1)+1) / 8` bytes long.
    #[error("solution is {actual} bytes, expected {expected}")]
    SolutionLength {
        /// The length the parameters require.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// Two sibling subtrees do not collide on the round's `n/(k+1)` bits.
    #[error("no collision at round {round}")]
    Collision {
        /// The round, 1 to k.
        round: u32,
    },
    /// A left subtree's index list does not sort before its right sibling's.
    #[error("index tree incorrectly ordered at round {round}")]
    OutOfOrder {
        /// The round, 1 to k.
        round: u32,
    },
    /// An index appears in both sibling subtrees.
    #[error("duplicate indices at round {round}")]
    DuplicateIndices {
        /// The round, 1 to k.
        round: u32,
    },
    /// The XOR of all leaves is not zero in its last `n/(k+1)` bits.
    #[error("root is not zero")]
    NonZeroRoot,
}

/// An invalid Equihash solution. [`Error::kind`] tells which rule failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ThisError)]
#[error("invalid equihash solution ({params}): {kind}")]
pub struct Error {
    params: Params,
    kind: Kind,
}

impl Error {
    /// The rule that failed.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The parameters the solution was checked under.
    pub fn params(&self) -> Params {
        self.params
    }
}

/// Checks a minimally encoded `solution` for `input` (the 140-byte header prefix with the nonce)
/// under `params`.
///
/// # Errors
/// The first rule the solution breaks, in fluxd's order (see [`Kind`]).
///
/// # Consensus
/// fluxd `IsValidSolution` (`src/crypto/equihash.cpp:765-813`, commit 2dfb5046).
pub fn is_valid_solution(params: &Params, input: &[u8], solution: &[u8]) -> Result<(), Error> {
    let fail = |kind| {
        Err(Error {
            params: *params,
            kind,
        })
    };
    let Some(indices) = indices_from_minimal(params, solution) else {
        return fail(Kind::SolutionLength {
            expected: params.solution_len(),
            actual: solution.len(),
        });
    };
    let hash_input = HashInput::new(params, input);
    let leaves = leaf_values(params, &hash_input, &indices);
    match check_tree(params, &indices, leaves) {
        Ok(()) => Ok(()),
        Err(kind) => fail(kind),
    }
}

/// Checks a solution given as indices (already unpacked) for a prepared [`HashInput`].
///
/// # Errors
/// As [`is_valid_solution`].
pub fn is_valid_indices(params: &Params, input: &HashInput, indices: &[u32]) -> Result<(), Error> {
    let fail = |kind| {
        Err(Error {
            params: *params,
            kind,
        })
    };
    if indices.len() != params.solution_indices()
        || indices.iter().any(|&i| u64::from(i) >= params.leaf_count())
    {
        return fail(Kind::SolutionLength {
            expected: params.solution_len(),
            actual: indices.len() * params.index_bits() as usize / 8,
        });
    }
    match check_tree(params, indices, leaf_values(params, input, indices)) {
        Ok(()) => Ok(()),
        Err(kind) => fail(kind),
    }
}

/// Computes every leaf value, sharing digests (and twist groups) between indices.
fn leaf_values(params: &Params, input: &HashInput, indices: &[u32]) -> Vec<LeafBits> {
    let per = params.leaves_per_hash();
    if !params.twist() {
        return indices
            .iter()
            .map(|&i| leaves::leaf_bits_scalar(params, input, i))
            .collect();
    }
    // With the twist a digest depends on its whole group of 16: hash each needed group once.
    let mut groups: Vec<(u32, leaves::DigestGroup)> = Vec::new();
    indices
        .iter()
        .map(|&i| {
            let g = i / per;
            let base = g - g % TWIST_GROUP;
            let pos = match groups.iter().position(|(b, _)| *b == base) {
                Some(p) => p,
                None => {
                    groups.push((base, leaves::digest_group(params, input, base)));
                    groups.len() - 1
                }
            };
            leaves::leaf_bits(params, &groups[pos].1[(g - base) as usize], i % per)
        })
        .collect()
}

/// The tree rules over leaf values, level by level as fluxd does them.
fn check_tree(params: &Params, indices: &[u32], mut rows: Vec<LeafBits>) -> Result<(), Kind> {
    let c = params.collision_bits();
    let all_distinct = {
        let mut sorted = indices.to_vec();
        sorted.sort_unstable();
        sorted.windows(2).all(|w| w[0] != w[1])
    };
    let mut width = 1;
    for round in 1..=params.k() {
        for (m, pair) in indices.chunks_exact(2 * width).enumerate() {
            let (left, right) = pair.split_at(width);
            let (a, b) = (&rows[2 * m], &rows[2 * m + 1]);
            if bits_at(a, (round - 1) * c, c) != bits_at(b, (round - 1) * c, c) {
                return Err(Kind::Collision { round });
            }
            if left >= right {
                return Err(Kind::OutOfOrder { round });
            }
            if !all_distinct && left.iter().any(|x| right.contains(x)) {
                return Err(Kind::DuplicateIndices { round });
            }
            let merged: LeafBits = std::array::from_fn(|w| a[w] ^ b[w]);
            rows[m] = merged;
        }
        rows.truncate(rows.len() / 2);
        width *= 2;
    }
    if bits_at(&rows[0], params.k() * c, c) != 0 {
        return Err(Kind::NonZeroRoot);
    }
    Ok(())
}
