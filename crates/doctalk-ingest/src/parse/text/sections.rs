//! A builder shared by the structured parsers (Markdown, plain text, HTML, DOCX): headings
//! open sections, paragraphs fill them, and each non-empty section becomes one text block
//! whose paragraphs are separated by blank lines (the chunker's first split).

use std::path::Path;

use crate::chunk::is_cjk;
use crate::{Block, Diagnostic, Document, Format, Result, TextBlock};

#[derive(Debug, Default)]
pub(in crate::parse) struct Sections {
    /// Open headings as (level, text), outermost first; levels strictly increase.
    stack: Vec<(u8, String)>,
    paragraphs: Vec<String>,
    blocks: Vec<Block>,
    first_heading: Option<String>,
}

impl Sections {
    /// Closes the current section and opens one at `level` (1 = outermost).
    pub fn heading(&mut self, level: u8, text: &str) {
        let text = collapse_whitespace(text);
        if text.is_empty() {
            return;
        }
        self.flush();
        while self.stack.last().is_some_and(|(l, _)| *l >= level) {
            self.stack.pop();
        }
        self.first_heading.get_or_insert_with(|| text.clone());
        self.stack.push((level, text));
    }

    /// Adds a paragraph to the current section; blank ones are ignored.
    pub fn paragraph(&mut self, text: &str) {
        let text = text.trim_matches(|c: char| c.is_whitespace());
        if !text.is_empty() {
            self.paragraphs.push(text.to_owned());
        }
    }

    fn flush(&mut self) {
        if self.paragraphs.is_empty() {
            return;
        }
        self.blocks.push(Block::Text(TextBlock {
            page: None,
            heading_path: self.stack.iter().map(|(_, t)| t.clone()).collect(),
            text: self.paragraphs.join("\n\n"),
            engine: None,
        }));
        self.paragraphs.clear();
    }

    /// The blocks and the first heading.
    pub fn finish(mut self) -> (Vec<Block>, Option<String>) {
        self.flush();
        (self.blocks, self.first_heading)
    }
}

/// Wraps built sections into a [`Document`]; a file with no prose at all is an error.
pub(in crate::parse) fn into_document(
    path: &Path,
    format: Format,
    sections: Sections,
    diagnostic: Option<Diagnostic>,
) -> Result<Document> {
    into_document_titled(path, format, sections, None, diagnostic)
}

/// Like [`into_document`], with a title from the file's own metadata (HTML `<title>`).
pub(in crate::parse) fn into_document_titled(
    path: &Path,
    format: Format,
    sections: Sections,
    title: Option<String>,
    diagnostic: Option<Diagnostic>,
) -> Result<Document> {
    let (mut blocks, first_heading) = sections.finish();
    if blocks.is_empty() {
        // A file that is only a heading or a single short line ("reportlab==5.1.0") still has
        // text worth finding; indexing nothing would silently lose it.
        match &first_heading {
            Some(heading) if !heading.trim().is_empty() => blocks.push(Block::Text(TextBlock {
                page: None,
                heading_path: Vec::new(),
                text: heading.clone(),
                engine: None,
            })),
            _ => return Err(super::no_text(path)),
        }
    }
    let title = title
        .map(|t| collapse_whitespace(&t))
        .filter(|t| !t.is_empty())
        .or(first_heading)
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    Ok(Document {
        title,
        format,
        page_count: None,
        blocks,
        diagnostics: diagnostic.into_iter().collect(),
    })
}

/// Appends `next` to `buf` where a line break or source whitespace separated them: a space
/// between words, nothing between two CJK characters (Chinese is written without spaces, so
/// a wrapped line must not gain one).
pub(in crate::parse) fn join_wrapped(buf: &mut String, next: &str) {
    let next = next.trim_start();
    if next.is_empty() {
        return;
    }
    let prev = buf.trim_end_matches([' ', '\t']);
    buf.truncate(prev.len());
    match (buf.chars().next_back(), next.chars().next()) {
        (None, _) | (Some('\n'), _) => {}
        (Some(p), Some(n)) if is_cjk(p) && is_cjk(n) => {}
        _ => buf.push(' '),
    }
    buf.push_str(next);
}

/// Runs of whitespace → one space, trimmed. A run with a line break between two CJK
/// characters disappears instead: that is a wrapped line, and Chinese has no word spaces.
pub(in crate::parse) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_has_newline = None;
    for c in text.trim().chars() {
        if c.is_whitespace() {
            let nl = run_has_newline.get_or_insert(false);
            *nl |= c == '\n' || c == '\r';
            continue;
        }
        if let Some(newline) = run_has_newline.take() {
            let cjk_pair = out.chars().next_back().is_some_and(is_cjk) && is_cjk(c);
            if !(newline && cjk_pair) {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_nest_and_pop() {
        let mut s = Sections::default();
        s.paragraph("前言");
        s.heading(1, "第一章 总则");
        s.paragraph("第一段");
        s.heading(2, "第一节 目的");
        s.paragraph("a");
        s.paragraph("b");
        s.heading(2, "第二节 范围");
        s.heading(1, "第二章 休假");
        s.paragraph("c");
        let (blocks, title) = s.finish();
        let got: Vec<(Vec<String>, String)> = blocks
            .into_iter()
            .map(|b| match b {
                Block::Text(t) => (t.heading_path, t.text),
                Block::Qa(_) => unreachable!(),
            })
            .collect();
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (path(&[]), "前言".to_owned()),
                (path(&["第一章 总则"]), "第一段".to_owned()),
                (path(&["第一章 总则", "第一节 目的"]), "a\n\nb".to_owned()),
                (path(&["第二章 休假"]), "c".to_owned()),
            ]
        );
        assert_eq!(title.as_deref(), Some("第一章 总则"));
    }

    #[test]
    fn wrapped_lines_join_by_script() {
        assert_eq!(collapse_whitespace("  员工\n 手册 \t"), "员工手册");
        assert_eq!(collapse_whitespace("第一章  总则"), "第一章 总则");
        assert_eq!(collapse_whitespace("Employee\n  handbook"), "Employee handbook");
        assert_eq!(collapse_whitespace("第一章 Overview"), "第一章 Overview");
    }
}
