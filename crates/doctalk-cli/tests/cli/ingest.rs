use std::fs;

use crate::harness::{sample_kb, stderr, BoundedOutput, Doctalk};

fn by_status<'a>(lines: &'a [serde_json::Value], status: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["status"] == status).collect()
}

#[test]
fn sample_kb_indexes_then_is_unchanged() {
    let dt = Doctalk::new();
    let kb = sample_kb();
    let (out, lines) = dt.json_lines(&["ingest", kb.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        lines.len() >= 3,
        "expected the handbook PDF, the English PDF and the FAQ: {lines:?}"
    );
    assert_eq!(by_status(&lines, "indexed").len(), lines.len(), "{lines:?}");
    let pdf = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("员工手册.pdf"))
        .expect("handbook");
    assert!(pdf["pages"].as_u64().unwrap() >= 5, "{pdf}");
    assert!(pdf["chunks"].as_u64().unwrap() >= 5, "{pdf}");
    let faq = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("faq.csv"))
        .expect("faq");
    assert!(
        faq["chunks"].as_u64().unwrap() >= 40,
        "one chunk per Q&A pair: {faq}"
    );

    let (out, again) = dt.json_lines(&["ingest", kb.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    assert_eq!(by_status(&again, "unchanged").len(), lines.len(), "{again:?}");

    let listed = dt.json(&["list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), lines.len());
}

#[test]
fn changed_file_replaces_its_old_chunks() {
    let dt = Doctalk::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.md");
    fs::write(
        &file,
        "# Parking\n\nVisitors park on level B2. The gate code is 4711.\n",
    )
    .unwrap();
    let (out, first) = dt.json_lines(&["ingest", file.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(first[0]["status"], "indexed");

    fs::write(
        &file,
        "# Parking\n\nVisitors now park on level C3. The gate code is 9876.\n",
    )
    .unwrap();
    let (_, second) = dt.json_lines(&["ingest", file.to_str().unwrap(), "--json"]);
    assert_eq!(second[0]["status"], "indexed");
    assert_ne!(first[0]["doc_id"], second[0]["doc_id"]);

    let hits = dt.json(&["search", "gate code", "--json"]);
    let texts: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert!(texts.iter().any(|t| t.contains("9876")), "{texts:?}");
    assert!(
        !texts.iter().any(|t| t.contains("4711")),
        "old version still searchable: {texts:?}"
    );
    assert_eq!(dt.json(&["list", "--json"]).as_array().unwrap().len(), 1);
}

#[test]
fn bad_files_are_reported_and_the_rest_indexed() {
    let dt = Doctalk::new();
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    fs::write(
        p("good.md"),
        "# 报销\n\n差旅费用须在出差结束后30天内提交报销申请。\n",
    )
    .unwrap();
    fs::write(p("empty.txt"), "").unwrap();
    fs::write(
        p("broken.pdf"),
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a pdf\x00\xff",
    )
    .unwrap();
    fs::write(p("bad.json"), "[{\"question\": \"a\", \"answer\": ").unwrap();
    fs::write(p("program.exe"), b"MZ\x90\x00").unwrap();
    let (out, lines) = dt.json_lines(&[
        "ingest",
        dir.path().to_str().unwrap(),
        p("program.exe").to_str().unwrap(),
        p("does-not-exist.pdf").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "partial success has its own exit code: {}",
        stderr(&out)
    );
    let status_of = |name: &str| {
        let l = lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {lines:?}"));
        (
            l["status"].as_str().unwrap().to_string(),
            l["diagnostics"][0]["code"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(status_of("good.md").0, "indexed");
    assert_eq!(status_of("empty.txt"), ("failed".into(), "empty".into()));
    assert_eq!(status_of("broken.pdf").0, "failed");
    assert_eq!(status_of("bad.json"), ("failed".into(), "corrupt".into()));
    assert_eq!(status_of("program.exe"), ("failed".into(), "unsupported".into()));
    assert_eq!(status_of("does-not-exist.pdf"), ("failed".into(), "io".into()));
    for l in &lines {
        if l["status"] == "failed" {
            assert!(
                !l["diagnostics"][0]["message"].as_str().unwrap().is_empty(),
                "{l}"
            );
        }
    }
    // Nothing of the bad files is searchable; the good one is.
    let hits = dt.json(&["search", "报销申请", "--json"]);
    assert!(hits[0]["path"].as_str().unwrap().ends_with("good.md"), "{hits}");
}

#[test]
fn remove_deletes_the_document_and_its_chunks_but_not_the_file() {
    let dt = Doctalk::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wifi.txt");
    fs::write(
        &file,
        "The guest Wi-Fi network is called Harbor-Guest and its password changes every Monday.\n",
    )
    .unwrap();
    let (_, lines) = dt.json_lines(&["ingest", file.to_str().unwrap(), "--json"]);
    let id = lines[0]["doc_id"].as_str().unwrap().to_string();
    let out = dt.run(&["remove", &id[..8]]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(file.exists(), "user files are never modified");
    assert!(dt.json(&["list", "--json"]).as_array().unwrap().is_empty());
    assert!(dt
        .json(&["search", "guest wifi password", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
    let out = dt.run(&["remove", "no-such-doc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no document matches"), "{}", stderr(&out));
}

#[test]
fn missing_model_is_a_clear_error() {
    let dt = Doctalk::new();
    let empty = tempfile::tempdir().unwrap();
    let out = dt
        .command()
        .env("DOCTALK_MODELS_DIR", empty.path())
        .env("HF_HOME", empty.path())
        .env("HOME", empty.path())
        .current_dir(empty.path())
        .args(["search", "hello"])
        .bounded_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("embedding model") && err.contains("fetch-models"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// An index built with all-MiniLM is re-embedded, with a message, the first time the default
/// multilingual-e5 opens it: vectors of two models are never mixed, nothing is lost, and Chinese
/// questions then find their answers.
#[test]
fn a_changed_encoder_re_embeds_the_index_instead_of_mixing_vectors() {
    let dt = Doctalk::new();
    let faq = sample_kb().join("faq.csv");
    let out = dt.run(&["--encoder", "all-MiniLM-L6-v2", "ingest", faq.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = dt.json(&["--encoder", "all-MiniLM-L6-v2", "list", "--json"]);
    assert_eq!(
        before[0]["embedding_model"],
        "sentence-transformers/all-MiniLM-L6-v2"
    );
    let chunks_before = before[0]["chunks"].as_u64().unwrap();

    let out = dt.run(&["search", "如何下载滴滴APP", "--json", "--top-k", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("re-embedding 1 document"), "{err}");
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(hits[0]["text"].as_str().unwrap().contains("滴滴"), "{hits}");

    let after = dt.json(&["list", "--json"]);
    assert_eq!(after[0]["embedding_model"], "intfloat/multilingual-e5-small");
    assert_eq!(after[0]["chunks"].as_u64().unwrap(), chunks_before);
    // Opening again: nothing left to re-embed.
    let out = dt.run(&["status"]);
    assert!(!stderr(&out).contains("re-embedding"), "{}", stderr(&out));
}
