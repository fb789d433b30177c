//! The people a team server answers (`doctalk serve --auth users`): each has a role, the knowledge
//! bases they may use, and an access token of their own.
//!
//! Kept in `users.json` in the data directory, readable by its owner only. Tokens are never stored:
//! only their SHA-256. A token is 32 random bytes, so a fast hash is enough (nobody can try 2^256
//! guesses); a slow password hash would only slow every request down. A token is shown once, when
//! it is made (`users add`, `users token`); a lost one is replaced, never recovered.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{CoreError, Result};

/// What a user may do. Each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Search, ask, read documents and summaries; their own conversations.
    Reader,
    /// Also add, re-index and remove documents, sync watched folders, export.
    Editor,
    /// Also knowledge bases, settings, models, voices, watched folders and users.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "reader" => Ok(Role::Reader),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?} (reader, editor or admin)")),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One user, as stored (the token only as its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The knowledge bases this user may use; empty: every one. Admins may use every one.
    #[serde(default)]
    pub kbs: Vec<String>,
    /// Hex SHA-256 of the user's token.
    token_sha256: String,
    pub created_at: u64,
}

impl User {
    /// Whether this user may use knowledge base `kb`.
    pub fn may_use(&self, kb: &str) -> bool {
        self.role == Role::Admin || self.kbs.is_empty() || self.kbs.iter().any(|k| k == kb)
    }

    /// What is shown about a user (never the hash).
    pub fn public(&self) -> PublicUser {
        PublicUser {
            name: self.name.clone(),
            role: self.role,
            kbs: self.kbs.clone(),
            all_kbs: self.role == Role::Admin || self.kbs.is_empty(),
            created_at: self.created_at,
        }
    }
}

/// A user as listed to an admin: never their token or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PublicUser {
    pub name: String,
    pub role: Role,
    /// The knowledge bases they may use (`all_kbs`: every one).
    pub kbs: Vec<String>,
    pub all_kbs: bool,
    /// Unix seconds.
    pub created_at: u64,
}

impl PublicUser {
    /// How a user change is named in the audit log: `alice reader kbs=hr,finance`.
    pub fn describe(&self) -> String {
        format!("{} {} kbs={}", self.name, self.role.as_str(), self.kbs.join(","))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UsersFile {
    users: Vec<User>,
}

/// `users.json` of one data directory.
#[derive(Debug, Clone)]
pub struct Users {
    path: PathBuf,
}

impl Users {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("users.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every user, in the order they were added (none when the file does not exist yet).
    pub fn list(&self) -> Result<Vec<User>> {
        Ok(self.read()?.users)
    }

    /// Adds a user and returns their token (shown once; only its hash is kept).
    pub fn add(&self, name: &str, role: Role, kbs: &[String]) -> Result<(User, String)> {
        let name = valid_user_name(name)?;
        for kb in kbs {
            if !crate::valid_kb_name(kb) {
                return Err(CoreError::BadKbName(kb.clone()));
            }
        }
        let mut file = self.read()?;
        if file.users.iter().any(|u| u.name == name) {
            return Err(CoreError::UserExists(name.to_string()));
        }
        let token = new_token()?;
        let mut kbs: Vec<String> = kbs.to_vec();
        kbs.sort();
        kbs.dedup();
        let user = User {
            name: name.to_string(),
            role,
            kbs,
            token_sha256: token_hash(&token),
            created_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        file.users.push(user.clone());
        self.write(&file)?;
        Ok((user, token))
    }

    /// Removes a user; their token stops working at once.
    pub fn remove(&self, name: &str) -> Result<User> {
        let mut file = self.read()?;
        let at = file
            .users
            .iter()
            .position(|u| u.name == name)
            .ok_or_else(|| CoreError::NoSuchUser(name.to_string()))?;
        let user = file.users.remove(at);
        self.write(&file)?;
        Ok(user)
    }

    /// Gives a user a new token (the old one stops working) and returns it.
    pub fn renew_token(&self, name: &str) -> Result<(User, String)> {
        let mut file = self.read()?;
        let user = file
            .users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| CoreError::NoSuchUser(name.to_string()))?;
        let token = new_token()?;
        user.token_sha256 = token_hash(&token);
        let user = user.clone();
        self.write(&file)?;
        Ok((user, token))
    }

    /// The user whose token this is, among `users`. Every stored hash is compared in full, so the
    /// time taken does not say how close a guess came.
    pub fn find_by_token<'a>(users: &'a [User], token: &str) -> Option<&'a User> {
        let presented = token_hash(token);
        let mut found = None;
        for user in users {
            if constant_time_eq(user.token_sha256.as_bytes(), presented.as_bytes()) {
                found = Some(user);
            }
        }
        found
    }

    fn read(&self) -> Result<UsersFile> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(UsersFile::default()),
            Err(e) => return Err(self.error(e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| self.error(e))
    }

    /// Written whole to a temporary file (owner-only on Unix) and renamed over the old one, so a
    /// crash leaves the old list or the new one.
    fn write(&self, file: &UsersFile) -> Result<()> {
        use std::io::Write;
        let bytes = serde_json::to_vec_pretty(file).map_err(|e| self.error(e))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.error(e))?;
        }
        let partial = self.path.with_extension("json.partial");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&partial).map_err(|e| self.error(e))?;
        out.write_all(&bytes).map_err(|e| self.error(e))?;
        out.sync_all().map_err(|e| self.error(e))?;
        drop(out);
        std::fs::rename(&partial, &self.path).map_err(|e| self.error(e))
    }

    fn error(&self, e: impl std::fmt::Display) -> CoreError {
        CoreError::Users {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }
}

