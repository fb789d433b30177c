//! Checking answers against expected facts: the engine behind `doctalk bench answers` (and the
//! app's "Check answers"). A user writes questions about their own documents with the fact a right
//! answer must state; each is asked, and the answer is scored on whether it states the fact, cites
//! a passage that holds it, and refuses only what the documents cannot answer.
//!
//! The question file is JSON Lines, one case per line:
//! `{"q": "中午几点开始午休？", "expect_any": ["12点", "十二点"], "source": "员工手册.pdf"}` or
//! `{"q": "公司有健身房吗？", "unanswerable": true}`. Facts are compared after the claim checker's
//! normalisation (十二点 = 12点, full-width = half-width, case and spaces ignored).

mod run;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::answer::claims::{normalise, normalise_for_match, number_texts, strip_citations};
use crate::answer::{Answer, NOT_FOUND_EN, NOT_FOUND_ZH};
use crate::{CoreError, Result};

pub use run::{
    run_check, BeforeChecking, CheckMode, CheckProgress, CheckReport, CitedFile, ModeAnswer, ModeReport,
    QuestionReport,
};

/// One question and what a right answer must contain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct QaCase {
    pub q: String,
    /// A right answer states at least one of these.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub expect_any: Vec<String>,
    /// The file the fact is in (a file name or a part of the path), when known.
    #[serde(default)]
    #[ts(optional)]
    pub source: Option<String>,
    /// The documents do not answer this: the right answer is a refusal.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub unanswerable: bool,
}

/// Reads a question file; a bad line is an error naming the file and the line number.
pub fn read_cases(path: &Path) -> Result<Vec<QaCase>> {
    let bad = |reason: String| CoreError::Dataset {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    parse_cases(&text).map_err(bad)
}

/// Parses question lines (JSON Lines; blank lines and `//` comments are skipped). The error says
/// which line is wrong and why, for a file and for questions pasted into the app alike.
pub fn parse_cases(text: &str) -> std::result::Result<Vec<QaCase>, String> {
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let case: QaCase = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        validate(&case).map_err(|reason| format!("line {}: {reason}", i + 1))?;
        cases.push(case);
    }
    if cases.is_empty() {
        return Err("no questions in the file".into());
    }
    Ok(cases)
}

/// A case that can be scored: a question, and either facts to find or `unanswerable`.
pub fn validate(case: &QaCase) -> std::result::Result<(), String> {
    if case.q.trim().is_empty() {
        return Err("the question \"q\" is empty".into());
    }
    if !case.unanswerable && case.expect_any.iter().all(|f| f.trim().is_empty()) {
        return Err("give \"expect_any\" (the facts a right answer states) or \"unanswerable\": true".into());
    }
    Ok(())
}

/// How one answer scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseScore {
    /// The answer states an expected fact (answerable questions).
    pub fact: bool,
    /// A cited passage holds an expected fact (or comes from the expected file).
    pub cited_right: bool,
    /// The answer says the documents do not contain it.
    pub refused: bool,
    /// The answer states, in its own words, a figure where the expected fact is a figure, and none
    /// of its figures is the expected one: a wrong fact, not a missing one ("700元" for 500元).
    /// Quoted source text does not count: it is the source speaking.
    #[serde(default)]
    pub wrong_figure: bool,
    /// Claims the claim checker withheld.
    pub unverified: usize,
}

impl CaseScore {
    /// Right: fact and citation for an answerable question, a refusal for an unanswerable one.
    pub fn right(&self, case: &QaCase) -> bool {
        if case.unanswerable {
            self.refused
        } else {
            self.fact && self.cited_right && !self.refused
        }
    }
}

/// The answer as the model wrote it, before claim checking (`None` outside LLM mode).
pub fn before_checking(answer: &Answer) -> Option<Answer> {
    let text = answer.model_text.as_ref()?;
    let mut before = answer.clone();
    let check = crate::answer::check_citations(text, answer.sources.len());
    before.answer = check.text;
    before.cited = check.cited;
    before.unverified = Vec::new();
    Some(before)
}

/// Scores `answer` against `case`.
pub fn score(case: &QaCase, answer: &Answer) -> CaseScore {
    let refused =
        !answer.grounded || answer.answer.contains(NOT_FOUND_ZH) || answer.answer.contains(NOT_FOUND_EN);
    let expected: Vec<String> = case
        .expect_any
        .iter()
        .map(|f| normalise_for_match(f))
        .filter(|f| !f.is_empty())
        .collect();
    let said = normalise_for_match(&strip_citations(&answer.answer));
    let fact = expected.iter().any(|f| said.contains(f.as_str()));
    let cited_right = answer
        .sources
        .iter()
        .filter(|s| answer.cited.contains(&s.n))
        .any(|s| {
            let text = normalise_for_match(&s.text);
            expected.iter().any(|f| text.contains(f.as_str()))
                || case
                    .source
                    .as_deref()
                    .is_some_and(|want| !want.is_empty() && s.path.contains(want))
        });
    let wrong_figure = !case.unanswerable && !refused && !fact && {
        let expected_figures: Vec<String> = case
            .expect_any
            .iter()
            .flat_map(|f| number_texts(&normalise(f)))
            .collect();
        let stated = number_texts(&normalise(&without_quotes(&strip_citations(&answer.answer))));
        !expected_figures.is_empty()
            && !stated.is_empty()
            && !stated.iter().any(|n| expected_figures.contains(n))
    };
    CaseScore {
        fact,
        cited_right,
        refused,
        wrong_figure,
        unverified: answer.unverified.len(),
    }
}

