//! FAQ exports: every format, zh and en headers, encodings, and the failure modes.

mod common;

use common::{fixture, pairs, parse};
use doctalk_ingest::{parse_file, DiagnosticCode, FaqMapping, Format, IngestError, ParseOptions};

#[test]
fn gbk_csv_from_chinese_excel() {
    let doc = parse("faq/hr_faq_gbk.csv");
    assert_eq!(doc.format, Format::Csv);
    assert_eq!(doc.title, "hr_faq_gbk");
    let guessed: Vec<_> = doc
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::EncodingGuessed)
        .collect();
    assert_eq!(guessed.len(), 1, "{:?}", doc.diagnostics);
    assert!(guessed[0].message.contains("GBK"), "{}", guessed[0].message);

    let p = pairs(&doc);
    assert_eq!(p.len(), 4);
    assert_eq!(p[0].question, "年假有几天？");
    assert_eq!(p[0].answer, "入职满一年的员工每年享有5天带薪年假，满十年为10天。");
    assert_eq!(
        p[0].similar_questions,
        ["年假多少天", "一年有几天年假", "带薪年假天数"]
    );
    assert_eq!(p[0].metadata.get("分类").map(String::as_str), Some("休假"));
    assert_eq!(p[0].metadata.get("关键词").map(String::as_str), Some("年假"));
    assert_eq!(p[0].row, 1);
    // A quoted answer spanning two lines stays one answer.
    assert!(p[1].answer.contains("诊断证明，\r\n3天以内") || p[1].answer.contains("诊断证明，\n3天以内"));
    assert!(p[2].similar_questions.is_empty());
    assert_eq!(p[2].metadata.get("关键词").map(String::as_str), Some("差旅,住宿"));
    assert_eq!(p[3].row, 4);
}

#[test]
fn utf8_bom_csv_with_english_headers() {
    let doc = parse("faq/product_faq_bom.csv");
    assert!(doc.diagnostics.is_empty(), "{:?}", doc.diagnostics);
    let p = pairs(&doc);
    assert_eq!(p.len(), 3);
    // The BOM must not end up in the first header (it would break "Question" detection).
    assert_eq!(p[0].question, "How do I reset my password?");
    assert_eq!(
        p[0].answer,
        "Open Settings > Account, choose \"Reset password\" and follow the link we email you."
    );
    assert_eq!(p[0].similar_questions, ["Forgot password", "Can't log in"]);
    assert_eq!(p[1].similar_questions, ["Download my data", "Data export"]);
    assert_eq!(p[2].metadata.get("Category").map(String::as_str), Some("Billing"));
}

#[test]
fn tsv_with_short_headers() {
    let doc = parse("faq/support_faq.tsv");
    assert_eq!(doc.format, Format::Tsv);
    let p = pairs(&doc);
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].question, "如何修改收货地址？");
    assert_eq!(p[0].similar_questions, ["改地址", "地址填错了怎么办"]);
    assert_eq!(
        p[1].answer,
        "Yes, to 40 countries. Duties are paid by the recipient."
    );
    assert_eq!(p[1].metadata.get("tags").map(String::as_str), Some("shipping"));
}

#[test]
fn xlsx_skips_notes_sheet_and_title_row() {
    let doc = parse("faq/kb_export.xlsx");
    assert_eq!(doc.format, Format::Xlsx);
    let p = pairs(&doc);
    assert_eq!(p.len(), 3, "{p:#?}");
    assert_eq!(p[0].question, "订单多久发货？");
    assert_eq!(p[0].similar_questions, ["什么时候发货", "几天能发货"]);
    assert_eq!(p[0].metadata.get("优先级").map(String::as_str), Some("1"));
    assert_eq!(
        p[0].metadata.get("更新日期").map(String::as_str),
        Some("2024-05-01")
    );
    assert_eq!(p[1].similar_questions, ["怎么开发票", "发票怎么开"]);
    assert_eq!(p[2].question, "How long does shipping take?");
    assert_eq!(p[2].metadata.get("优先级").map(String::as_str), Some("1.5"));
    assert_eq!(p[2].row, 4);
    // The row without an answer is reported, not fatal.
    let malformed: Vec<_> = doc
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::MalformedRecord)
        .collect();
    assert_eq!(malformed.len(), 1);
    assert!(malformed[0].message.contains("row 3"), "{}", malformed[0].message);
}

#[test]
fn json_array_with_list_of_similar_questions() {
    let doc = parse("faq/faq_array.json");
    let p = pairs(&doc);
    assert_eq!(p.len(), 3);
    assert_eq!(
        p[0].similar_questions,
        ["How long is the warranty?", "Is my device still under warranty?"]
    );
    assert_eq!(p[0].metadata.get("id").map(String::as_str), Some("101"));
    assert_eq!(p[2].question, "How do I book a repair?");
    assert_eq!(p[2].row, 4);
    assert!(doc
        .diagnostics
        .iter()
        .any(|d| d.code == DiagnosticCode::MalformedRecord && d.message.contains("record 3")));
}

