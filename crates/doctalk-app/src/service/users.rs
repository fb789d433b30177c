//! Team-server users (`serve --auth users`): who the caller is, and the admin's list, add, remove
//! and new-token operations that `doctalk users` and `/api/users` share. The data directory's
//! `users.json` is the one place they live; a running server reads it again when it changes.

use std::path::Path;

use doctalk_core::audit::{AuditEntry, AuditLog};
use doctalk_core::users::{Role, Users};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{AppError, Auth, Caller};

/// How the server asks who is calling, and who that is.
pub fn whoami(auth: &Auth, caller: &Caller) -> Value {
    let auth = match auth {
        Auth::Open => "none",
        Auth::Token(_) => "token",
        Auth::Users(_) => "users",
    };
    match caller {
        Caller::Local => json!({"auth": auth, "name": null, "role": Role::Admin, "kbs": [], "all_kbs": true}),
        Caller::User(user) => {
            let mut me = user.public();
            me["auth"] = json!(auth);
            me
        }
    }
}

pub fn list_users(data_dir: &Path) -> Result<Value, AppError> {
    let users: Vec<Value> = Users::new(data_dir).list()?.iter().map(|u| u.public()).collect();
    Ok(json!(users))
}

/// A new user, as the admin page and `doctalk users add` send it.
#[derive(Debug, Clone, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    /// The knowledge bases they may use; empty: every one.
    #[serde(default)]
    pub kbs: Vec<String>,
}

/// Adds the user; the reply carries their token, the only time it is shown.
pub fn add_user(data_dir: &Path, new: &NewUser) -> Result<Value, AppError> {
    let (user, token) = Users::new(data_dir).add(&new.name, new.role, &new.kbs)?;
    Ok(json!({"user": user.public(), "token": token}))
}

pub fn remove_user(data_dir: &Path, name: &str) -> Result<Value, AppError> {
    let user = Users::new(data_dir).remove(name)?;
    Ok(json!({"removed": user.name}))
}

/// A new token for the user (the old one stops working); shown once.
pub fn renew_token(data_dir: &Path, name: &str) -> Result<Value, AppError> {
    let (user, token) = Users::new(data_dir).renew_token(name)?;
    Ok(json!({"user": user.public(), "token": token}))
}

/// Records a user change made without HTTP (the CLI, the desktop app) as `local`: whoever can
/// write the data directory owns it. (Over HTTP the `access` layer records the caller.)
pub fn audit_local(data_dir: &Path, action: &str, target: &str) {
    let mut entry = AuditEntry::new("local", action);
    entry.target = Some(target.to_string());
    AuditLog::new(data_dir).record(&entry);
}

/// How a user change is named in the audit log: `alice reader kbs=hr,finance`.
pub fn describe_user(user: &Value) -> String {
    let kbs: Vec<&str> = user["kbs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    format!(
        "{} {} kbs={}",
        user["name"].as_str().unwrap_or("?"),
        user["role"].as_str().unwrap_or("?"),
        kbs.join(",")
    )
}
