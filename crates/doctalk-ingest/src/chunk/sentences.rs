//! Paragraph and sentence boundaries, and cutting of sentences too long for one chunk.

use std::ops::Range;

use super::tokens::{is_cjk, token_tenths, TokenCounter, CJK_TENTHS, WORD_TENTHS};

/// Sentence-final punctuation of Chinese (and Japanese) text.
const CJK_TERMINATORS: &[char] = &['。', '！', '？', '；', '…', '｡'];
/// Closing quotes and brackets that belong to the sentence they follow.
const CLOSERS: &[char] = &['”', '’', '』', '」', '）', '》', '】', '〕', ')', ']', '"', '\''];
/// Places to cut an over-long sentence, best first after sentence ends.
const SOFT_BREAKS: &[char] = &['，', '、', ',', '；', ';', '：', ':'];

/// Lower-case words that end with a period without ending a sentence ("e.g." is "e.g").
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "cf", "al", "approx", "dr", "mr", "mrs", "ms", "prof", "st", "sr", "jr",
    "inc", "ltd", "co", "corp", "no", "nos", "fig", "figs", "eq", "vol", "p", "pp", "ch", "sec", "dept",
    "est", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    "a.m", "p.m",
];

/// Byte ranges of the sentences of `text`, whitespace trimmed, in order.
///
/// A sentence ends after Chinese 。！？；… (with any closing quotes ”』」 after them), after
/// English `. ! ?` followed by whitespace — except after abbreviations such as "e.g." or
/// "Dr." and single initials — and at a line break (list items, table rows, code lines).
/// Decimals like "3.14" never split because no whitespace follows the point.
///
/// ```
/// use doctalk_ingest::split_sentences;
/// let text = "年假几天？五天。See Dr. Li, e.g. on Monday. Pi is 3.14!";
/// let parts: Vec<&str> = split_sentences(text).into_iter().map(|r| &text[r]).collect();
/// assert_eq!(parts, ["年假几天？", "五天。", "See Dr. Li, e.g. on Monday.", "Pi is 3.14!"]);
/// ```
pub fn split_sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = if c == '\n' {
            Some(i)
        } else if CJK_TERMINATORS.contains(&c) || matches!(c, '!' | '?' | '.') {
            let mut end = i + c.len_utf8();
            while let Some(&(j, next)) = chars.peek() {
                if CJK_TERMINATORS.contains(&next)
                    || CLOSERS.contains(&next)
                    || matches!(next, '!' | '?' | '.')
                {
                    end = j + next.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let next = chars.peek().map(|&(_, n)| n);
            let ends = if CJK_TERMINATORS.contains(&c) {
                true
            } else {
                match next {
                    None => true,
                    Some(n) if n.is_whitespace() => c != '.' || !is_abbreviation(&text[..i]),
                    // "什么?我": an ASCII mark inside Chinese text still ends the sentence.
                    Some(n) => c != '.' && is_cjk(n),
                }
            };
            ends.then_some(end)
        } else {
            None
        };
        if let Some(end) = end {
            push_trimmed(&mut out, text, start..end);
            start = end;
        }
    }
    push_trimmed(&mut out, text, start..text.len());
    out
}

/// Whether the word just before a period is an abbreviation or an initial ("J. Smith").
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '“')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    let single_letter = {
        let mut cs = word.chars();
        matches!((cs.next(), cs.next()), (Some(c), None) if c.is_alphabetic() && c.is_uppercase())
    };
    single_letter || ABBREVIATIONS.contains(&lower.as_str())
}

fn push_trimmed(out: &mut Vec<Range<usize>>, text: &str, range: Range<usize>) {
    if let Some(r) = trimmed(text, range) {
        out.push(r);
    }
}

/// `range` without leading/trailing whitespace; `None` if nothing is left.
pub(super) fn trimmed(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let s = &text[range.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    let r = range.start + lead..range.end - trail;
    (r.start < r.end).then_some(r)
}

/// Byte ranges of paragraphs: text separated by lines that are empty or whitespace only.
pub(super) fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            push_trimmed(&mut out, text, start..pos);
            start = pos + line.len();
        }
        pos += line.len();
    }
    push_trimmed(&mut out, text, start..text.len());
    out
}

