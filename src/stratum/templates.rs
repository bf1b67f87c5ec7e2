//! Recorded real Flux headers the test pool serves as job templates (embedded at build time from
//! `tests/vectors/`, sources in its README), with the solutions they were mined with.

use serde_json::Value;

use super::job::{HEADER_PREFIX_LEN, NONCE_LEN};

const BLOCK_400000: &str = include_str!("../../tests/vectors/mainnet_block_400000_zelhash.json");
const MAGICPOOL: &str =
    include_str!("../../tests/vectors/magicpool_flux_mainnet_1134187_1134309.json");

/// A recorded header: its first 108 bytes and the (nonce, ZelHash solution) pairs known for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Block height.
    pub height: u32,
    /// Header bytes 0..108.
    pub prefix: [u8; HEADER_PREFIX_LEN],
    /// Known valid ZelHash (nonce, minimal solution) pairs.
    pub solutions: Vec<([u8; NONCE_LEN], Vec<u8>)>,
}

fn hex_at(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_default()).unwrap_or_default()
}

fn from_input(height: u32, input: &[u8], sols: Vec<Vec<u8>>) -> Option<Template> {
    if input.len() < HEADER_PREFIX_LEN + NONCE_LEN {
        return None;
    }
    let prefix = input[..HEADER_PREFIX_LEN].try_into().ok()?;
    let nonce: [u8; NONCE_LEN] = input[HEADER_PREFIX_LEN..HEADER_PREFIX_LEN + NONCE_LEN]
        .try_into()
        .ok()?;
    Some(Template {
        height,
        prefix,
        solutions: sols
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| (nonce, s))
            .collect(),
    })
}

/// Block 400000 (both of its valid solutions), 1134187 and 1134309.
pub fn recorded() -> Vec<Template> {
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(BLOCK_400000) {
        let sols = vec![
            hex_at(&v, "solution_hex"),
            hex_at(&v, "alternative_valid_solution_hex"),
        ];
        out.extend(from_input(
            400_000,
            &hex_at(&v, "equihash_input_140_hex"),
            sols,
        ));
    }
    if let Ok(v) = serde_json::from_str::<Value>(MAGICPOOL) {
        for h in v["headers"].as_array().into_iter().flatten() {
            let height = h["height"].as_u64().unwrap_or(0) as u32;
            out.extend(from_input(
                height,
                &hex_at(h, "header_hex"),
                vec![hex_at(h, "solution")],
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equihash::{Params, is_valid_solution};
    use crate::stratum::job::equihash_input;

    #[test]
    fn recorded_templates_carry_valid_solutions() {
        let t = recorded();
        assert_eq!(
            t.iter().map(|t| t.height).collect::<Vec<_>>(),
            [400_000, 1_134_187, 1_134_309]
        );
        assert_eq!(t[0].solutions.len(), 2);
        for tpl in &t {
            for (nonce, sol) in &tpl.solutions {
                is_valid_solution(&Params::ZELHASH, &equihash_input(&tpl.prefix, nonce), sol)
                    .unwrap();
            }
        }
    }
}
