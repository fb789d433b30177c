//! `doctalk serve`: the knowledge base over HTTP until Ctrl+C.

use std::process::ExitCode;
use std::sync::Arc;

use doctalk_server::{AppState, ServerConfig};

use crate::app::Ctx;
use crate::cli::ServeArgs;

pub async fn run(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Checked before the slow model loading: a refused bind should fail at once.
    if !args.bind.ip().is_loopback() && args.token.is_none() {
        anyhow::bail!(doctalk_server::ServerError::TokenRequired(args.bind));
    }
    let kb = ctx.open_kb().await?;
    let embedder = ctx.load_embedder()?;
    let generator = ctx.load_generator_or_warn(&args.answer).await;
    let state = AppState {
        kb: Arc::new(kb),
        generator,
        llm_gate: Arc::new(doctalk_server::LlmGate::new(args.max_waiting)),
        embedder,
        conversations: ctx.conversations(),
        config: Arc::new(ServerConfig {
            bind: args.bind,
            token: args.token.clone(),
            max_upload_bytes: args.max_upload_mib.saturating_mul(1 << 20),
            uploads_dir: ctx.kb_dir().join("uploads"),
            model_name: format!("doctalk-{}", ctx.kb_name),
        }),
    };
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