/// Cuts one over-long sentence (`range` in `text`) into pieces of at most `max_tenths`, of
/// about even size, cutting after a comma-like mark in the second half of the budget when there is one,
/// else at the last word or CJK-character boundary, and inside a "word" only when a single
/// word is longer than the budget (a URL, a hash).
pub(super) fn cut_long(text: &str, range: Range<usize>, max_tenths: usize) -> Vec<Range<usize>> {
    let max_tenths = max_tenths.max(CJK_TENTHS.max(WORD_TENTHS));
    let mut pieces = Vec::new();
    let mut start = range.start;
    while start < range.end {
        // Aim for pieces of even size rather than full pieces and a scrap at the end: with
        // n pieces still needed, each gets about 1/n of the rest (plus 10% for a good cut).
        let rest = token_tenths(&text[start..range.end]);
        let n = rest.div_ceil(max_tenths).max(1);
        let budget = (rest.div_ceil(n) * 11 / 10).clamp(CJK_TENTHS.max(WORD_TENTHS), max_tenths);
        let Some(cut) = next_cut(text, start..range.end, budget) else {
            push_trimmed(&mut pieces, text, start..range.end);
            break;
        };
        push_trimmed(&mut pieces, text, start..cut);
        start = cut;
    }
    pieces
}

/// Where to end the piece that starts at `range.start`, or `None` if the rest fits.
fn next_cut(text: &str, range: Range<usize>, max_tenths: usize) -> Option<usize> {
    let mut tenths = 0;
    let mut counter = TokenCounter::default();
    let mut soft_break = None;
    let mut boundary = None;
    let mut overflow_at = None;
    for (off, c) in text[range.clone()].char_indices() {
        let i = range.start + off;
        let cost = counter.cost(c);
        if counter.at_word_start(c) && !c.is_whitespace() && i > range.start {
            boundary = Some(i);
        }
        if tenths + cost > max_tenths {
            overflow_at = Some(i);
            break;
        }
        tenths += cost;
        if SOFT_BREAKS.contains(&c) && tenths * 2 >= max_tenths {
            soft_break = Some(i + c.len_utf8());
        }
    }
    let overflow_at = overflow_at?;
    // A word that would straddle the budget still starts at `boundary`, so cutting there
    // keeps it whole. Only when the piece is one giant word do we cut inside it.
    let cut = soft_break
        .or(boundary)
        .filter(|&b| b > range.start)
        .unwrap_or(overflow_at);
    Some(cut.max(next_char_boundary(text, range.start)))
}

fn next_char_boundary(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(i, |c| i + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Vec<&str> {
        split_sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn chinese_sentences_and_closing_quotes() {
        assert_eq!(
            parts("他说：“明天见。”然后走了！真的吗？是的……好；再见"),
            [
                "他说：“明天见。”",
                "然后走了！",
                "真的吗？",
                "是的……",
                "好；",
                "再见"
            ]
        );
        assert_eq!(parts("「好嗎？」她問。"), ["「好嗎？」", "她問。"]);
    }

    #[test]
    fn english_abbreviations_decimals_and_quotes() {
        assert_eq!(
            parts("Use tools, e.g. a hammer. Mr. J. Smith paid $3.14 (approx.) today. \"Really?\" Yes!"),
            [
                "Use tools, e.g. a hammer.",
                "Mr. J. Smith paid $3.14 (approx.) today.",
                "\"Really?\"",
                "Yes!"
            ]
        );
        assert_eq!(parts("Wait... what?! ok"), ["Wait...", "what?!", "ok"]);
        assert_eq!(parts("version 1.2.3 is out"), ["version 1.2.3 is out"]);
    }

    #[test]
    fn lines_end_sentences() {
        assert_eq!(parts("a | b\n1 | 2\n\n- item"), ["a | b", "1 | 2", "- item"]);
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let text = "one\ntwo\n\n \nthree\n";
        let got: Vec<&str> = paragraphs(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(got, ["one\ntwo", "three"]);
    }

    #[test]
    fn long_sentence_cut_prefers_commas_and_never_splits_words() {
        let text = "alpha beta gamma, delta epsilon zeta eta theta iota kappa";
        // 10 words × 13 = 130 tenths; budget 70 → at most 5 words per piece.
        let got: Vec<&str> = cut_long(text, 0..text.len(), 70)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        // Then the rest (7 words) is shared evenly instead of leaving a scrap.
        assert_eq!(
            got,
            ["alpha beta gamma,", "delta epsilon zeta", "eta theta iota kappa"]
        );

        let zh = "第一部分内容第二部分内容第三部分内容";
        let got: Vec<&str> = cut_long(zh, 0..zh.len(), 60)
            .into_iter()
            .map(|r| &zh[r])
            .collect();
        assert_eq!(got, ["第一部分内容", "第二部分内容", "第三部分内容"]);

        let zh = "如果员工需要请假，应当提前三天提交申请并说明理由";
        let got: Vec<&str> = cut_long(zh, 0..zh.len(), 150)
            .into_iter()
            .map(|r| &zh[r])
            .collect();
        assert_eq!(got, ["如果员工需要请假，", "应当提前三天提交申请并说明理由"]);
    }

    #[test]
    fn a_giant_word_is_cut_on_char_boundaries() {
        let text = "é".repeat(10) + " ok";
        let pieces = cut_long(&text, 0..text.len(), 13);
        assert!(pieces.len() >= 2);
        for r in &pieces {
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }
}
