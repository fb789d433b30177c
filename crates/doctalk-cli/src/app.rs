//! Startup: logging, runtime, opening the knowledge base, error → exit code.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use doctalk_core::settings::ModelKind;
use doctalk_core::{Embedder, KnowledgeBase};
use doctalk_models::llm::Generator;

use crate::cli::{Cli, Command};
use crate::commands;

/// Exit code when an ingest finished but some files failed.
pub const EXIT_PARTIAL: u8 = 3;

pub fn run() -> ExitCode {
    // Before any thread exists: the allocator settings for tensor work (see doctalk_models::memory).
    doctalk_models::tune_allocator();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::new(&cli)?;
    anyhow::ensure!(
        ctx.kb_names.len() == 1 || matches!(cli.command, Command::Search(_)),
        "several knowledge bases (--kb {}) can only be searched together (`doctalk --kb a,b search …`); \
         everything else works on one",
        cli.kb
    );
    match cli.command {
        Command::Ingest(args) => commands::ingest::run(&ctx, args).await,
        Command::Search(args) => commands::search::run(&ctx, args).await,
        Command::List(args) => commands::list::run(&ctx, args).await,
        Command::Remove(args) => commands::remove::run(&ctx, args).await,
        Command::Watch(cmd) => commands::watch::run(&ctx, cmd).await,
        Command::Sync(args) => commands::sync::run(&ctx, args).await,
        Command::Kb(cmd) => commands::kb::run(&ctx, cmd).await,
        Command::Status(args) => commands::status::run(&ctx, args).await,
        Command::Generate(args) => commands::generate::run(&ctx, args).await,
        Command::Tune(args) => commands::tune::run(&ctx, args).await,
        Command::Models(cmd) => commands::models::run(&ctx, cmd).await,
        Command::Ask(args) => commands::ask::run(&ctx, args).await,
        Command::Summarize(args) => commands::summarize::run(&ctx, args).await,
        Command::Serve(args) => commands::serve::run(&ctx, args).await,
        Command::Users(cmd) => commands::users::run(&ctx, cmd),
        Command::Mcp(args) => commands::mcp::run(&ctx, args).await,
        Command::Chat(args) => commands::chat::run(&ctx, args).await,
        Command::Bench(cmd) => commands::bench::run(&ctx, cmd).await,
        Command::Say(args) => commands::voice::say(&ctx, args).await,
        Command::Voices(cmd) => commands::voice::voices(&ctx, cmd),
        Command::Transcribe(args) => commands::voice::transcribe(&ctx, args).await,
        Command::Voice(args) => commands::assistant::run(&ctx, args).await,
    }
}

/// Where things live for this invocation.
pub struct Ctx {
    pub data_dir: PathBuf,
    /// The knowledge base this command works on: the first of `kb_names`.
    pub kb_name: String,
    /// Every knowledge base `--kb` names (several only for `search`, checked in `dispatch`).
    pub kb_names: Vec<String>,
    pub models_dir: Option<PathBuf>,
    pub encoder: Option<String>,
    /// The index on shared object storage (`s3://…`) instead of the data directory.
    pub store_uri: Option<String>,
}

impl Ctx {
    fn new(cli: &Cli) -> anyhow::Result<Self> {
        let data_dir = match &cli.data_dir {
            Some(dir) => dir.clone(),
            None => dirs::data_dir()
                .map(|d| d.join("doctalk"))
                .context("no platform data directory; pass --data-dir or set DOCTALK_DATA_DIR")?,
        };
        let kb_names = doctalk_core::across::kb_names(&cli.kb).map_err(|_| {
            anyhow::anyhow!(
                "knowledge-base names use letters, digits, '-' and '_' only (several: a,b): {:?}",
                cli.kb
            )
        })?;
        let ctx = Ctx {
            data_dir,
            kb_name: kb_names[0].clone(),
            kb_names,
            models_dir: cli.models_dir.clone(),
            encoder: cli.encoder.clone(),
            store_uri: cli.store_uri.clone(),
        };
        // Scanned pages and pictures are read with the OCR model from the same places as the others.
        doctalk_core::ocr::use_model_roots(ctx.model_roots());
        Ok(ctx)
    }

    /// The watched folders of the chosen knowledge base.
    pub fn folders(&self) -> doctalk_core::folders::Folders {
        doctalk_core::folders::Folders::new(self.kb_dir())
    }

    pub fn kb_dir(&self) -> PathBuf {
        self.data_dir.join("kb").join(&self.kb_name)
    }

    /// Where models are looked for: `--models-dir`, then the usual places (see `SearchRoots`).
    pub fn model_roots(&self) -> doctalk_models::SearchRoots {
        doctalk_models::SearchRoots::for_app(self.models_dir.as_deref(), &self.data_dir)
    }

