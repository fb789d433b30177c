//! Conversations kept in the data directory, one JSON file each (`conversations/<id>.json`), written
//! atomically (a temporary file renamed over the old one) so a crash never leaves half a history.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::answer::{Answer, Turn};
use crate::{CoreError, Result};

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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
            mode: Some(answer.mode),
            at,
        });
        self.updated_at = at;
    }
}

/// What a list of conversations shows: everything but the turns, which are only counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    pub created_at: u64,
    pub updated_at: u64,
    #[serde(rename = "turns", deserialize_with = "count_items")]
    pub turn_count: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A file's size and modification time: a conversation saved since differs in one of them (each
/// save writes a new file and renames it over the old one).
type Stamp = (u64, Option<SystemTime>);

/// The conversations of one knowledge base.
#[derive(Debug, Clone)]
pub struct ConversationStore {
    dir: PathBuf,
    /// Summaries already read, by file, with the stamp they were read at. Listing re-reads only
    /// files that changed: a server with a thousand stored conversations answered a list in 1.2 s
    /// when every file (whole answers and their passages) was parsed each time. Clones share it.
    summaries: Arc<Mutex<HashMap<PathBuf, (Stamp, ConversationSummary)>>>,
}

impl ConversationStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            summaries: Arc::default(),
        }
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
        let mut all: Vec<Conversation> = self
            .files()?
            .into_iter()
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

    /// Every conversation's summary, most recently updated first. Unreadable files are skipped
    /// (and logged), as in [`ConversationStore::list`].
    pub fn summaries(&self) -> Result<Vec<ConversationSummary>> {
        let files = self.files()?;
        let mut known = self.summaries.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = HashMap::with_capacity(known.len());
        for path in files {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue; // deleted since the directory was read
            };
            let stamp = (meta.len(), meta.modified().ok());
            let summary = match known.remove(&path) {
                Some((was, summary)) if was == stamp => summary,
                _ => match read(&path) {
                    Ok(summary) => summary,
                    Err(e) => {
                        tracing::warn!(error = %e, "skipping an unreadable conversation");
                        continue;
                    }
                },
            };
            seen.insert(path, (stamp, summary));
        }
        // Files gone since the last list leave the cache with this.
        *known = seen;
        let mut all: Vec<ConversationSummary> = known.values().map(|(_, s)| s.clone()).collect();
        all.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.id.cmp(&b.id)));
        Ok(all)
    }

    /// The conversation files of the directory (none when it does not exist yet).
    fn files(&self) -> Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir, e)),
        };
        Ok(entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect())
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

/// A conversation file, whole or as much of it as `T` (a [`ConversationSummary`]) takes.
fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read(path).map_err(|e| io(path, e))?;
    serde_json::from_slice(&text).map_err(|e| CoreError::Conversation {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The length of a JSON array, its items skipped unparsed.
fn count_items<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<usize, D::Error> {
    struct Count;
    impl<'de> Visitor<'de> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of turns")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<usize, A::Error> {
            let mut n = 0;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n += 1;
            }
            Ok(n)
        }
    }
    deserializer.deserialize_seq(Count)
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

    fn turn(question: &str) -> Turn {
        Turn {
            question: question.into(),
            query: question.into(),
            answer: "午休时间为中午十二点到下午一点 [1]".into(),
            sources: Vec::new(),
            grounded: true,
            mode: Some(crate::answer::AnswerMode::Llm),
            at: 1,
        }
    }

    #[test]
    fn summaries_follow_saves_deletes_and_unreadable_files() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ConversationStore::new(tmp.path());
        let mut first = store.create();
        first.title = "午休".into();
        first.turns.push(turn("中午几点开始午休？"));
        first.updated_at = 10;
        store.save(&first).unwrap();
        let mut second = store.create();
        second.id = "00ff".into();
        second.owner = Some("ana".into());
        second.updated_at = 20;
        store.save(&second).unwrap();
        std::fs::write(tmp.path().join("bad.json"), "{\"id\": ").unwrap();

        let listed = store.summaries().unwrap();
        let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [second.id.as_str(), first.id.as_str()],
            "newest first, the bad file skipped"
        );
        assert_eq!((listed[1].title.as_str(), listed[1].turn_count), ("午休", 1));
        assert_eq!(listed[0].owner.as_deref(), Some("ana"));

        // A clone (another request's handle) sees a later save through the shared cache.
        let other = store.clone();
        first.turns.push(turn("下午几点结束？"));
        first.updated_at = 30;
        store.save(&first).unwrap();
        let listed = other.summaries().unwrap();
        assert_eq!(
            (listed[0].id.as_str(), listed[0].turn_count),
            (first.id.as_str(), 2)
        );

        store.delete(&second.id).unwrap();
        let listed = other.summaries().unwrap();
        assert_eq!(listed.len(), 1);
        // The same as reading every file whole.
        let whole = store.list().unwrap();
        assert_eq!(whole.len(), 1);
        assert_eq!(
            (whole[0].id.clone(), whole[0].turns.len()),
            (listed[0].id.clone(), listed[0].turn_count)
        );
    }
}
