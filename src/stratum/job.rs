//! `mining.notify` (ZIP 301; `spec/stratum.md` §4.5) and the header bytes a job fixes (§5).
//!
//! All header fields travel as hex in **header byte order**: `VERSION` is the 4 little-endian
//! bytes of `nVersion`, `PREVHASH` the internal byte order of the hash, and so on.

use serde_json::Value;
use thiserror::Error;

use crate::consensus::encode::write_compact_size;
use crate::consensus::header::{COMMON_PREFIX_LEN, pow_block_hash};
use crate::equihash::{INPUT_LEN, Params};

pub use crate::consensus::header::equihash_input;

/// Bytes of the header a job fixes: version ‖ prev ‖ merkle ‖ reserved ‖ time ‖ bits.
pub const HEADER_PREFIX_LEN: usize = COMMON_PREFIX_LEN;
/// Bytes of the header nonce (`NONCE_1 ‖ NONCE_2`).
pub const NONCE_LEN: usize = 32;

/// Why a `mining.notify` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Fewer than 8 params.
    #[error("notify has {0} params, at least 8 are needed")]
    TooFewParams(usize),
    /// A field is not a string (or the clean flag not a boolean).
    #[error("notify param {index} ({field}) has the wrong type: {value}")]
    WrongType {
        /// Position in params.
        index: usize,
        /// Field name.
        field: &'static str,
        /// What was there (truncated).
        value: String,
    },
    /// A field is not hex of the right length.
    #[error("notify {field} is not {bytes} bytes of hex: {value:?}")]
    BadHex {
        /// Field name.
        field: &'static str,
        /// Required length.
        bytes: usize,
        /// What was there (truncated).
        value: String,
    },
    /// The job id is empty.
    #[error("notify has an empty job id")]
    EmptyJobId,
}

/// A job as `mining.notify` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// `JOB_ID`.
    pub job_id: String,
    /// `nVersion`, 4 bytes header order.
    pub version: [u8; 4],
    /// `hashPrevBlock`, internal order.
    pub prev_hash: [u8; 32],
    /// `hashMerkleRoot`, internal order.
    pub merkle_root: [u8; 32],
    /// `hashFinalSaplingRoot` (ZIP 301 "RESERVED"), used verbatim.
    pub reserved: [u8; 32],
    /// `nTime`, 4 bytes little-endian.
    pub time: [u8; 4],
    /// `nBits`, 4 bytes little-endian.
    pub bits: [u8; 4],
    /// `CLEAN_JOBS`.
    pub clean: bool,
    /// Param 9 if present: the algorithm hint (`"125_4"`).
    pub algo: Option<String>,
    /// Param 10 if present: the personalization hint (`"ZelProof"`).
    pub personalization: Option<String>,
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(80).collect()
}

fn str_param<'a>(
    p: &'a [Value],
    index: usize,
    field: &'static str,
) -> Result<&'a str, NotifyError> {
    p[index].as_str().ok_or_else(|| NotifyError::WrongType {
        index,
        field,
        value: short(&p[index]),
    })
}

fn hex_param<const N: usize>(
    p: &[Value],
    index: usize,
    field: &'static str,
) -> Result<[u8; N], NotifyError> {
    let s = str_param(p, index, field)?;
    let mut out = [0u8; N];
    if s.len() != 2 * N || hex::decode_to_slice(s, &mut out).is_err() {
        return Err(NotifyError::BadHex {
            field,
            bytes: N,
            value: s.chars().take(80).collect(),
        });
    }
    Ok(out)
}

fn opt_str(p: &[Value], index: usize) -> Option<String> {
    p.get(index).and_then(Value::as_str).map(str::to_string)
}

