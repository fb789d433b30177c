//! DOCX: heading styles, tables, corrupt files.

mod common;

use common::{fixture, parse, sections};
use doctalk_ingest::{parse_file, Format, IngestError, ParseOptions};

#[test]
fn headings_and_table_from_word() {
    let doc = parse("docx/travel_policy.docx");
    assert_eq!(doc.format, Format::Docx);
    assert_eq!(doc.title, "差旅管理办法");
    let s = sections(&doc);
    assert_eq!(
        s,
        [
            (
                "差旅管理办法".to_owned(),
                "本办法适用于公司全体员工因公出差的申请、预订与报销。".to_owned()
            ),
            (
                "差旅管理办法 > 第一章 出差申请".to_owned(),
                "员工出差前须在OA系统提交出差申请，写明出差事由、地点和天数。".to_owned()
            ),
            (
                "差旅管理办法 > 第一章 出差申请 > 第一节 审批流程".to_owned(),
                "三天以内的出差由部门经理审批；超过三天的，还须经分管副总审批。".to_owned()
            ),
            (
                "差旅管理办法 > 第二章 住宿标准".to_owned(),
                "住宿费用按城市等级在下表标准内据实报销。\n\n城市等级 | 普通员工 | 经理及以上\n一线城市 | 500元/晚 | 700元/晚\n其他城市 | 350元/晚 | 500元/晚".to_owned()
            ),
            (
                "差旅管理办法 > Travel & Expenses (English summary)".to_owned(),
                "Book hotels through the portal. Receipts are required for every claim.".to_owned()
            ),
        ]
    );
}

#[test]
fn corrupt_docx_is_an_error_not_a_panic() {
    let err = parse_file(&fixture("docx/corrupt.docx"), &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(err, IngestError::Corrupt { format: "DOCX", .. }),
        "{err:?}"
    );
}
