//! Who is calling, whichever door they came through: the desktop app and a one-person server are
//! [`Caller::Local`]; a team server's users ([`Auth::Users`]) are named by their token, and
//! `users.json` is read again when it changes ([`UserDirectory`]). The HTTP server decides who a
//! request comes from; what each caller may see and do is decided here and in `service`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use doctalk_core::users::{Role, User, Users};

use crate::AppError;

/// How a server knows who is calling.
#[derive(Clone, Default)]
pub enum Auth {
    /// Nobody is asked (loopback, one person).
    #[default]
    Open,
    /// One shared token (`--token`), checked by the HTTP server on every API request.
    Token(String),
    /// Each user their own token (`--auth users`).
    Users(Arc<UserDirectory>),
}

impl Auth {
    pub fn is_open(&self) -> bool {
        matches!(self, Auth::Open)
    }
}

/// Who is calling, as handlers see it.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Whoever runs the server (no users configured) or the desktop app: may do everything and
    /// sees every conversation.
    Local,
    /// A team-server user.
    User(User),
}

impl Caller {
    /// The name shown in the audit log.
    pub fn name(&self) -> &str {
        match self {
            Caller::Local => "local",
            Caller::User(u) => &u.name,
        }
    }

    /// The owner given to conversations this caller starts.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Caller::Local => None,
            Caller::User(u) => Some(&u.name),
        }
    }

    /// Whether this caller may see a conversation: their own only, when they are a user.
    pub fn sees(&self, conversation_owner: Option<&str>) -> bool {
        match self {
            Caller::Local => true,
            Caller::User(u) => conversation_owner == Some(u.name.as_str()),
        }
    }

    pub fn may_use(&self, kb: &str) -> bool {
        match self {
            Caller::Local => true,
            Caller::User(u) => u.may_use(kb),
        }
    }

    pub fn is_admin(&self) -> bool {
        match self {
            Caller::Local => true,
            Caller::User(u) => u.role == Role::Admin,
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Caller::Local => Role::Admin,
            Caller::User(u) => u.role,
        }
    }
}

/// `users.json`, read again whenever it changes on disk, so `doctalk users add|rm|token` take
/// effect on a running server at its next request.
pub struct UserDirectory {
    users: Users,
    cached: Mutex<Option<CachedUsers>>,
}

/// The list as read, and the file's modification time, length and inode then (every change is a
/// new file renamed into place, so a new inode even within one tick of the clock).
struct CachedUsers {
    stamp: FileStamp,
    users: Arc<Vec<User>>,
}

type FileStamp = (Option<SystemTime>, u64, u64);

fn stamp_of(meta: Option<&std::fs::Metadata>) -> FileStamp {
    #[cfg(unix)]
    let inode = meta.map_or(0, std::os::unix::fs::MetadataExt::ino);
    #[cfg(not(unix))]
    let inode = 0;
    (
        meta.and_then(|m| m.modified().ok()),
        meta.map_or(0, |m| m.len()),
        inode,
    )
}

impl UserDirectory {
    pub fn new(data_dir: &std::path::Path) -> Self {
        Self {
            users: Users::new(data_dir),
            cached: Mutex::new(None),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.users.path().to_path_buf()
    }

    /// The users as the file says now.
    pub fn current(&self) -> Result<Arc<Vec<User>>, AppError> {
        let stamp = stamp_of(std::fs::metadata(self.users.path()).ok().as_ref());
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cached.as_ref() {
            if c.stamp == stamp {
                return Ok(c.users.clone());
            }
        }
        let users = Arc::new(self.users.list()?);
        *cached = Some(CachedUsers {
            stamp,
            users: users.clone(),
        });
        Ok(users)
    }
}
