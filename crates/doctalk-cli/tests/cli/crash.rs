//! Kills a real `doctalk ingest` with SIGKILL at several points and checks the store after:
//! no half-indexed document is visible, a re-run completes, nothing is duplicated or lost.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::{stderr, Doctalk};

/// Writes a corpus big enough that ingest takes a few seconds: many small documents.
fn write_corpus(dir: &Path) {
    let topics = [
        "出差",
        "报销",
        "年假",
        "会议室",
        "打印机",
        "VPN",
        "门禁",
        "食堂",
        "班车",
        "快递",
    ];
    for i in 0..36 {
        let topic = topics[i % topics.len()];
        let mut body = format!("# 文档 {i}：{topic}\n\n");
        for p in 0..6 {
            body.push_str(&format!(
                "## 第{p}节\n\n关于{topic}的第{p}条规定：员工编号{i}的办理时限为{}个工作日。\
                 Section {p} of document {i} explains the {topic} rule number {p} in plain English, \
                 with enough words to make a realistic paragraph for chunking and embedding.\n\n",
                i + p
            ));
        }
        std::fs::write(dir.join(format!("doc{i:02}.md")), body).unwrap();
    }
}

/// Document path → chunk count, from `list --json`.
fn listing(dt: &Doctalk) -> BTreeMap<String, u64> {
    crate::faults::listing(dt, "multilingual-e5-small")
}

enum KillPoint {
    AfterFiles(usize),
    AfterMillis(u64),
}

#[test]
fn sigkill_mid_ingest_never_leaves_half_documents() {
    let corpus = tempfile::tempdir().unwrap();
    write_corpus(corpus.path());
    let corpus_arg = corpus.path().to_str().unwrap();

    // Reference: an uninterrupted ingest.
    let reference = Doctalk::new();
    let out = reference.run(&["ingest", corpus_arg, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = listing(&reference);
    assert_eq!(expected.len(), 36);

    let dt = Doctalk::new();
    let points = [
        KillPoint::AfterMillis(150),
        KillPoint::AfterFiles(1),
        KillPoint::AfterMillis(1200),
        KillPoint::AfterFiles(4),
        KillPoint::AfterMillis(2500),
    ];
    for point in points {
        let mut child = dt
            .command()
            .args(["ingest", corpus_arg, "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        match point {
            KillPoint::AfterFiles(n) => {
                let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
                let mut indexed = 0;
                while indexed < n {
                    match lines.next() {
                        Some(Ok(l)) if l.contains("\"indexed\"") => indexed += 1,
                        Some(Ok(_)) => {}
                        _ => break,
                    }
                }
            }
            KillPoint::AfterMillis(ms) => std::thread::sleep(Duration::from_millis(ms)),
        }
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();

        // Whatever is visible now is complete: each listed document has exactly the
        // reference's chunks, and search never returns a chunk of an unlisted document.
        let now = listing(&dt);
        for (path, chunks) in &now {
            assert_eq!(expected.get(path), Some(chunks), "half-indexed document {path}");
        }
        let hits = dt.json(&["search", "出差 rule number", "--json", "--top-k", "50"]);
        for h in hits.as_array().unwrap() {
            assert!(
                now.contains_key(h["path"].as_str().unwrap()),
                "orphan chunk visible: {h}"
            );
        }
    }

    // A re-run completes the job; the result equals the uninterrupted one.
    let out = dt.run(&["ingest", corpus_arg, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(listing(&dt), expected);
    // No duplicated or lost chunks: a query that matches one passage of every document
    // finds each document at most once per ordinal (chunk ids are unique).
    let hits = dt.json(&["search", "办理时限", "--json", "--top-k", "200"]);
    let ids: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["chunk_id"].as_str().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "duplicated chunks");
    let total: u64 = expected.values().sum();
    let status = dt.json(&["status", "--json"]);
    assert_eq!(
        status["chunks"].as_u64().unwrap(),
        total,
        "stored chunks = the documents' chunks: {status}"
    );
    assert_eq!(status["documents"].as_u64().unwrap(), 36);
}
