//! Keeps freed memory in the process instead of returning it to the kernel.
//!
//! glibc serves allocations above its mmap threshold (at most 32 MiB) with fresh mappings and
//! unmaps them when freed. A training step allocates and frees activations of that size many
//! times (rotnet's are 33.5 MB), so every step pays page faults, the kernel zeroing each page,
//! and TLB shootdowns across cores at every unmap. With mmap off and trimming off, freed blocks
//! stay in the heap for the next step; peak memory stays what the step needs.

/// Turns glibc's mmap allocations and heap trimming off for this process (Linux with glibc;
/// elsewhere nothing). Returns whether it was applied.
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // glibc's malloc.h: M_TRIM_THRESHOLD = -1, M_MMAP_MAX = -4.
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_MAX: i32 = -4;
        // SAFETY: mallopt only changes allocator parameters; both values are valid for them.
        unsafe { mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, i32::MAX) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
