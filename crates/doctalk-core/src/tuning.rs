//! The question–answer pairs a LoRA adapter is fine-tuned on: an FAQ export's rows, or the FAQ
//! entries of a knowledge base. Each alternative phrasing of a question (相似问题) becomes a pair of
//! its own with the same answer, so the adapter learns the ways people ask. Also where the adapter
//! trained on a knowledge base goes, and which model the app trains: the same for `doctalk tune`
//! and the app's "Train on this knowledge base".

use doctalk_store::ChunkKind;
use std::path::{Path, PathBuf};

use doctalk_ingest::{Block, ParseOptions};
use doctalk_models::llm::locate_llm;
use doctalk_models::llm::tune::QaPair;
use doctalk_models::SearchRoots;

use crate::settings::Settings;
use crate::{CoreError, KnowledgeBase, Result};

/// The name of the adapter trained on knowledge base `kb` (a name in the adapters directory, as
/// the settings' `model.adapter` takes it).
pub fn adapter_name(kb: &str) -> String {
    format!("{kb}-tuned")
}

/// Where the adapter trained on knowledge base `kb` is written by default.
pub fn default_out(data_dir: &Path, kb: &str) -> PathBuf {
    crate::adapters::dir(data_dir).join(adapter_name(kb))
}

/// The model the app fine-tunes: the local model `settings` choose, without its adapter (an
/// adapter is trained on the base). A remote model or none cannot be tuned here.
pub fn base_model(settings: &Settings, roots: &SearchRoots) -> Result<PathBuf> {
    if settings.model.kind != crate::settings::ModelKind::Local {
        return Err(CoreError::BadSettings(format!(
            "fine-tuning trains the local language model, and the settings choose {:?}: choose a local Qwen2 or Llama model first",
            settings.model.kind.as_str()
        )));
    }
    let choice = settings.model.path.as_deref().or(settings.model.id.as_deref());
    Ok(locate_llm(choice, roots)?)
}

/// The pairs of an FAQ export (CSV, TSV, XLSX, JSON, JSONL: whatever ingest reads as FAQ).
pub fn pairs_from_faq(path: &Path) -> Result<Vec<QaPair>> {
    let document = doctalk_ingest::parse_file(path, &ParseOptions::default())?;
    let mut pairs = Vec::new();
    for (entry, block) in document.blocks.iter().enumerate() {
        if let Block::Qa(qa) = block {
            let phrasings = std::iter::once(&qa.question).chain(&qa.similar_questions);
            expand(&mut pairs, phrasings, &qa.answer, entry);
        }
    }
    if pairs.is_empty() {
        return Err(CoreError::NoFaqPairs(path.display().to_string()));
    }
    Ok(pairs)
}

/// The pairs of a knowledge base's FAQ entries.
pub async fn pairs_from_kb(kb: &KnowledgeBase, name: &str) -> Result<Vec<QaPair>> {
    let mut pairs = Vec::new();
    let mut entry = 0;
    for doc in kb.documents().await? {
        for chunk in kb.store().chunks_of(&doc.id).await? {
            if chunk.kind != ChunkKind::Qa {
                continue;
            }
            if let Some(answer) = &chunk.answer {
                expand(&mut pairs, chunk.questions.iter(), answer, entry);
                entry += 1;
            }
        }
    }
    if pairs.is_empty() {
        return Err(CoreError::NoFaqPairs(format!("knowledge base {name:?}")));
    }
    Ok(pairs)
}

/// One pair per phrasing of entry `entry` (the same entry number for all, so that validation can
/// hold out a phrasing whose answer is still trained on).
fn expand<'a>(
    pairs: &mut Vec<QaPair>,
    questions: impl Iterator<Item = &'a String>,
    answer: &str,
    entry: usize,
) {
    let answer = answer.trim();
    if answer.is_empty() {
        return;
    }
    for q in questions {
        let question = q.trim();
        if !question.is_empty() && !pairs.iter().any(|p| p.question == question && p.answer == answer) {
            pairs.push(QaPair {
                question: question.to_string(),
                answer: answer.to_string(),
                entry,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_faq_export_gives_one_pair_per_phrasing() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("faq.csv");
        std::fs::write(
            &csv,
            "问题,答案,相似问题\n如何下载滴滴APP,在应用商店搜索“滴滴出行”下载,怎么装滴滴\n请问商旅的出差制度,见《差旅管理办法》第三章,\n",
        )
        .unwrap();
        let pairs = pairs_from_faq(&csv).unwrap();
        let questions: Vec<&str> = pairs.iter().map(|p| p.question.as_str()).collect();
        assert_eq!(questions, ["如何下载滴滴APP", "怎么装滴滴", "请问商旅的出差制度"]);
        assert_eq!(pairs[1].answer, "在应用商店搜索“滴滴出行”下载");
        assert_eq!(pairs[0].entry, pairs[1].entry);
        assert_ne!(pairs[1].entry, pairs[2].entry);

        let prose = dir.path().join("notes.md");
        std::fs::write(&prose, "# Notes\n\nNo questions here.\n").unwrap();
        let err = pairs_from_faq(&prose).unwrap_err().to_string();
        assert!(err.contains("notes.md"), "{err}");
    }
}
