//! Clean-up and quality checks for the raw text a PDF engine returns for one page.
//!
//! Engines emit layout artefacts that hurt retrieval: NULs, hyphenated line breaks, and
//! spaces between CJK characters ("出 差 制 度") because CJK glyphs are placed one by one.
//! No NFKC: full-width punctuation and compatibility characters are kept as the author wrote them.

/// Above this share of junk characters (among non-whitespace ones) a page counts as garbled.
pub(crate) const GARBLED_RATIO: f64 = 0.3;

/// How usable one engine's text for one page is, after normalisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PageQuality {
    Good(String),
    /// Text exists but is mostly junk (fonts without a Unicode mapping).
    Garbled,
    /// Nothing but whitespace: typically a scanned page.
    Empty,
    /// The engine errored or panicked on this page only.
    Failed(String),
}

impl PageQuality {
    /// Normalises `raw` and classifies it.
    pub(crate) fn assess(raw: &str) -> PageQuality {
        let text = normalise(raw);
        if text.is_empty() {
            PageQuality::Empty
        } else if is_garbled(&text) {
            PageQuality::Garbled
        } else {
            PageQuality::Good(text)
        }
    }

    /// Ordering used when two engines disagree about a page: text beats a diagnosis, and
    /// "garbled" (there is text we cannot read) says more than "empty" or "failed".
    pub(crate) fn rank(&self) -> u8 {
        match self {
            PageQuality::Good(_) => 3,
            PageQuality::Garbled => 2,
            PageQuality::Empty => 1,
            PageQuality::Failed(_) => 0,
        }
    }
}

/// Share of junk among non-whitespace characters; 0.0 for text without any.
pub(crate) fn junk_ratio(text: &str) -> f64 {
    let mut total = 0usize;
    let mut junk = 0usize;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        total += 1;
        if is_junk(c) {
            junk += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        junk as f64 / total as f64
    }
}

pub(crate) fn is_garbled(text: &str) -> bool {
    junk_ratio(text) > GARBLED_RATIO
}

/// Characters no real document text is made of: what engines emit for glyphs they cannot map.
fn is_junk(c: char) -> bool {
    let u = c as u32;
    c == '\u{FFFD}'
        || c.is_control()
        || (0xE000..=0xF8FF).contains(&u)
        || (0xF0000..=0x10FFFD).contains(&u)
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE
}

/// CJK characters that are written without spaces between them. Hangul is left out on
/// purpose: Korean separates words with spaces.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF        // radicals
        | 0x3001..=0x303F      // CJK punctuation (U+3000, the ideographic space, is whitespace)
        | 0x3040..=0x30FF      // kana
        | 0x3100..=0x312F      // bopomofo
        | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF      // Han extension A
        | 0x4E00..=0x9FFF      // Han
        | 0xF900..=0xFAFF      // compatibility ideographs
        | 0xFF01..=0xFF60      // full-width forms
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x2FA1F) // Han extensions B–F and supplements
}

/// Cleans one page of engine output; the result is trimmed and may be empty.
pub(crate) fn normalise(raw: &str) -> String {
    let cleaned = strip_controls(raw);
    let joined = join_hyphenated_lines(&cleaned);
    let lines: Vec<String> = joined
        .lines()
        .map(|l| remove_cjk_spaces(l).trim_end().to_string())
        .collect();
    collapse_blank_lines(&lines)
}

