//! PDF parsing on real documents (tests/fixtures/pdf, see SOURCES.md there) and on hostile
//! files made by bench/pdf/make_hostile.py. Every hostile file must give its specific
//! error or diagnostic, and none may panic this process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use doctalk_ingest::{
    parse_file, Block, DiagnosticCode, Document, IngestError, ParseOptions, PdfEngineId, PdfPassword,
    TextBlock,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pdf")
        .join(name)
}

fn hostile(name: &str) -> PathBuf {
    fixture("hostile").join(name)
}

fn opts(primary: PdfEngineId) -> ParseOptions {
    ParseOptions {
        pdf_primary: primary,
        pdf_time_budget: Duration::from_secs(60),
        ..ParseOptions::default()
    }
}

#[track_caller]
fn parse_ok(path: &Path, primary: PdfEngineId) -> Document {
    match parse_file(path, &opts(primary)) {
        Ok(doc) => doc,
        Err(e) => panic!("{} should parse, got {e}", path.display()),
    }
}

fn pages(doc: &Document) -> Vec<&TextBlock> {
    doc.blocks
        .iter()
        .map(|b| match b {
            Block::Text(t) => t,
            Block::Qa(_) => panic!("a PDF gave a Q&A block"),
        })
        .collect()
}

fn full_text(doc: &Document) -> String {
    pages(doc)
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn codes(doc: &Document) -> Vec<(DiagnosticCode, Option<u32>)> {
    doc.diagnostics.iter().map(|d| (d.code, d.page)).collect()
}

#[test]
fn chinese_cid_font_document_keeps_pages_and_words() {
    for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
        let doc = parse_ok(&fixture("zh-zhlipsum.pdf"), primary);
        assert_eq!(doc.page_count, Some(15), "{primary:?}");
        assert_eq!(doc.title, "zhlipsum: 中文乱数假文（Lorem ipsum）");
        let blocks = pages(&doc);
        let numbers: Vec<u32> = blocks.iter().filter_map(|b| b.page).collect();
        assert_eq!(numbers.first(), Some(&1));
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        assert!(numbers.iter().all(|&n| n <= 15));

        let text = full_text(&doc);
        for word in ["乱数假文", "等待戈多", "宏包", "排版效果", "萨缪尔"] {
            assert!(text.contains(word), "{primary:?}: {word} missing");
        }
        // Page 2 is the introduction: "zhlipsum 宏包用于输入中文乱数假文".
        let page2 = blocks.iter().find(|b| b.page == Some(2)).expect("page 2");
        assert!(page2.text.contains("简介"), "{}", page2.text);
        assert!(blocks.iter().all(|b| b.engine.is_some()));
    }
}

#[test]
fn english_document_reads_with_either_engine_first() {
    for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
        let doc = parse_ok(&fixture("en-zhlipsum-en.pdf"), primary);
        assert_eq!(doc.page_count, Some(3));
        assert_eq!(doc.title, "zhlipsum: Chinese dummy text");
        let text = full_text(&doc);
        for word in ["Chinese Dummy Text", "Introduction", "typesetting", "encodings"] {
            assert!(text.contains(word), "{primary:?}: {word:?} missing");
        }
        let blocks = pages(&doc);
        assert_eq!(blocks[0].page, Some(1));
        // Both engines read this file cleanly, so the primary's text is kept on every page.
        assert!(
            blocks.iter().all(|b| b.engine == Some(primary)),
            "{primary:?}: {:?}",
            blocks.iter().map(|b| b.engine).collect::<Vec<_>>()
        );
        assert!(doc.diagnostics.is_empty(), "{:?}", doc.diagnostics);
    }
}

#[test]
fn empty_user_password_opens_with_a_diagnostic() {
    let doc = parse_ok(
        &hostile("encrypted-empty-user-password.pdf"),
        PdfEngineId::PdfOxide,
    );
    assert!(codes(&doc).contains(&(DiagnosticCode::EncryptedEmptyPassword, None)));
    assert!(full_text(&doc).contains("Introduction"));
    assert_eq!(doc.page_count, Some(3));
}

#[test]
fn a_real_user_password_is_a_clear_error() {
    for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
        let err = parse_file(&hostile("encrypted-user-password.pdf"), &opts(primary))
            .expect_err("needs a password");
        assert!(matches!(err, IngestError::Encrypted { .. }), "{err}");
    }
}

fn encrypted(name: &str) -> PathBuf {
    fixture("encrypted").join(name)
}

fn with_passwords(primary: PdfEngineId, passwords: &[&str]) -> ParseOptions {
    ParseOptions {
        pdf_passwords: passwords.iter().map(|p| PdfPassword::new(*p)).collect(),
        ..opts(primary)
    }
}

