//! Chinese script follows the user: 简体 or 繁體. Answers, transcripts and spoken text are written in
//! the script the user chose, whatever the documents or the speech recogniser used (Whisper often
//! writes 繁體 for Mandarin: "今天天氣很好").
//!
//! Conversion is by table, longest match first: phrases where a character alone converts wrongly
//! (头发 → 頭髮, not 頭發), then single characters. The tables are OpenCC's dictionaries (Apache-2.0),
//! reduced and compiled in by `models/gen/zh_script_tables.py`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The script Chinese text is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChineseScript {
    /// 简体 (zh-CN, zh-SG): the default.
    Simplified,
    /// 繁體 as written in Taiwan (zh-TW) and Hong Kong (zh-HK).
    Traditional,
}

impl ChineseScript {
    /// A language tag's script part: "zh-TW" → (`"zh"`, Traditional), "zh-CN" → (`"zh"`,
    /// Simplified), anything else unchanged with no script.
    pub fn split_tag(tag: &str) -> (&str, Option<ChineseScript>) {
        match tag.split_once(['-', '_']) {
            Some((lang, _)) if lang.eq_ignore_ascii_case("zh") => match ChineseScript::from_setting(tag) {
                Some(script) if !tag.eq_ignore_ascii_case("auto") => (lang, Some(script)),
                _ => (tag, None),
            },
            _ => (tag, None),
        }
    }

    /// From a setting: "simplified"/"zh-CN"/"简体", "traditional"/"zh-TW"/"zh-HK"/"繁體", or "auto"
    /// (the system locale). `None` for anything else.
    pub fn from_setting(value: &str) -> Option<ChineseScript> {
        let v = value.trim().to_ascii_lowercase().replace('_', "-");
        match v.as_str() {
            "auto" | "" => Some(ChineseScript::from_locale()),
            "simplified" | "zh-cn" | "zh-sg" | "zh-hans" | "简体" | "簡體" => {
                Some(ChineseScript::Simplified)
            }
            "traditional" | "zh-tw" | "zh-hk" | "zh-mo" | "zh-hant" | "繁體" | "繁体" => {
                Some(ChineseScript::Traditional)
            }
            _ => None,
        }
    }

    /// The script of the system locale (`LC_ALL`, `LC_MESSAGES`, `LANG`): 繁體 for zh_TW, zh_HK,
    /// zh_MO and zh-Hant, 简体 otherwise.
    pub fn from_locale() -> ChineseScript {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace('_', "-");
        if ["zh-tw", "zh-hk", "zh-mo", "zh-hant"]
            .iter()
            .any(|t| locale.starts_with(t))
        {
            ChineseScript::Traditional
        } else {
            ChineseScript::Simplified
        }
    }

    /// `text` in this script. Text without Han characters comes back unchanged.
    pub fn convert(self, text: &str) -> String {
        if !text.chars().any(is_han) {
            return text.to_string();
        }
        match self {
            ChineseScript::Simplified => tables().t2s.convert(text),
            ChineseScript::Traditional => tables().tw_variants.convert(&tables().s2t.convert(text)),
        }
    }
}

/// One conversion table: phrase or character → its form in the other script.
struct Table {
    map: HashMap<String, String>,
    /// The longest key, in characters.
    longest: usize,
}

impl Table {
    fn parse(tsv: &str) -> Table {
        let map: HashMap<String, String> = tsv
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let longest = map.keys().map(|k| k.chars().count()).max().unwrap_or(1);
        Table { map, longest }
    }

    /// Longest match first at each position; what no key matches is copied.
    fn convert(&self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut key = String::new();
        while i < chars.len() {
            if !is_han(chars[i]) {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            let mut matched = None;
            for len in (1..=self.longest.min(chars.len() - i)).rev() {
                key.clear();
                key.extend(&chars[i..i + len]);
                if let Some(to) = self.map.get(&key) {
                    matched = Some((len, to));
                    break;
                }
            }
            match matched {
                Some((len, to)) => {
                    out.push_str(to);
                    i += len;
                }
                None => {
                    out.push(chars[i]);
                    i += 1;
                }
            }
        }
        out
    }
}

/// CJK ideographs (the unified blocks and their extensions, and the compatibility block).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF | 0x30000..=0x3134F)
}

struct Tables {
    t2s: Table,
    s2t: Table,
    tw_variants: Table,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        t2s: Table::parse(include_str!("../data/zh_t2s.tsv")),
        s2t: Table::parse(include_str!("../data/zh_s2t.tsv")),
        tw_variants: Table::parse(include_str!("../data/zh_tw_variants.tsv")),
    })
}

#[cfg(test)]
mod tests {
    use super::ChineseScript::{Simplified, Traditional};
    use super::*;

    #[test]
    fn whisper_traditional_becomes_simplified() {
        assert_eq!(Simplified.convert("今天天氣很好"), "今天天气很好");
        assert_eq!(Simplified.convert("請問商旅的出差制度"), "请问商旅的出差制度");
        assert_eq!(Simplified.convert("如何登陸管理員後台？"), "如何登陆管理员后台？");
        // Already simplified, or not Chinese: unchanged.
        assert_eq!(
            Simplified.convert("出差餐补为每天120元。"),
            "出差餐补为每天120元。"
        );
        assert_eq!(Simplified.convert("VPN: 12 hours [1]"), "VPN: 12 hours [1]");
    }

    #[test]
    fn simplified_becomes_traditional_with_phrases_where_characters_are_ambiguous() {
        assert_eq!(Traditional.convert("今天天气很好"), "今天天氣很好");
        assert_eq!(Traditional.convert("头发"), "頭髮");
        assert_eq!(Traditional.convert("发现"), "發現");
        assert_eq!(Traditional.convert("管理员后台"), "管理員後臺");
        assert_eq!(
            Traditional.convert("午休时间为中午12点。[1]"),
            "午休時間為中午12點。[1]"
        );
    }

    #[test]
    fn settings_and_locales_name_a_script() {
        assert_eq!(ChineseScript::from_setting("zh-TW"), Some(Traditional));
        assert_eq!(ChineseScript::from_setting("zh_HK"), Some(Traditional));
        assert_eq!(ChineseScript::from_setting("simplified"), Some(Simplified));
        assert_eq!(ChineseScript::from_setting("klingon"), None);
        assert_eq!(ChineseScript::split_tag("zh-TW"), ("zh", Some(Traditional)));
        assert_eq!(ChineseScript::split_tag("zh_CN"), ("zh", Some(Simplified)));
        assert_eq!(ChineseScript::split_tag("zh"), ("zh", None));
        assert_eq!(ChineseScript::split_tag("en"), ("en", None));
    }
}
