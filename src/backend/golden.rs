//! Known answers every solver checks itself against ([`crate::backend::Solver::self_test`])
//! before `bench` reports a speed or `mine` submits a share: real blocks' inputs and the solutions
//! a correct solver must find. The data are the committed test vectors (see
//! `tests/vectors/README.md` for their sources), embedded at build time.

use serde_json::Value;
use thiserror::Error;

use crate::equihash::{self, Params};

/// Why a golden check failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GoldenError {
    /// An embedded vector could not be read (a build defect).
    #[error("embedded vector {name}: {what}")]
    Vector {
        /// The vector.
        name: &'static str,
        /// What is wrong with it.
        what: String,
    },
    /// The solver returned a solution the verifier rejects.
    #[error("{name}: the solver returned an invalid solution: {source}")]
    Invalid {
        /// The golden case.
        name: &'static str,
        /// The verifier's reason.
        source: equihash::Error,
    },
    /// A known solution was not found.
    #[error("{name}: a known solution was not found ({found} found)")]
    Missing {
        /// The golden case.
        name: &'static str,
        /// Solutions returned.
        found: usize,
    },
    /// More solutions than the exact set.
    #[error("{name}: found {found} solutions, expected exactly {expected}")]
    Extra {
        /// The golden case.
        name: &'static str,
        /// Solutions returned.
        found: usize,
        /// Solutions expected.
        expected: usize,
    },
}

const BLOCK_400000: &str = include_str!("../../tests/vectors/mainnet_block_400000_zelhash.json");
const GENESIS_MAINNET: &str = include_str!("../../tests/vectors/genesis_mainnet.json");
const GENESIS_REGTEST: &str = include_str!("../../tests/vectors/genesis_regtest.json");
const SYNTHETIC_144_5: &str = include_str!("../../tests/vectors/synthetic_equihash_144_5.json");

/// One golden case: an input and solutions that must all be found (in canonical index form).
#[derive(Debug, Clone)]
pub struct Golden {
    /// Where it comes from.
    pub name: &'static str,
    /// The 140-byte Equihash input.
    pub input: Vec<u8>,
    /// Solutions the solver must return, as index lists.
    pub must_find: Vec<Vec<u32>>,
    /// Whether the solver must return exactly these and nothing else.
    pub exact: bool,
}

/// The golden case for `params`, if we hold one.
///
/// # Errors
/// An embedded vector that does not decode (a build defect).
pub fn for_params(params: &Params) -> Result<Option<Golden>, GoldenError> {
    let (name, text, keys, exact): (_, _, &[&str], _) = match *params {
        p if p == Params::ZELHASH => (
            "mainnet block 400000 (ZelHash): exactly its 2 known solutions",
            BLOCK_400000,
            &["solution_hex", "alternative_valid_solution_hex"],
            true,
        ),
        p if p == Params::EH200_9 => (
            "mainnet genesis (200,9)",
            GENESIS_MAINNET,
            &["solution_hex"],
            false,
        ),
        p if p == Params::EH48_5 => (
            "regtest genesis (48,5)",
            GENESIS_REGTEST,
            &["solution_hex"],
            false,
        ),
        p if p == Params::EH144_5 => (
            "synthetic 144,5 vector (fluxd's own solver)",
            SYNTHETIC_144_5,
            &[],
            false,
        ),
        _ => return Ok(None),
    };
    let bad = |what: String| GoldenError::Vector { name, what };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let input = hex_field(&v, "equihash_input_140_hex").map_err(bad)?;
    let mut solutions: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| hex_field(&v, k))
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    if let Some(list) = v["solutions"].as_array() {
        for s in list {
            solutions.push(hex_field(s, "solution_hex").map_err(bad)?);
        }
    }
    let must_find = solutions
        .iter()
        .map(|s| {
            equihash::indices_from_minimal(params, s)
                .ok_or_else(|| bad("solution length".to_string()))
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(Golden {
        name,
        input,
        must_find,
        exact,
    }))
}

fn hex_field(v: &Value, key: &str) -> Result<Vec<u8>, String> {
    let s = v[key].as_str().ok_or_else(|| format!("lacks {key}"))?;
    hex::decode(s).map_err(|e| format!("{key}: {e}"))
}

/// Checks a solver's output for the golden input: every required solution found (and nothing
/// else when `exact`), each valid under the verifier.
///
/// # Errors
/// The first way the output falls short.
pub fn check(g: &Golden, params: &Params, found: &[Vec<u32>]) -> Result<(), GoldenError> {
    for s in found {
        let bytes = equihash::minimal_from_indices(params, s);
        equihash::is_valid_solution(params, &g.input, &bytes).map_err(|source| {
            GoldenError::Invalid {
                name: g.name,
                source,
            }
        })?;
    }
    if g.must_find.iter().any(|want| !found.contains(want)) {
        return Err(GoldenError::Missing {
            name: g.name,
            found: found.len(),
        });
    }
    if g.exact && found.len() != g.must_find.len() {
        return Err(GoldenError::Extra {
            name: g.name,
            found: found.len(),
            expected: g.must_find.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_cases_load() {
        let z = for_params(&Params::ZELHASH).unwrap().unwrap();
        assert_eq!((z.input.len(), z.must_find.len(), z.exact), (140, 2, true));
        assert_eq!(
            for_params(&Params::EH144_5)
                .unwrap()
                .unwrap()
                .must_find
                .len(),
            3
        );
        assert!(for_params(&Params::EH96_5).unwrap().is_none());
    }

    #[test]
    fn check_rejects_missing_and_extra() {
        let z = for_params(&Params::ZELHASH).unwrap().unwrap();
        check(&z, &Params::ZELHASH, &z.must_find).unwrap();
        assert!(check(&z, &Params::ZELHASH, &z.must_find[..1]).is_err());
        assert!(matches!(
            check(&z, &Params::ZELHASH, &z.must_find[..1]),
            Err(GoldenError::Missing { found: 1, .. })
        ));
        let mut bad = z.must_find.clone();
        bad[1].swap(0, 1);
        assert!(matches!(
            check(&z, &Params::ZELHASH, &bad),
            Err(GoldenError::Invalid { .. })
        ));
        let mut extra = z.must_find.clone();
        extra.push(z.must_find[0].clone());
        assert!(matches!(
            check(&z, &Params::ZELHASH, &extra),
            Err(GoldenError::Extra {
                found: 3,
                expected: 2,
                ..
            })
        ));
    }
}
