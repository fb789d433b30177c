//! HTML → sections. The title comes from `<title>` (else the first `<h1>`); `<h1>`–`<h6>`
//! build the heading path; page furniture (script, style, nav, footer, noscript, forms'
//! controls, hidden elements) is dropped. Block elements separate paragraphs, list items and
//! table rows become lines (cells joined by " | "), `<pre>` keeps its whitespace.
//!
//! The DOM is walked with an explicit open/close edge iterator rather than recursion, so a
//! pathologically deep page cannot overflow the stack.

use std::path::Path;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node};

use super::encoding;
use super::text::sections::{collapse_whitespace, into_document_titled, Sections};
use crate::chunk::is_cjk;
use crate::{Document, Format, Result};

/// Elements whose whole subtree is not content.
const SKIPPED: &[&str] = &[
    "script", "style", "nav", "footer", "noscript", "template", "svg", "head", "iframe", "object", "canvas",
    "button", "select", "textarea",
];

/// Elements that separate paragraphs.
const PARAGRAPH_BREAKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "aside",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "address",
    "details",
    "summary",
    "hr",
    "body",
    "center",
];

/// Elements that start a new line inside a paragraph.
const LINE_BREAKS: &[&str] = &["li", "tr", "dt", "dd", "br", "caption"];

pub(super) fn parse(path: &Path) -> Result<Document> {
    let bytes = encoding::read_bytes(path)?;
    let decoded = encoding::decode_html(&bytes);
    let (sections, title) = extract(&decoded.text);
    into_document_titled(path, Format::Html, sections, title, decoded.diagnostic)
}

/// The sections of a page and its title (`<title>`, else the first `<h1>`).
fn extract(html: &str) -> (Sections, Option<String>) {
    let doc = Html::parse_document(html);
    let mut w = Walker::default();
    let mut skip_until: Option<NodeId> = None;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skip_until.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => w.text(&t.text),
                    Node::Element(_) => {
                        let Some(el) = ElementRef::wrap(node) else {
                            continue;
                        };
                        if is_skipped(el) {
                            skip_until = Some(node.id());
                            if el.value().name() == "head" {
                                w.title = page_title(el);
                            }
                        } else {
                            w.open(el);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skip_until == Some(node.id()) {
                    skip_until = None;
                } else if skip_until.is_none() {
                    if let Some(el) = ElementRef::wrap(node) {
                        w.close(el);
                    }
                }
            }
        }
    }
    w.end_paragraph();
    let title = w.title.take().or(w.first_h1.take());
    (w.sections, title)
}

fn is_skipped(el: ElementRef<'_>) -> bool {
    let v = el.value();
    if SKIPPED.contains(&v.name()) || v.attr("hidden").is_some() {
        return true;
    }
    if v.attr("aria-hidden") == Some("true") {
        return true;
    }
    v.attr("style").is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        s.to_ascii_lowercase().contains("display:none")
    })
}

fn page_title(head: ElementRef<'_>) -> Option<String> {
    head.descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "title")
        .map(|t| collapse_whitespace(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty())
}

#[derive(Default)]
struct Walker {
    sections: Sections,
    para: String,
    /// Whitespace seen since the last character: `Some(true)` if it held a line break.
    pending_space: Option<bool>,
    heading: Option<(u8, String, NodeId)>,
    pre_depth: usize,
    cells_in_row: usize,
    title: Option<String>,
    first_h1: Option<String>,
}

impl Walker {
    fn open(&mut self, el: ElementRef<'_>) {
        let name = el.value().name();
        if let Some(level) = heading_level(name) {
            self.end_paragraph();
            self.heading = Some((level, String::new(), el.id()));
            return;
        }
        if PARAGRAPH_BREAKS.contains(&name) {
            self.end_paragraph();
        } else if LINE_BREAKS.contains(&name) {
            self.newline();
        }
        match name {
            "pre" => self.pre_depth += 1,
            "tr" => self.cells_in_row = 0,
            "td" | "th" => {
                if self.cells_in_row > 0 {
                    self.pending_space = None;
                    self.para.push_str(" | ");
                }
                self.cells_in_row += 1;
            }
            "img" => {
                // Pictures carry no text; their alt is often a file name or decoration.
            }
            _ => {}
        }
    }