/// Every kind of PDF encryption (made by bench/pdf/make_encrypted.py; passwords in PASSWORDS.md
/// there) opens with its password in either engine, and reads the same as the plain original.
#[test]
fn each_kind_of_encryption_opens_with_its_password() {
    let cases = [
        ("rc4-40.pdf", "rc4-forty", "en-zhlipsum-en.pdf"),
        ("rc4-128.pdf", "rc4-128bit", "zh-zhlipsum.pdf"),
        ("aes-128.pdf", "Pässwörd", "en-zhlipsum-en.pdf"),
        ("aes-256.pdf", "密码IX", "zh-zhlipsum.pdf"),
    ];
    for (file, password, original) in cases {
        for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
            let path = encrypted(file);
            // A wrong password first: the right one later in the list still opens it.
            let doc = parse_file(&path, &with_passwords(primary, &["not-it", password]))
                .unwrap_or_else(|e| panic!("{file} with {primary:?}: {e}"));
            // Each page may come from either engine (lopdf reads the 40-bit RC4 file as text the
            // quality check rejects, so pdf_oxide's pages are taken there): compare with the
            // plain original read by the engine that was used.
            let engines: Vec<_> = pages(&doc).iter().map(|b| b.engine).collect();
            let used = engines[0].expect("an engine");
            assert!(
                engines.iter().all(|e| *e == Some(used)),
                "{file} {primary:?} {engines:?}"
            );
            let plain = parse_ok(&fixture(original), used);
            assert_eq!(doc.page_count, plain.page_count, "{file} {primary:?}");
            assert_eq!(doc.title, plain.title, "{file} {primary:?}");
            assert_eq!(full_text(&doc), full_text(&plain), "{file} {primary:?}");
            assert!(
                codes(&doc).contains(&(DiagnosticCode::OpenedWithPassword, None)),
                "{file} {primary:?}: {:?}",
                doc.diagnostics
            );
        }
    }
}

#[test]
fn an_aes_256_password_is_matched_after_saslprep() {
    // The file's password is "密码IX"; "Ⅸ" (U+2168) folds to "IX" under SASLprep (RFC 4013).
    let doc = parse_file(
        &encrypted("aes-256.pdf"),
        &with_passwords(PdfEngineId::PdfOxide, &["密码Ⅸ"]),
    )
    .expect("SASLprep folds the roman numeral");
    assert!(full_text(&doc).contains("乱数假文"));
}

#[test]
fn without_a_password_each_kind_says_encrypted_not_no_text() {
    for file in ["rc4-40.pdf", "rc4-128.pdf", "aes-128.pdf", "aes-256.pdf"] {
        for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
            let err = parse_file(&encrypted(file), &opts(primary)).expect_err(file);
            assert!(
                matches!(err, IngestError::Encrypted { .. }),
                "{file} {primary:?}: {err}"
            );
            assert_eq!(err.code(), "encrypted");
        }
    }
}

#[test]
fn a_wrong_password_says_so_and_reads_nothing() {
    for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
        let err = parse_file(&encrypted("aes-128.pdf"), &with_passwords(primary, &["Passwort"]))
            .expect_err("wrong password");
        assert!(
            matches!(err, IngestError::WrongPassword { tried: 1, .. }),
            "{primary:?}: {err}"
        );
        assert_eq!(err.code(), "wrong_password");
        assert!(err.to_string().contains("does not open"), "{err}");
        assert!(
            !err.to_string().contains("Passwort"),
            "the password leaked: {err}"
        );
    }
    let err = parse_file(
        &encrypted("rc4-40.pdf"),
        &with_passwords(PdfEngineId::PdfOxide, &["a", "b"]),
    )
    .expect_err("wrong passwords");
    assert!(err.to_string().contains("none of the 2 passwords"), "{err}");
}

#[test]
fn an_owner_password_alone_opens_without_asking() {
    for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
        let doc = parse_ok(&encrypted("aes-128-owner-only.pdf"), primary);
        assert!(full_text(&doc).contains("Introduction"), "{primary:?}");
        assert!(codes(&doc).contains(&(DiagnosticCode::EncryptedEmptyPassword, None)));
    }
}

#[test]
fn passwords_in_parse_options_never_show_in_debug_output() {
    let shown = format!("{:?}", with_passwords(PdfEngineId::PdfOxide, &["hunter2"]));
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn image_only_pdf_says_scanned() {
    let err = parse_file(&hostile("image-only.pdf"), &opts(PdfEngineId::PdfOxide)).expect_err("no text");
    match err {
        // No OCR engine is given here (doctalk-core gives one): the reason says so.
        IngestError::NoText { reason, .. } => {
            assert_eq!(reason, "no text layer (scanned?); OCR is not set up")
        }
        other => panic!("expected NoText, got {other}"),
    }
}

#[test]
fn a_scanned_page_is_reported_and_the_rest_kept() {
    let doc = parse_ok(&hostile("text-then-scan.pdf"), PdfEngineId::PdfOxide);
    let blocks = pages(&doc);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].page, Some(1));
    assert!(blocks[0].text.contains("real text layer"));
    let scan = doc
        .diagnostics
        .iter()
        .find(|d| d.code == DiagnosticCode::NoTextLayer)
        .expect("a no-text-layer diagnostic");
    assert_eq!(scan.page, Some(2));
    assert_eq!(
        scan.message,
        "page 2 has no text layer (scanned?); OCR is not set up"
    );
}

