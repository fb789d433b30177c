//! How the process allocates memory for tensor work. candle allocates a fresh buffer for every
//! operation's output; an encoder batch makes buffers of 1–100 MB many times per layer. With glibc's
//! defaults those come from per-thread arenas whose heaps are trimmed (returned to the kernel) as soon
//! as they are freed, so every new buffer is faulted in and zeroed page by page again: ingesting a
//! 41-page PDF took 13.6 million page faults. Measured on 34 chunks (`doctalk bench ingest`, same
//! machine, back to back): 3.45 M → 0.23 M page faults, 39.7 → 31.9 s of CPU, peak RSS 1,004 →
//! 1,067 MiB, with one arena and no trimming.
//!
//! [`tune_allocator`] is called first thing by the programs (CLI, server, desktop app): one malloc
//! arena for all threads (the tensor threads take turns anyway: candle runs one op at a time), freed
//! memory kept for reuse instead of trimmed, and the largest mmap threshold glibc accepts, so that
//! buffers up to 32 MB come from the reused heap.

/// Tunes glibc's allocator for tensor work (see the module docs). Returns whether it applied
/// (false on other C libraries and platforms, where nothing changes). Call it before other threads
/// start.
pub fn tune_allocator() -> bool {
    imp::tune()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    /// glibc refuses mmap thresholds above half its 64 MiB heap size.
    const MMAP_THRESHOLD: libc::c_int = 32 * 1024 * 1024;

    pub fn tune() -> bool {
        // SAFETY: mallopt only changes allocator parameters; it is called before the program starts
        // threads, and glibc serialises it against allocation anyway.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
                && libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub fn tune() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_every_setting() {
        assert!(super::tune_allocator());
    }
}
