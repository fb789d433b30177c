//! Small JSON files written atomically: a temporary file beside the target, synced, then
//! renamed over it, so a crash or `kill -9` leaves the old file or the new one, never half.

use std::io::Write;
use std::path::Path;

pub(crate) fn write_atomic(path: &Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    let partial = path.with_extension("json.partial");
    {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&partial, path)
}
