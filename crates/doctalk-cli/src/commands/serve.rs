//! `doctalk serve`: the knowledge base over HTTP until Ctrl+C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use doctalk_app::{Auth, Engine, LanguageModel, LlmGate, UserDirectory};
use doctalk_server::{AppState, ServerConfig};

use crate::app::Ctx;
use crate::cli::{AuthMode, ServeArgs};

pub async fn run(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Checked before the slow model loading: a refused bind should fail at once.
    let auth = match (&args.token, args.auth) {
        (Some(token), _) => Auth::Token(token.clone()),
        (None, Some(AuthMode::Users)) => {
            let users = doctalk_core::users::Users::new(&ctx.data_dir).list()?;
            anyhow::ensure!(
                !users.is_empty(),
                "--auth users needs at least one user: add one with `doctalk users add NAME --role admin`"
            );
            Auth::Users(Arc::new(UserDirectory::new(&ctx.data_dir)))
        }
        (None, None) => Auth::Open,
    };
    if !args.bind.ip().is_loopback() && auth.is_open() {
        anyhow::bail!(doctalk_server::ServerError::TokenRequired(args.bind));
    }
    let kb = ctx.open_kb().await?;
    let workspace = ctx.workspace(kb.embedder().clone());
    workspace.insert(&ctx.kb_name, kb).await;
    // Watched folders follow changes while the server runs, and catch up on the ones made while
    // it was not running.
    if let Err(e) = workspace.watch_folders().await {
        eprintln!("Watched folders are not followed: {e}");
    }
    let generator = ctx.load_generator_or_warn(&args.answer).await?;
    let ui_dir = args.ui_dir.clone().or_else(installed_ui_dir);
    if ui_dir.is_none() {
        eprintln!("The web UI is not built (npm --prefix ui ci && npm --prefix ui run build); serving the API only.");
    }
    let state = AppState::new(
        Engine {
            workspace: Arc::new(workspace),
            language_model: Arc::new(LanguageModel::new(generator, ctx.model_roots())),
            llm_gate: Arc::new(LlmGate::new(args.max_waiting)),
            models: Arc::new(doctalk_catalog::store::ModelStore::from_env(
                ctx.models_dir.as_deref(),
                &ctx.data_dir,
            )),
        },
        ServerConfig {
            bind: args.bind,
            auth,
            rate_limit_per_minute: args.rate_limit,
            allowed_hosts: args.allow_host.clone(),
            max_upload_bytes: args.max_upload_mib.saturating_mul(1 << 20),
            ui_dir,
            model_name: format!("doctalk-{}", ctx.kb_name),
        },
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let addr = doctalk_server::serve(state, async {
        let _ = stop_rx.await;
    })
    .await?;
    // One machine-readable line first: scripts and tests wait for it.
    println!("listening on http://{addr}");
    eprintln!(
        "DocTalk is serving knowledge base {:?}; Ctrl+C stops it.",
        ctx.kb_name
    );
    tokio::signal::ctrl_c().await?;
    let _ = stop_tx.send(());
    Ok(ExitCode::SUCCESS)
}

/// The built UI: beside an installed binary (`../share/doctalk/ui`, as the .deb lays it out), or
/// this checkout's `ui/dist` for a development build.
fn installed_ui_dir() -> Option<PathBuf> {
    let exe_dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    [
        exe_dir.join("../share/doctalk/ui"),
        exe_dir.join("ui"),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/dist")),
    ]
    .into_iter()
    .find(|d| d.join("index.html").is_file())
}
