//! Citations in a generated answer: `[n]` (also `[n, m]`, `[n][m]`, full-width `【n】`) that refer to
//! the numbered sources of the prompt. A number with no source behind it is removed from the text and
//! reported, so an answer never points at something that does not exist.

/// What [`check_citations`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CitationCheck {
    /// The answer with invalid citation numbers removed.
    pub text: String,
    /// Valid source numbers, in order of first appearance, without repeats.
    pub cited: Vec<usize>,
    /// Numbers that referred to no source.
    pub invalid: Vec<usize>,
}

/// A bracketed citation in a text: where it stands (bytes) and the numbers it lists.
pub(crate) struct CitationMark {
    pub range: std::ops::Range<usize>,
    pub numbers: Vec<usize>,
}

/// Every citation mark of `text`: `[n]`, `[n, m]`, `【n】` (numbers separated by commas, spaces or
/// 、). Brackets holding anything else ("[optional]", "[Ctrl]") are not citations.
pub(crate) fn citation_marks(text: &str) -> Vec<CitationMark> {
    let mut marks = Vec::new();
    let mut pos = 0;
    while let Some(found) = text[pos..].find(['[', '【']) {
        let open = pos + found;
        let open_char = text[open..].chars().next().unwrap_or('[');
        let close_char = if open_char == '[' { ']' } else { '】' };
        let inner_start = open + open_char.len_utf8();
        pos = inner_start;
        // A citation is short: look for its end among the next 24 characters only.
        let window_end = text[inner_start..]
            .char_indices()
            .nth(24)
            .map_or(text.len(), |(i, _)| inner_start + i);
        let Some(len) = text[inner_start..window_end].find(close_char) else {
            continue;
        };
        let inner = &text[inner_start..inner_start + len];
        let numbers: Option<Vec<usize>> = inner
            .split([',', '，', ' ', '、'])
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().parse().ok())
            .collect();
        if let Some(numbers) = numbers.filter(|n| !n.is_empty()) {
            let end = inner_start + len + close_char.len_utf8();
            marks.push(CitationMark {
                range: open..end,
                numbers,
            });
            pos = end;
        }
    }
    marks
}

/// `text` with each citation number `k` (from 1) written as `numbers[k - 1]`: an answer written
/// over a few sources numbered afresh, cited as the answer shows its sources. Numbers beyond
/// `numbers` are left as they are (the citation check reports them).
pub(crate) fn renumber(text: &str, numbers: &[usize]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for mark in citation_marks(text) {
        out.push_str(&text[from..mark.range.start]);
        let mapped: Vec<String> = mark
            .numbers
            .iter()
            .map(|&k| {
                k.checked_sub(1)
                    .and_then(|i| numbers.get(i))
                    .copied()
                    .unwrap_or(k)
                    .to_string()
            })
            .collect();
        out.push_str(&format!("[{}]", mapped.join("][")));
        from = mark.range.end;
    }
    out.push_str(&text[from..]);
    out
}

/// Validates every bracketed citation in `text` against sources `1..=sources`.
pub fn check_citations(text: &str, sources: usize) -> CitationCheck {
    let mut out = CitationCheck::default();
    let mut last = 0;
    for mark in citation_marks(text) {
        out.text.push_str(&text[last..mark.range.start]);
        last = mark.range.end;
        let valid: Vec<usize> = mark
            .numbers
            .iter()
            .copied()
            .filter(|n| (1..=sources).contains(n))
            .collect();
        for n in mark.numbers.iter().filter(|n| !(1..=sources).contains(*n)) {
            if !out.invalid.contains(n) {
                out.invalid.push(*n);
            }
        }
        for n in &valid {
            if !out.cited.contains(n) {
                out.cited.push(*n);
            }
        }
        if !valid.is_empty() {
            let list: Vec<String> = valid.iter().map(|n| n.to_string()).collect();
            out.text.push_str(&format!("[{}]", list.join(", ")));
        }
    }
    out.text.push_str(&text[last..]);
    // Removing a citation can leave "word ." or a double space behind.
    out.text = out.text.replace(" .", ".").replace("  ", " ");
    out
}

/// Adds a citation to every uncited sentence of `text` that is clearly drawn from one source. Small
/// models often state the right fact without the `[n]` they were asked for; the answer must still say
/// where each fact comes from. A sentence is attributed to the source sharing most of its character
/// bigrams (which works for Chinese and English alike) when every number in the sentence appears in
/// that source and enough bigrams are shared: half of them, or a quarter when the sentence states
/// numbers (a figure found verbatim in one source is strong evidence by itself; models often restate
/// the question around it: "出差的话一天餐补给120元"). A bare figure ("3次", "10天") is located by the
/// question it answers.
/// A Markdown code fence line (```` ``` ```` or ```` ```bash ````): formatting, not a sentence.
pub(crate) fn is_code_fence(line: &str) -> bool {
    strip_citations_light(line).trim_start().starts_with("```")
}