impl Notify {
    /// Parses the params of `mining.notify`: 8 (ZIP 301), 9 or 10 (Flux pools add `"125_4"`,
    /// `"ZelProof"`). Extra params beyond 10 are ignored.
    ///
    /// # Errors
    /// A [`NotifyError`] naming the bad field.
    pub fn from_params(p: &[Value]) -> Result<Notify, NotifyError> {
        if p.len() < 8 {
            return Err(NotifyError::TooFewParams(p.len()));
        }
        let job_id = match &p[0] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            v => {
                return Err(NotifyError::WrongType {
                    index: 0,
                    field: "job id",
                    value: short(v),
                });
            }
        };
        if job_id.is_empty() {
            return Err(NotifyError::EmptyJobId);
        }
        let clean = p[7].as_bool().ok_or_else(|| NotifyError::WrongType {
            index: 7,
            field: "clean_jobs",
            value: short(&p[7]),
        })?;
        Ok(Notify {
            job_id,
            version: hex_param(p, 1, "version")?,
            prev_hash: hex_param(p, 2, "prevhash")?,
            merkle_root: hex_param(p, 3, "merkleroot")?,
            reserved: hex_param(p, 4, "reserved")?,
            time: hex_param(p, 5, "time")?,
            bits: hex_param(p, 6, "bits")?,
            clean,
            algo: opt_str(p, 8),
            personalization: opt_str(p, 9),
        })
    }

    /// The notify for 108 header bytes (version ‖ prev ‖ merkle ‖ reserved ‖ time ‖ bits), with
    /// the hints for `params` (`"125_4"`, `"ZelProof"`), as Flux pools send it.
    pub fn from_header_prefix(
        job_id: String,
        prefix: &[u8; HEADER_PREFIX_LEN],
        params: &Params,
        clean: bool,
    ) -> Notify {
        let mut n = Notify {
            job_id,
            version: [0; 4],
            prev_hash: [0; 32],
            merkle_root: [0; 32],
            reserved: [0; 32],
            time: [0; 4],
            bits: [0; 4],
            clean,
            algo: Some(format!("{}_{}", params.n(), params.k())),
            personalization: Some(String::from_utf8_lossy(&params.personalization()).into_owned()),
        };
        n.version.copy_from_slice(&prefix[0..4]);
        n.prev_hash.copy_from_slice(&prefix[4..36]);
        n.merkle_root.copy_from_slice(&prefix[36..68]);
        n.reserved.copy_from_slice(&prefix[68..100]);
        n.time.copy_from_slice(&prefix[100..104]);
        n.bits.copy_from_slice(&prefix[104..108]);
        n
    }

    /// The params, lowercase hex, with the hints if present.
    pub fn to_params(&self) -> Vec<Value> {
        let mut v = vec![
            Value::String(self.job_id.clone()),
            Value::String(hex::encode(self.version)),
            Value::String(hex::encode(self.prev_hash)),
            Value::String(hex::encode(self.merkle_root)),
            Value::String(hex::encode(self.reserved)),
            Value::String(hex::encode(self.time)),
            Value::String(hex::encode(self.bits)),
            Value::Bool(self.clean),
        ];
        if let Some(a) = &self.algo {
            v.push(Value::String(a.clone()));
            if let Some(p) = &self.personalization {
                v.push(Value::String(p.clone()));
            }
        }
        v
    }

    /// Header bytes 0..108 in header order.
    pub fn header_prefix(&self) -> [u8; HEADER_PREFIX_LEN] {
        let mut h = [0u8; HEADER_PREFIX_LEN];
        h[0..4].copy_from_slice(&self.version);
        h[4..36].copy_from_slice(&self.prev_hash);
        h[36..68].copy_from_slice(&self.merkle_root);
        h[68..100].copy_from_slice(&self.reserved);
        h[100..104].copy_from_slice(&self.time);
        h[104..108].copy_from_slice(&self.bits);
        h
    }

    /// `nTime` as a number.
    pub fn time_u32(&self) -> u32 {
        u32::from_le_bytes(self.time)
    }

    /// `nBits` as a number.
    pub fn bits_u32(&self) -> u32 {
        u32::from_le_bytes(self.bits)
    }

    /// Which parameters the hints ask for, checked against what we can mine.
    ///
    /// # Errors
    /// A human-readable reason when the hint names other parameters or personalization.
    pub fn check_hints(&self, ours: &Params) -> Result<(), String> {
        if let Some(algo) = &self.algo {
            let want = format!("{}_{}", ours.n(), ours.k());
            let norm = algo.replace(',', "_");
            if !norm.is_empty() && norm != want {
                return Err(format!(
                    "pool asks for Equihash {algo:?}, this miner is set up for {want}; \
                     restart with the matching --params"
                ));
            }
        }
        if let Some(pers) = &self.personalization {
            let ours_s = String::from_utf8_lossy(&ours.personalization()).into_owned();
            if !pers.is_empty() && pers != &ours_s {
                return Err(format!(
                    "pool asks for personalization {pers:?}, this miner uses {ours_s:?}"
                ));
            }
        }
        Ok(())
    }
}

