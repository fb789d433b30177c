//! Identifiers for committed document versions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A fresh id for one committed version of a document.
///
/// The path and content hash make ids readable in logs only as far as a hash
/// allows; the clock, the process id and a counter make two commits of the same
/// file (even within one nanosecond, or from two processes) differ, so an old
/// version's chunks can always be told apart from the new version's.
pub(crate) fn new_document_id(path: &str, content_hash: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(content_hash.as_bytes());
    hasher.update([0]);
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    // 128 bits is plenty against collisions and keeps chunk ids short.
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_for_the_same_file_and_are_32_hex_chars() {
        let a = new_document_id("/a.pdf", "h");
        let b = new_document_id("/a.pdf", "h");
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