/// `text` without what it quotes (“…”, "…"): the claim gate shows source sentences so.
fn without_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut closing: Option<char> = None;
    for c in text.chars() {
        match (closing, c) {
            (None, '“') => closing = Some('”'),
            (None, '"') => closing = Some('"'),
            (Some(end), c) if c == end => closing = None,
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}

/// Totals over a set of scored cases, as rates in 0..=1 (None when no case counts toward one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Totals {
    pub questions: usize,
    pub answerable: usize,
    pub unanswerable: usize,
    /// Answerable questions whose answer states the fact.
    pub fact_rate: Option<f64>,
    /// Answerable questions whose answer cites a passage holding the fact.
    pub citation_rate: Option<f64>,
    /// Both: the figure that matters.
    pub fact_and_citation_rate: Option<f64>,
    /// Unanswerable questions refused.
    pub refusal_rate: Option<f64>,
    /// Answerable questions refused.
    pub false_refusal_rate: Option<f64>,
    /// Answerable questions answered with a wrong figure (see [`CaseScore::wrong_figure`]).
    #[serde(default)]
    pub wrong_figure_rate: Option<f64>,
    /// Answers in which the claim checker withheld something.
    pub answers_with_unverified: usize,
    pub first_token_ms_p50: Option<f64>,
}

