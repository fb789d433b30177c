//! The sample knowledge base, built into every binary: a first-run user gets something to ask
//! about with one click, without knowing where the repository's `examples/` folder is.

use std::path::{Path, PathBuf};

use crate::{CoreError, Result};

/// (file name, contents): a Chinese employee handbook, an English IT security policy and a
/// helpdesk FAQ export (see `examples/sample-kb-source` for how they were made).
const FILES: &[(&str, &[u8])] = &[
    (
        "员工手册.pdf",
        include_bytes!("../../../examples/sample-kb/员工手册.pdf"),
    ),
    (
        "it-security-policy.pdf",
        include_bytes!("../../../examples/sample-kb/it-security-policy.pdf"),
    ),
    ("faq.csv", include_bytes!("../../../examples/sample-kb/faq.csv")),
];

/// Writes the sample files into `dir` (unchanged files are left alone, so re-installing is a
/// no-op for the index too) and returns their paths, ready to ingest.
pub fn install(dir: &Path) -> Result<Vec<PathBuf>> {
    let err = |source| CoreError::Sample {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut paths = Vec::with_capacity(FILES.len());
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(*bytes) {
            // Written beside and renamed, so a crash never leaves half a sample file.
            let partial = dir.join(format!(".{name}.partial"));
            std::fs::write(&partial, bytes).map_err(err)?;
            std::fs::rename(&partial, &path).map_err(err)?;
        }
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_the_three_sample_files_once() {
        let dir = tempfile::tempdir().unwrap();
        let paths = install(dir.path()).unwrap();
        assert_eq!(paths.len(), 3);
        for p in &paths {
            assert!(std::fs::metadata(p).unwrap().len() > 1000, "{}", p.display());
        }
        let before = std::fs::metadata(&paths[0]).unwrap().modified().unwrap();
        install(dir.path()).unwrap();
        assert_eq!(std::fs::metadata(&paths[0]).unwrap().modified().unwrap(), before);
        assert!(std::fs::read(&paths[0]).unwrap().starts_with(b"%PDF"));
    }
}
