//! Scans and pictures of pages, end to end with the real OCR models (PP-OCRv6 small through ONNX
//! Runtime, fetched by scripts/setup.sh), the real e5 encoder and a real LanceDB index: scanned
//! PDFs (the ingest crate's fixtures, made by bench/ocr/make_scanned_files.py from the sample PDFs),
//! a multi-page 1-bit TIFF and a PNG, from the CLI and through the server's upload.

use std::fs;
use std::path::PathBuf;

use crate::harness::{repo_root, stderr, Doctalk};
use crate::serve::{http_raw, sse_events, start};

fn scanned(name: &str) -> PathBuf {
    repo_root()
        .join("crates/doctalk-ingest/tests/fixtures/scanned")
        .join(name)
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str().map(str::to_string))
        .collect()
}

/// The one file report of an ingest or re-index stream that ended well.
fn streamed_report(reply: &crate::serve::Reply) -> serde_json::Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (name, done) = sse_events(&reply.body).last().unwrap().clone();
    assert_eq!(name, "done", "{}", reply.body);
    done["files"][0].clone()
}

#[test]
fn scanned_pages_and_pictures_are_read_and_their_facts_found_on_their_page() {
    let dt = Doctalk::new();
    let files = tempfile::tempdir().unwrap();
    for name in ["scanned-zh.pdf", "mixed.pdf", "two-pages.tif"] {
        fs::copy(scanned(name), files.path().join(name)).unwrap();
    }
    let (out, lines) = dt.json_lines(&["ingest", files.path().to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for r in &lines {
        assert_eq!(r["status"], "indexed", "{r}");
        assert!(codes(r).contains(&"ocr".to_string()), "{r}");
    }
    let tif = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(".tif"))
        .unwrap();
    assert_eq!(tif["pages"], 2, "{tif}");

    // A fact that exists only in the picture of page 1 of the scan (员工手册 §3.1: 午休 12:00–13:00).
    let hits = dt.json(&["search", "午休时间是几点到几点", "--json"]);
    let top = &hits[0];
    assert!(
        top["path"].as_str().unwrap().ends_with("scanned-zh.pdf"),
        "{hits}"
    );
    assert_eq!(top["page"], 1, "{top}");
    assert!(top["text"].as_str().unwrap().contains("12:00"), "{top}");

    // The scanned second page of the mixed file: the VPN rules of it-security-policy.pdf §3.2.
    let hits = dt.json(&["search", "How long can a VPN session last?", "--json"]);
    let top = &hits[0];
    assert!(top["path"].as_str().unwrap().ends_with("mixed.pdf"), "{hits}");
    assert_eq!(top["page"], 2, "{top}");

    // An extractive answer quotes the scan and cites its page.
    let answer = dt.json(&["ask", "--no-llm", "--json", "午休时间是几点到几点？"]);
    assert!(answer["answer"].as_str().unwrap().contains("12:00"), "{answer}");
    let cited = answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["cited"] == true)
        .expect("a cited source");
    assert!(
        cited["path"].as_str().unwrap().ends_with("scanned-zh.pdf"),
        "{answer}"
    );
}

