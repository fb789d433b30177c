//! Who the caller is (the desktop's one person: every right) and the team server's users, kept in
//! this data directory's `users.json` for `doctalk serve --auth users`. The same service functions
//! as `/api/me` and `/api/users`.

use doctalk_app::service::{self, NewUser};
use doctalk_app::{Auth, Caller};
use serde_json::Value;
use tauri::State;

use crate::error::CommandResult;
use crate::Desktop;

#[tauri::command]
pub async fn me() -> CommandResult<Value> {
    Ok(service::whoami(&Auth::Open, &Caller::Local))
}

#[tauri::command]
pub async fn users_list(desktop: State<'_, Desktop>) -> CommandResult<Value> {
    Ok(service::list_users(desktop.engine().await?.workspace.data_dir())?)
}

#[tauri::command]
pub async fn users_add(desktop: State<'_, Desktop>, user: NewUser) -> CommandResult<Value> {
    let dir = desktop.engine().await?.workspace.data_dir();
    let reply = service::add_user(dir, &user)?;
    service::audit_local(dir, "users add", &service::describe_user(&reply["user"]));
    Ok(reply)
}

#[tauri::command]
pub async fn users_remove(desktop: State<'_, Desktop>, name: String) -> CommandResult<Value> {
    let dir = desktop.engine().await?.workspace.data_dir();
    let reply = service::remove_user(dir, &name)?;
    service::audit_local(dir, "users rm", &name);
    Ok(reply)
}

#[tauri::command]
pub async fn users_token(desktop: State<'_, Desktop>, name: String) -> CommandResult<Value> {
    let dir = desktop.engine().await?.workspace.data_dir();
    let reply = service::renew_token(dir, &name)?;
    service::audit_local(dir, "users token", &name);
    Ok(reply)
}
