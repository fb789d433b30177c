//! `doctalk models list | pull | info | rm`: the model store from the command line.

use std::process::ExitCode;
use std::sync::Mutex;

use doctalk_catalog::store::{ModelStatus, ModelStore};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::ModelsCommand;
use crate::output::{out_line, Progress};

pub async fn run(ctx: &Ctx, cmd: ModelsCommand) -> anyhow::Result<ExitCode> {
    let store = ModelStore::from_env(ctx.models_dir.as_deref(), &ctx.data_dir);
    match cmd {
        ModelsCommand::List(args) => {
            let all = store.list();
            // The user's own LoRA adapters follow the catalogue.
            let adapters = doctalk_core::adapters::list(&ctx.data_dir);
            if args.json {
                let mut arr: Vec<_> = all.iter().map(status_json).collect();
                arr.extend(adapters.iter().map(adapter_json));
                out_line(&serde_json::to_string_pretty(&arr)?)?;
            } else {
                for s in &all {
                    let m = s.manifest;
                    let place = s
                        .installed
                        .as_ref()
                        .map_or("not installed".to_string(), |p| p.display().to_string());
                    out_line(&format!(
                        "{:<40} {:<17} {:<11} {place}",
                        m.short_name, m.kind, m.licence
                    ))?;
                }
                for a in &adapters {
                    let about = match (&a.error, &a.base_model) {
                        (Some(e), _) => format!("cannot be used: {e}"),
                        (None, Some(base)) => format!("{} layers, for {base}", a.layers),
                        (None, None) => format!("{} layers", a.layers),
                    };
                    out_line(&format!(
                        "{:<40} {:<17} {:<11} {} ({about})",
                        a.name,
                        ADAPTER_KIND,
                        a.format.as_deref().unwrap_or("?"),
                        a.path.display()
                    ))?;
                }
            }
        }
        ModelsCommand::Info(args) => {
            let s = store.status(&args.model)?;
            if args.json {
                out_line(&serde_json::to_string_pretty(&status_json(&s))?)?;
            } else {
                let m = s.manifest;
                out_line(&format!("{} ({})", m.id, m.short_name))?;
                out_line(&format!("  kind:      {}", m.kind))?;
                out_line(&format!("  licence:   {} {}", m.licence, m.licence_url))?;
                out_line(&format!("  languages: {}", m.languages.join(", ")))?;
                if let Some(size) = m.size_bytes() {
                    out_line(&format!("  size:      {:.1} MB", size as f64 / 1e6))?;
                }
                if let Some(hub) = m.hub() {
                    out_line(&format!("  hub:       {} ({})", hub.repo, store.hub().endpoint))?;
                }
                let packages = m.registry_packages();
                if !packages.is_empty() {
                    out_line(&format!("  packages:  {}", packages.join(", ")))?;
                }
                let place = s
                    .installed
                    .as_ref()
                    .map_or("not installed".to_string(), |p| p.display().to_string());
                out_line(&format!("  installed: {place}"))?;
                if let Some(a) = &m.measured {
                    out_line(&format!(
                        "  measured:  fact+citation {:.0}% ({:.0}% before claim checking), refusals {:.0}%, \
                         false refusals {:.0}%, first text p50 {:.1} s\n             on {} ({}, {})",
                        a.fact_and_citation * 100.0,
                        a.fact_and_citation_before_checking * 100.0,
                        a.refusals * 100.0,
                        a.false_refusals * 100.0,
                        a.first_text_p50_ms / 1000.0,
                        a.set,
                        a.machine,
                        a.date
                    ))?;
                }
            }
        }
        ModelsCommand::Pull(args) => {
            let manifest = store.status(&args.model)?.manifest;
            if !args.json {
                // The licence is shown before anything is downloaded.
                eprintln!(
                    "{}: licence {} {}\nfrom {} …",
                    manifest.id,
                    manifest.licence,
                    manifest.licence_url,
                    store.hub().endpoint
                );
            }
            let bar = Mutex::new(None::<(String, Progress)>);
            let progress = |file: &str, done: u64, total: Option<u64>| {
                let mut bar = bar.lock().unwrap_or_else(|p| p.into_inner());
                if bar.as_ref().is_none_or(|(f, _)| f != file) {
                    if let Some((_, old)) = bar.take() {
                        old.finish();
                    }
                    let p = Progress::bytes(total.unwrap_or(0), file);
                    *bar = Some((file.to_string(), p));
                }
                if let Some((_, p)) = bar.as_ref() {
                    p.set(done);
                }
            };
            let dir = store.pull(&args.model, &progress).await;
            if let Some((_, p)) = bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
                p.finish();
            }
            let dir = dir?;
            if args.json {
                out_line(&serde_json::to_string_pretty(&json!({
                    "id": manifest.id,
                    "path": dir,
                }))?)?;
            } else {
                out_line(&format!("{} is ready in {}", manifest.id, dir.display()))?;
            }
        }
        ModelsCommand::Rm(args) => {
            let removal = store.remove(&args.model)?;
            if args.json {
                out_line(&serde_json::to_string_pretty(&json!({
                    "removed": removal.removed,
                    "kept": removal.kept,
                }))?)?;
            } else {
                if removal.removed.is_empty() {
                    out_line("Nothing to remove: DocTalk has not downloaded this model.")?;
                }
                for p in &removal.removed {
                    out_line(&format!("removed {}", p.display()))?;
                }
                for p in &removal.kept {
                    out_line(&format!(
                        "left alone (not downloaded by DocTalk): {}",
                        p.display()
                    ))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The catalogue's `kind` for the user's adapters.
const ADAPTER_KIND: &str = "lora-adapter";

/// An adapter in the catalogue's shape: `--adapter` takes its `short_name`.
fn adapter_json(a: &doctalk_core::adapters::AdapterEntry) -> serde_json::Value {
    json!({
        "id": a.name,
        "short_name": a.name,
        "kind": ADAPTER_KIND,
        "format": a.format,
        "layers": a.layers,
        "base_model": a.base_model,
        "installed": a.path,
        "error": a.error,
    })
}

fn status_json(s: &ModelStatus) -> serde_json::Value {
    let m = s.manifest;
    json!({
        "id": m.id,
        "short_name": m.short_name,
        "kind": m.kind,
        "licence": m.licence,
        "licence_url": m.licence_url,
        "languages": m.languages,
        "size_bytes": m.size_bytes(),
        "hub_repo": m.hub().map(|h| h.repo.clone()),
        "packages": m.registry_packages(),
        "installed": s.installed,
        "measured": m.measured,
    })
}
