//! Questions about some documents only: "what does this contract say", "search the 2024 folder".
//! A [`ScopeRequest`] names documents (id, id prefix or path) and folders as the user typed them; a
//! [`Scope`] is the set of document ids they resolve to, which search and answers keep to.

use std::collections::HashSet;
use std::path::{Path, MAIN_SEPARATOR};

use serde::{Deserialize, Serialize};

use crate::index_form::path_key;
use crate::kb::KnowledgeBase;
use crate::{CoreError, Result};

/// What the user chose: documents and folders (both empty: the whole knowledge base).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ScopeRequest {
    /// Document ids, unique id prefixes (6+ characters), paths as `doctalk list` shows them, or a
    /// file name that only one document has.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub docs: Vec<String>,
    /// Folders: every document whose file (or one of its identical copies) is inside one of them.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub folders: Vec<String>,
}

impl ScopeRequest {
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty() && self.folders.is_empty()
    }
}

/// The documents a search or an answer keeps to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub doc_ids: HashSet<String>,
}

impl KnowledgeBase {
    /// The document a user named: an id, a unique id prefix, a path, or a file name that only one
    /// document has; an error naming it otherwise.
    pub async fn resolve_document(&self, key: &str) -> Result<crate::DocumentInfo> {
        if let Some(doc) = self.find_document(key).await? {
            return Ok(doc);
        }
        let documents = self.documents().await?;
        by_file_name(&documents, key)
            .and_then(|id| documents.into_iter().find(|d| d.id == id))
            .ok_or_else(|| CoreError::NoSuchDocument(key.to_string()))
    }

    /// Resolves what the user named; `None` for an empty request (the whole knowledge base). A
    /// document that is not in the knowledge base, or a folder that holds none, is an error that
    /// says which: a question silently asked of everything would look like an answer from the one.
    pub async fn resolve_scope(&self, request: &ScopeRequest) -> Result<Option<Scope>> {
        if request.is_empty() {
            return Ok(None);
        }
        let mut doc_ids = HashSet::new();
        let documents = self.documents().await?;
        for key in &request.docs {
            let id = match self.find_document(key).await? {
                Some(doc) => doc.id,
                None => {
                    by_file_name(&documents, key).ok_or_else(|| CoreError::NoSuchDocument(key.clone()))?
                }
            };
            doc_ids.insert(id);
        }
        if !request.folders.is_empty() {
            for folder in &request.folders {
                let prefix = folder_prefix(folder);
                let inside: Vec<String> = documents
                    .iter()
                    // A document counts when any of its copies is inside (`documents()` lists them).
                    .filter(|d| {
                        d.path.starts_with(&prefix) || d.also_at.iter().any(|p| p.starts_with(&prefix))
                    })
                    .map(|d| d.id.clone())
                    .collect();
                if inside.is_empty() {
                    return Err(CoreError::EmptyFolder(folder.clone()));
                }
                doc_ids.extend(inside);
            }
        }
        Ok(Some(Scope { doc_ids }))
    }
}

/// The one document whose file is called `name` ("员工手册.pdf"); none when several are.
fn by_file_name(documents: &[crate::DocumentInfo], name: &str) -> Option<String> {
    let mut matching = documents.iter().filter(|d| {
        Path::new(&d.path)
            .file_name()
            .is_some_and(|f| f.to_string_lossy() == name)
    });
    let first = matching.next()?;
    matching.next().is_none().then(|| first.id.clone())
}

/// A folder as stored paths begin with it: canonical, ending in the separator (so `/docs/a` does
/// not take in `/docs/ab.pdf`).
fn folder_prefix(folder: &str) -> String {
    let mut key = path_key(Path::new(folder));
    if !key.ends_with(MAIN_SEPARATOR) {
        key.push(MAIN_SEPARATOR);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_prefix_ends_at_a_separator() {
        let dir = tempfile::tempdir().unwrap();
        let p = folder_prefix(dir.path().to_str().unwrap());
        assert!(p.ends_with(MAIN_SEPARATOR));
        assert!(!format!("{}b.pdf", p.trim_end_matches(MAIN_SEPARATOR)).starts_with(&p));
        assert!(ScopeRequest::default().is_empty());
    }
}
