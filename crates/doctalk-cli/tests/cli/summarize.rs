//! `doctalk summarize`: a whole document summarised point by point, every point cited.

use crate::harness::{indexed_sample, stderr};

/// With the default model: each point names its passage, the passages are the document's own, the
/// summary is in the document's language, and nothing is left that its passage does not say.
#[test]
fn the_model_summarises_a_document_point_by_point_with_citations() {
    let s = indexed_sample().json(&["summarize", "it-security-policy.pdf", "--json"]);
    assert_eq!(s["mode"], "llm", "{s}");
    assert_eq!(s["lang"], "en");
    let sources = s["sources"].as_array().unwrap();
    assert!(sources.len() >= 3 && sources.len() <= 6, "{s}");
    assert!(sources
        .iter()
        .all(|x| x["path"].as_str().unwrap().ends_with("it-security-policy.pdf")));
    let text = s["summary"].as_str().unwrap();
    let points: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(points.len() >= 3, "{text}");
    for p in &points {
        assert!(
            p.contains('[') && p.trim_end().ends_with(']'),
            "every point is cited: {p:?}"
        );
    }
    assert_eq!(
        s["passages_total"]
            .as_u64()
            .map(|n| n >= s["passages_read"].as_u64().unwrap()),
        Some(true)
    );
}

/// Without a model: the opening sentence of each chosen passage, cited; a table of contents is
/// never one of them; an unknown document is an error naming it.
#[test]
fn without_a_model_the_summary_quotes_its_passages() {
    let dt = indexed_sample();
    let s = dt.json(&[
        "summarize",
        "员工手册.pdf",
        "--no-llm",
        "--json",
        "--length",
        "long",
    ]);
    assert_eq!(s["mode"], "extractive");
    assert_eq!(s["lang"], "zh");
    let sources = s["sources"].as_array().unwrap();
    assert!(sources.len() > 6, "long reads more passages: {s}");
    assert!(
        sources
            .iter()
            .all(|x| !x["text"].as_str().unwrap().contains(". . . .")),
        "no table of contents"
    );
    let text = s["summary"].as_str().unwrap();
    for line in text.lines() {
        let n: usize = line
            .rsplit('[')
            .next()
            .unwrap()
            .trim_end_matches(']')
            .parse()
            .unwrap();
        let source = sources.iter().find(|x| x["n"] == n).unwrap()["text"]
            .as_str()
            .unwrap();
        let quoted = line.trim_start_matches("- ").rsplit_once(" [").unwrap().0;
        // Compared without white space: a PDF wraps a sentence over lines.
        let flat = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert!(
            flat(source).contains(&flat(quoted)),
            "{quoted:?} is the passage's own sentence"
        );
    }
    let human = dt.run(&["summarize", "员工手册.pdf", "--no-llm"]);
    assert!(human.status.success(), "{}", stderr(&human));
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("第"),
        "labels with pages"
    );

    let out = dt.run(&["summarize", "nowhere.pdf", "--no-llm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nowhere.pdf"), "{}", stderr(&out));
}

/// Chinese documents, with the default model: a handbook PDF and an FAQ export. Every point is a
/// statement in its passage's language (an FAQ's point tells its answer, never the question again), the passages
/// read are spread over the document (more than one page of the handbook; distinct FAQ entries),
/// and each point shares a good part of its wording with the passage it cites (a paraphrase keeps
/// its key terms: at least a third of its character pairs; an unrelated passage of the same
/// document shares far fewer). The claim gate checked its facts before it was shown.
#[test]
fn chinese_summaries_state_what_their_cited_passages_say() {
    let dt = indexed_sample();
    for doc in ["员工手册.pdf", "faq.csv"] {
        let s = dt.json(&["summarize", doc, "--json"]);
        assert_eq!(
            (s["mode"].as_str(), s["lang"].as_str()),
            (Some("llm"), Some("zh")),
            "{s}"
        );
        let sources = s["sources"].as_array().unwrap();
        if doc.ends_with(".pdf") {
            let pages: std::collections::HashSet<u64> =
                sources.iter().filter_map(|x| x["page"].as_u64()).collect();
            assert!(pages.len() >= 4, "spread over the handbook: {pages:?}");
        }
        let text = s["summary"].as_str().unwrap();
        let points: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(points.len() >= 4, "{text}");
        for p in points {
            let (body, cite) = p.trim_start_matches("- ").rsplit_once(" [").unwrap();
            let n: u64 = cite.trim_end_matches(']').parse().unwrap();
            assert!(!body.ends_with(['？', '?']), "a statement, not a question: {p}");
            let passage = sources.iter().find(|x| x["n"] == n).unwrap()["text"]
                .as_str()
                .unwrap();
            // In its passage's language (the FAQ export has a few English entries).
            let han = |t: &str| {
                t.chars()
                    .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                    .count() as f32
            };
            let letters = |t: &str| t.chars().filter(|c| c.is_alphabetic()).count().max(1) as f32;
            let chinese = |t: &str| han(t) / letters(t) >= 0.2;
            assert_eq!(chinese(body), chinese(passage), "in its passage's language: {p}");
            let flat = |t: &str| t.chars().filter(|c| c.is_alphanumeric()).collect::<Vec<char>>();
            let (b, src) = (flat(body), flat(passage));
            let src_pairs: std::collections::HashSet<(char, char)> =
                src.windows(2).map(|w| (w[0], w[1])).collect();
            let pairs: Vec<(char, char)> = b.windows(2).map(|w| (w[0], w[1])).collect();
            let shared = pairs.iter().filter(|p| src_pairs.contains(p)).count();
            assert!(
                shared * 3 >= pairs.len(),
                "{p} shares {shared} of {} character pairs with its passage {passage:?}",
                pairs.len()
            );
        }
    }
}
