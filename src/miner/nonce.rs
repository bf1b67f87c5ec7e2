//! The 32-byte header nonce as this miner lays it out.

use thiserror::Error;

use crate::stratum::job::NONCE_LEN;

/// Longest counter: 8 bytes.
const MAX_COUNTER: usize = 8;

/// Why a nonce layout cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NonceError {
    /// `NONCE_1` and the worker prefix leave fewer than 2 bytes for the counter.
    #[error(
        "NONCE_1 of {nonce1} bytes and a worker prefix of {prefix} leave no room for a counter"
    )]
    NoRoom {
        /// `NONCE_1` bytes.
        nonce1: usize,
        /// Worker prefix bytes.
        prefix: usize,
    },
}

/// The header nonce: **pool `NONCE_1` ‖ per-worker prefix ‖ zero padding ‖ counter**.
///
/// ```text
/// byte  0 .. n1            NONCE_1, as the pool sent it (1..31 bytes, never hard-coded)
/// byte  n1 .. n1+p         worker prefix: one byte per solver instance when several run
///                          (GPUs), so instances never search the same nonces; empty for one
/// byte  n1+p .. 32-c       zeros
/// byte  32-c .. 32         counter, little-endian, c = min(8, 32 - n1 - p) bytes
/// ```
///
/// The counter sits at the end (header bytes 132..140), so header bytes 0..128 stay fixed for
/// a job and a BLAKE2b midstate over them can be reused (`spec/stratum.md` §5). `NONCE_2`, what
/// `mining.submit` carries, is everything after `NONCE_1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceLayout {
    base: [u8; NONCE_LEN],
    nonce1_len: usize,
    counter_len: usize,
}

impl NonceLayout {
    /// The layout for `nonce1` and a worker prefix.
    ///
    /// # Errors
    /// [`NonceError::NoRoom`] when fewer than 2 counter bytes remain.
    pub fn new(nonce1: &[u8], worker_prefix: &[u8]) -> Result<NonceLayout, NonceError> {
        let used = nonce1.len() + worker_prefix.len();
        let room = NONCE_LEN.saturating_sub(used);
        if room < 2 {
            return Err(NonceError::NoRoom {
                nonce1: nonce1.len(),
                prefix: worker_prefix.len(),
            });
        }
        let mut base = [0u8; NONCE_LEN];
        base[..nonce1.len()].copy_from_slice(nonce1);
        base[nonce1.len()..used].copy_from_slice(worker_prefix);
        Ok(NonceLayout {
            base,
            nonce1_len: nonce1.len(),
            counter_len: room.min(MAX_COUNTER),
        })
    }

    /// The worker prefix for instance `i` of `count` solver instances: empty for a single one.
    pub fn worker_prefix(i: usize, count: usize) -> Vec<u8> {
        if count <= 1 {
            Vec::new()
        } else {
            vec![i as u8]
        }
    }

    /// The nonce for `counter`, or `None` once the counter no longer fits.
    pub fn nonce(&self, counter: u64) -> Option<[u8; NONCE_LEN]> {
        if self.counter_len < MAX_COUNTER && counter >> (8 * self.counter_len) != 0 {
            return None;
        }
        let mut n = self.base;
        n[NONCE_LEN - self.counter_len..]
            .copy_from_slice(&counter.to_le_bytes()[..self.counter_len]);
        Some(n)
    }

    /// `NONCE_2` of a nonce: the bytes after `NONCE_1`.
    pub fn nonce2<'a>(&self, nonce: &'a [u8; NONCE_LEN]) -> &'a [u8] {
        &nonce[self.nonce1_len..]
    }

    /// Counter bytes.
    pub fn counter_len(&self) -> usize {
        self.counter_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_documented_bytes() {
        let l = NonceLayout::new(&[0x60, 0, 0, 0x16], &[7]).unwrap();
        let n = l.nonce(0x0011_fd9c).unwrap();
        assert_eq!(&n[..5], &[0x60, 0, 0, 0x16, 7]);
        assert_eq!(&n[24..], &[0x9c, 0xfd, 0x11, 0, 0, 0, 0, 0]);
        assert!(n[5..24].iter().all(|&b| b == 0));
        assert_eq!(l.nonce2(&n).len(), 28);
        assert_eq!(NonceLayout::worker_prefix(0, 1), Vec::<u8>::new());
        assert_eq!(NonceLayout::worker_prefix(2, 3), vec![2]);
    }

    #[test]
    fn long_nonce1_shrinks_the_counter_and_it_runs_out() {
        let l = NonceLayout::new(&[1; 29], &[]).unwrap();
        assert_eq!(l.counter_len(), 3);
        assert!(l.nonce(0xff_ffff).is_some());
        assert_eq!(l.nonce(0x100_0000), None);
        assert_eq!(
            NonceLayout::new(&[1; 30], &[9]),
            Err(NonceError::NoRoom {
                nonce1: 30,
                prefix: 1
            })
        );
    }
}