/// Removes NULs and other control characters; CR, form feed and vertical tab become newlines.
fn strip_controls(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\u{0C}' | '\u{0B}' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// "exam-\nple" → "example" when a lower-case Latin letter precedes the hyphen and the next
/// line starts with one (English hyphenation). A soft hyphen at a line end is always a
/// hyphenation point; elsewhere it is invisible and dropped.
fn join_hyphenated_lines(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut continues_word = false;
    for (i, line) in lines.iter().enumerate() {
        let mut line = line.trim_end_matches([' ', '\t']);
        if continues_word {
            line = line.trim_start_matches([' ', '\t']);
        }
        let next_is_lower = lines
            .get(i + 1)
            .and_then(|n| n.trim_start_matches([' ', '\t']).chars().next())
            .is_some_and(|c| c.is_ascii_lowercase());
        match hyphenation_stem(line) {
            Some(stem) if next_is_lower => {
                out.push_str(&stem.replace('\u{AD}', ""));
                continues_word = true;
            }
            _ => {
                out.push_str(&line.replace('\u{AD}', ""));
                if i + 1 < lines.len() {
                    out.push('\n');
                }
                continues_word = false;
            }
        }
    }
    out
}

/// The line without its trailing hyphen, if that hyphen can be a hyphenation point.
fn hyphenation_stem(line: &str) -> Option<&str> {
    if let Some(stem) = line.strip_suffix('\u{AD}') {
        return stem
            .chars()
            .last()
            .is_some_and(char::is_alphabetic)
            .then_some(stem);
    }
    let stem = line.strip_suffix('-')?;
    stem.chars()
        .last()
        .is_some_and(|c| c.is_ascii_lowercase())
        .then_some(stem)
}

/// Drops horizontal whitespace that sits between two CJK characters.
fn remove_cjk_spaces(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_horizontal_space(c) {
            let start = i;
            while i < chars.len() && is_horizontal_space(chars[i]) {
                i += 1;
            }
            let before = start.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i).copied();
            let between_cjk = before.is_some_and(is_cjk) && after.is_some_and(is_cjk);
            if !between_cjk {
                out.extend(&chars[start..i]);
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn is_horizontal_space(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{3000}' || c == '\u{A0}'
}

/// Joins lines, keeping at most one blank line in a row, and trims the whole page.
fn collapse_blank_lines(lines: &[String]) -> String {
    let mut out = String::new();
    let mut blank_run = 0;
    for line in lines {
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_spaces_between_cjk_only() {
        assert_eq!(normalise("出 差 制 度"), "出差制度");
        assert_eq!(normalise("报销 （见附件） 。"), "报销（见附件）。");
        assert_eq!(normalise("使用 XeLaTeX 编译"), "使用 XeLaTeX 编译");
        assert_eq!(normalise("한국어 문장"), "한국어 문장");
    }

    #[test]
    fn joins_english_hyphenation() {
        assert_eq!(normalise("an exam-\n  ple of text"), "an example of text");
        assert_eq!(normalise("con-\ncate-\nnation"), "concatenation");
        assert_eq!(normalise("soft\u{AD}\nhyphen"), "softhyphen");
        // Not hyphenation: a capital after the break, a number, a dash on its own.
        assert_eq!(normalise("Rust-\nBased"), "Rust-\nBased");
        assert_eq!(normalise("pages 10-\n20"), "pages 10-\n20");
        assert_eq!(normalise("a --\nb"), "a --\nb");
    }

    #[test]
    fn strips_nuls_and_controls_and_blank_runs() {
        assert_eq!(normalise("a\0b\u{1}c\r\n\r\n\r\n\u{0C}d  \n"), "abc\n\nd");
        assert_eq!(normalise(" \n\t\n "), "");
    }

    #[test]
    fn garbled_pages_are_detected() {
        assert!(!is_garbled("出差制度 and English"));
        assert!(is_garbled("\u{FFFD}\u{FFFD}\u{E001}ab"));
        assert!(is_garbled("\u{E000}\u{E001}\u{E002} x"));
        assert!(!is_garbled("one \u{FFFD} in a long enough sentence"));
        assert_eq!(junk_ratio("   "), 0.0);
    }

    #[test]
    fn assess_classifies() {
        assert_eq!(PageQuality::assess("  "), PageQuality::Empty);
        assert_eq!(PageQuality::assess("\u{FFFD}\u{FFFD}"), PageQuality::Garbled);
        assert_eq!(
            PageQuality::assess("标 题\n"),
            PageQuality::Good("标题".to_string())
        );
    }
}