#[test]
fn ocr_can_be_turned_off_and_then_a_scan_says_so() {
    let dt = Doctalk::new();
    let (out, lines) = dt.json_lines(&[
        "ingest",
        scanned("scanned-zh.pdf").to_str().unwrap(),
        "--json",
        "--ocr",
        "never",
    ]);
    assert!(!out.status.success());
    assert_eq!(lines[0]["status"], "failed", "{:?}", lines);
    let text = lines[0]["diagnostics"].to_string();
    assert!(text.contains("OCR was turned off"), "{text}");
    let bad = dt.run(&[
        "ingest",
        "--ocr",
        "sometimes",
        scanned("scanned-zh.pdf").to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("expected auto, always or never"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn an_uploaded_picture_is_read_by_the_server() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let bytes = fs::read(scanned("photo.png")).unwrap();
    let reply = http_raw(
        &server.addr,
        "POST",
        "/api/ingest?name=policy-photo.png",
        &format!(
            "Host: {}\r\nContent-Type: application/octet-stream\r\n",
            server.addr
        ),
        &bytes,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = sse_events(&reply.body);
    assert!(
        events.iter().any(|(_, e)| e["stage"]["stage"] == "ocr"),
        "the upload reports OCR progress: {events:?}"
    );
    let (name, done) = events.last().unwrap().clone();
    assert_eq!(name, "done", "{events:?}");
    assert_eq!(done["files"][0]["status"], "indexed", "{done}");
    let hits = dt.json(&["search", "full-disk encryption on Windows laptops", "--json"]);
    assert!(
        hits[0]["path"].as_str().unwrap().contains("policy-photo"),
        "{hits}"
    );
}

/// One upload's choice: `?ocr=never` leaves a scan unread (saying so), `?ocr=always` reads the page
/// that has a text layer from its picture too, and a value that means nothing is a 400.
#[test]
fn an_upload_can_force_or_forbid_ocr() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let upload = |fixture: &str, ocr: &str| {
        http_raw(
            &server.addr,
            "POST",
            &format!("/api/ingest?name={fixture}&ocr={ocr}"),
            &format!(
                "Host: {}\r\nContent-Type: application/octet-stream\r\n",
                server.addr
            ),
            &fs::read(scanned(fixture)).unwrap(),
        )
    };
    let never = streamed_report(&upload("scanned-zh.pdf", "never"));
    assert_eq!(never["status"], "failed", "{never}");
    assert!(
        never["diagnostics"].to_string().contains("OCR was turned off"),
        "{never}"
    );

    let always = streamed_report(&upload("mixed.pdf", "always"));
    assert_eq!(always["status"], "indexed", "{always}");
    let read = codes(&always).iter().filter(|c| *c == "ocr").count();
    assert_eq!(read, 2, "both pages read from their pictures: {always}");

    let bad = upload("mixed.pdf", "sometimes");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("auto, always or never"), "{}", bad.body);
}

/// A document's own choice, after the fact: re-indexing with `?ocr=never` keeps only the text
/// layer (the scanned page is reported unread and its fact is no longer found), `?ocr=always`
/// reads both pages from their pictures, and a value that means nothing is a 400 before anything
/// is read again.
#[test]
fn a_document_can_be_read_again_with_ocr_forced_or_forbidden() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let headers = format!(
        "Host: {}\r\nContent-Type: application/octet-stream\r\n",
        server.addr
    );
    let uploaded = streamed_report(&http_raw(
        &server.addr,
        "POST",
        "/api/ingest?name=mixed.pdf",
        &headers,
        &fs::read(scanned("mixed.pdf")).unwrap(),
    ));
    assert_eq!(uploaded["status"], "indexed", "{uploaded}");
    // A document read again is a new version with an id of its own: each re-index names the last.
    let id = std::cell::RefCell::new(uploaded["doc_id"].as_str().unwrap().to_string());
    let reindex = |ocr: &str| {
        http_raw(
            &server.addr,
            "POST",
            &format!("/api/documents/{}/reindex?ocr={ocr}", id.borrow()),
            &headers,
            b"",
        )
    };
    let reindexed = |report: serde_json::Value| {
        *id.borrow_mut() = report["doc_id"].as_str().unwrap().to_string();
        report
    };
    // Page 2 is the scan (it-security-policy.pdf page 3); page 1 has a text layer.
    let scan_found = || {
        let hits = dt.json(&["search", "full-disk encryption on Windows laptops", "--json"]);
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["page"] == 2 && h["path"].as_str().unwrap().ends_with("mixed.pdf"))
    };
    assert!(scan_found(), "auto reads the scanned page");

    let never = reindexed(streamed_report(&reindex("never")));
    assert_eq!(never["status"], "indexed", "{never}");
    assert!(!codes(&never).contains(&"ocr".to_string()), "{never}");
    assert!(
        never["diagnostics"].to_string().contains("OCR was turned off"),
        "{never}"
    );
    assert!(!scan_found(), "the text layer alone has nothing of page 2");

    let always = reindexed(streamed_report(&reindex("always")));
    assert_eq!(always["status"], "indexed", "{always}");
    let read = codes(&always).iter().filter(|c| *c == "ocr").count();
    assert_eq!(read, 2, "both pages read from their pictures: {always}");
    assert!(scan_found(), "{always}");

    let bad = reindex("sometimes");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("auto, always or never"), "{}", bad.body);
    let listed = dt.json(&["list", "--json"]);
    assert_eq!(
        listed[0]["id"],
        id.borrow().as_str(),
        "the document was not read again: {listed}"
    );
    assert!(scan_found());
}
