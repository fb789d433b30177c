//! `doctalk bench answers --qa FILE.jsonl`: asks every question of the file over the current
//! knowledge base, in LLM and extractive modes, and reports per question and in total: fact rate,
//! citation rate, fact + citation, refusals of unanswerable questions, false refusals, answers the
//! claim checker corrected, and first-token p50. The scoring is `doctalk_core::answer_check`.

use std::process::ExitCode;
use std::sync::Arc;

use doctalk_core::answer_check::{before_checking, read_cases, score, totals, CaseScore, QaCase, Totals};
use doctalk_models::llm::Generator;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::BenchAnswersArgs;
use crate::output::{out_line, Progress};

pub async fn run(ctx: &Ctx, args: BenchAnswersArgs) -> anyhow::Result<ExitCode> {
    let cases = read_cases(&args.qa)?;
    let kb = ctx.open_kb().await?;
    let mut modes: Vec<(&str, Option<Arc<dyn Generator>>)> = Vec::new();
    if !args.answer.no_llm {
        match ctx.load_generator_or_warn(&args.answer).await {
            Some(g) => modes.push(("llm", Some(g))),
            None => eprintln!("no language model: only the extractive mode is measured"),
        }
    }
    if !args.llm_only {
        modes.push(("extractive", None));
    }

    let mut report = serde_json::Map::new();
    let mut per_question: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| json!({"q": c.q, "unanswerable": c.unanswerable, "expect_any": c.expect_any}))
        .collect();
    for (mode, generator) in &modes {
        let bar = Progress::new(cases.len() as u64, &format!("asking ({mode})"));
        let mut scored: Vec<(&QaCase, CaseScore, Option<f64>)> = Vec::with_capacity(cases.len());
        // The same answers as the model wrote them, before claim checking (LLM mode).
        let mut scored_before: Vec<(&QaCase, CaseScore, Option<f64>)> = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let mut req = args.answer.request(case.q.clone());
            req.generator = generator.clone();
            let answer = kb.answer(req, Arc::new(|_| {})).await?;
            let s = score(case, &answer);
            per_question[i][mode] = json!({
                "right": s.right(case),
                "fact": s.fact,
                "cited_right": s.cited_right,
                "refused": s.refused,
                "unverified": answer.unverified,
                "answer": answer.answer,
                "mode": answer.mode,
                "first_token_ms": answer.timings.first_token_ms,
            });
            if let Some(before) = before_checking(&answer) {
                let b = score(case, &before);
                per_question[i][format!("{mode}_before_checking")] = json!({
                    "right": b.right(case), "fact": b.fact, "cited_right": b.cited_right,
                    "refused": b.refused, "answer": before.answer,
                });
                scored_before.push((case, b, answer.timings.first_token_ms));
            }
            scored.push((case, s, answer.timings.first_token_ms));
            bar.set(i as u64 + 1);
        }
        bar.finish();
        let t = totals(&scored);
        report.insert((*mode).to_string(), serde_json::to_value(&t)?);
        if !args.json {
            print_totals(mode, &t)?;
        }
        if !scored_before.is_empty() {
            let name = format!("{mode}_before_checking");
            let t = totals(&scored_before);
            report.insert(name.clone(), serde_json::to_value(&t)?);
            if !args.json {
                print_totals(&name, &t)?;
            }
        }
    }
    if args.json {
        report.insert("questions".into(), json!(per_question));
        out_line(&serde_json::to_string_pretty(&serde_json::Value::Object(report))?)?;
    } else {
        for q in &per_question {
            let marks: Vec<String> = modes
                .iter()
                .map(|(m, _)| {
                    format!(
                        "{m}: {}",
                        if q[m]["right"] == json!(true) {
                            "right"
                        } else {
                            "WRONG"
                        }
                    )
                })
                .collect();
            out_line(&format!(
                "{} | {}",
                marks.join(", "),
                q["q"].as_str().unwrap_or_default()
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_totals(mode: &str, t: &Totals) -> std::io::Result<()> {
    let pct = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
    out_line(&format!(
        "{mode}: {} questions ({} answerable, {} unanswerable)\n  fact {}  citation {}  fact+citation {}\n  \
         refusals of unanswerable {}  false refusals {}  answers corrected by the claim checker {}  first token p50 {}",
        t.questions,
        t.answerable,
        t.unanswerable,
        pct(t.fact_rate),
        pct(t.citation_rate),
        pct(t.fact_and_citation_rate),
        pct(t.refusal_rate),
        pct(t.false_refusal_rate),
        t.answers_with_unverified,
        t.first_token_ms_p50.map_or("-".into(), |ms| format!("{ms:.0} ms")),
    ))
}
