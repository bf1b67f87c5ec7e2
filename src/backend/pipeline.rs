//! Keeping a GPU busy between nonces: both GPU backends queue nonce i + 1 before they read
//! nonce i back, so the device never waits for the host (the CPU re-check, the next input).
//! [`stream`] is that loop, written once over the [`Pipelined`] steps each backend provides.

use super::{Feed, SolveReport, Solver, SolverError, serial_stream};

/// How many nonces a GPU backend keeps in flight.
pub const DEPTH: usize = 2;

/// A nonce queued on the device, and how to collect it.
pub trait Pipelined {
    /// What identifies a queued nonce.
    type Ticket;

    /// Queues `input` on the device using result slot `slot` (0..[`DEPTH`]): every kernel,
    /// then a copy of the results into the slot. Returns without waiting.
    ///
    /// # Errors
    /// The input back with the error when it could not be queued.
    fn queue(
        &mut self,
        input: Vec<u8>,
        slot: usize,
    ) -> Result<Self::Ticket, (Vec<u8>, SolverError)>;

    /// Waits for `ticket`'s results (not for work queued after it) and reports them.
    fn collect(&mut self, ticket: Self::Ticket) -> (Vec<u8>, Result<SolveReport, SolverError>);
}

/// [`Solver::solve_stream`](super::Solver::solve_stream) with [`DEPTH`] nonces in flight:
/// results come out in order; `Feed::Drain` and `Feed::Stop` collect what is queued.
pub fn stream<P: Pipelined>(
    p: &mut P,
    next: &mut dyn FnMut() -> Feed,
    done: &mut dyn FnMut(Vec<u8>, Result<SolveReport, SolverError>),
) {
    let mut queue = std::collections::VecDeque::with_capacity(DEPTH);
    let mut slot = 0;
    loop {
        let (stop, drain) = match next() {
            Feed::Input(input) => {
                match p.queue(input, slot) {
                    Ok(t) => queue.push_back(t),
                    Err((input, e)) => done(input, Err(e)),
                }
                slot = (slot + 1) % DEPTH;
                (false, false)
            }
            Feed::Drain => (false, true),
            Feed::Stop => (true, true),
        };
        while queue.len() >= DEPTH || (drain && !queue.is_empty()) {
            if let Some(t) = queue.pop_front() {
                let (input, r) = p.collect(t);
                done(input, r);
            }
        }
        if stop {
            return;
        }
    }
}

/// [`stream`], or one nonce at a time in `profile` mode (its stages are waited for and timed
/// one by one, so nothing can overlap).
pub fn stream_unless_profiling<P: Pipelined + Solver>(
    p: &mut P,
    profile: bool,
    next: &mut dyn FnMut() -> Feed,
    done: &mut dyn FnMut(Vec<u8>, Result<SolveReport, SolverError>),
) {
    if profile {
        serial_stream(p, next, done);
    } else {
        stream(p, next, done);
    }
}

/// Solves one input through the pipeline (slot 0).
pub fn solve_one<P: Pipelined>(p: &mut P, input: &[u8]) -> Result<SolveReport, SolverError> {
    let t = p.queue(input.to_vec(), 0).map_err(|(_, e)| e)?;
    p.collect(t).1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake device that records the order of queue and collect calls.
    #[derive(Default)]
    struct Fake {
        log: Vec<String>,
        in_flight: usize,
        most: usize,
    }

    impl Pipelined for Fake {
        type Ticket = (u8, usize);
        fn queue(
            &mut self,
            input: Vec<u8>,
            slot: usize,
        ) -> Result<(u8, usize), (Vec<u8>, SolverError)> {
            self.log.push(format!("q{}@{slot}", input[0]));
            if input[0] == 9 {
                return Err((input, SolverError::Device("bad".into())));
            }
            self.in_flight += 1;
            self.most = self.most.max(self.in_flight);
            Ok((input[0], slot))
        }
        fn collect(
            &mut self,
            (n, slot): (u8, usize),
        ) -> (Vec<u8>, Result<SolveReport, SolverError>) {
            self.log.push(format!("c{n}@{slot}"));
            self.in_flight -= 1;
            (
                vec![n],
                Ok(SolveReport {
                    solutions: Vec::new(),
                    stats: super::super::SolveStats::default(),
                }),
            )
        }
    }

    /// Nonce i + 1 is queued before nonce i is collected; slots alternate; a drain empties the
    /// queue; results come out in order; a failed queue is reported at once.
    #[test]
    fn the_next_nonce_is_queued_before_the_last_is_read() {
        let mut feed = vec![
            Feed::Input(vec![1]),
            Feed::Input(vec![2]),
            Feed::Input(vec![3]),
            Feed::Drain,
            Feed::Input(vec![9]),
            Feed::Input(vec![4]),
            Feed::Stop,
        ]
        .into_iter();
        let mut f = Fake::default();
        let mut out = Vec::new();
        stream(
            &mut f,
            &mut || feed.next().unwrap_or(Feed::Stop),
            &mut |i, r| out.push((i[0], r.is_ok())),
        );
        assert_eq!(
            f.log,
            [
                "q1@0", "q2@1", "c1@0", "q3@0", "c2@1", "c3@0", "q9@1", "q4@0", "c4@0"
            ]
        );
        assert_eq!(
            out,
            [(1, true), (2, true), (3, true), (9, false), (4, true)]
        );
        assert_eq!(f.most, DEPTH);
    }
}
