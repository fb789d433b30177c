//! `doctalk bench answers --qa FILE.jsonl`: asks every question of the file over the current
//! knowledge base, in LLM and extractive modes, and reports per question and in total: fact rate,
//! citation rate, fact + citation, refusals of unanswerable questions, false refusals, answers the
//! claim checker corrected, and first-token p50. The scoring is `doctalk_core::answer_check`.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use doctalk_core::answer_check::{read_cases, run_check, CheckMode, CheckReport, Totals};

use crate::app::Ctx;
use crate::cli::BenchAnswersArgs;
use crate::output::{out_line, Progress};

pub async fn run(ctx: &Ctx, args: BenchAnswersArgs) -> anyhow::Result<ExitCode> {
    let cases = read_cases(&args.qa)?;
    let kb = ctx.open_kb().await?;
    let mut modes = Vec::new();
    if !args.answer.no_llm {
        match ctx.load_generator_or_warn(&args.answer).await? {
            Some(g) => modes.push(CheckMode::llm(g)),
            None => eprintln!("no language model: only the extractive mode is measured"),
        }
    }
    if !args.llm_only {
        modes.push(CheckMode::extractive());
    }

    let bar = Progress::new((cases.len() * modes.len()) as u64, "asking");
    let report = run_check(
        &kb,
        &cases,
        &modes,
        &|q| args.answer.request(q.to_string()),
        &|p| bar.set(p.done as u64),
        Arc::new(AtomicBool::new(false)),
    )
    .await?;
    bar.finish();
    if args.json {
        out_line(&serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &CheckReport) -> std::io::Result<()> {
    for m in &report.modes {
        print_totals(&m.mode, &m.totals)?;
        if let Some(before) = &m.before_checking {
            print_totals(&format!("{}_before_checking", m.mode), before)?;
        }
    }
    for q in &report.questions {
        let marks: Vec<String> = q
            .answers
            .iter()
            .map(|a| format!("{}: {}", a.mode, if a.right { "right" } else { "WRONG" }))
            .collect();
        out_line(&format!("{} | {}", marks.join(", "), q.q))?;
    }
    Ok(())
}

fn print_totals(mode: &str, t: &Totals) -> std::io::Result<()> {
    let pct = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
    out_line(&format!(
        "{mode}: {} questions ({} answerable, {} unanswerable)\n  fact {}  citation {}  fact+citation {}\n  \
         refusals of unanswerable {}  false refusals {}  wrong figures {}  answers corrected by the claim checker {}  first token p50 {}",
        t.questions,
        t.answerable,
        t.unanswerable,
        pct(t.fact_rate),
        pct(t.citation_rate),
        pct(t.fact_and_citation_rate),
        pct(t.refusal_rate),
        pct(t.false_refusal_rate),
        pct(t.wrong_figure_rate),
        t.answers_with_unverified,
        t.first_token_ms_p50.map_or("-".into(), |ms| format!("{ms:.0} ms")),
    ))
}
