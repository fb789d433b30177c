//! Plain text → sections. Paragraphs are separated by blank lines, or start at an indented
//! line (Chinese texts often indent with "　　" instead of leaving blank lines). Wrapped lines
//! are joined; list-like lines keep their line break.
//!
//! A light heading heuristic recognises common numbering — "第一章 …", "第二节 …", "一、…",
//! "（一）…", "1.2 …" — and short ALL-CAPS lines. Levels are not fixed per pattern: the
//! first pattern met is level 1, the next new one level 2, and so on, which matches how
//! documents nest them whichever subset they use. A short first line standing alone is taken
//! as the document's title and becomes the outermost heading.

use super::sections::{join_wrapped, Sections};

/// Headings are short; a longer line is prose that happens to start with a number.
const MAX_HEADING_CHARS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbering {
    /// A lone short first line.
    Title,
    /// 第…编 / 第…篇 / 第…部分
    Part,
    /// 第…章
    Chapter,
    /// 第…节
    Section,
    /// 一、
    ChineseEnum,
    /// （一） / (一)
    ChineseParen,
    /// 1 / 1.2 / 1.2.3, by depth
    Decimal(u8),
    AllCaps,
}

impl Numbering {
    /// Patterns that are headings wherever they stand; the others need a blank line above.
    fn is_strong(self) -> bool {
        matches!(
            self,
            Numbering::Part | Numbering::Chapter | Numbering::Section | Numbering::ChineseEnum
        )
    }
}

pub(super) fn sections(text: &str) -> Sections {
    let mut out = Sections::default();
    let mut seen: Vec<Numbering> = Vec::new();
    let mut para = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let first_content = lines.iter().position(|l| !l.trim().is_empty());
    let mut prev_blank = true;

    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            out.paragraph(&std::mem::take(&mut para));
            prev_blank = true;
            continue;
        }
        let next_blank = lines.get(i + 1).is_none_or(|l| l.trim().is_empty());
        let numbering = heading_numbering(trimmed)
            .filter(|n| n.is_strong() || prev_blank)
            .or_else(|| {
                (Some(i) == first_content && next_blank && looks_like_title(trimmed))
                    .then_some(Numbering::Title)
            });
        if let Some(n) = numbering {
            out.paragraph(&std::mem::take(&mut para));
            let level = match seen.iter().position(|s| *s == n) {
                Some(p) => p,
                None => {
                    seen.push(n);
                    seen.len() - 1
                }
            };
            out.heading(u8::try_from(level).unwrap_or(u8::MAX), trimmed);
        } else if is_indented(line) && !para.is_empty() {
            out.paragraph(&std::mem::take(&mut para));
            para.push_str(trimmed);
        } else if is_list_item(trimmed) && !para.is_empty() {
            para.push('\n');
            para.push_str(trimmed);
        } else {
            join_wrapped(&mut para, trimmed);
        }
        prev_blank = false;
    }
    out.paragraph(&para);
    out
}

/// The sections of a text that arrives without structure, line by line (PDF pages): the numbering
/// heuristic of plain text, levels by first appearance, the open headings carried from one page to
/// the next. PDF text often loses the space after a section number ("3.2打卡与考勤"), so a dotted
/// number followed directly by a Han character counts too.
#[derive(Debug, Default, Clone)]
pub(crate) struct HeadingTracker {
    seen: Vec<Numbering>,
    /// Open headings as (level, text), outermost first.
    stack: Vec<(usize, String)>,
}

impl HeadingTracker {
    /// Takes one line; returns whether it was a heading. `prev_blank`: the line before was empty
    /// (weak numberings such as "1.2 …" count only then).
    pub(crate) fn line(&mut self, line: &str, prev_blank: bool) -> bool {
        let trimmed = line.trim();
        let Some(n) = heading_numbering(trimmed)
            .or_else(|| pdf_decimal_depth(trimmed).map(Numbering::Decimal))
            .filter(|n| n.is_strong() || prev_blank)
        else {
            return false;
        };
        let level = match self.seen.iter().position(|s| *s == n) {
            Some(p) => p,
            None => {
                self.seen.push(n);
                self.seen.len() - 1
            }
        };
        while self.stack.last().is_some_and(|(l, _)| *l >= level) {
            self.stack.pop();
        }
        self.stack.push((level, trimmed.to_string()));
        true
    }

    /// The open headings, outermost first.
    pub(crate) fn path(&self) -> Vec<String> {
        self.stack.iter().map(|(_, t)| t.clone()).collect()
    }
}

/// "3.2打卡与考勤": a dotted number with the title right after it, as PDF extraction leaves it.
fn pdf_decimal_depth(line: &str) -> Option<u8> {
    if line.chars().count() > MAX_HEADING_CHARS || ends_like_prose(line) {
        return None;
    }
    let number_len = line.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, title) = line.split_at(number_len);
    let parts: Vec<&str> = number.trim_end_matches('.').split('.').collect();
    let valid = parts.len() >= 2 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3);
    let titled = title.chars().next().is_some_and(crate::chunk::is_cjk);
    (valid && titled).then(|| u8::try_from(parts.len()).unwrap_or(u8::MAX))
}

fn is_indented(line: &str) -> bool {
    line.starts_with('\u{3000}') || line.starts_with('\t') || line.starts_with("  ")
}

