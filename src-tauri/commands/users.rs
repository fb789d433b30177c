//! Who the caller is (the desktop's one person: every right) and the team server's users, kept in
//! this data directory's `users.json` for `doctalk serve --auth users`. The same service functions
//! as `/api/me` and `/api/users`.

use doctalk_app::service::{self, NewUser};
use doctalk_app::{Auth, Caller};
use tauri::State;

use crate::error::CommandResult;
use crate::Desktop;

#[tauri::command]
pub async fn me() -> CommandResult<service::Me> {
    Ok(service::whoami(&Auth::Open, &Caller::Local))
}

#[tauri::command]
pub async fn users_list(desktop: State<'_, Desktop>) -> CommandResult<Vec<doctalk_core::users::PublicUser>> {
    Ok(service::list_users(desktop.engine().await?.workspace.data_dir())?)
}

#[tauri::command]
pub async fn users_add(desktop: State<'_, Desktop>, user: NewUser) -> CommandResult<service::IssuedToken> {
    let dir = desktop.engine().await?.workspace.data_dir();
    let reply = service::add_user(dir, &user)?;
    service::audit_local(dir, "users add", &reply.user.describe());
    Ok(reply)
}

#[tauri::command]
pub async fn users_remove(desktop: State<'_, Desktop>, name: String) -> CommandResult<service::UserRemoved> {
    let dir = desktop.engine().await?.workspace.data_dir();
    let reply = service::remove_user(dir, &name)?;
    service::audit_local(dir, "users rm", &name);
    Ok(reply)
}

#[tauri::command]
pub async fn users_token(desktop: State<'_, Desktop>, name: String) -> CommandResult<service::IssuedToken> {
    let dir = desktop.engine().await?.workspace.data_dir();
    let reply = service::renew_token(dir, &name)?;
    service::audit_local(dir, "users token", &name);
    Ok(reply)
}