/// `line` without trailing citation marks, enough to see what it starts with.
fn strip_citations_light(line: &str) -> &str {
    line.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, '[' | ']' | ' ' | '\n'))
}

pub fn attribute_citations(text: &str, sources: &[&str], question: &str) -> (String, Vec<usize>) {
    const MIN_OVERLAP: f64 = 0.5;
    const MIN_OVERLAP_WITH_NUMBERS: f64 = 0.25;
    let mut out = String::new();
    let mut cited = Vec::new();
    let mut in_code = false;
    // Compared with numerals as digits on both sides: "补卡三次" is the source's "补卡3次".
    let normalised: Vec<String> = sources.iter().map(|s| super::claims::normalise(s)).collect();
    let sources: Vec<&str> = normalised.iter().map(String::as_str).collect();
    for sentence in split_keeping_ends(text) {
        // A mark appended inside a code block would become part of the command a reader copies.
        if is_code_fence(sentence) {
            in_code = !in_code;
            out.push_str(sentence);
            continue;
        }
        if in_code {
            out.push_str(sentence);
            continue;
        }
        let body = sentence.trim_end_matches(['。', '！', '？', '.', '!', '?', '\n', ' ']);
        let numbers = numbers_in(&super::claims::normalise(body));
        let short = body.chars().filter(|c| c.is_alphanumeric()).count() < 4;
        if body.contains('[') || (short && numbers.is_empty()) {
            out.push_str(sentence);
            continue;
        }
        if short {
            // The sources that state the figure; the one naming most of the question's terms.
            let best = sources
                .iter()
                .enumerate()
                .filter(|(_, s)| numbers.iter().all(|n| s.contains(n.as_str())))
                .map(|(i, s)| (i, super::topic::coverage(question, s)))
                .filter(|(_, cover)| *cover > 0.0)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((i, _)) => cite(&mut out, &mut cited, sentence, body, i + 1),
                None => out.push_str(sentence),
            }
            continue;
        }
        let grams = bigrams(&super::claims::normalise(body));
        let best = sources
            .iter()
            .enumerate()
            .filter(|(_, s)| numbers.iter().all(|n| s.contains(n.as_str())))
            .map(|(i, s)| {
                let source = bigrams(s);
                let shared = grams.iter().filter(|g| source.contains(*g)).count();
                (i, shared as f64 / grams.len().max(1) as f64)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, overlap))
                if overlap
                    >= if numbers.is_empty() {
                        MIN_OVERLAP
                    } else {
                        MIN_OVERLAP_WITH_NUMBERS
                    } =>
            {
                cite(&mut out, &mut cited, sentence, body, i + 1)
            }
            _ => out.push_str(sentence),
        }
    }
    (out, cited)
}

/// Appends `sentence` with `[n]` after its `body` (before its closing punctuation's tail).
fn cite(out: &mut String, cited: &mut Vec<usize>, sentence: &str, body: &str, n: usize) {
    out.push_str(body);
    out.push_str(&format!("[{n}]"));
    out.push_str(&sentence[body.len()..]);
    if !cited.contains(&n) {
        cited.push(n);
    }
}

