//! Markdown → sections with pulldown-cmark. Headings open sections; paragraphs, list items
//! (one line each, with their marker), code blocks (verbatim) and tables (one line per row,
//! cells joined by " | ") fill them. Front matter and raw HTML are dropped.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::sections::{join_wrapped, Sections};

pub(super) fn sections(markdown: &str) -> Sections {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    let mut w = Walker::default();
    for event in Parser::new_ext(markdown, options) {
        w.event(event);
    }
    w.end_paragraph();
    w.sections
}

#[derive(Default)]
struct Walker {
    sections: Sections,
    /// The paragraph being written (may hold several lines: list items, table rows).
    para: String,
    heading: Option<(u8, String)>,
    /// Open lists: the next number of an ordered list, `None` for bullets.
    lists: Vec<Option<u64>>,
    table_row: Vec<String>,
    cell: Option<String>,
    in_code: bool,
    /// Inside front matter or an image (whose alt text is not prose).
    skipping: usize,
    soft_break: bool,
}

impl Walker {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) | Event::Code(t) => self.text(&t),
            Event::SoftBreak => self.soft_break = true,
            Event::HardBreak => self.newline(),
            Event::Rule => self.end_paragraph(),
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(_)
            | Event::Html(_)
            | Event::InlineHtml(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Heading { level, .. } => {
                self.end_paragraph();
                self.heading = Some((heading_level(level), String::new()));
            }
            Tag::CodeBlock(_) => {
                self.end_paragraph();
                self.in_code = true;
            }
            Tag::List(first) => {
                if self.lists.is_empty() {
                    self.end_paragraph();
                } else {
                    self.newline();
                }
                self.lists.push(first);
            }
            Tag::Item => {
                self.newline();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "- ".to_owned(),
                };
                self.para.push_str(&marker);
            }
            Tag::Table(_) | Tag::BlockQuote(_) | Tag::FootnoteDefinition(_) | Tag::HtmlBlock => {
                self.end_paragraph()
            }
            Tag::TableHead | Tag::TableRow => self.table_row.clear(),
            Tag::TableCell => self.cell = Some(String::new()),
            Tag::MetadataBlock(_) | Tag::Image { .. } => self.skipping += 1,
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) => {
                if let Some((level, text)) = self.heading.take() {
                    self.sections.heading(level, &text);
                }
            }
            TagEnd::Paragraph => {
                if self.lists.is_empty() && self.cell.is_none() {
                    self.end_paragraph();
                } else {
                    self.newline();
                }
            }
            TagEnd::CodeBlock => {
                self.in_code = false;
                self.end_paragraph();
            }
            TagEnd::List(_) => {
                self.lists.pop();
                if self.lists.is_empty() {
                    self.end_paragraph();
                }
            }
            TagEnd::TableCell => {
                if let Some(cell) = self.cell.take() {
                    self.table_row.push(cell.trim().to_owned());
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                let row = std::mem::take(&mut self.table_row);
                if row.iter().any(|c| !c.is_empty()) {
                    self.newline();
                    self.para.push_str(&row.join(" | "));
                }
            }
            TagEnd::Table | TagEnd::BlockQuote(_) | TagEnd::FootnoteDefinition => self.end_paragraph(),
            TagEnd::MetadataBlock(_) | TagEnd::Image => self.skipping = self.skipping.saturating_sub(1),
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if self.skipping > 0 {
            return;
        }
        let soft = std::mem::take(&mut self.soft_break);
        let buf = if let Some((_, heading)) = self.heading.as_mut() {
            heading
        } else if let Some(cell) = self.cell.as_mut() {
            cell
        } else {
            &mut self.para
        };
        if self.in_code {
            buf.push_str(text);
        } else if soft {
            join_wrapped(buf, text);
        } else {
            buf.push_str(text);
        }
    }

    /// A line break inside the current paragraph (list items, table rows, hard breaks).
    fn newline(&mut self) {
        self.soft_break = false;
        let trimmed = self.para.trim_end_matches([' ', '\t']).len();
        self.para.truncate(trimmed);
        if !self.para.is_empty() && !self.para.ends_with('\n') {
            self.para.push('\n');
        }
    }

    fn end_paragraph(&mut self) {
        self.soft_break = false;
        let para = std::mem::take(&mut self.para);
        self.sections.paragraph(&para);
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Block;

    fn blocks(md: &str) -> Vec<(Vec<String>, String)> {
        sections(md)
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
    fn structure_is_kept_as_lines_and_paragraphs() {
        let md = "---\ntitle: x\n---\n# Guide\n\nFirst line\nwrapped.\n\n\
                  1. one\n2. two\n   - nested\n\n```\nfn main() {}\n```\n\n\
                  | a | b |\n|---|---|\n| 1 | 2 |\n\n![logo](x.png) after\n";
        let got = blocks(md);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, ["Guide"]);
        assert_eq!(
            got[0].1,
            "First line wrapped.\n\n1. one\n2. two\n- nested\n\nfn main() {}\n\na | b\n1 | 2\n\nafter"
        );
    }

    #[test]
    fn chinese_soft_breaks_join_without_space() {
        let got = blocks("## 年假\n员工入职满一年\n可享受五天年假。\n");
        assert_eq!(got[0].1, "员工入职满一年可享受五天年假。");
    }
}