    fn close(&mut self, el: ElementRef<'_>) {
        let name = el.value().name();
        if let Some((level, text, id)) = self.heading.take() {
            if id == el.id() {
                let text = collapse_whitespace(&text);
                if level == 1 && self.first_h1.is_none() && !text.is_empty() {
                    self.first_h1 = Some(text.clone());
                }
                self.sections.heading(level, &text);
                return;
            }
            self.heading = Some((level, text, id));
            return;
        }
        if PARAGRAPH_BREAKS.contains(&name) {
            self.end_paragraph();
        } else if LINE_BREAKS.contains(&name) && name != "br" {
            self.newline();
        }
        if name == "pre" {
            self.pre_depth = self.pre_depth.saturating_sub(1);
        }
    }

    fn text(&mut self, text: &str) {
        if let Some((_, heading, _)) = self.heading.as_mut() {
            heading.push_str(text);
            return;
        }
        if self.pre_depth > 0 {
            self.pending_space = None;
            self.para.push_str(text);
            return;
        }
        for c in text.chars() {
            if c.is_whitespace() {
                let newline = c == '\n' || c == '\r';
                self.pending_space = Some(self.pending_space.unwrap_or(false) || newline);
                continue;
            }
            if let Some(had_newline) = self.pending_space.take() {
                let prev = self.para.chars().next_back();
                let at_line_start = prev.is_none_or(|p| p == '\n' || p == ' ');
                let wrapped_cjk = had_newline && prev.is_some_and(is_cjk) && is_cjk(c);
                if !at_line_start && !wrapped_cjk {
                    self.para.push(' ');
                }
            }
            self.para.push(c);
        }
    }

    fn newline(&mut self) {
        self.pending_space = None;
        let trimmed = self.para.trim_end_matches([' ', '\t']).len();
        self.para.truncate(trimmed);
        if !self.para.is_empty() && !self.para.ends_with('\n') {
            self.para.push('\n');
        }
    }

    fn end_paragraph(&mut self) {
        self.pending_space = None;
        self.cells_in_row = 0;
        let para = std::mem::take(&mut self.para);
        // Lines are trimmed one by one: indentation in the source is not content.
        let lines: Vec<&str> = para
            .lines()
            .map(|l| {
                if self.pre_depth > 0 {
                    l.trim_end()
                } else {
                    l.trim()
                }
            })
            .collect();
        self.sections.paragraph(&lines.join("\n"));
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Block;

    fn blocks(html: &str) -> (Vec<(Vec<String>, String)>, Option<String>) {
        let (sections, title) = extract(html);
        let blocks = sections
            .finish()
            .0
            .into_iter()
            .map(|b| match b {
                Block::Text(t) => (t.heading_path, t.text),
                Block::Qa(_) => unreachable!(),
            })
            .collect();
        (blocks, title)
    }

    #[test]
    fn noise_is_dropped_and_structure_kept() {
        let html = r#"<html><head><title> Help
            Center </title><style>p{}</style></head><body>
            <nav><a href="/">Home</a></nav>
            <h1>Refunds</h1>
            <p>Refunds take
               <b>five</b> days.</p><script>var x = "secret";</script>
            <ul><li>Open the order</li><li>Click <i>refund</i></li></ul>
            <h2>Table</h2><table><tr><th>Plan</th><th>Days</th></tr><tr><td>Basic</td><td>5</td></tr></table>
            <div hidden>hidden text</div>
            <pre>  indented
  code</pre>
            <footer>© 2024</footer></body></html>"#;
        let (got, title) = blocks(html);
        assert_eq!(title.as_deref(), Some("Help Center"));
        assert_eq!(got[0].0, ["Refunds"]);
        assert_eq!(
            got[0].1,
            "Refunds take five days.\n\nOpen the order\nClick refund"
        );
        assert_eq!(got[1].0, ["Refunds", "Table"]);
        assert_eq!(got[1].1, "Plan | Days\nBasic | 5\n\nindented\n  code");
        let all: String = got.iter().map(|b| b.1.as_str()).collect();
        assert!(!all.contains("secret") && !all.contains("Home") && !all.contains("2024"));
        assert!(!all.contains("hidden text"));
    }

    #[test]
    fn chinese_wrapped_text_has_no_spurious_spaces() {
        let (got, title) = blocks("<h1>退货政策</h1><p>自收货之日起\n  七天内可无理由退货。</p>");
        assert_eq!(title.as_deref(), Some("退货政策"));
        assert_eq!(got[0].1, "自收货之日起七天内可无理由退货。");
    }
}
