//! Asking a question set of a knowledge base, in one or more modes, and collecting the report that
//! `doctalk bench answers` prints and the app's "Check answers" shows. One loop for both doors.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use doctalk_models::llm::Generator;
use serde::{Deserialize, Serialize};

use super::{before_checking, score, totals, CaseScore, QaCase, Totals};
use crate::answer::claims::UnsupportedClaim;
use crate::answer::{AnswerRequest, EventSink, Evidence};
use crate::{CoreError, KnowledgeBase, Result};

/// One way of answering: with a language model, or extractive (`generator: None`).
#[derive(Clone)]
pub struct CheckMode {
    /// "llm" or "extractive": the key of the mode in the report.
    pub name: String,
    pub generator: Option<Arc<dyn Generator>>,
}

impl CheckMode {
    pub fn llm(generator: Arc<dyn Generator>) -> Self {
        CheckMode {
            name: "llm".into(),
            generator: Some(generator),
        }
    }

    pub fn extractive() -> Self {
        CheckMode {
            name: "extractive".into(),
            generator: None,
        }
    }
}

/// One question answered, for a progress bar.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CheckProgress {
    pub mode: String,
    /// Answers finished so far, over all modes.
    pub done: usize,
    pub total: usize,
    pub q: String,
    pub right: bool,
}

/// Everything a run found: totals per mode, and each question's answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct CheckReport {
    pub modes: Vec<ModeReport>,
    pub questions: Vec<QuestionReport>,
    /// The run was stopped: the totals cover the questions answered before that.
    pub stopped: bool,
}

