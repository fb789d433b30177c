//! Page furniture: the running header and footer a printed document repeats on every page
//! ("星河科技有限公司员工手册（V3.2）" above, "第 6 页 共 13 页" below). Left in, every chunk of the
//! page carries them: they match every query that names the document, cost prompt tokens, and
//! end up in quotes. Only the first and last [`EDGE_LINES`] non-empty lines of a page can be
//! furniture, and only in a document of at least [`MIN_PAGES`] pages, when at least half its pages
//! (and at least [`MIN_PAGES`]) have at that edge
//! - the same line (whitespace aside): a running title; or
//! - a page number: a line of numbers and page words only ("Page 6 of 13", "第 6 页 共 13 页",
//!   "- 6 -"), whose first number is the page's own give or take the same offset on each page (a
//!   cover left unnumbered). Headings that count along with the pages ("第3章", "Step 4") are not
//!   page numbers: their words are not page words.
//!
//! Lines in the middle of a page are never touched.

use std::collections::{HashMap, HashSet};

use crate::document::{Block, TextBlock};

/// How many non-empty lines at the top and at the bottom of a page may be furniture.
const EDGE_LINES: usize = 2;

/// Fewer pages than this show no pattern: nothing is removed.
const MIN_PAGES: usize = 3;

/// Longest shape (characters, see [`shape`]) a page-number line may have.
const MAX_NUMBER_LINE: usize = 24;

/// Words a page-number line may hold besides its numbers and punctuation (compared lower-cased).
const PAGE_WORDS: &[&str] = &["page", "of", "p", "pp", "pg", "第", "页", "共", "頁"];

/// Which edge of the page a line stands at.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Top,
    Bottom,
}

/// What makes lines at the same edge of different pages the same furniture.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    /// The line itself, without whitespace.
    Same(Edge, String),
    /// A page-number line: its shape and its first number minus the page's.
    Numbered(Edge, String, i64),
}

/// The keys a line at `edge` of page `page` counts for.
fn keys(edge: Edge, line: &str, page: u32) -> Vec<Key> {
    let same: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let mut keys = vec![Key::Same(edge, same)];
    let shape = shape(line);
    if shape.contains('#') && shape.chars().count() <= MAX_NUMBER_LINE && only_page_words(line) {
        if let Some(n) = first_number(line) {
            keys.push(Key::Numbered(edge, shape, n - i64::from(page)));
        }
    }
    keys
}

/// Removes the running header and footer lines from the pages' text blocks (see the module
/// docs). Blocks left with no text are dropped.
pub(crate) fn strip(blocks: &mut Vec<Block>) {
    let pages: Vec<&TextBlock> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) if t.page.is_some() => Some(t),
            _ => None,
        })
        .collect();
    if pages.len() < MIN_PAGES {
        return;
    }
    // On how many pages each key occurs; a page counts once per key.
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for page in &pages {
        let number = page.page.unwrap_or_default();
        let on_page: HashSet<Key> = edge_lines(&page.text)
            .into_iter()
            .flat_map(|(edge, line)| keys(edge, line, number))
            .collect();
        for key in on_page {
            *seen.entry(key).or_default() += 1;
        }
    }
    let needed = MIN_PAGES.max(pages.len().div_ceil(2));
    for block in blocks.iter_mut() {
        if let Block::Text(t) = block {
            if let Some(number) = t.page {
                let furniture = |edge: Edge, line: &str| {
                    keys(edge, line, number)
                        .iter()
                        .any(|k| seen.get(k).is_some_and(|&n| n >= needed))
                };
                t.text = without_furniture(&t.text, furniture);
            }
        }
    }
    blocks.retain(|b| !matches!(b, Block::Text(t) if t.page.is_some() && t.text.trim().is_empty()));
}

/// Whether `line` holds nothing but numbers, punctuation and [`PAGE_WORDS`]: its words are runs
/// of ASCII letters, and each letter of another script (第, 页) is a word of its own.
fn only_page_words(line: &str) -> bool {
    let lower = line.to_lowercase();
    let mut words: Vec<String> = Vec::new();
    let mut latin = String::new();
    for c in lower.chars() {
        if c.is_ascii_alphabetic() {
            latin.push(c);
            continue;
        }
        if !latin.is_empty() {
            words.push(std::mem::take(&mut latin));
        }
        if c.is_alphabetic() {
            words.push(c.to_string());
        }
    }
    words.push(latin);
    words
        .iter()
        .filter(|w| !w.is_empty())
        .all(|w| PAGE_WORDS.contains(&w.as_str()))
}

/// The first run of ASCII digits in `line`, as a number.
fn first_number(line: &str) -> Option<i64> {
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let digits: String = line[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    digits.parse().ok()
}

/// The first and last [`EDGE_LINES`] non-empty lines of `text` with their edge (a line near both
/// edges of a short page is listed at both).
fn edge_lines(text: &str) -> Vec<(Edge, &str)> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let top = lines.iter().take(EDGE_LINES).map(|l| (Edge::Top, *l));
    let bottom = lines.iter().rev().take(EDGE_LINES).map(|l| (Edge::Bottom, *l));
    top.chain(bottom).collect()
}

