//! The solver's one big allocation: zeroed 64-bit words, shared by the worker threads.
//!
//! Words are `AtomicU64` so threads can read one heap and write disjoint lanes of the other
//! without `unsafe`; relaxed loads and stores compile to plain moves. The memory is mapped once,
//! 2 MiB aligned and advised as transparent-huge-page memory *before* it is touched, so the
//! kernel backs it with 2 MiB pages: the scattered bucket writes then miss the TLB far less.
//! (An allocator's `alloc_zeroed` would touch every 4 KiB page first and defeat that.)

#![allow(unsafe_code)]

use std::sync::atomic::AtomicU64;

const HUGE: usize = 2 << 20;

/// A zero-initialized, huge-page-advised array of atomic words.
pub struct Arena {
    /// Start of the mapping (for `munmap`).
    map: *mut libc::c_void,
    map_len: usize,
    /// First word, 2 MiB aligned inside the mapping.
    words: *mut AtomicU64,
    len: usize,
}

// SAFETY: `Arena` owns its mapping exclusively (like `Box<[AtomicU64]>`), and `AtomicU64` is
// `Sync`, so sharing `&Arena` or moving it between threads is sound.
unsafe impl Send for Arena {}
// SAFETY: see above; all access goes through `&[AtomicU64]`.
unsafe impl Sync for Arena {}

impl Arena {
    /// Maps `len` zeroed words. Returns `None` when the kernel refuses.
    pub fn new(len: usize) -> Option<Arena> {
        let bytes = len.max(1).checked_mul(8)?.next_multiple_of(HUGE);
        let map_len = bytes.checked_add(HUGE)?;
        // SAFETY: an anonymous private mapping with no address hint has no preconditions.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        let offset = (map as usize).next_multiple_of(HUGE) - map as usize;
        // SAFETY: `offset < HUGE` and the mapping is `bytes + HUGE` long, so the aligned start and
        // `bytes` after it stay inside the mapping.
        let start = unsafe { map.cast::<u8>().add(offset) };
        advise_huge_pages(start, bytes);
        Some(Arena {
            map,
            map_len,
            words: start.cast(),
            len,
        })
    }

    /// The words.
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: `words` points to `len` words of a live, zero-filled (hence valid `u64`)
        // mapping owned by `self`; `AtomicU64` has the size, alignment and validity of `u64`.
        unsafe { std::slice::from_raw_parts(self.words, self.len) }
    }

    /// Bytes mapped.
    pub fn bytes(&self) -> usize {
        self.map_len
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` describe exactly the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.map, self.map_len);
        }
    }
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    // SAFETY: the range lies inside our own live mapping; MADV_HUGEPAGE only changes the paging
    // policy. A failure (no THP support) is harmless and ignored.
    unsafe {
        libc::madvise(ptr.cast(), len, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *mut u8, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn zeroed_aligned_and_writable() {
        let a = Arena::new(1000).unwrap();
        assert!(a.words().iter().all(|w| w.load(Ordering::Relaxed) == 0));
        assert_eq!(a.words().as_ptr() as usize % HUGE, 0);
        a.words()[999].store(7, Ordering::Relaxed);
        assert_eq!(a.words()[999].load(Ordering::Relaxed), 7);
        assert_eq!(a.bytes(), 2 * HUGE);
    }
}
