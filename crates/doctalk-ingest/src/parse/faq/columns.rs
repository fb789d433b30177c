//! Which columns hold the question, the answer and the similar questions.
//!
//! Header names are compared after [`normalize`]: lower case, without spaces, `_`, `-`, `*`,
//! colons or bracketed remarks, so "Similar Questions", "similar_questions" and
//! "相似问题（多个用|分隔）" all match. Exact synonyms win over substring matches, and earlier
//! synonyms over later ones ("问题" beats "标题" when both are present).

use crate::parse::FaqMapping;

/// Column indices of the FAQ fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Columns {
    pub question: usize,
    pub answer: usize,
    pub similar: Option<usize>,
}

impl Columns {
    /// Whether column `i` is one of the FAQ fields (everything else is metadata).
    pub fn contains(&self, i: usize) -> bool {
        i == self.question || i == self.answer || self.similar == Some(i)
    }
}

const QUESTION: &[&str] = &[
    "问题",
    "标准问题",
    "标准问",
    "问",
    "问句",
    "主问题",
    "提问",
    "问法",
    "题目",
    "question",
    "questions",
    "q",
    "standardquestion",
    "faq",
    "query",
    "ask",
    "title",
    "标题",
    "instruction",
    "prompt",
];

const ANSWER: &[&str] = &[
    "答案",
    "标准答案",
    "回答",
    "答",
    "答复",
    "回复",
    "解答",
    "answer",
    "answers",
    "a",
    "reply",
    "response",
    "content",
    "内容",
    "solution",
    "output",
    "body",
    "text",
];

const SIMILAR: &[&str] = &[
    "相似问题",
    "相似问法",
    "相似问",
    "扩展问",
    "扩展问题",
    "扩展问法",
    "同义问题",
    "相似",
    "similar",
    "similarquestions",
    "similarquestion",
    "alternatives",
    "alternativequestions",
    "alternatequestions",
    "variants",
    "paraphrases",
    "aliases",
];

/// Substrings that identify a field when no header matches a synonym exactly.
const SIMILAR_PARTS: &[&str] = &["相似", "扩展问", "similar", "alternat"];
const QUESTION_PARTS: &[&str] = &["问题", "question"];
const ANSWER_PARTS: &[&str] = &["答案", "回答", "答复", "answer"];

/// Finds the FAQ columns; `None` when the question or the answer column is missing.
/// An explicit mapping replaces detection entirely.
pub(crate) fn detect(headers: &[String], mapping: Option<&FaqMapping>) -> Option<Columns> {
    let normalized: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
    if let Some(m) = mapping {
        let find = |name: &str| {
            let name = normalize(name);
            normalized.iter().position(|h| *h == name)
        };
        let similar = match &m.similar_questions {
            Some(name) => Some(find(name)?),
            None => None,
        };
        return Some(Columns {
            question: find(&m.question)?,
            answer: find(&m.answer)?,
            similar,
        });
    }

    let mut taken = Vec::new();
    // Similar first: "相似问题" contains "问题" and must not be taken for the question.
    let similar = best(&normalized, SIMILAR, SIMILAR_PARTS, &[], &taken);
    taken.extend(similar);
    let question = best(&normalized, QUESTION, QUESTION_PARTS, SIMILAR_PARTS, &taken)?;
    taken.push(question);
    let answer = best(&normalized, ANSWER, ANSWER_PARTS, &[], &taken)?;
    Some(Columns {
        question,
        answer,
        similar,
    })
}

/// The column with the best-ranked exact synonym, else the first one containing a part.
fn best(
    headers: &[String],
    exact: &[&str],
    parts: &[&str],
    excluded_parts: &[&str],
    taken: &[usize],
) -> Option<usize> {
    let free = |i: &usize| !taken.contains(i);
    let by_rank = exact
        .iter()
        .find_map(|syn| (0..headers.len()).filter(free).find(|&i| headers[i] == *syn));
    by_rank.or_else(|| {
        (0..headers.len()).filter(free).find(|&i| {
            let h = &headers[i];
            parts.iter().any(|p| h.contains(p)) && !excluded_parts.iter().any(|p| h.contains(p))
        })
    })
}

/// Lower case, without whitespace, `_ - * : ：` and bracketed remarks like "（必填）".
pub(crate) fn normalize(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut depth = 0usize;
    for c in header.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '_' | '-' | '*' | ':' | '：' | '\u{feff}' => {}
            c if c.is_whitespace() => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_headers_with_remarks() {
        let h = headers(&["分类", "标准问题（必填）", "相似问题(用|分隔)", "答案*"]);
        assert_eq!(
            detect(&h, None),
            Some(Columns {
                question: 1,
                answer: 3,
                similar: Some(2)
            })
        );
    }

    #[test]
    fn english_headers_case_and_space_insensitive() {
        let h = headers(&["ID", " Question ", "Similar Questions", "ANSWER", "Category"]);
        assert_eq!(
            detect(&h, None),
            Some(Columns {
                question: 1,
                answer: 3,
                similar: Some(2)
            })
        );
        let h = headers(&["q", "a"]);
        assert_eq!(detect(&h, None).map(|c| (c.question, c.answer)), Some((0, 1)));
    }

    #[test]
    fn better_synonym_wins_over_earlier_column() {
        let h = headers(&["标题", "问题", "回答"]);
        assert_eq!(detect(&h, None).map(|c| c.question), Some(1));
    }

    #[test]
    fn unknown_headers_give_none() {
        assert_eq!(detect(&headers(&["name", "price", "sku"]), None), None);
        assert_eq!(detect(&headers(&["question", "category"]), None), None);
    }

    #[test]
    fn explicit_mapping_wins() {
        let h = headers(&["Question", "Answer", "Ticket Title", "Resolution"]);
        let m = FaqMapping {
            question: "ticket title".into(),
            answer: "RESOLUTION".into(),
            similar_questions: None,
        };
        assert_eq!(
            detect(&h, Some(&m)),
            Some(Columns {
                question: 2,
                answer: 3,
                similar: None
            })
        );
        let wrong = FaqMapping {
            question: "nope".into(),
            ..m
        };
        assert_eq!(detect(&h, Some(&wrong)), None);
    }
}
