//! The jobs the test pool serves: [`PoolJob`] (a notify with the parameters and network target
//! its shares are judged by), the [`JobSource`] a session reads them from, and the in-memory
//! [`JobBook`] that keeps the last [`JOBS_KEPT`].

use std::collections::VecDeque;
use std::sync::Arc;

use crate::consensus::{CompactTarget, Target};
use crate::equihash::Params;
use crate::stratum::job::{HEADER_PREFIX_LEN, Notify};

/// Jobs the pool and each connection remember (older ones are stale).
pub const JOBS_KEPT: usize = 16;

/// A job the pool serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolJob {
    /// The notify (with the `"n_k"` and personalization hints).
    pub notify: Notify,
    /// The parameters shares must solve.
    pub params: Params,
    /// The network target from `nBits` (for block candidates).
    pub network_target: Target,
}

impl PoolJob {
    /// A job from 108 header bytes (version ‖ prev ‖ merkle ‖ reserved ‖ time ‖ bits).
    pub fn from_header_prefix(
        job_id: String,
        prefix: &[u8; HEADER_PREFIX_LEN],
        params: Params,
        clean: bool,
    ) -> PoolJob {
        let notify = Notify::from_header_prefix(job_id, prefix, &params, clean);
        let network_target = CompactTarget::from_consensus(notify.bits_u32()).decode_lossy_target();
        PoolJob {
            notify,
            params,
            network_target,
        }
    }
}

/// Where a session finds the pool's jobs.
pub trait JobSource {
    /// The job with this id, if the pool still knows it.
    fn job(&self, id: &str) -> Option<Arc<PoolJob>>;
    /// The newest job.
    fn current(&self) -> Option<Arc<PoolJob>>;
}

/// A simple in-memory job book: the jobs the pool still accepts shares for.
#[derive(Debug, Default)]
pub struct JobBook {
    jobs: VecDeque<Arc<PoolJob>>,
    next_id: u64,
}

impl JobBook {
    /// Adds a job built by `make(id)`; a clean job makes every older job stale.
    pub fn push(&mut self, make: impl FnOnce(String) -> PoolJob) -> Arc<PoolJob> {
        self.next_id += 1;
        let job = Arc::new(make(format!("{:x}", self.next_id)));
        if job.notify.clean {
            self.jobs.clear();
        }
        self.jobs.push_back(job.clone());
        while self.jobs.len() > JOBS_KEPT {
            self.jobs.pop_front();
        }
        job
    }
}

impl JobSource for JobBook {
    fn job(&self, id: &str) -> Option<Arc<PoolJob>> {
        self.jobs.iter().find(|j| j.notify.job_id == id).cloned()
    }

    fn current(&self) -> Option<Arc<PoolJob>> {
        self.jobs.back().cloned()
    }
}
