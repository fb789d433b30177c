//! What kind of figure a question asks for, and whether a sentence gives one. Small models answer
//! "How many failed sign-ins lock my account?" with "30 minutes": the figure is in the passage (the
//! lockout lasts 30 minutes), so it passes every check against the sources, but it answers another
//! question. A count asked for and only a duration given is caught here.

use super::claims::{normalise, number_texts, strip_citations};
use super::topic;

/// The kinds of figure a question can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// How many times or things: 次, 个 (not of time), "how many sign-ins".
    Count,
    /// How long: 天, 小时, 分钟, 工作日, days, hours, minutes.
    Duration,
    /// What time: 几点, "what time".
    Clock,
    /// How much money: 元, 美元, 钱, yuan, dollars.
    Money,
}

const DURATION_UNITS_ZH: &[&str] = &[
    "工作日",
    "小时",
    "分钟",
    "天",
    "日",
    "周",
    "星期",
    "个月",
    "月",
    "年",
    "秒",
];
const DURATION_UNITS_EN: &[&str] = &[
    "second",
    "minute",
    "hour",
    "day",
    "working day",
    "business day",
    "week",
    "month",
    "year",
];
const MONEY_UNITS: &[&str] = &["美元", "元", "块", "yuan", "rmb", "dollar", "usd", "$"];

/// The kind of figure `question` asks for, when it says so plainly.
pub(crate) fn asked_kind(question: &str) -> Option<Kind> {
    let q = normalise(question).to_lowercase();
    if q.contains("几点") || q.contains("what time") {
        return Some(Kind::Clock);
    }
    if [
        "多少钱",
        "多少元",
        "how much money",
        "how much does",
        "how much is",
        "cost",
    ]
    .iter()
    .any(|p| q.contains(p))
    {
        return Some(Kind::Money);
    }
    if ["多久", "多长时间", "how long", "how soon"]
        .iter()
        .any(|p| q.contains(p))
    {
        return Some(Kind::Duration);
    }
    for asks in ["几", "多少"] {
        if let Some(at) = q.find(asks) {
            let after = q[at + asks.len()..].trim_start_matches('个');
            if after.starts_with('次') {
                return Some(Kind::Count);
            }
            if DURATION_UNITS_ZH.iter().any(|u| after.starts_with(u)) {
                return Some(Kind::Duration);
            }
        }
    }
    if let Some(at) = q.find("how many ") {
        let next = q[at + "how many ".len()..]
            .split_whitespace()
            .next()
            .unwrap_or("");
        return Some(if DURATION_UNITS_EN.iter().any(|u| next.starts_with(u)) {
            Kind::Duration
        } else {
            Kind::Count
        });
    }
    None
}

/// The figures of `sentence` with their kinds, judged by the unit written after each number (a
/// number with no unit has no kind): (kind, the number as written).
fn figure_kinds(sentence: &str) -> Vec<(Option<Kind>, String)> {
    let text = normalise(&strip_citations(sentence)).to_lowercase();
    let mut kinds = Vec::new();
    let mut cursor = 0;
    for number in number_texts(&text) {
        let Some(at) = text[cursor..].find(&number) else {
            continue;
        };
        let (start, end) = (cursor + at, cursor + at + number.len());
        cursor = end;
        let before = &text[..start];
        let after = text[end..].trim_start().trim_start_matches('个');
        let kind = if number.contains(':') || after.starts_with('点') {
            Some(Kind::Clock)
        } else if MONEY_UNITS.iter().any(|u| after.starts_with(u)) || before.ends_with('$') {
            Some(Kind::Money)
        } else if after.starts_with('次') || after.starts_with("time") {
            Some(Kind::Count)
        } else if DURATION_UNITS_ZH.iter().any(|u| after.starts_with(u))
            || DURATION_UNITS_EN.iter().any(|u| after.starts_with(u))
        {
            Some(Kind::Duration)
        } else {
            None
        };
        kinds.push((kind, number));
    }
    kinds
}

/// Unit words, which say nothing about what a sentence is about.
fn is_unit(term: &str) -> bool {
    let t = term.trim_end_matches('s');
    DURATION_UNITS_ZH.contains(&term)
        || DURATION_UNITS_EN.contains(&t)
        || MONEY_UNITS.contains(&t)
        || ["次", "点", "个", "time"].contains(&t)
}

/// The figure `sentence` gives when the question asks for another kind and the sentence gives none
/// of that kind ("30 minutes" for "how many sign-ins"); `None` when it fits or cannot be told.
pub(crate) fn wrong_kind(sentence: &str, question: &str) -> Option<(Kind, String)> {
    let asked = asked_kind(question)?;
    // Only a sentence that answers the question: a bare figure, or one naming what was asked.
    let about: Vec<String> = topic::terms(&strip_citations(sentence))
        .into_iter()
        .filter(|t| !is_unit(t))
        .collect();
    let asked_terms = topic::question_terms(question);
    if !about.is_empty() && !about.iter().any(|t| asked_terms.contains(t)) {
        return None;
    }
    let given = figure_kinds(sentence);
    // A figure without a unit may be the one asked for ("5 failed sign-ins").
    if given.iter().any(|(k, _)| k.is_none_or(|k| k == asked)) {
        return None;
    }
    given.into_iter().find_map(|(k, n)| k.map(|k| (k, n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_say_what_kind_of_figure_they_want() {
        assert_eq!(
            asked_kind("How many failed sign-ins lock my account?"),
            Some(Kind::Count)
        );
        assert_eq!(asked_kind("How many days of remote work?"), Some(Kind::Duration));
        assert_eq!(
            asked_kind("How long does an account stay locked?"),
            Some(Kind::Duration)
        );
        assert_eq!(asked_kind("中午几点开始午休？"), Some(Kind::Clock));
        assert_eq!(asked_kind("一个月迟到几次以后开始扣钱？"), Some(Kind::Count));
        assert_eq!(asked_kind("出差要提前几个工作日申请？"), Some(Kind::Duration));
        assert_eq!(asked_kind("迟到一次扣多少钱？"), Some(Kind::Money));
        assert_eq!(asked_kind("VPN服务器地址是什么？"), None);
    }

    #[test]
    fn an_answer_of_the_wrong_kind_is_caught_and_the_right_kind_passes() {
        let q = "How many failed sign-ins lock my account?";
        assert_eq!(
            wrong_kind("30 minutes[2]", q),
            Some((Kind::Duration, "30".to_string()))
        );
        assert_eq!(
            wrong_kind("5 failed sign-ins lock it for 30 minutes[2].", q),
            None
        );
        assert_eq!(wrong_kind("After 5 attempts[2].", q), None);
        let q = "一个月迟到几次以后开始扣钱？";
        assert_eq!(
            wrong_kind("每月迟到3次以内不扣薪，第4次起每次扣款50元[1]。", q),
            None
        );
        assert_eq!(
            wrong_kind("迟到后扣款50元[1]。", q),
            Some((Kind::Money, "50".to_string()))
        );
        assert_eq!(
            wrong_kind("VPN空闲30分钟后断开[1]。", "VPN空闲多久会断开？"),
            None
        );
        assert_eq!(wrong_kind("午休从中午12点开始[1]。", "中午几点开始午休？"), None);
    }
}