/// A line's shape: its characters without whitespace, every run of digits one `#` ("第 6 页 共
/// 13 页" and "第6页共13页" are both "第#页共#页").
fn shape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` without the furniture lines at its edges; the lines between keep their layout.
fn without_furniture(text: &str, furniture: impl Fn(Edge, &str) -> bool) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let content: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].trim().is_empty())
        .collect();
    let mut drop = vec![false; lines.len()];
    // Not only from the edge inwards: an engine's reading order can put a stray line of the body
    // above the running title ("connected." first, then the title).
    for &i in content.iter().take(EDGE_LINES) {
        drop[i] |= furniture(Edge::Top, lines[i].trim());
    }
    for &i in content.iter().rev().take(EDGE_LINES) {
        drop[i] |= furniture(Edge::Bottom, lines[i].trim());
    }
    if !drop.contains(&true) {
        return text.to_string();
    }
    let kept: Vec<&str> = lines
        .iter()
        .zip(&drop)
        .filter(|(_, d)| !**d)
        .map(|(l, _)| *l)
        .collect();
    kept.join("\n").trim_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTERS: [&str; 5] = ["一", "二", "三", "四", "五"];

    fn page(n: u32, text: &str) -> Block {
        Block::Text(TextBlock {
            page: Some(n),
            text: text.to_string(),
            ..TextBlock::default()
        })
    }

    fn texts(blocks: &[Block]) -> Vec<String> {
        blocks
            .iter()
            .map(|b| match b {
                Block::Text(t) => t.text.clone(),
                Block::Qa(_) => String::new(),
            })
            .collect()
    }

    #[test]
    fn a_running_header_and_page_footer_go_and_the_body_stays() {
        let body = |n: usize| {
            format!(
                "第{c}章\n第{c}章正文，提到星河科技有限公司员工手册（V3.2）的第 12 条。",
                c = CHAPTERS[n]
            )
        };
        let mut blocks: Vec<Block> = (0..4)
            .map(|n| {
                page(
                    n as u32 + 1,
                    &format!(
                        "星河科技有限公司员工手册（V3.2）\n\n{}\n\n第 {} 页 共 13 页\n",
                        body(n),
                        n + 1
                    ),
                )
            })
            .collect();
        strip(&mut blocks);
        assert_eq!(texts(&blocks), (0..4).map(body).collect::<Vec<_>>());
    }

    #[test]
    fn page_numbers_that_start_after_an_unnumbered_cover_are_found() {
        let mut blocks = vec![page(1, "Annual Report\nfor the year\nmade by us")];
        blocks.extend((2..=6).map(|n| {
            page(
                n,
                &format!(
                    "section text {c}\nmore of {c}\n- {} -",
                    n - 1,
                    c = CHAPTERS[n as usize - 2]
                ),
            )
        }));
        strip(&mut blocks);
        let texts = texts(&blocks);
        assert_eq!(texts[0], "Annual Report\nfor the year\nmade by us");
        for (i, text) in texts[1..].iter().enumerate() {
            assert_eq!(*text, format!("section text {c}\nmore of {c}", c = CHAPTERS[i]));
        }
    }

    #[test]
    fn headings_that_count_along_with_the_pages_are_not_page_numbers() {
        let mut blocks: Vec<Block> = (1..=4)
            .map(|n| {
                page(
                    n,
                    &format!(
                        "第{n}章\n正文{}\n尾{}\nStep {n}",
                        CHAPTERS[n as usize], CHAPTERS[n as usize]
                    ),
                )
            })
            .collect();
        let before = texts(&blocks);
        strip(&mut blocks);
        assert_eq!(texts(&blocks), before);
        assert!(
            only_page_words("Page 6 of 13")
                && only_page_words("第 6 页 共 13 页")
                && only_page_words("- 6 -")
        );
        assert!(!only_page_words("第6章") && !only_page_words("Step 4") && !only_page_words("Table 3"));
    }

    #[test]
    fn a_line_on_fewer_than_half_the_pages_or_a_short_document_is_kept() {
        let head = |n: u32| {
            if n <= 2 {
                "Chapter One"
            } else {
                CHAPTERS[n as usize - 1]
            }
        };
        let mut blocks: Vec<Block> = (1..=5)
            .map(|n| {
                page(
                    n,
                    &format!(
                        "{}\nbody text {}\nclosing words",
                        head(n),
                        CHAPTERS[n as usize - 1]
                    ),
                )
            })
            .collect();
        strip(&mut blocks);
        // "Chapter One" heads 2 of 5 pages; "closing words" ends all five.
        let expected: Vec<String> = (1..=5)
            .map(|n| format!("{}\nbody text {}", head(n), CHAPTERS[n as usize - 1]))
            .collect();
        assert_eq!(texts(&blocks), expected);

        let mut two: Vec<Block> = (1..=2)
            .map(|n| page(n, &format!("Header\nbody\nPage {n}")))
            .collect();
        let before = texts(&two);
        strip(&mut two);
        assert_eq!(texts(&two), before, "two pages show no pattern");
    }

    #[test]
    fn the_same_words_in_the_middle_of_a_page_are_not_furniture() {
        let mut blocks: Vec<Block> = (1..=3)
            .map(|n| {
                let c = CHAPTERS[n as usize];
                page(
                    n,
                    &format!(
                        "Policy ISP-002\nfirst {c}\nPolicy ISP-002\nsecond {c}\nthird {c}\nPage {n} of 3"
                    ),
                )
            })
            .collect();
        strip(&mut blocks);
        for (n, text) in (1..=3).zip(texts(&blocks)) {
            let c = CHAPTERS[n];
            assert_eq!(text, format!("first {c}\nPolicy ISP-002\nsecond {c}\nthird {c}"));
        }
    }

    #[test]
    fn a_page_of_furniture_alone_is_dropped_and_other_blocks_are_untouched() {
        let mut blocks = vec![
            page(1, "Report\nintro text\n1"),
            page(2, "Report\n\n2"),
            page(3, "Report\nmore text here\n3"),
            Block::Text(TextBlock {
                page: None,
                text: "Report\nnot a page\n1".into(),
                ..TextBlock::default()
            }),
        ];
        strip(&mut blocks);
        assert_eq!(
            texts(&blocks),
            ["intro text", "more text here", "Report\nnot a page\n1"]
        );
    }
}
