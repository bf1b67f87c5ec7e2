//! The `mining.submit` params as the pool receives them: five strings, kept as sent (the share
//! check judges their hex lengths, as s-nomp and miningcore do).

use serde_json::{Value, json};

use super::share::Reject;

/// The `mining.submit` params, as strings (checks are on their hex lengths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    /// `WORKER_NAME`.
    pub worker: String,
    /// `JOB_ID`.
    pub job_id: String,
    /// `TIME`.
    pub time: String,
    /// `NONCE_2`.
    pub nonce2: String,
    /// `EQUIHASH_SOLUTION` with its CompactSize prefix.
    pub solution: String,
}

impl Submit {
    /// From the params array.
    ///
    /// # Errors
    /// [`Reject::BadParams`] unless there are at least five strings.
    pub fn from_params(p: &[Value]) -> Result<Submit, Reject> {
        let s = |i: usize| {
            p.get(i)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(Reject::BadParams)
        };
        Ok(Submit {
            worker: s(0)?,
            job_id: s(1)?,
            time: s(2)?,
            nonce2: s(3)?,
            solution: s(4)?,
        })
    }

    /// The params array.
    pub fn to_params(&self) -> Vec<Value> {
        vec![
            json!(self.worker),
            json!(self.job_id),
            json!(self.time),
            json!(self.nonce2),
            json!(self.solution),
        ]
    }
}
