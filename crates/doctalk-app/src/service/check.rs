//! "Check answers": the user's own questions, each with the fact a right answer states, asked of a
//! knowledge base in LLM and extractive modes and scored as `doctalk bench answers` scores them
//! (the loop and the scoring are `doctalk_core::answer_check`).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use doctalk_core::answer_check::{parse_cases, run_check, validate, CheckMode, CheckReport, QaCase};
use doctalk_core::AnswerRequest;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{admit_generator, chinese_script, Emit};
use crate::AppError;
use crate::Engine;

/// More questions than this belong in `doctalk bench answers`, not in a request that holds the
/// language model for the whole run.
const MAX_QUESTIONS: usize = 200;

/// What the app sends: the questions as a list, or as the JSON Lines text of a question file.
#[derive(Debug, Default, Deserialize, ts_rs::TS)]
pub struct CheckRequest {
    #[serde(default)]
    #[ts(as = "Option<Vec<QaCase>>", optional)]
    pub questions: Vec<QaCase>,
    /// A question file's text (`{"q": …, "expect_any": […]}` per line), as `bench answers` reads.
    #[serde(default)]
    #[ts(optional)]
    pub jsonl: Option<String>,
    /// Measure the extractive mode beside the model (default: yes).
    #[serde(default = "yes")]
    #[ts(as = "Option<bool>", optional)]
    pub extractive: bool,
    /// Measure the language model (default: yes, when one is loaded and free).
    #[serde(default = "yes")]
    #[ts(as = "Option<bool>", optional)]
    pub llm: bool,
}

fn yes() -> bool {
    true
}

impl CheckRequest {
    fn cases(self) -> Result<Vec<QaCase>, AppError> {
        let mut cases = self.questions;
        for (i, case) in cases.iter().enumerate() {
            validate(case).map_err(|reason| AppError::BadRequest(format!("question {}: {reason}", i + 1)))?;
        }
        if let Some(text) = self.jsonl.filter(|t| !t.trim().is_empty()) {
            cases.extend(parse_cases(&text).map_err(AppError::BadRequest)?);
        }
        if cases.is_empty() {
            return Err(AppError::BadRequest(
                "no questions: give \"questions\" or the \"jsonl\" text of a question file".into(),
            ));
        }
        if cases.len() > MAX_QUESTIONS {
            return Err(AppError::BadRequest(format!(
                "{} questions is more than the {MAX_QUESTIONS} a check takes at once: run `doctalk bench answers --qa FILE` for bigger sets",
                cases.len()
            )));
        }
        Ok(cases)
    }
}

/// Runs the check; `progress` events carry `{mode, done, total, q, right}`, the result is the
/// report. The language model is held for the whole run (answers in chat fall back to extractive
/// meanwhile, saying why); when it is busy or not loaded, only the extractive mode is measured and
/// `without_llm` says why.
pub async fn check_answers(
    s: &Engine,
    kb: Option<&str>,
    request: CheckRequest,
    emit: Emit,
    cancel: Arc<AtomicBool>,
) -> Result<CheckOutcome, AppError> {
    let (want_llm, want_extractive) = (request.llm, request.extractive);
    let cases = request.cases()?;
    let lib = s.library(kb).await?;
    let script = chinese_script(s);

    let mut modes = Vec::new();
    let mut without_llm = None;
    // Held for the whole run.
    let mut _place = None;
    if want_llm {
        let admission = admit_generator(s);
        _place = admission.place;
        match admission.generator {
            Some(generator) => modes.push(CheckMode::llm(generator)),
            None => {
                without_llm = Some(
                    admission
                        .reason
                        .unwrap_or_else(|| "no language model is loaded".to_string()),
                )
            }
        }
    }
    if want_extractive || modes.is_empty() {
        modes.push(CheckMode::extractive());
    }
    let request = move |q: &str| {
        let mut req = AnswerRequest::new(q);
        req.script = Some(script);
        req
    };
    let progress = move |p| emit("progress", json!(p));
    let report = run_check(&lib.kb, &cases, &modes, &request, &progress, cancel).await?;
    Ok(CheckOutcome { report, without_llm })
}

/// The report, and why the language model was not measured when it was asked for.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CheckOutcome {
    #[serde(flatten)]
    pub report: CheckReport,
    pub without_llm: Option<String>,
}