/// Sums up `(case, score, first token ms)` triples.
pub fn totals(scored: &[(&QaCase, CaseScore, Option<f64>)]) -> Totals {
    let answerable: Vec<&CaseScore> = scored
        .iter()
        .filter(|(c, _, _)| !c.unanswerable)
        .map(|(_, s, _)| s)
        .collect();
    let unanswerable: Vec<&CaseScore> = scored
        .iter()
        .filter(|(c, _, _)| c.unanswerable)
        .map(|(_, s, _)| s)
        .collect();
    let rate = |set: &[&CaseScore], f: &dyn Fn(&CaseScore) -> bool| -> Option<f64> {
        (!set.is_empty()).then(|| set.iter().filter(|s| f(s)).count() as f64 / set.len() as f64)
    };
    let mut first: Vec<f64> = scored.iter().filter_map(|(_, _, t)| *t).collect();
    first.sort_by(f64::total_cmp);
    Totals {
        questions: scored.len(),
        answerable: answerable.len(),
        unanswerable: unanswerable.len(),
        fact_rate: rate(&answerable, &|s| s.fact && !s.refused),
        citation_rate: rate(&answerable, &|s| s.cited_right && !s.refused),
        fact_and_citation_rate: rate(&answerable, &|s| s.fact && s.cited_right && !s.refused),
        refusal_rate: rate(&unanswerable, &|s| s.refused),
        false_refusal_rate: rate(&answerable, &|s| s.refused),
        wrong_figure_rate: rate(&answerable, &|s| s.wrong_figure),
        answers_with_unverified: scored.iter().filter(|(_, s, _)| s.unverified > 0).count(),
        first_token_ms_p50: (!first.is_empty()).then(|| first[first.len() / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{Evidence, Lang, Source, Timings};

    fn answer(text: &str, cited: Vec<usize>, sources: &[&str], grounded: bool) -> Answer {
        Answer {
            answer: text.into(),
            sources: sources
                .iter()
                .enumerate()
                .map(|(i, t)| Source {
                    n: i + 1,
                    path: format!("/docs/handbook-{}.pdf", i + 1),
                    also_at: Vec::new(),
                    title: "handbook".into(),
                    page: Some(1),
                    text: t.to_string(),
                    kind: doctalk_store::ChunkKind::Passage,
                    doc_id: "d".into(),
                    chunk_id: "c".into(),
                    heading_path: vec![],
                    row: None,
                    score: 0.9,
                })
                .collect(),
            query: String::new(),
            grounded,
            mode: crate::answer::AnswerMode::Llm,
            lang: Lang::Zh,
            evidence: Evidence {
                top_dense_score: None,
                top_bm25_score: None,
                faq_match: None,
                threshold: None,
                key_terms: None,
                matched_both: None,
            },
            cited,
            invalid_citations: vec![],
            whole_document: false,
            fallback_reason: None,
            model: None,
            cancelled: false,
            unverified: vec![],
            model_text: None,
            timings: Timings::default(),
        }
    }

    fn case(line: &str) -> QaCase {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn facts_match_across_numeral_forms_and_citations_must_hold_the_fact() {
        let c = case(r#"{"q": "中午几点开始午休？", "expect_any": ["十二点"]}"#);
        let s = score(
            &c,
            &answer(
                "中午12点开始午休 [1]。",
                vec![1],
                &["午休时间为中午十二点到下午一点"],
                true,
            ),
        );
        assert!(s.fact && s.cited_right && s.right(&c));
        let s = score(
            &c,
            &answer(
                "中午12点开始午休 [2]。",
                vec![2],
                &["午休时间为中午十二点", "其他"],
                true,
            ),
        );
        assert!(s.fact && !s.cited_right && !s.right(&c));
        let s = score(
            &c,
            &answer("中午两点开始午休。", vec![], &["午休时间为中午十二点"], true),
        );
        assert!(!s.fact && !s.right(&c));
    }

    #[test]
    fn unanswerable_questions_are_right_only_when_refused() {
        let c = case(r#"{"q": "公司有健身房吗？", "unanswerable": true}"#);
        assert!(score(&c, &answer(NOT_FOUND_ZH, vec![], &[], false)).right(&c));
        assert!(!score(&c, &answer("有健身房。", vec![], &["x"], true)).right(&c));
    }

    #[test]
    fn totals_are_rates_over_their_own_kind_of_question() {
        let a = case(r#"{"q": "a", "expect_any": ["1"]}"#);
        let u = case(r#"{"q": "u", "unanswerable": true}"#);
        let right = CaseScore {
            fact: true,
            cited_right: true,
            refused: false,
            wrong_figure: false,
            unverified: 0,
        };
        let refused = CaseScore {
            fact: false,
            cited_right: false,
            refused: true,
            wrong_figure: false,
            unverified: 0,
        };
        let t = totals(&[
            (&a, right.clone(), Some(900.0)),
            (&a, refused.clone(), Some(100.0)),
            (&u, refused, None),
        ]);
        assert_eq!((t.answerable, t.unanswerable), (2, 1));
        assert_eq!(t.fact_and_citation_rate, Some(0.5));
        assert_eq!(t.false_refusal_rate, Some(0.5));
        assert_eq!(t.refusal_rate, Some(1.0));
        assert_eq!(t.first_token_ms_p50, Some(900.0));
        assert_eq!(t.wrong_figure_rate, Some(0.0));
    }

    /// Real answers of the default model (bench answers, 2026-12-05): a wrong figure is told from a
    /// missing one, and a figure the claim gate quoted from a source is not the answer's own.
    #[test]
    fn a_wrong_figure_is_a_contradiction_a_quote_or_a_vague_answer_is_not() {
        let c = case(r#"{"q": "普通员工去上海出差住宿每晚标准是多少？", "expect_any": ["500元"]}"#);
        let wrong = score(
            &c,
            &answer(
                "普通员工去上海出差住宿每晚标准是700元[1]。",
                vec![1],
                &["其他员工500元"],
                true,
            ),
        );
        assert!(wrong.wrong_figure && !wrong.fact);
        let quoted = score(
            &c,
            &answer(
                "资料原文：“经理及高级专家700元” [1]",
                vec![1],
                &["经理及高级专家700元"],
                true,
            ),
        );
        assert!(!quoted.wrong_figure);
        let vague = score(
            &c,
            &answer("请参考差旅制度[1]。", vec![1], &["其他员工500元"], true),
        );
        assert!(!vague.wrong_figure);
        let right = score(&c, &answer("每晚五百元[1]。", vec![1], &["其他员工500元"], true));
        assert!(right.fact && !right.wrong_figure);
        let en = case(r#"{"q": "How long must a passphrase be?", "expect_any": ["16 characters"]}"#);
        assert!(
            score(
                &en,
                &answer(
                    "12 characters[4]",
                    vec![4],
                    &["a", "b", "c", "at least 12 characters"],
                    true
                )
            )
            .wrong_figure
        );
    }

    #[test]
    fn a_malformed_file_is_refused_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.jsonl");
        std::fs::write(
            &path,
            "{\"q\": \"ok\", \"expect_any\": [\"1\"]}\n\n{\"q\": \"broken\"\n",
        )
        .unwrap();
        let e = read_cases(&path).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("qa.jsonl"), "{e}");
        std::fs::write(&path, "{\"q\": \"no facts\"}\n").unwrap();
        let e = read_cases(&path).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("expect_any"), "{e}");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_cases(&path)
            .unwrap_err()
            .to_string()
            .contains("no questions"));
    }

    #[test]
    fn pasted_questions_parse_like_a_file_and_name_their_bad_line() {
        let cases = parse_cases(
            "\u{feff}{\"q\": \"午休几点？\", \"expect_any\": [\"12点\"]}\n// a note\n\n{\"q\": \"班车？\", \"unanswerable\": true}\n",
        )
        .unwrap();
        assert_eq!(cases.len(), 2);
        assert!(cases[1].unanswerable);
        let e =
            parse_cases("{\"q\": \"ok\", \"expect_any\": [\"1\"]}\n{\"q\": \"  \", \"expect_any\": [\"1\"]}")
                .unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("empty"), "{e}");
        assert!(parse_cases("\n// nothing\n")
            .unwrap_err()
            .contains("no questions"));
        assert!(parse_cases("not json").unwrap_err().starts_with("line 1:"));
    }
}
