//! The UI's TypeScript types are generated from the Rust types the API sends and takes
//! (`ui/src/api/generated.ts`), so the two cannot drift: this test fails when the checked-in file
//! differs from what the Rust types give. `DOCTALK_BLESS=1 cargo test -p doctalk-app --test
//! typescript` writes it anew; the UI's `tsc` (run by the test script) then checks every use.

use std::path::PathBuf;

use ts_rs::{Config, TS};

/// Declares each type, with its doc comment, and checks that every type a declaration names is
/// declared too (so the file needs no imports).
macro_rules! declarations {
    ($cfg:expr, $($ty:ty),* $(,)?) => {{
        let cfg = $cfg;
        let mut out = String::new();
        let mut declared = std::collections::BTreeSet::new();
        let mut needed = std::collections::BTreeMap::new();
        $(
            if let Some(docs) = <$ty as TS>::docs() {
                out.push_str(&docs);
            }
            out.push_str("export ");
            out.push_str(&<$ty as TS>::decl(&cfg));
            out.push_str("\n\n");
            declared.insert(<$ty as TS>::ident(&cfg));
            for dep in <$ty as TS>::dependencies(&cfg) {
                needed.insert(dep.ts_name.clone(), <$ty as TS>::ident(&cfg));
            }
        )*
        (out, declared, needed)
    }};
}

fn generated() -> String {
    use doctalk_app::language_model::{ModelState, ModelStatus};
    use doctalk_app::service::*;
    use doctalk_core::*;
    use doctalk_models::llm::tune;
    let cfg = Config::new().with_large_int("number");
    let (body, declared, needed) = declarations!(
        cfg,
        // Free-form JSON (a chunk's metadata).
        serde_json::Value,
        // Library and ingest.
        Health,
        KbList,
        KbSummary,
        KbCreated,
        KbImported,
        DocumentInfo,
        IngestDone,
        FileReport,
        FileStatus,
        ReportedDiagnostic,
        IngestEvent,
        IngestStage,
        // Search and answers.
        ChunkKind,
        SearchHit,
        fusion::ComponentScore,
        Explanation,
        answer::Evidence,
        ScopeRequest,
        AskRequest,
        AskReply,
        Answer,
        AnswerMode,
        Lang,
        Source,
        answer::Timings,
        answer::UnsupportedClaim,
        ConversationListed,
        Conversation,
        Turn,
        ConversationDeleted,
        // Folders.
        AddFolderRequest,
        FolderAdded,
        FolderRemoved,
        folders::WatchedFolder,
        folders::FolderStatus,
        folders::FileState,
        folders::FileStateKind,
        folders::SyncReport,
        folders::SkippedFile,
        // Settings, models, voices.
        SettingsView,
        settings::LanguagePref,
        settings::ScriptPref,
        settings::ModelChoice,
        settings::ModelKind,
        settings::Device,
        settings::VoiceChoice,
        SettingsPatch,
        settings::ModelPatch,
        settings::DevicePatch,
        settings::VoicePatch,
        DeviceOptions,
        ModelStatus,
        ModelState,
        CatalogueEntry,
        doctalk_catalog::store::AnswerScores,
        adapters::AdapterEntry,
        VoiceEntry,
        Downloaded,
        SetupStatus,
        SetupRole,
        SetupModel,
        Transcript,
        VoiceAdded,
        ClonedVoice,
        CloneEngine,
        VoiceRemoved,
        // Summaries.
        SummaryOutcome,
        summary::Summary,
        summary::SummaryProgress,
        // "Check answers".
        CheckRequest,
        answer_check::QaCase,
        answer_check::CheckProgress,
        CheckOutcome,
        answer_check::CheckReport,
        answer_check::ModeReport,
        answer_check::Totals,
        answer_check::QuestionReport,
        answer_check::ModeAnswer,
        answer_check::CitedFile,
        answer_check::BeforeChecking,
        // "Train on this knowledge base".
        TuneRequest,
        TunePlan,
        tune::TuneEstimate,
        tune::TuneEvent,
        TuneOutcome,
        tune::TuneReport,
        tune::TuneConfig,
        tune::Comparison,
        tune::Compared,
        tune::Paraphrase,
        // Team users.
        AuthKind,
        Me,
        users::Role,
        users::PublicUser,
        NewUser,
        IssuedToken,
        UserRemoved,
    );
    let missing: Vec<String> = needed
        .iter()
        .filter(|(name, _)| !declared.contains(*name))
        .map(|(name, by)| format!("{name} (used by {by})"))
        .collect();
    assert!(missing.is_empty(), "types used but not declared: {missing:?}");
    format!(
        "// Generated from the Rust types by crates/doctalk-app/tests/typescript.rs; do not edit.\n\
         // DOCTALK_BLESS=1 cargo test -p doctalk-app --test typescript writes it anew.\n\n{body}"
    )
    .trim_end()
    .to_string()
        + "\n"
}

#[test]
fn the_ui_types_are_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/api/generated.ts");
    let now = generated();
    if std::env::var_os("DOCTALK_BLESS").is_some() {
        std::fs::write(&path, &now).expect("write generated.ts");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == now,
        "{} is out of date with the Rust types: run `DOCTALK_BLESS=1 cargo test -p doctalk-app --test typescript` \
         and commit it (then `npm run typecheck` in ui/)",
        path.display()
    );
}
