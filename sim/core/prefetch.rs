//! A hint to the processor: start loading a value's cache line now, because
//! it will be read soon. The request source keeps one record per user
//! (millions of them, far beyond the core's own caches), and the next
//! request's user is known an event or more before its record is read;
//! loading it meanwhile hides the miss. A no-op where the architecture
//! has no portable prefetch intrinsic; it never changes a result.

/// Start loading `value`'s cache line into all cache levels.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch never
        // faults nor reads into the program: any address is allowed.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