fn is_list_item(line: &str) -> bool {
    if line.starts_with(['-', '*', '•', '·', '●', '○', '■', '□', '◆']) {
        return true;
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && line[digits..].starts_with(['.', '、', ')', '）'])
}

fn ends_like_prose(line: &str) -> bool {
    line.ends_with([
        '。', '.', '!', '?', '！', '？', '；', ';', '，', ',', '：', ':', '、',
    ])
}

fn looks_like_title(line: &str) -> bool {
    line.chars().count() <= MAX_HEADING_CHARS && !ends_like_prose(line) && !is_list_item(line)
}

const CHINESE_NUMERALS: &str = "零〇一二三四五六七八九十百千两";

fn heading_numbering(line: &str) -> Option<Numbering> {
    if line.chars().count() > MAX_HEADING_CHARS || ends_like_prose(line) {
        return None;
    }
    if let Some(rest) = line.strip_prefix('第') {
        let num_len = numeral_prefix_len(rest, true);
        if num_len > 0 {
            let after = &rest[num_len..];
            if after.starts_with("部分") || after.starts_with(['编', '篇']) {
                return Some(Numbering::Part);
            }
            if after.starts_with('章') {
                return Some(Numbering::Chapter);
            }
            if after.starts_with('节') {
                return Some(Numbering::Section);
            }
        }
        return None;
    }
    let cn_len = numeral_prefix_len(line, false);
    if cn_len > 0 && line[cn_len..].starts_with('、') {
        return Some(Numbering::ChineseEnum);
    }
    for (open, close) in [('（', '）'), ('(', ')')] {
        if let Some(rest) = line.strip_prefix(open) {
            let n = numeral_prefix_len(rest, false);
            if n > 0 && rest[n..].starts_with(close) {
                return Some(Numbering::ChineseParen);
            }
        }
    }
    if let Some(depth) = decimal_depth(line) {
        return Some(Numbering::Decimal(depth));
    }
    let letters = line.chars().filter(|c| c.is_alphabetic()).count();
    let all_caps = line
        .chars()
        .all(|c| !c.is_alphabetic() || (c.is_ascii_uppercase()));
    if letters >= 3 && all_caps && line.split_whitespace().count() <= 8 {
        return Some(Numbering::AllCaps);
    }
    None
}

/// Byte length of a leading run of Chinese numerals (and ASCII digits when allowed).
fn numeral_prefix_len(s: &str, digits_too: bool) -> usize {
    s.char_indices()
        .find(|(_, c)| !(CHINESE_NUMERALS.contains(*c) || (digits_too && c.is_ascii_digit())))
        .map_or(s.len(), |(i, _)| i)
}

/// "1 Intro", "1. Intro", "2.3 Scope", "2.3.1 范围" → the number of components. The title
/// must follow a space and must not start with a digit (that would be a number in prose).
fn decimal_depth(line: &str) -> Option<u8> {
    let mut depth = 0u8;
    let mut rest = line;
    loop {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        depth = depth.saturating_add(1);
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
            Some(after) => {
                rest = after;
                break;
            }
            None => break,
        }
    }
    let title = rest.strip_prefix([' ', '\u{3000}', '\t'])?.trim_start();
    let first = title.chars().next()?;
    (!first.is_ascii_digit()).then_some(depth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Block;

    fn blocks(text: &str) -> Vec<(Vec<String>, String)> {
        sections(text)
            .finish()
            .0
            .into_iter()
            .map(|b| match b {
                Block::Text(t) => (t.heading_path, t.text),
                Block::Qa(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn numbering_patterns() {
        assert_eq!(heading_numbering("第一章 总则"), Some(Numbering::Chapter));
        assert_eq!(heading_numbering("第12节 附则"), Some(Numbering::Section));
        assert_eq!(heading_numbering("第三部分 流程"), Some(Numbering::Part));
        assert_eq!(heading_numbering("第一条 为规范管理，制定本制度。"), None);
        assert_eq!(heading_numbering("二、请假流程"), Some(Numbering::ChineseEnum));
        assert_eq!(heading_numbering("（三）病假"), Some(Numbering::ChineseParen));
        assert_eq!(heading_numbering("1.2 Scope"), Some(Numbering::Decimal(2)));
        assert_eq!(heading_numbering("3. Installation"), Some(Numbering::Decimal(1)));
        assert_eq!(heading_numbering("3.14 is pi"), Some(Numbering::Decimal(2)));
        assert_eq!(heading_numbering("2024 10 people came"), None);
        assert_eq!(heading_numbering("TERMS OF USE"), Some(Numbering::AllCaps));
        assert_eq!(heading_numbering("NOTE: read this."), None);
        assert_eq!(heading_numbering("The end"), None);
    }

    #[test]
    fn chinese_document_without_blank_lines() {
        let text = "员工手册\n\n第一章 总则\n　　第一条 为规范管理，\n制定本制度。\n　　第二条 本制度适用于全体员工。\n\
                    第二章 休假\n一、年假\n　　员工入职满一年可享受年假。\n二、病假\n　　病假需提供证明。\n";
        let got = blocks(text);
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (
                    path(&["员工手册", "第一章 总则"]),
                    "第一条 为规范管理，制定本制度。\n\n第二条 本制度适用于全体员工。".to_owned()
                ),
                (
                    path(&["员工手册", "第二章 休假", "一、年假"]),
                    "员工入职满一年可享受年假。".to_owned()
                ),
                (
                    path(&["员工手册", "第二章 休假", "二、病假"]),
                    "病假需提供证明。".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn english_wrapped_paragraphs_and_lists() {
        let text = "INTRODUCTION\n\nThis guide explains\nthe setup.\nSteps:\n1. install\n2. run\n\n2 Usage\n\nRun it.";
        let got = blocks(text);
        assert_eq!(got[0].0, ["INTRODUCTION"]);
        assert_eq!(
            got[0].1,
            "This guide explains the setup. Steps:\n1. install\n2. run"
        );
        // Levels follow first appearance, so the later numbered heading nests under the first.
        assert_eq!(got[1].0, ["INTRODUCTION", "2 Usage"]);
    }
}