impl CheckReport {
    /// The totals of mode `name` ("llm", "extractive", or "llm_before_checking").
    pub fn totals(&self, name: &str) -> Option<&Totals> {
        let (mode, before) = match name.strip_suffix("_before_checking") {
            Some(mode) => (mode, true),
            None => (name, false),
        };
        let m = self.modes.iter().find(|m| m.mode == mode)?;
        if before {
            m.before_checking.as_ref()
        } else {
            Some(&m.totals)
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct ModeReport {
    pub mode: String,
    /// The model that answered (LLM mode).
    pub model: Option<String>,
    pub totals: Totals,
    /// The same answers scored as the model wrote them, before claim checking (LLM mode).
    pub before_checking: Option<Totals>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct QuestionReport {
    pub q: String,
    pub unanswerable: bool,
    pub expect_any: Vec<String>,
    pub source: Option<String>,
    /// One per mode that reached this question, in the order of `CheckReport::modes`.
    pub answers: Vec<ModeAnswer>,
}

impl QuestionReport {
    pub fn answer(&self, mode: &str) -> Option<&ModeAnswer> {
        self.answers.iter().find(|a| a.mode == mode)
    }
}

/// How one mode answered one question.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct ModeAnswer {
    pub mode: String,
    pub right: bool,
    pub fact: bool,
    pub cited_right: bool,
    pub refused: bool,
    pub answer: String,
    /// How it was really answered ("extractive" when the model was not used, with the reason).
    pub answered_as: String,
    pub fallback_reason: Option<String>,
    /// Claims the claim checker withheld.
    pub unverified: Vec<UnsupportedClaim>,
    /// The cited passages' files and pages.
    pub cited: Vec<CitedFile>,
    pub first_token_ms: Option<f64>,
    /// The answer as the model wrote it, scored before claim checking (LLM mode).
    pub before_checking: Option<BeforeChecking>,
    /// Whether the search counted as evidence, and the numbers that decided it (for finding why a
    /// question was refused or answered).
    pub grounded: bool,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct CitedFile {
    pub n: usize,
    pub path: String,
    pub page: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct BeforeChecking {
    pub right: bool,
    pub fact: bool,
    pub cited_right: bool,
    pub refused: bool,
    pub answer: String,
}

/// Asks every case in every mode. `request` builds each question's request (top-k, prompt budget,
/// script…); the mode sets its generator. `cancel` stops the run between questions and the answer
/// being generated within a token; what was answered before is reported, with `stopped` set.
pub async fn run_check(
    kb: &KnowledgeBase,
    cases: &[QaCase],
    modes: &[CheckMode],
    request: &(dyn Fn(&str) -> AnswerRequest + Send + Sync),
    progress: &(dyn Fn(CheckProgress) + Send + Sync),
    cancel: Arc<AtomicBool>,
) -> Result<CheckReport> {
    // Every answer over an empty index is "not found": a report of zeros would blame the model.
    if kb.chunk_count().await? == 0 {
        return Err(CoreError::EmptyKnowledgeBase);
    }
    let mut report = CheckReport {
        questions: cases
            .iter()
            .map(|c| QuestionReport {
                q: c.q.clone(),
                unanswerable: c.unanswerable,
                expect_any: c.expect_any.clone(),
                source: c.source.clone(),
                answers: Vec::new(),
            })
            .collect(),
        ..CheckReport::default()
    };
    let total = cases.len() * modes.len();
    let mut done = 0;
    let quiet: EventSink = Arc::new(|_| {});
    'modes: for mode in modes {
        let mut scored: Vec<(&QaCase, CaseScore, Option<f64>)> = Vec::with_capacity(cases.len());
        let mut scored_before: Vec<(&QaCase, CaseScore, Option<f64>)> = Vec::new();
        let mut model = None;
        for (i, case) in cases.iter().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                report.stopped = true;
            }
            if report.stopped {
                push_mode(&mut report, mode, model, &scored, &scored_before);
                break 'modes;
            }
            let mut req = request(&case.q);
            req.generator = mode.generator.clone();
            req.cancel = cancel.clone();
            let answer = kb.answer(req, quiet.clone()).await?;
            if answer.cancelled {
                // Half an answer is not scored.
                report.stopped = true;
                continue;
            }
            model = model.or_else(|| answer.model.clone());
            let s = score(case, &answer);
            let before = before_checking(&answer).map(|b| {
                let bs = score(case, &b);
                scored_before.push((case, bs.clone(), answer.timings.first_token_ms));
                BeforeChecking {
                    right: bs.right(case),
                    fact: bs.fact,
                    cited_right: bs.cited_right,
                    refused: bs.refused,
                    answer: b.answer,
                }
            });
            let right = s.right(case);
            report.questions[i].answers.push(ModeAnswer {
                mode: mode.name.clone(),
                right,
                fact: s.fact,
                cited_right: s.cited_right,
                refused: s.refused,
                answer: answer.answer.clone(),
                answered_as: answer.mode.as_str().to_string(),
                fallback_reason: answer.fallback_reason.clone(),
                unverified: answer.unverified.clone(),
                cited: answer
                    .sources
                    .iter()
                    .filter(|src| answer.cited.contains(&src.n))
                    .map(|src| CitedFile {
                        n: src.n,
                        path: src.path.clone(),
                        page: src.page,
                    })
                    .collect(),
                first_token_ms: answer.timings.first_token_ms,
                before_checking: before,
                grounded: answer.grounded,
                evidence: answer.evidence.clone(),
            });
            scored.push((case, s, answer.timings.first_token_ms));
            done += 1;
            progress(CheckProgress {
                mode: mode.name.clone(),
                done,
                total,
                q: case.q.clone(),
                right,
            });
        }
        push_mode(&mut report, mode, model, &scored, &scored_before);
        if report.stopped {
            break;
        }
    }
    Ok(report)
}

fn push_mode(
    report: &mut CheckReport,
    mode: &CheckMode,
    model: Option<String>,
    scored: &[(&QaCase, CaseScore, Option<f64>)],
    scored_before: &[(&QaCase, CaseScore, Option<f64>)],
) {
    if scored.is_empty() && report.stopped {
        return;
    }
    report.modes.push(ModeReport {
        mode: mode.name.clone(),
        model,
        totals: totals(scored),
        before_checking: (!scored_before.is_empty()).then(|| totals(scored_before)),
    });
}
