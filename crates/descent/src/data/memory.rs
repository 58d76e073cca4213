//! Backing large tables and buffers with huge pages.
//!
//! A shuffled mini-batch reads rows from random places in a table much larger than the
//! caches. With 4 KiB pages nearly every such row also misses the TLB and costs a page walk;
//! with 2 MiB pages the walks mostly disappear, and an epoch of P2 (1,000,000 × 100 f32,
//! batch 256, shuffled) runs about 1.4x faster on the machines we measured. This is only
//! advice to the kernel: where it is refused (another OS, transparent huge pages disabled,
//! an older kernel) nothing changes but the speed.
//!
//! The same holds, less strongly, for the buffers a step streams through in full: the
//! parameters, their gradients and an optimizer's state ([`huge_filled`]). An Adam step over
//! 10^7 f32 (P5) took 0.97-0.98 of its time on 4 KiB pages in 10 of 10 interleaved rounds.
//! The optimizer's state is one allocation per 4 MiB shard, of which only the 2 MiB-aligned
//! middle can be marked (about half of it).

/// Tables smaller than this are left alone: they fit in the caches or the TLB's reach.
pub const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

const HUGE_PAGE: usize = 2 << 20;

/// A vector with room for `len` elements whose memory is marked for huge pages before it is
/// touched, so that the pages are huge from the first write on (fill it with `push` or
/// `extend`). Below [`HUGE_PAGE_MIN_BYTES`] it is a plain `Vec::with_capacity`.
pub fn huge_vec<T>(len: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(len);
    if len * std::mem::size_of::<T>() >= HUGE_PAGE_MIN_BYTES {
        advise(v.as_ptr().cast(), len * std::mem::size_of::<T>());
    }
    v
}

/// `len` copies of `value` in a [`huge_vec`]: for buffers stepped in full every iteration
/// (parameters, gradients, an optimizer's moments), which a pass reads and writes at the
/// memory's rate, faster on huge pages (fewer TLB misses on each array it streams).
pub fn huge_filled<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut v = huge_vec(len);
    v.resize(len, value);
    v
}

/// `madvise` on the whole huge pages inside `[ptr, ptr + bytes)`; errors are ignored (advice).
#[cfg(target_os = "linux")]
fn advise(ptr: *const u8, bytes: usize) {
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end <= start {
        return;
    }
    let (addr, len) = (start as *mut libc::c_void, end - start);
    // SAFETY: the range lies inside one live allocation (rounded inwards to page bounds);
    // MADV_HUGEPAGE changes how it is backed, never what it holds.
    unsafe { libc::madvise(addr, len, libc::MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise(_ptr: *const u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `VmFlags` line of the mapping of this process that holds `addr`.
    #[cfg(target_os = "linux")]
    fn vm_flags(addr: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line
                .split_whitespace()
                .next()
                .and_then(|r| r.split_once('-'));
            if let Some((a, b)) = range {
                if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    inside = (a..b).contains(&addr);
                    continue;
                }
            }
            if inside && line.starts_with("VmFlags:") {
                return Some(line.to_string());
            }
        }
        None
    }

    /// Whether this kernel has transparent huge pages (where not, the advice is refused).
    #[cfg(target_os = "linux")]
    fn thp_available() -> bool {
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        !thp.is_empty() && !thp.contains("[never]")
    }

    /// Whether the first whole huge page inside `buf` is marked (`hg` in its mapping's flags).
    #[cfg(target_os = "linux")]
    fn is_marked<T>(buf: &[T]) -> bool {
        let inner = (buf.as_ptr() as usize).next_multiple_of(HUGE_PAGE);
        let flags = vm_flags(inner).expect("the buffer is mapped");
        flags.split_whitespace().any(|f| f == "hg")
    }

    /// A large table is marked for huge pages (`hg` in its mapping's flags) wherever the
    /// kernel has transparent huge pages; a small one is left alone.
    #[cfg(target_os = "linux")]
    #[test]
    fn large_tables_are_marked_for_huge_pages() {
        if !thp_available() {
            return;
        }
        let n = HUGE_PAGE_MIN_BYTES / 4 + 12_345;
        let mut v: Vec<f32> = huge_vec(n);
        assert!(v.capacity() >= n);
        v.extend((0..n).map(|i| i as f32));
        assert!(is_marked(&v));
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32));

        let filled: Vec<f64> = huge_filled(n, 0.5);
        assert_eq!(filled.len(), n);
        assert!(filled.iter().all(|&x| x == 0.5));
        assert!(is_marked(&filled));

        let small: Vec<u8> = huge_vec(1 << 20);
        assert!(small.capacity() >= 1 << 20);
        let flags = vm_flags(small.as_ptr() as usize).expect("the table is mapped");
        assert!(!flags.split_whitespace().any(|f| f == "hg"), "{flags}");
    }

    /// An optimizer's moments for a full shard are marked for huge pages from the first step
    /// on (the pass over them is bound by memory); the step's numbers do not depend on it.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_optimizers_moments_are_marked_for_huge_pages() {
        use crate::optim::{Adam, DynOptimizer, Grouped, SHARD};
        if !thp_available() {
            return;
        }
        let n = SHARD;
        let mut adam = Grouped::<Adam, f32>::new(Adam::DEFAULT, 0..n);
        let (mut p, g) = (vec![1.0f32; n], vec![0.5f32; n]);
        adam.step(1e-3, &mut p, &g);
        for moment in [&adam.state(0).exp_avg, &adam.state(0).exp_avg_sq] {
            assert_eq!(moment.len(), n);
            assert!(is_marked(moment));
        }
        // torch: exp_avg = 0.1 g after one step from zero.
        assert!(adam.state(0).exp_avg.iter().all(|&m| m == 0.1f32 * 0.5));
    }
}
