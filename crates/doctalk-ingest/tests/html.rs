//! HTML: noise removal, heading paths, legacy encodings.

mod common;

use common::{parse, sections};
use doctalk_ingest::Format;

#[test]
fn help_page_without_noise() {
    let doc = parse("html/help_zh.html");
    assert_eq!(doc.format, Format::Html);
    assert_eq!(doc.title, "帮助中心 - 账户与安全");
    let s = sections(&doc);
    assert_eq!(
        s,
        [
            (
                "账户与安全".to_owned(),
                "为保障您的账户安全，请定期修改密码，并开启两步验证。".to_owned()
            ),
            (
                "账户与安全 > 修改密码".to_owned(),
                "登录后进入“设置 > 账户安全”，点击“修改密码”，输入原密码和新密码即可。\n\n新密码长度不少于8位\n须同时包含字母和数字".to_owned()
            ),
            (
                "账户与安全 > 登录设备管理".to_owned(),
                "您可以在“登录设备”页面查看最近登录的设备，并移除不认识的设备。\n\n设备 | 最近登录\niPhone 15 | 2024-05-20".to_owned()
            ),
            (
                "账户与安全 > 登录设备管理 > Signing out everywhere".to_owned(),
                "Click Sign out of all devices to end every session at once.".to_owned()
            ),
        ]
    );
    let all: String = s.iter().map(|(_, t)| t.as_str()).collect();
    for noise in [
        "tracking",
        "dataLayer",
        "首页",
        "广告",
        "JavaScript",
        "版权所有",
        "font-family",
    ] {
        assert!(!all.contains(noise), "{noise} leaked into {all}");
    }
}

#[test]
fn gbk_page_declared_by_meta() {
    let doc = parse("html/returns_gbk.html");
    assert_eq!(doc.title, "退换货说明");
    // Declared, not guessed: no diagnostic.
    assert!(doc.diagnostics.is_empty(), "{:?}", doc.diagnostics);
    assert_eq!(
        sections(&doc),
        [(
            "退换货说明".to_owned(),
            "自签收之日起七天内，商品完好可申请无理由退货。".to_owned()
        )]
    );
}