fn split_keeping_ends(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    // A quoted source sentence ("资料原文：“…。” [1]") ends where its quote closes, citation after.
    let mut quoted = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '“' | '「' => quoted += 1,
            '”' | '」' => quoted = quoted.saturating_sub(1),
            _ => {}
        }
        if quoted > 0 && c != '\n' {
            continue;
        }
        // "." ends a sentence before a space, but not after a section number ("8. Incident").
        let after_number = text[..i].ends_with(|p: char| p.is_ascii_digit());
        if matches!(c, '。' | '！' | '？' | '!' | '?' | '\n')
            || (c == '.' && text[i + 1..].starts_with([' ', '\n']) && !after_number)
        {
            let end = i + c.len_utf8();
            parts.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

/// The share of `a`'s character bigrams that `b` also has (0 when `a` has none).
pub(crate) fn bigram_overlap(a: &str, b: &str) -> f32 {
    let (a, b) = (bigrams(a), bigrams(b));
    if a.is_empty() {
        return 0.0;
    }
    a.iter().filter(|g| b.contains(*g)).count() as f32 / a.len() as f32
}

fn bigrams(text: &str) -> std::collections::HashSet<(char, char)> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

fn numbers_in(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quoted source sentence keeps its citation after the quote (it was given a second one
    /// inside: "请使用 Python 3.8 或更高版本[1]。” [1]").
    #[test]
    fn a_quoted_sentence_is_not_cited_inside_its_quote() {
        let text = "装 cnocr 对 Python 版本有要求[2]。\n资料原文：“请使用 Python 3.8 或更高版本。” [1]";
        let sources = [
            "CnOCR 的 HTTP 服务",
            "Note\n\n请使用 Python 3.8 或更高版本。\n\n更多说明可见 安装文档。",
        ];
        let (out, _) = attribute_citations(text, &sources, "装 cnocr 对 Python 版本有什么要求？");
        assert_eq!(out, text);
    }

    #[test]
    fn valid_citations_are_kept_and_listed_once() {
        let c = check_citations(
            "Hotels are capped at 500 yuan [2]. Taxis need receipts [1][2].",
            3,
        );
        assert_eq!(c.cited, vec![2, 1]);
        assert!(c.invalid.is_empty());
        assert_eq!(
            c.text,
            "Hotels are capped at 500 yuan [2]. Taxis need receipts [1][2]."
        );
    }

    #[test]
    fn a_citation_to_a_missing_source_is_removed_and_flagged() {
        let c = check_citations("住宿标准为每晚500元【1】，另见[7]。组合引用 [1, 9]。", 2);
        assert_eq!(c.cited, vec![1]);
        assert_eq!(c.invalid, vec![7, 9]);
        assert_eq!(c.text, "住宿标准为每晚500元[1]，另见。组合引用 [1]。");
    }

    #[test]
    fn brackets_that_are_not_citations_stay() {
        let c = check_citations("Use [Ctrl]+[C] or see [note].", 2);
        assert_eq!(c.text, "Use [Ctrl]+[C] or see [note].");
        assert!(c.cited.is_empty() && c.invalid.is_empty());
    }

    #[test]
    fn an_uncited_sentence_is_attributed_to_the_source_it_came_from() {
        let sources = [
            "出差补贴怎么算？伙食补贴一类城市每天120元、其他城市每天100元",
            "住宿标准：一类城市500元",
        ];
        let (text, cited) = attribute_citations(
            "出差的伙食补贴一类城市每天120元。其他的我不清楚。",
            &sources,
            "出差补贴",
        );
        assert_eq!(text, "出差的伙食补贴一类城市每天120元[1]。其他的我不清楚。");
        assert_eq!(cited, vec![1]);
        // A number the source does not contain is never attributed to it.
        let (text, cited) = attribute_citations("伙食补贴每天150元。", &sources, "伙食补贴");
        assert_eq!(text, "伙食补贴每天150元。");
        assert!(cited.is_empty());
        let (text, _) = attribute_citations(
            "VPN sessions time out after 12 hours. Reconnect then.",
            &["VPN sessions time out after 12 hours of use"],
            "VPN timeout",
        );
        assert_eq!(text, "VPN sessions time out after 12 hours[1]. Reconnect then.");
        let (text, _) = attribute_citations("出差的话一天餐补给120元。", &sources, "餐补多少");
        assert_eq!(text, "出差的话一天餐补给120元[1]。");
        // Numerals in words are the source's digits (a real answer, bench answers 2026-12-05).
        let (text, _) = attribute_citations(
            "每月最多可以补卡三次。",
            &["员工每月补卡不超过3次，超过的按缺勤处理。"],
            "每个月最多可以补卡几次？",
        );
        assert_eq!(text, "每月最多可以补卡三次[1]。");
        // A section number is not a sentence of its own.
        let (text, _) = attribute_citations(
            "The source says: \"8. Incident Reporting: report within 1 hour.\"",
            &["8. Incident Reporting: report within 1 hour."],
            "incident",
        );
        assert!(!text.contains("8["), "{text}");
        // A bare figure is attributed by the question it answers.
        let sources = [
            "年假：满1年不满10年5天，满10年不满20年10天",
            "每月补卡不超过3次，第4次起扣款",
        ];
        let (text, cited) = attribute_citations("3次", &sources, "每个月最多可以补卡几次？");
        assert_eq!((text.as_str(), cited), ("3次[2]", vec![2]));
        let (text, cited) = attribute_citations("10天", &sources, "满10年不满20年的年假有几天？");
        assert_eq!((text.as_str(), cited), ("10天[1]", vec![1]));
    }

    #[test]
    fn renumbered_citations_name_the_sources_as_shown() {
        assert_eq!(
            renumber("XH-Connect [1]，地址见【2】[1, 2]。Ctrl [x] [3]", &[10, 11]),
            "XH-Connect [10]，地址见[11][10][11]。Ctrl [x] [3]"
        );
    }
}
