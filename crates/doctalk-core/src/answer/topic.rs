//! What a question or a sentence is about, in comparable form: the key terms (Han character bigrams
//! and content words) and a passage cut into statements. Used to tell which statement of a source a
//! generated sentence speaks of (so a figure taken from a neighbouring statement is caught), and how
//! much of a question a passage covers (so a model's "not found" is not believed over a passage that
//! names every key term of the question).

use std::collections::HashSet;

use crate::segment::is_han;

/// Characters that ask rather than name: dropped from questions before their terms are taken.
const QUESTION_CHARS: &str = "多少几什么怎么样哪吗呢请问如何谁是否";

/// English words that carry no topic.
const STOP_WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "are",
    "was",
    "were",
    "how",
    "what",
    "which",
    "who",
    "when",
    "where",
    "why",
    "many",
    "much",
    "does",
    "did",
    "can",
    "could",
    "should",
    "would",
    "with",
    "that",
    "this",
    "these",
    "those",
    "from",
    "into",
    "there",
    "their",
    "they",
    "you",
    "your",
    "our",
    "its",
    "has",
    "have",
    "had",
    "not",
    "but",
    "all",
    "any",
    "per",
    "will",
    "must",
    "may",
    "about",
    "than",
    "then",
    "also",
    "source",
    "sources",
    "says",
    "according",
    "document",
    "documents",
];

/// Key terms of `text`: bigrams of consecutive Han characters (a single Han character standing
/// alone counts by itself) and lower-cased Latin words of three letters or more that are not stop
/// words. Digits are not terms: figures are what is checked, not what locates.
pub(crate) fn terms(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut han: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_han = |han: &mut Vec<char>, out: &mut HashSet<String>| {
        match han.len() {
            0 => {}
            1 => {
                out.insert(han[0].to_string());
            }
            _ => out.extend(han.windows(2).map(|w| w.iter().collect::<String>())),
        }
        han.clear();
    };
    let flush_word = |word: &mut String, out: &mut HashSet<String>| {
        if word.chars().count() >= 3 && !STOP_WORDS.contains(&word.as_str()) {
            out.insert(std::mem::take(word));
        }
        word.clear();
    };
    for c in text.chars() {
        if is_han(c) {
            flush_word(&mut word, &mut out);
            han.push(c);
        } else if c.is_alphabetic() {
            flush_han(&mut han, &mut out);
            word.extend(c.to_lowercase());
        } else {
            flush_han(&mut han, &mut out);
            flush_word(&mut word, &mut out);
        }
    }
    flush_han(&mut han, &mut out);
    flush_word(&mut word, &mut out);
    out
}

/// The words of `text` that can say what it is about (jieba words for Han text, see
/// [`is_content_word`]).
pub(crate) fn content_words(text: &str) -> HashSet<String> {
    crate::segment::tokens(text)
        .into_iter()
        .filter(|w| is_content_word(w))
        .collect()
}

/// A word that can say what a question is about: two Han characters or more that do not only ask
/// ("几点", "多少"), or a Latin word of three letters or more outside the stop words.
pub(crate) fn is_content_word(word: &str) -> bool {
    const ASKING: &[&str] = &[
        "几点", "多少", "什么", "怎么", "如何", "哪些", "哪个", "几个", "多久", "多长", "是否", "请问",
        "可以",
    ];
    if word.chars().any(crate::segment::is_han) {
        word.chars().count() >= 2 && !ASKING.contains(&word)
    } else {
        word.chars().count() >= 3 && !terms(word).is_empty()
    }
}

/// The key terms of a question: its terms once the words that only ask ("多少", "几", "什么") are
/// gone.
pub(crate) fn question_terms(question: &str) -> HashSet<String> {
    let asked: String = question
        .chars()
        .map(|c| if QUESTION_CHARS.contains(c) { ' ' } else { c })
        .collect();
    terms(&asked)
}

/// The share of the question's key terms that `passage` contains (0 when the question has none).
pub(crate) fn coverage(question: &str, passage: &str) -> f32 {
    let wanted = question_terms(question);
    if wanted.is_empty() {
        return 0.0;
    }
    let have = terms(passage);
    wanted.iter().filter(|t| have.contains(*t)).count() as f32 / wanted.len() as f32
}

/// The word without a plural or verb ending, so "reported" meets "Report" and "links" "link".
pub(crate) fn stem(word: &str) -> String {
    let n = word.chars().count();
    let cut = |suffix: &str| word[..word.len() - suffix.len()].to_string();
    if n >= 5 && word.ends_with("ies") {
        format!("{}y", cut("ies"))
    } else if n >= 6 && word.ends_with("ing") {
        cut("ing")
    } else if n >= 5 && word.ends_with("ed") {
        cut("ed")
    } else if n >= 4 && word.ends_with('s') && !["ss", "us", "is"].iter().any(|e| word.ends_with(e)) {
        cut("s")
    } else {
        word.to_string()
    }
}

/// A passage cut into statements: at sentence punctuation (。！？；!?;), at blank lines, and at line
/// starts that open a list item or a table row. Other line breaks are where a PDF wrapped the
/// line, so they are joined (with nothing between Han characters, a space otherwise).
pub(crate) fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        let opens_item = line.starts_with(['-', '*', '•', '|', '·']) || starts_numbered(line);
        // A table row ("db_resnet34 | √ | X | 86 M") is a line of its own, as is the one before it.
        let row = |l: &str| l.contains(" | ");
        let after_row = i > 0 && row(lines[i - 1]);
        if line.is_empty() || opens_item || row(line) || after_row {
            push_trimmed(&mut out, &mut current);
        } else if i > 0 && !current.is_empty() {
            let joins_han =
                current.chars().last().is_some_and(is_han) && line.chars().next().is_some_and(is_han);
            if !joins_han {
                current.push(' ');
            }
        }
        for c in line.chars() {
            current.push(c);
            if matches!(c, '。' | '！' | '？' | '；' | '!' | '?' | ';') {
                push_trimmed(&mut out, &mut current);
            } else if c == '.' {
                // "." ends an English sentence, not a figure ("8.5") or a section number ("3.2").
                let ends = current.chars().rev().nth(1).is_some_and(|p| !p.is_ascii_digit());
                if ends {
                    push_trimmed(&mut out, &mut current);
                }
            }
        }
    }
    push_trimmed(&mut out, &mut current);
    out
}

