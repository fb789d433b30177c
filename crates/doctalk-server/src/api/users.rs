//! `/api/users`: the admin page's list, add, remove and new token (admins only; see `access`).

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Extension;

use super::Reply;
use crate::access::AuditNote;
use crate::json::{JsonBody, JsonResponse};
use crate::{AppState, ServerError};
use doctalk_app::service::{self, NewUser};

pub(super) async fn list(State(s): State<AppState>) -> Reply {
    JsonResponse::of(&service::list_users(s.engine.workspace.data_dir())?)
}

pub(super) async fn add(
    State(s): State<AppState>,
    JsonBody(new): JsonBody<NewUser>,
) -> Result<impl IntoResponse, ServerError> {
    let reply = service::add_user(s.engine.workspace.data_dir(), &new)?;
    let note = reply.user.describe();
    Ok((Extension(AuditNote(note)), JsonResponse::of(&reply)?))
}

pub(super) async fn remove(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    JsonResponse::of(&service::remove_user(s.engine.workspace.data_dir(), &name)?)
}

pub(super) async fn renew_token(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    JsonResponse::of(&service::renew_token(s.engine.workspace.data_dir(), &name)?)
}
