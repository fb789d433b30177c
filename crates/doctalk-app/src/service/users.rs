//! Team-server users (`serve --auth users`): who the caller is, and the admin's list, add, remove
//! and new-token operations that `doctalk users` and `/api/users` share. The data directory's
//! `users.json` is the one place they live; a running server reads it again when it changes.

use std::path::Path;

use doctalk_core::audit::{AuditEntry, AuditLog};
use doctalk_core::users::{PublicUser, Role, Users};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{AppError, Auth, Caller};

/// How the server asks who is calling: not at all, one shared token, or users with their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    None,
    Token,
    Users,
}

/// Who the caller is (`/api/me`); the UI hides what they may not do.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Me {
    pub auth: AuthKind,
    /// Null for the one local person (no users).
    pub name: Option<String>,
    pub role: Role,
    pub kbs: Vec<String>,
    pub all_kbs: bool,
    /// Unix seconds (users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub created_at: Option<u64>,
}

/// A user just made or given a new token: the token is shown this once.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IssuedToken {
    pub user: PublicUser,
    pub token: String,
}

/// A user removed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UserRemoved {
    pub removed: String,
}

pub fn whoami(auth: &Auth, caller: &Caller) -> Me {
    let auth = match auth {
        Auth::Open => AuthKind::None,
        Auth::Token(_) => AuthKind::Token,
        Auth::Users(_) => AuthKind::Users,
    };
    match caller {
        Caller::Local => Me {
            auth,
            name: None,
            role: Role::Admin,
            kbs: Vec::new(),
            all_kbs: true,
            created_at: None,
        },
        Caller::User(user) => {
            let me = user.public();
            Me {
                auth,
                name: Some(me.name),
                role: me.role,
                kbs: me.kbs,
                all_kbs: me.all_kbs,
                created_at: Some(me.created_at),
            }
        }
    }
}

pub fn list_users(data_dir: &Path) -> Result<Vec<PublicUser>, AppError> {
    Ok(Users::new(data_dir).list()?.iter().map(|u| u.public()).collect())
}

/// A new user, as the admin page and `doctalk users add` send it.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    /// The knowledge bases they may use; empty: every one.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub kbs: Vec<String>,
}

/// Adds the user; the reply carries their token, the only time it is shown.
pub fn add_user(data_dir: &Path, new: &NewUser) -> Result<IssuedToken, AppError> {
    let (user, token) = Users::new(data_dir).add(&new.name, new.role, &new.kbs)?;
    Ok(IssuedToken {
        user: user.public(),
        token,
    })
}

pub fn remove_user(data_dir: &Path, name: &str) -> Result<UserRemoved, AppError> {
    let user = Users::new(data_dir).remove(name)?;
    Ok(UserRemoved { removed: user.name })
}

/// A new token for the user (the old one stops working); shown once.
pub fn renew_token(data_dir: &Path, name: &str) -> Result<IssuedToken, AppError> {
    let (user, token) = Users::new(data_dir).renew_token(name)?;
    Ok(IssuedToken {
        user: user.public(),
        token,
    })
}

/// Records a user change made without HTTP (the CLI, the desktop app) as `local`: whoever can
/// write the data directory owns it. (Over HTTP the `access` layer records the caller.)
pub fn audit_local(data_dir: &Path, action: &str, target: &str) {
    let mut entry = AuditEntry::new("local", action);
    entry.target = Some(target.to_string());
    AuditLog::new(data_dir).record(&entry);
}