#[test]
fn json_nested_under_data_list() {
    let doc = parse("faq/faq_nested.json");
    let p = pairs(&doc);
    assert_eq!(p.len(), 3);
    assert_eq!(p[0].question, "会员积分怎么获得？");
    assert_eq!(p[0].similar_questions, ["积分怎么来的", "如何赚积分"]);
    assert_eq!(
        p[2].metadata.get("关键词").map(String::as_str),
        Some("积分, 有效期")
    );
    assert!(doc.diagnostics.is_empty(), "{:?}", doc.diagnostics);
}

#[test]
fn jsonl_skips_bad_lines_and_numbers_by_line() {
    let doc = parse("faq/faq.jsonl");
    assert_eq!(doc.format, Format::Jsonl);
    let p = pairs(&doc);
    let rows: Vec<u32> = p.iter().map(|q| q.row).collect();
    assert_eq!(rows, [1, 2, 6]);
    assert_eq!(p[0].question, "如何注销账号？");
    assert_eq!(p[0].similar_questions, ["怎么删除账号", "注销账户"]);
    assert_eq!(p[2].answer, "点击登录页的“忘记密码”，通过手机验证码重置。");
    let bad: Vec<&str> = doc
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::MalformedRecord)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(
        bad[0].starts_with("line 4") && bad[1].starts_with("line 5"),
        "{bad:?}"
    );
}

#[test]
fn malformed_json_is_corrupt() {
    let err = parse_file(&fixture("faq/malformed.json"), &ParseOptions::default()).unwrap_err();
    assert!(matches!(err, IngestError::Corrupt { .. }), "{err:?}");
    assert_eq!(err.code(), "corrupt");
}

#[test]
fn missing_answers_are_diagnostics_with_row_numbers() {
    let doc = parse("faq/missing_answers.csv");
    let p = pairs(&doc);
    let questions: Vec<&str> = p.iter().map(|q| q.question.as_str()).collect();
    assert_eq!(
        questions,
        ["How do I cancel my subscription?", "Can I get an invoice?"]
    );
    assert_eq!(p[1].row, 5);
    let messages: Vec<&str> = doc.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "row 2: the answer is empty; skipped",
            "row 3: the question is empty; skipped"
        ]
    );
}

#[test]
fn unknown_headers_name_the_headers() {
    let err = parse_file(&fixture("faq/unknown_headers.csv"), &ParseOptions::default()).unwrap_err();
    match err {
        IngestError::NoFaqColumns { headers, .. } => {
            assert_eq!(headers, ["sku", "name", "price", "stock"])
        }
        other => panic!("expected NoFaqColumns, got {other:?}"),
    }
}

#[test]
fn explicit_mapping_reads_unknown_headers() {
    let opts = ParseOptions {
        faq_mapping: Some(FaqMapping {
            question: "Name".into(),
            answer: "price".into(),
            similar_questions: None,
        }),
        ..ParseOptions::default()
    };
    let doc = parse_file(&fixture("faq/unknown_headers.csv"), &opts).unwrap();
    let p = pairs(&doc);
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].question.as_str(), p[0].answer.as_str()),
        ("Desk lamp", "29.90")
    );
    assert_eq!(p[0].metadata.get("sku").map(String::as_str), Some("A-100"));
}

#[test]
fn explicit_mapping_overrides_detection() {
    // Detection would take "question"/"answer"; the mapping says otherwise.
    let opts = ParseOptions {
        faq_mapping: Some(FaqMapping {
            question: "answer".into(),
            answer: "question".into(),
            similar_questions: None,
        }),
        ..ParseOptions::default()
    };
    let doc = parse_file(&fixture("faq/faq_array.json"), &opts).unwrap();
    assert_eq!(pairs(&doc)[0].answer, "What is the warranty period?");
}

/// Found by fuzzing (crates/doctalk-fuzz/regressions/xlsx): a worksheet cell reference so long
/// that the spreadsheet library's column arithmetic overflows and panics. The file is reported
/// corrupt, with the reason, instead of taking ingest down.
#[test]
fn an_xlsx_whose_cell_reference_overflows_is_corrupt_not_a_crash() {
    let path = fixture("faq/fuzzed_cell_reference.xlsx");
    match parse_file(&path, &ParseOptions::default()) {
        Err(IngestError::Corrupt { format, reason, .. }) => {
            assert_eq!(format, "xlsx");
            assert!(reason.contains("overflow"), "{reason}");
        }
        other => panic!("expected a corrupt-file error, got {other:?}"),
    }
}