/// The solution as submitted: CompactSize(len) ‖ minimal solution (for ZelHash `34` ‖ 52 bytes).
pub fn solution_with_length(solution: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(solution.len() + 3);
    write_compact_size(&mut out, solution.len() as u64);
    out.extend_from_slice(solution);
    out
}

/// The share hash `SHA256d(input ‖ CompactSize(len) ‖ solution)`, internal byte order (§5):
/// the PoW block hash of [`pow_block_hash`].
pub fn share_hash(input: &[u8; INPUT_LEN], solution: &[u8]) -> [u8; 32] {
    *pow_block_hash(input, solution).as_internal_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block_400000_params() -> Vec<Value> {
        json!([
            "1",
            "04000000",
            "a8675c842f7a1342fadd00cd9b4e4909526b1c0ab5a747c5529b4deb13000000",
            "ce7d6ea2452245925fc70c3a08a3c3dd2ca4beab7481f237a19751666bfd25c3",
            "0fd282d94b1e1a7f2c57eb3fb9e2853d990753fa137e13c99bd43f220d4fce69",
            "90e44f5d",
            "ce28421d",
            true,
            "125_4",
            "ZelProof"
        ])
        .as_array()
        .unwrap()
        .clone()
    }

    #[test]
    fn block_400000_share_hash_is_the_block_hash() {
        let n = Notify::from_params(&block_400000_params()).unwrap();
        assert_eq!(n.time_u32(), 1_565_516_944);
        assert_eq!(n.bits_u32(), 0x1d42_28ce);
        let mut nonce = [0u8; 32];
        nonce[..4].copy_from_slice(&hex::decode("60000016").unwrap());
        nonce[28..].copy_from_slice(&hex::decode("9cfd1100").unwrap());
        let input = equihash_input(&n.header_prefix(), &nonce);
        let sol = hex::decode("0898985c54d7c66d04fbe9509445c19e664aca4b8d16a701f9f90eda443a556f37cc4627335201339b001ea2ed29eeeec7da199b").unwrap();
        crate::equihash::is_valid_solution(&Params::ZELHASH, &input, &sol).unwrap();
        let mut h = share_hash(&input, &sol);
        h.reverse();
        assert!(hex::encode(h).starts_with("000000390342f0e5"));
        assert_eq!(solution_with_length(&sol)[0], 0x34);
        assert_eq!(n.to_params(), block_400000_params());
        n.check_hints(&Params::ZELHASH).unwrap();
        assert!(
            n.check_hints(&Params::EH48_5)
                .unwrap_err()
                .contains("125_4")
        );
    }

    #[test]
    fn bad_notify_fields_are_named() {
        let mut p = block_400000_params();
        p[2] = json!("zz");
        assert!(matches!(
            Notify::from_params(&p),
            Err(NotifyError::BadHex {
                field: "prevhash",
                ..
            })
        ));
        let mut p = block_400000_params();
        p[7] = json!("yes");
        assert!(matches!(
            Notify::from_params(&p),
            Err(NotifyError::WrongType { index: 7, .. })
        ));
        assert_eq!(
            Notify::from_params(&p[..5]),
            Err(NotifyError::TooFewParams(5))
        );
        let p8 = &block_400000_params()[..8];
        let n = Notify::from_params(p8).unwrap();
        assert_eq!(n.algo, None);
        assert_eq!(n.to_params(), p8.to_vec());
    }
}
