//! The fuzz targets (`src/fuzz.rs`) on stable, bounded in time: every seed in `fuzz/corpus/`
//! (real headers, blocks, a transaction, framed P2P messages, pool lines of every dialect; written
//! by `scripts/fuzz-seeds.py`) and deterministic mutations of each (bit flips, truncations,
//! spliced and hostile CompactSize bytes). No input may panic, and none may make a decoder
//! allocate more than [`ALLOWED`] for its size: a count or length taken from the bytes and
//! trusted would break it. `FLUXMINER_FUZZ_MUTANTS` sets mutations per seed (default 2,000).

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap a decoder may use for an input of `len` bytes: a decoded object is a small multiple of
/// its bytes, plus a fixed allowance (a stratum session, a Vec's doubling).
fn allowed(len: usize) -> usize {
    64 * len + (1 << 20)
}

/// The bound as documented for the module.
const ALLOWED: &str = "64 bytes per input byte + 1 MiB";

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 6] = [
    ("p2p_stream", fluxminer::fuzz::p2p_stream),
    ("p2p_payload", fluxminer::fuzz::p2p_payload),
    ("header", fluxminer::fuzz::header),
    ("block", fluxminer::fuzz::block),
    ("transaction", fluxminer::fuzz::transaction),
    ("stratum_line", fluxminer::fuzz::stratum_line),
];

/// xorshift64*: deterministic mutations, the same in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed`.
fn mutate(seed: &[u8], others: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(at),
            2 => {
                // A hostile CompactSize: the largest 2-, 4- and 8-byte values.
                let big: &[u8] = [
                    &[0xfd, 0xff, 0xff][..],
                    &[0xfe, 0xff, 0xff, 0xff, 0x7f],
                    &[0xff; 9],
                ][rng.below(3)];
                v.splice(at..at, big.iter().copied());
            }
            3 => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                let n = rng.below(64).min(other.len() - from);
                v.splice(at..at, other[from..from + n].iter().copied());
            }
            4 if !v.is_empty() => {
                let n = rng.below(16).min(v.len() - at.min(v.len()));
                v.drain(at.min(v.len())..at.min(v.len()) + n);
            }
            _ => v.insert(at, rng.next() as u8),
        }
    }
    v
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/fuzz-seeds.py)", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The allocator's counters are global: one measuring test at a time.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` on `input`; the heap it used at its peak beyond what was live before.
fn peak_use(f: Target, input: &[u8]) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f(input);
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

#[test]
fn every_decoder_survives_its_corpus_and_mutations_within_bounded_memory() {
    let _one = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let mutants: usize = std::env::var("FLUXMINER_FUZZ_MUTANTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let all: Vec<Vec<u8>> = TARGETS.iter().flat_map(|(t, _)| corpus(t)).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, f) in TARGETS {
        let seeds = corpus(name);
        assert!(!seeds.is_empty(), "{name}: no seeds");
        let mut runs = 0;
        for seed in &seeds {
            for i in 0..=mutants {
                let input = if i == 0 {
                    seed.clone()
                } else {
                    mutate(seed, &all, &mut rng)
                };
                let used = peak_use(f, &input);
                assert!(
                    used <= allowed(input.len()),
                    "{name}: {used} heap bytes for a {}-byte input (allowed: {ALLOWED}): {}",
                    input.len(),
                    hex::encode(&input[..input.len().min(256)])
                );
                runs += 1;
            }
        }
        eprintln!("{name}: {} seeds, {runs} inputs", seeds.len());
    }
}

/// The bound catches what it is for: a decoder that trusts a count from the bytes.
#[test]
fn the_memory_bound_catches_a_trusted_count() {
    fn trusting(data: &[u8]) {
        let n = u32::from_le_bytes(data[..4].try_into().unwrap()) as usize;
        let v: Vec<u64> = Vec::with_capacity(n);
        std::hint::black_box(v);
    }
    let _one = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let input = 50_000_000u32.to_le_bytes();
    assert!(peak_use(trusting, &input) > allowed(input.len()));
}