#[test]
fn a_garbled_page_is_skipped_with_a_diagnostic() {
    for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
        let doc = parse_ok(&hostile("garbled-second-page.pdf"), primary);
        let blocks = pages(&doc);
        assert_eq!(blocks.len(), 1, "{primary:?}: {blocks:?}");
        assert!(blocks[0].text.contains("Readable first page"));
        assert!(
            codes(&doc).contains(&(DiagnosticCode::Garbled, Some(2))),
            "{:?}",
            doc.diagnostics
        );
    }
    let err =
        parse_file(&hostile("garbled-only.pdf"), &opts(PdfEngineId::PdfOxide)).expect_err("nothing readable");
    assert!(
        matches!(&err, IngestError::NoText { reason, .. } if reason.contains("garbled")),
        "{err}"
    );
}

#[test]
fn broken_files_are_typed_errors() {
    let empty = parse_file(&hostile("empty.pdf"), &ParseOptions::default());
    assert!(matches!(empty, Err(IngestError::Empty { .. })), "{empty:?}");
    for name in ["not-a-pdf.pdf", "truncated-header-only.pdf"] {
        let result = parse_file(&hostile(name), &ParseOptions::default());
        match result {
            Err(IngestError::Corrupt { reason, .. }) => {
                assert!(
                    reason.contains("pdf_oxide") && reason.contains("pdf-extract"),
                    "{reason}"
                )
            }
            other => panic!("{name}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn truncated_file_keeps_what_is_readable() {
    // Half of the English document: the cross-reference table is gone, the first
    // page's objects are still there.
    match parse_file(&hostile("truncated-half.pdf"), &ParseOptions::default()) {
        Ok(doc) => {
            assert!(full_text(&doc).contains("Chinese Dummy Text"));
            assert!(pages(&doc).iter().all(|b| b.page.is_some() && b.engine.is_some()));
        }
        Err(e) => assert!(matches!(e, IngestError::Corrupt { .. }), "{e}"),
    }
}

#[test]
fn fuzzed_files_never_panic() {
    for seed in 1..=3 {
        let name = format!("fuzzed-{seed}.pdf");
        for primary in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
            match parse_file(&hostile(&name), &opts(primary)) {
                Ok(doc) => assert!(pages(&doc).iter().all(|b| b.engine.is_some())),
                Err(e) => assert!(
                    matches!(e.code(), "corrupt" | "no_text" | "encrypted"),
                    "{name}: {e}"
                ),
            }
        }
    }
}

#[test]
fn an_exhausted_budget_is_a_timeout_not_a_hang() {
    let opts = ParseOptions {
        pdf_time_budget: Duration::from_nanos(1),
        ..ParseOptions::default()
    };
    let err = parse_file(&fixture("zh-zhlipsum.pdf"), &opts).expect_err("cannot finish");
    assert!(matches!(err, IngestError::TimedOut { .. }), "{err}");
}

/// The sample handbook and policy repeat a running title above every page and "第 N 页 共 13 页" /
/// "Page N of 5" below it: both engines' pages come without them at their edges, and the body
/// stays. (pdf_oxide reads one footer of the policy in the middle of a table: there it stays.)
#[test]
fn running_headers_and_page_numbers_are_left_out_of_the_pages() {
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-kb");
    let edges = |text: &str| -> Vec<String> {
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.chars().filter(|c| !c.is_whitespace()).collect::<String>())
            .filter(|l| !l.is_empty())
            .collect();
        let n = lines.len();
        lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 2 || *i + 2 >= n)
            .map(|(_, l)| l.clone())
            .collect()
    };
    for engine in [PdfEngineId::PdfOxide, PdfEngineId::PdfExtract] {
        let handbook = parse_ok(&sample.join("员工手册.pdf"), engine);
        let handbook_pages = pages(&handbook);
        assert_eq!(handbook_pages.len(), 13, "{engine:?}");
        for page in &handbook_pages {
            let n = page.page.unwrap();
            for line in edges(&page.text) {
                assert_ne!(
                    line,
                    format!("第{n}页共13页"),
                    "{engine:?} page {n}: {}",
                    page.text
                );
                assert_ne!(
                    line, "星河科技有限公司员工手册（V3.2）",
                    "{engine:?} page {n}: {}",
                    page.text
                );
            }
        }
        assert!(
            handbook_pages[0]
                .text
                .trim_start()
                .starts_with("星河科技有限公司员工手册"),
            "{}",
            handbook_pages[0].text
        );
        assert!(
            full_text(&handbook).contains("管理员后台的登录地址为"),
            "{engine:?}: the body stays"
        );

        let policy = parse_ok(&sample.join("it-security-policy.pdf"), engine);
        for page in pages(&policy) {
            let n = page.page.unwrap();
            for line in edges(&page.text) {
                assert_ne!(line, format!("Page{n}of5"), "{engine:?} page {n}: {}", page.text);
                assert_ne!(
                    line, "XingheTechnology-InformationSecurityPolicy(ISP-002v2.1)",
                    "{engine:?} page {n}: {}",
                    page.text
                );
            }
        }
        assert!(
            full_text(&policy).contains("Split tunnelling is disabled"),
            "{engine:?}: the body stays"
        );
    }
}