fn valid_user_name(name: &str) -> Result<&str> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(name)
    } else {
        Err(CoreError::BadUserName(name.to_string()))
    }
}

/// `dt_` and 64 hex digits of operating-system randomness.
fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| CoreError::Users {
        path: PathBuf::from("users.json"),
        reason: format!("no randomness for a token: {e}"),
    })?;
    Ok(format!("dt_{}", hex::encode(bytes)))
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equality whose time does not depend on where two secrets of one length first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_only_as_hashes_and_find_their_user() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::new(dir.path());
        let (alice, token) = users.add("alice", Role::Reader, &["hr".into()]).unwrap();
        let (_, other) = users.add("bob", Role::Editor, &[]).unwrap();
        assert!(token.starts_with("dt_") && token.len() == 67);
        assert_ne!(token, other);
        let stored = std::fs::read_to_string(users.path()).unwrap();
        assert!(!stored.contains(&token), "{stored}");
        assert!(stored.contains(&token_hash(&token)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(users.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "users.json is readable by others: {mode:o}");
        }
        let list = users.list().unwrap();
        assert_eq!(Users::find_by_token(&list, &token), Some(&alice));
        assert_eq!(Users::find_by_token(&list, "dt_guess"), None);
        assert_eq!(Users::find_by_token(&list, ""), None);
    }

    #[test]
    fn a_renewed_token_replaces_the_old_one_and_removal_ends_access() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::new(dir.path());
        let (_, old) = users.add("carol", Role::Admin, &[]).unwrap();
        let (_, new) = users.renew_token("carol").unwrap();
        let list = users.list().unwrap();
        assert!(Users::find_by_token(&list, &old).is_none());
        assert_eq!(Users::find_by_token(&list, &new).unwrap().name, "carol");
        users.remove("carol").unwrap();
        assert!(Users::find_by_token(&users.list().unwrap(), &new).is_none());
        assert!(matches!(users.remove("carol"), Err(CoreError::NoSuchUser(_))));
        assert!(matches!(
            users.renew_token("nobody"),
            Err(CoreError::NoSuchUser(_))
        ));
    }

    #[test]
    fn names_roles_and_knowledge_bases_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::new(dir.path());
        for bad in ["", "a b", "../x", &"x".repeat(65)] {
            assert!(
                matches!(users.add(bad, Role::Reader, &[]), Err(CoreError::BadUserName(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            users.add("dan", Role::Reader, &["no/such".into()]),
            Err(CoreError::BadKbName(_))
        ));
        users.add("dan", Role::Reader, &[]).unwrap();
        assert!(matches!(
            users.add("dan", Role::Admin, &[]),
            Err(CoreError::UserExists(_))
        ));
        assert_eq!("Editor".parse::<Role>(), Ok(Role::Editor));
        assert!("owner".parse::<Role>().is_err());
        assert!(Role::Reader < Role::Editor && Role::Editor < Role::Admin);
    }

    #[test]
    fn knowledge_base_rights_follow_the_list_and_the_role() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::new(dir.path());
        let (scoped, _) = users.add("r", Role::Editor, &["hr".into(), "hr".into()]).unwrap();
        let (everywhere, _) = users.add("e", Role::Reader, &[]).unwrap();
        let (admin, _) = users.add("a", Role::Admin, &["hr".into()]).unwrap();
        assert_eq!(scoped.kbs, ["hr"]);
        assert!(scoped.may_use("hr") && !scoped.may_use("finance"));
        assert!(everywhere.may_use("finance"));
        assert!(admin.may_use("finance"));
        assert!(!serde_json::to_string(&scoped.public())
            .unwrap()
            .contains("sha256"));
    }

    #[test]
    fn a_damaged_users_file_is_an_error_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::new(dir.path());
        std::fs::write(users.path(), b"{\"users\": [").unwrap();
        assert!(matches!(users.list(), Err(CoreError::Users { .. })));
        assert!(users.add("x", Role::Reader, &[]).is_err());
    }
}