/// A statement cut at its commas ("，", and "," — but not the "," of "1,000"), each clause trimmed.
pub(crate) fn clauses(statement: &str) -> Vec<String> {
    let chars: Vec<char> = statement.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let in_figure = c == ','
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c == '，' || (c == ',' && !in_figure) {
            push_trimmed(&mut out, &mut current);
        } else {
            current.push(c);
        }
    }
    push_trimmed(&mut out, &mut current);
    out
}

/// The items of a clause that enumerates figures ("一类城市（北京、上海）总监及以上900元、经理及高级
/// 专家700元、其他员工500元" → "总监及以上900元", "经理及高级专家700元", "其他员工500元"): cut at the
/// enumeration comma 、 outside brackets (the cities stay together), the first item without the
/// context all items share (what ends at its last bracket or colon). Empty when the clause does not
/// enumerate at least two figures.
pub(crate) fn enumerated(clause: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in clause.chars() {
        match c {
            '（' | '(' => depth += 1,
            '）' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c == '、' && depth == 0 {
            push_trimmed(&mut parts, &mut current);
        } else {
            current.push(c);
        }
    }
    push_trimmed(&mut parts, &mut current);
    if parts.len() < 2
        || parts
            .iter()
            .filter(|p| p.chars().any(|c| c.is_ascii_digit()))
            .count()
            < 2
    {
        return Vec::new();
    }
    if let Some(cut) = parts[0].rfind(['）', ')', '：', ':']) {
        let own = parts[0][cut..].chars().skip(1).collect::<String>();
        if own.chars().any(|c| c.is_ascii_digit()) {
            parts[0] = own.trim().to_string();
        }
    }
    parts
}

/// "1. ", "2、", "3.2 " at the start of a line.
fn starts_numbered(line: &str) -> bool {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && digits <= 2 && line[digits..].starts_with(['.', '、', ')', '）'])
}

fn push_trimmed(out: &mut Vec<String>, current: &mut String) {
    let t = current.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_han_bigrams_and_content_words() {
        let t = terms("市内交通补贴 per day in Shanghai");
        assert!(t.contains("市内") && t.contains("补贴") && t.contains("shanghai"));
        assert!(!t.contains("per") && !t.contains("in"));
        assert!(question_terms("迟到一次扣多少钱？").contains("迟到"));
        assert!(!question_terms("迟到一次扣多少钱？")
            .iter()
            .any(|t| t.contains('少')));
    }

    #[test]
    fn table_rows_are_statements_of_their_own() {
        let s =
            statements("db_resnet34 | √ | X | cnocr | 86 M\ndb_resnet18 | √ | X | cnocr | 47 M\n表后的说明");
        assert_eq!(
            s,
            [
                "db_resnet34 | √ | X | cnocr | 86 M",
                "db_resnet18 | √ | X | cnocr | 47 M",
                "表后的说明"
            ]
        );
    }

    #[test]
    fn wrapped_pdf_lines_join_and_list_items_split() {
        let s = statements("每月补卡不超过\n3次。上班打卡晚于10:00\n的，记为迟到\n- 伙食补贴：120元\n- 交通补贴：50元\n\n3.2 打卡");
        assert_eq!(
            s,
            [
                "每月补卡不超过 3次。",
                "上班打卡晚于10:00 的，记为迟到",
                "- 伙食补贴：120元",
                "- 交通补贴：50元",
                "3.2 打卡"
            ]
        );
        assert_eq!(
            statements("It costs 8.5 yuan. Then more."),
            ["It costs 8.5 yuan.", "Then more."]
        );
    }

    #[test]
    fn clauses_split_at_commas_but_not_inside_figures() {
        assert_eq!(
            clauses("单次不超过1,500元，每月额度800元,每年, then more"),
            ["单次不超过1,500元", "每月额度800元", "每年", "then more"]
        );
    }

    #[test]
    fn an_enumeration_of_figures_is_cut_into_its_items() {
        assert_eq!(
            enumerated("一类城市（北京、上海、广州）总监及以上900元、经理700元、其他员工500元"),
            ["总监及以上900元", "经理700元", "其他员工500元"]
        );
        assert!(enumerated("北京、上海、广州的补贴为100元").is_empty());
    }

    #[test]
    fn coverage_counts_the_questions_key_terms_in_a_passage() {
        assert!(coverage("境外出差每天补贴多少？", "境外出差的补贴为每人每天60美元") >= 0.6);
        assert!(coverage("公司有没有上下班班车？", "每月迟到3次以内不扣薪") == 0.0);
        assert!(
            coverage(
                "How many failed sign-ins lock my account?",
                "After 5 failed sign-in attempts the account is locked"
            ) > 0.5
        );
    }

    #[test]
    fn stems_meet_across_plural_and_verb_endings() {
        assert_eq!(stem("reported"), "report");
        assert_eq!(stem("policies"), "policy");
        assert_eq!(stem("characters"), "character");
        assert_eq!(stem("sharing"), "shar");
        assert_eq!(stem("access"), "access");
        assert_eq!(stem("bus"), "bus");
    }
}
