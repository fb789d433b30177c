//! Markdown and plain text: sections, heading paths, encodings.

mod common;

use common::{parse, sections};
use doctalk_ingest::{DiagnosticCode, Format};

#[test]
fn markdown_nested_chinese_headings() {
    let doc = parse("text/handbook_zh.md");
    assert_eq!(doc.format, Format::Markdown);
    assert_eq!(doc.title, "员工手册");
    assert!(doc.diagnostics.is_empty());
    let s = sections(&doc);
    let paths: Vec<&str> = s.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "员工手册",
            "员工手册 > 入职 > 报到材料",
            "员工手册 > 入职 > 试用期",
            "员工手册 > 休假 > 年假",
            "员工手册 > 休假 > 病假",
            "员工手册 > 报销",
        ]
    );
    // Front matter is not content; a wrapped Chinese line joins without a space.
    assert_eq!(
        s[0].1,
        "欢迎加入公司！本手册介绍入职、休假与报销的基本规定，如有疑问请联系人力资源部。"
    );
    assert_eq!(
        s[1].1,
        "新员工报到时须携带以下材料：\n\n1. 身份证原件及复印件\n2. 学历、学位证书\n3. 与原单位解除劳动合同的证明"
    );
    assert!(
        s[3].1
            .ends_with("工龄 | 年假天数\n1–9 年 | 5 天\n10 年及以上 | 10 天"),
        "{}",
        s[3].1
    );
    assert!(s[5].1.ends_with("https://finance.example.com/claims"));
}

#[test]
fn gb18030_plain_text_with_numbered_headings() {
    let doc = parse("text/attendance_gb18030.txt");
    assert_eq!(doc.format, Format::Text);
    assert_eq!(doc.title, "员工考勤管理制度");
    assert_eq!(doc.diagnostics.len(), 1);
    assert_eq!(doc.diagnostics[0].code, DiagnosticCode::EncodingGuessed);
    let s = sections(&doc);
    let paths: Vec<&str> = s.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "员工考勤管理制度 > 第一章 总则",
            "员工考勤管理制度 > 第二章 工作时间 > 一、标准工时",
            "员工考勤管理制度 > 第二章 工作时间 > 二、弹性工时",
            "员工考勤管理制度 > 第三章 迟到与早退",
        ]
    );
    // Indented lines are paragraphs; 䶮 (GB18030 four-byte) decodes.
    assert_eq!(
        s[2].1,
        "研发部门可申请弹性工时，核心工作时间为上午十点至下午四点。\n\n经部门负责人刘䶮批准后，弹性工时自次月一日起生效。"
    );
    assert!(s[0].1.starts_with("第一条 为规范公司考勤管理"));
    assert!(!s.iter().any(|(_, t)| t.contains('\r')));
}

#[test]
fn plain_english_with_numbered_and_caps_headings() {
    let doc = parse("text/notes_en.txt");
    assert!(doc.diagnostics.is_empty());
    assert_eq!(doc.title, "TEAM HANDBOOK");
    let s = sections(&doc);
    assert_eq!(
        s,
        [
            (
                "TEAM HANDBOOK > 1 Working hours".to_owned(),
                "Core hours are 10:00 to 16:00. Outside core hours you may organise your time freely, as long as meetings are respected.".to_owned()
            ),
            (
                "TEAM HANDBOOK > 1 Working hours > 1.1 Overtime".to_owned(),
                "Overtime must be approved in advance by your manager. Approved overtime is paid or compensated with time off:\n- paid at 125% on weekdays\n- paid at 150% on weekends".to_owned()
            ),
            (
                "TEAM HANDBOOK > 2 Holidays".to_owned(),
                "Each employee has 25 days of paid holiday per year.".to_owned()
            ),
        ]
    );
}

#[test]
fn a_single_line_file_is_indexed_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requirements.txt");
    std::fs::write(&path, "reportlab==5.1.0\n").unwrap();
    let doc = doctalk_ingest::parse_file(&path, &Default::default()).unwrap();
    let chunks = doctalk_ingest::chunk_document(&doc, &Default::default());
    assert_eq!(chunks.len(), 1, "{chunks:?}");
    assert!(chunks[0].text.contains("reportlab==5.1.0"), "{chunks:?}");

    let md = dir.path().join("title-only.md");
    std::fs::write(&md, "# 出差制度\n").unwrap();
    let doc = doctalk_ingest::parse_file(&md, &Default::default()).unwrap();
    assert_eq!(doc.title, "出差制度");
    assert!(!doctalk_ingest::chunk_document(&doc, &Default::default()).is_empty());

    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, "\n \n\t\n").unwrap();
    assert_eq!(
        doctalk_ingest::parse_file(&blank, &Default::default())
            .unwrap_err()
            .code(),
        "no_text"
    );
}
