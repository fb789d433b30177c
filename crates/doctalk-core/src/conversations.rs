//! Conversations kept in the data directory, one JSON file each (`conversations/<id>.json`), written
//! atomically (a temporary file renamed over the old one) so a crash never leaves half a history.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::answer::{Answer, Turn};
use crate::{CoreError, Result};

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    /// The first question, shortened.
    pub title: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub turns: Vec<Turn>,
    /// The team-server user it belongs to (`serve --auth users`): only they see it. `None`: made
    /// without users (the desktop app, the CLI, a one-person server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl Conversation {
    /// Appends an answered question.
    pub fn push(&mut self, question: &str, answer: &Answer) {
        let at = now();
        if self.turns.is_empty() {
            self.title = question.chars().take(60).collect();
        }
        self.turns.push(Turn {
            question: question.to_string(),
            query: answer.query.clone(),
            answer: answer.answer.clone(),
            sources: answer.sources.clone(),
            grounded: answer.grounded,
            mode: answer.mode.clone(),
            at,
        });
        self.updated_at = at;
    }
}

/// The conversations of one knowledge base.
#[derive(Debug, Clone)]
pub struct ConversationStore {
    dir: PathBuf,
}

impl ConversationStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// A new, empty conversation (saved on the first [`ConversationStore::save`]).
    pub fn create(&self) -> Conversation {
        let at = now();
        let mut hasher = Sha256::new();
        hasher.update(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
                .to_le_bytes(),
        );
        hasher.update(std::process::id().to_le_bytes());
        hasher.update(self.dir.as_os_str().as_encoded_bytes());
        Conversation {
            id: hex::encode(&hasher.finalize()[..6]),
            title: String::new(),
            created_at: at,
            updated_at: at,
            turns: Vec::new(),
            owner: None,
        }
    }

    /// Every conversation, most recently updated first. Unreadable files are skipped (and logged).
    pub fn list(&self) -> Result<Vec<Conversation>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir, e)),
        };
        let mut all: Vec<Conversation> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| match read(&p) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an unreadable conversation");
                    None
                }
            })
            .collect();
        all.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
        Ok(all)
    }

    pub fn load(&self, id: &str) -> Result<Conversation> {
        let path = self.path(id)?;
        if !path.is_file() {
            return Err(CoreError::NoSuchConversation(id.to_string()));
        }
        read(&path)
    }

    pub fn save(&self, conversation: &Conversation) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let path = self.path(&conversation.id)?;
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(conversation).map_err(|e| CoreError::Conversation {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))
    }

    pub fn delete(&self, id: &str) -> Result<()> {
        let path = self.path(id)?;
        std::fs::remove_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CoreError::NoSuchConversation(id.to_string()),
            _ => io(&path, e),
        })
    }

    /// Ids are hex: anything else (`../`, slashes) never reaches the file system.
    fn path(&self, id: &str) -> Result<PathBuf> {
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(CoreError::NoSuchConversation(id.to_string()));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }
}

fn read(path: &Path) -> Result<Conversation> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    serde_json::from_str(&text).map_err(|e| CoreError::Conversation {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn io(path: &Path, e: std::io::Error) -> CoreError {
    CoreError::Conversation {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_round_trip_and_ids_cannot_escape_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ConversationStore::new(tmp.path().join("conversations"));
        assert!(store.list().unwrap().is_empty());
        let mut c = store.create();
        c.title = "出差".into();
        store.save(&c).unwrap();
        assert_eq!(store.load(&c.id).unwrap(), c);
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(matches!(
            store.load("../../etc/passwd"),
            Err(CoreError::NoSuchConversation(_))
        ));
        store.delete(&c.id).unwrap();
        assert!(matches!(store.load(&c.id), Err(CoreError::NoSuchConversation(_))));
    }
}
