//! "Train on this knowledge base": the estimate, then the run (stopped with `ask_stop` and the
//! same request id, which saves a checkpoint).

use doctalk_app::service::{self, TunePlan, TuneRequest};
use serde_json::Value;
use tauri::ipc::Channel;
use tauri::State;

use super::{emit_to, finish};
use crate::error::CommandResult;
use crate::Desktop;

#[tauri::command]
pub async fn tune_estimate(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    request: TuneRequest,
) -> CommandResult<TunePlan> {
    Ok(service::tune_estimate(desktop.engine().await?, kb.as_deref(), request).await?)
}

/// `progress` events (the training's own), then `done` with the report.
#[tauri::command]
pub async fn tune_run(
    desktop: State<'_, Desktop>,
    kb: Option<String>,
    request: TuneRequest,
    request_id: String,
    on_event: Channel<Value>,
) -> CommandResult<Value> {
    let engine = desktop.engine().await?;
    let cancel = desktop.start_ask(&request_id);
    let result = service::tune_kb(engine, kb.as_deref(), request, emit_to(&on_event), cancel).await;
    desktop.finish_ask(&request_id);
    finish(
        &on_event,
        result
            .map(|outcome| serde_json::json!(outcome))
            .map_err(Into::into),
    )
}