    /// The language model for answers, or `None` (with a message saying why) so that answering falls
    /// back to extractive mode instead of failing. A LoRA adapter asked for on the command line is
    /// the exception: one that cannot be applied is an error, not a quiet answer without it. The
    /// flags override the saved settings (the app's settings screen); the model is then loaded by
    /// the same code as the server's and the desktop app's (`doctalk_app::language_model`).
    pub async fn load_generator_or_warn(
        &self,
        args: &crate::cli::AnswerArgs,
    ) -> anyhow::Result<Option<Arc<dyn Generator>>> {
        if args.no_llm {
            return Ok(None);
        }
        let chosen_by_flags = args.model.is_some() || args.llm_url.is_some();
        let mut settings = doctalk_core::settings::Settings::load(&self.data_dir).unwrap_or_else(|e| {
            if !chosen_by_flags {
                eprintln!("{e}; using the default model.");
            }
            doctalk_core::settings::Settings::default()
        });
        let model = &mut settings.model;
        if let Some(url) = &args.llm_url {
            if let Some(adapter) = &args.adapter {
                anyhow::bail!(
                    "--adapter {adapter} applies to a local model; the remote model at {url} cannot take it"
                );
            }
            model.kind = ModelKind::Remote;
            model.url = Some(url.clone());
            model.id = args.model.clone();
        } else if args.model.is_some() {
            // A model named on the command line comes without the saved one's adapter.
            model.kind = ModelKind::Local;
            model.id = args.model.clone();
            model.path = None;
            model.adapter = args.adapter.clone();
        } else if args.adapter.is_some() {
            model.adapter = args.adapter.clone();
        }
        if settings.model.kind == ModelKind::None {
            return Ok(None);
        }
        let access = doctalk_app::language_model::RemoteAccess {
            api_key: args.llm_api_key.clone(),
            context_window: args.llm_context,
        };
        let failure =
            match doctalk_app::language_model::load_with(&settings, &self.model_roots(), &access).await {
                Ok(generator) => return Ok(generator),
                Err(message) => message,
            };
        if settings.model.kind == ModelKind::Remote {
            eprintln!(
                "The remote language model cannot be used ({failure}); answering from the passages instead."
            );
            return Ok(None);
        }
        if let Some(adapter) = &args.adapter {
            anyhow::bail!("the language model with the adapter {adapter} could not be loaded: {failure}");
        }
        eprintln!("The language model could not be loaded ({failure}); answering from the passages instead.");
        Ok(None)
    }

    /// The data directory's knowledge bases, for the server (this one is the default).
    pub fn workspace(&self, embedder: Arc<dyn Embedder>) -> doctalk_core::Workspace {
        doctalk_core::Workspace::new(
            self.data_dir.clone(),
            self.store_uri.clone(),
            embedder,
            self.kb_name.clone(),
        )
    }

    /// Where this knowledge base's conversations are kept.
    pub fn conversations(&self) -> doctalk_core::ConversationStore {
        doctalk_core::ConversationStore::new(self.kb_dir().join("conversations"))
    }

    pub fn load_embedder(&self) -> anyhow::Result<Arc<dyn Embedder>> {
        let embedder = doctalk_models::load_embedder(
            self.encoder.as_deref(),
            self.models_dir.as_deref(),
            &self.data_dir,
        )
        .context("cannot load the embedding model")?;
        Ok(embedder)
    }

    /// Opens the knowledge base; documents embedded by another model are re-embedded first
    /// (with progress), because vectors of two models must never be mixed.
    pub async fn open_kb(&self) -> anyhow::Result<KnowledgeBase> {
        self.open_kb_with(&self.kb_name, self.load_embedder()?).await
    }

    /// [`Ctx::open_kb`] for one of `kb_names`, with an encoder already loaded (several knowledge
    /// bases searched together share one).
    pub async fn open_kb_with(
        &self,
        name: &str,
        embedder: Arc<dyn Embedder>,
    ) -> anyhow::Result<KnowledgeBase> {
        let kb = match &self.store_uri {
            Some(uri) => {
                let uri = format!("{}/{}", uri.trim_end_matches('/'), name);
                KnowledgeBase::open_uri(&uri, embedder.clone())
                    .await
                    .with_context(|| format!("cannot open the knowledge base at {uri}"))?
            }
            None => {
                let kb_dir = self.data_dir.join("kb").join(name);
                KnowledgeBase::open(&kb_dir, embedder.clone())
                    .await
                    .with_context(|| format!("cannot open the knowledge base in {}", kb_dir.display()))?
            }
        };
        let stale = kb.stale_documents().await?;
        if !stale.is_empty() {
            eprintln!(
                "The embedding model changed (index: {}, now: {}): re-embedding {} document(s)…",
                stale[0].embedding_model,
                embedder.model_id(),
                stale.len()
            );
            let bar = crate::output::Progress::new(stale.len() as u64, "re-embedding");
            kb.reembed_stale(&|done, _total| bar.set(done as u64)).await?;
            bar.finish();
        }
        Ok(kb)
    }
}

fn init_logging(verbose: u8) {
    // pdf_oxide warns about every unmapped font glyph; those end up as our own page
    // diagnostics, so its warnings would only be noise on a user's terminal.
    let default = match verbose {
        0 => "warn,pdf_oxide=error",
        1 => "info,pdf_oxide=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
