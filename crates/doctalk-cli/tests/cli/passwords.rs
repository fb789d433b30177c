//! Password-protected PDFs from every door that takes files: `ingest --password`, a password file
//! for a batch, and the server's upload with its password header. Real files (qpdf-encrypted
//! copies of the ingest crate's real fixtures, see bench/pdf/make_encrypted.py), a real LanceDB
//! index and the real e5 encoder. The password is never written anywhere in the data directory.

use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::{files_under, repo_root, stderr, Doctalk};
use crate::serve::{http, http_raw, sse_events, start};

fn encrypted(name: &str) -> PathBuf {
    repo_root()
        .join("crates/doctalk-ingest/tests/fixtures/pdf/encrypted")
        .join(name)
}

/// Copies the fixtures into a folder of their own (a batch), returning it.
fn batch(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        fs::copy(encrypted(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn report_for<'a>(lines: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().unwrap_or("").ends_with(name))
        .unwrap_or_else(|| panic!("no report for {name}: {lines:?}"))
}

fn code(report: &serde_json::Value) -> &str {
    report["diagnostics"][0]["code"].as_str().unwrap_or("")
}

/// No file under `dir` holds `secret`, in any encoding we might write it in.
fn assert_nowhere(dir: &Path, secret: &str) {
    let needles = [
        secret.as_bytes().to_vec(),
        serde_json::to_string(secret).unwrap().into_bytes(),
    ];
    for path in files_under(dir) {
        let Ok(bytes) = fs::read(&path) else { continue };
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "the password was written to {}",
                path.display()
            );
        }
    }
}

#[test]
fn a_batch_of_protected_pdfs_is_read_with_a_password_file_and_a_wrong_one_says_so() {
    let dt = Doctalk::new();
    let files = batch(&["rc4-40.pdf", "aes-128.pdf", "aes-256.pdf"]);
    let folder = files.path().to_str().unwrap();

    // Without passwords: each is "encrypted" (not "no_text"), nothing indexed, and the human
    // output says how to give one.
    let out = dt.run(&["ingest", folder]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &stderr(&out);
    assert!(text.contains("--password-file"), "{text}");
    let (_, lines) = dt.json_lines(&["ingest", folder, "--json"]);
    for name in ["rc4-40.pdf", "aes-128.pdf", "aes-256.pdf"] {
        let r = report_for(&lines, name);
        assert_eq!(r["status"], "failed", "{r}");
        assert_eq!(code(r), "encrypted", "{r}");
    }
    assert_eq!(dt.json(&["list", "--json"]).as_array().unwrap().len(), 0);

    // A wrong password: "wrong_password", still nothing indexed.
    let (out, lines) = dt.json_lines(&["ingest", folder, "--json", "--password", "letmein"]);
    assert!(!out.status.success());
    assert!(lines.iter().all(|l| code(l) == "wrong_password"), "{lines:?}");
    assert_eq!(dt.json(&["list", "--json"]).as_array().unwrap().len(), 0);

    // The password file: one per line (CRLF too), the AES-256 one typed un-normalised ("Ⅸ").
    // Outside the folder: a .txt inside it would be ingested as a document.
    let keys = tempfile::tempdir().unwrap();
    let list = keys.path().join("passwords.txt");
    fs::write(&list, "rc4-forty\r\nPässwörd\n\n密码Ⅸ\n").unwrap();
    let (out, lines) = dt.json_lines(&[
        "ingest",
        folder,
        "--json",
        "--password-file",
        list.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["rc4-40.pdf", "aes-128.pdf", "aes-256.pdf"] {
        let r = report_for(&lines, name);
        assert_eq!(r["status"], "indexed", "{r}");
        assert!(r["chunks"].as_u64().unwrap() > 0, "{r}");
        let codes: Vec<&str> = r["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        assert!(codes.contains(&"opened_with_password"), "{r}");
    }

    // Their text is searchable: the Chinese one by its Chinese words, on its page.
    let hits = dt.json(&["search", "中文乱数假文", "--json"]);
    let top = &hits[0];
    assert!(top["path"].as_str().unwrap().ends_with("aes-256.pdf"), "{hits}");
    assert!(top["page"].as_u64().is_some(), "{top}");

    for secret in ["rc4-forty", "Pässwörd", "密码Ⅸ", "letmein"] {
        assert_nowhere(dt.data.path(), secret);
    }
}

#[test]
fn an_upload_carries_its_password_in_a_header() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let bytes = fs::read(encrypted("aes-128.pdf")).unwrap();
    let upload = |password: Option<&str>| {
        let header = password
            .map(|p| format!("x-doctalk-password: {}\r\n", encode(p)))
            .unwrap_or_default();
        http_raw(
            &server.addr,
            "POST",
            "/api/ingest?name=locked.pdf",
            &format!(
                "Host: {}\r\nContent-Type: application/octet-stream\r\n{header}",
                server.addr
            ),
            &bytes,
        )
    };
    let last_report = |reply: &crate::serve::Reply| {
        assert_eq!(reply.status, 200, "{}", reply.body);
        let events = sse_events(&reply.body);
        let (name, done) = events.last().unwrap().clone();
        assert_eq!(name, "done", "{events:?}");
        done["files"][0].clone()
    };

    let first = last_report(&upload(None));
    assert_eq!(first["status"], "failed");
    assert_eq!(code(&first), "encrypted");
    let wrong = last_report(&upload(Some("Passwort")));
    assert_eq!(code(&wrong), "wrong_password", "{wrong}");
    let right = last_report(&upload(Some("Pässwörd")));
    assert_eq!(right["status"], "indexed", "{right}");

    // A header that is not a URI-encoded string is a clear 400, and nothing is saved.
    let bad = http_raw(
        &server.addr,
        "POST",
        "/api/ingest?name=other.pdf",
        &format!(
            "Host: {}\r\nContent-Type: application/octet-stream\r\nx-doctalk-password: %zz\r\n",
            server.addr
        ),
        &bytes,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("x-doctalk-password"), "{}", bad.body);

    let docs = http(&server.addr, "GET", "/api/documents", None, b"").json();
    assert_eq!(docs.as_array().unwrap().len(), 1, "{docs}");
    for secret in ["Pässwörd", "Passwort"] {
        assert_nowhere(dt.data.path(), secret);
    }
}

/// `encodeURIComponent` for the test's passwords.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
