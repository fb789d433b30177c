//! Base against tuned on the held-out questions: each answers every held-out question greedily
//! (no retrieval: what the weights learned), and each answer is scored against the FAQ's.

use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use super::super::load::{load_adapted, Kernels};
use super::super::types::{ChatMessage, GenerationParams};
use super::super::Generator;
use super::QaPair;
use crate::device::DeviceChoice;
use crate::error::Result;

/// How base and tuned answered the held-out questions.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Comparison {
    pub questions: usize,
    /// Answers equal to the FAQ's once spacing, punctuation and case are set aside.
    pub base_exact: usize,
    pub tuned_exact: usize,
    /// Mean character F1 against the FAQ's answer (0–1): partial credit, fair to Chinese.
    pub base_overlap: f64,
    pub tuned_overlap: f64,
    pub answers: Vec<Compared>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Compared {
    pub question: String,
    pub expected: String,
    pub base: String,
    pub tuned: String,
}

/// Answers `held_out` with the base model and with it plus the adapter in `adapter`.
/// `progress(done, total)` after each answer; `Break` stops it (`Ok(None)`).
pub(crate) fn compare(
    model: &Path,
    adapter: &Path,
    held_out: &[&QaPair],
    progress: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<Option<Comparison>> {
    let total = held_out.len() * 2;
    let mut done = 0;
    let mut answer_all = |adapter: Option<&Path>| -> Result<Option<Vec<String>>> {
        let llm = load_adapted(model, DeviceChoice::Cpu, Kernels::Integer, adapter)?;
        let mut out = Vec::with_capacity(held_out.len());
        for pair in held_out {
            let prompt = llm.render_chat(&[ChatMessage::user(pair.question.as_str())])?;
            // Room for the whole expected answer and a little more.
            let budget = llm.encode(&pair.answer)?.len() + 16;
            let text = llm
                .generate(&prompt, &GenerationParams::greedy(budget), &mut |_| {
                    ControlFlow::Continue(())
                })?
                .text;
            out.push(text.trim().to_string());
            done += 1;
            if progress(done, total).is_break() {
                return Ok(None);
            }
        }
        Ok(Some(out))
    };
    let Some(base) = answer_all(None)? else {
        return Ok(None);
    };
    let Some(tuned) = answer_all(Some(adapter))? else {
        return Ok(None);
    };
    let answers: Vec<Compared> = held_out
        .iter()
        .zip(base)
        .zip(tuned)
        .map(|((pair, base), tuned)| Compared {
            question: pair.question.clone(),
            expected: pair.answer.clone(),
            base,
            tuned,
        })
        .collect();
    let n = answers.len().max(1) as f64;
    let exact = |pick: fn(&Compared) -> &str| {
        answers
            .iter()
            .filter(|a| normalized(pick(a)) == normalized(&a.expected))
            .count()
    };
    let overlap =
        |pick: fn(&Compared) -> &str| answers.iter().map(|a| char_f1(pick(a), &a.expected)).sum::<f64>() / n;
    Ok(Some(Comparison {
        questions: answers.len(),
        base_exact: exact(|a| &a.base),
        tuned_exact: exact(|a| &a.tuned),
        base_overlap: overlap(|a| &a.base),
        tuned_overlap: overlap(|a| &a.tuned),
        answers,
    }))
}

/// Letters and digits only, lower-cased: spacing and punctuation differences are not errors.
fn normalized(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// F1 of the two texts' characters (as multisets), after [`normalized`].
fn char_f1(got: &str, want: &str) -> f64 {
    let (got, want) = (normalized(got), normalized(want));
    if got.is_empty() || want.is_empty() {
        return 0.0;
    }
    let mut counts: std::collections::HashMap<char, i64> = std::collections::HashMap::new();
    for c in want.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let mut common = 0;
    for c in got.chars() {
        if let Some(k) = counts.get_mut(&c).filter(|k| **k > 0) {
            *k -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / got.chars().count() as f64;
    let recall = common as f64 / want.chars().count() as f64;
    2.0 * precision * recall / (precision + recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_ignore_punctuation_and_give_partial_credit() {
        assert_eq!(normalized("Hello, World！ 中文。"), "helloworld中文");
        // 8 characters, all in the 11 of the answer: P = 1, R = 8/11.
        assert!((char_f1("午休12点到1点", "午休时间为12点到1点") - 16.0 / 19.0).abs() < 1e-9);
        assert_eq!(char_f1("", "x"), 0.0);
        assert_eq!(char_f1("abc", "abc"), 1.0);
    }
}
