//! DOCX → sections: paragraphs of `word/document.xml`, with headings found from paragraph
//! styles (resolved through `word/styles.xml`, see [`styles`]) building the heading path,
//! and tables read row by row (cells joined by " | ").

mod styles;

use std::io::Read;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::text::sections::{into_document, Sections};
use crate::{Document, Format, IngestError, Result};
use styles::{HeadingKind, Styles};

/// `word/document.xml` larger than this is refused (a zip bomb, not a document).
const MAX_XML_BYTES: u64 = 256 << 20;

pub(super) fn parse(path: &Path) -> Result<Document> {
    let corrupt = |reason: String| IngestError::Corrupt {
        path: path.to_path_buf(),
        format: "DOCX",
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| corrupt(e.to_string()))?;
    let document = read_entry(&mut archive, "word/document.xml", path)?
        .ok_or_else(|| corrupt("word/document.xml is missing".to_owned()))?;
    // Styles are optional: without them, well-known style ids still identify headings.
    let styles = match read_entry(&mut archive, "word/styles.xml", path)? {
        Some(xml) => styles::parse(&xml).map_err(|e| corrupt(format!("word/styles.xml: {e}")))?,
        None => Styles::default(),
    };
    let sections =
        body_sections(&document, &styles).map_err(|e| corrupt(format!("word/document.xml: {e}")))?;
    into_document(path, Format::Docx, sections, None)
}

fn read_entry(
    archive: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
    path: &Path,
) -> Result<Option<String>> {
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(IngestError::Corrupt {
                path: path.to_path_buf(),
                format: "DOCX",
                reason: format!("{name}: {e}"),
            })
        }
    };
    let mut bytes = Vec::new();
    entry
        .take(MAX_XML_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IngestError::Corrupt {
            path: path.to_path_buf(),
            format: "DOCX",
            reason: format!("{name}: {e}"),
        })?;
    if bytes.len() as u64 > MAX_XML_BYTES {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            limit_bytes: MAX_XML_BYTES,
        });
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| IngestError::Corrupt {
            path: path.to_path_buf(),
            format: "DOCX",
            reason: format!("{name} is not UTF-8: {e}"),
        })
}

/// A table being read; tables nest inside cells.
#[derive(Default)]
struct Table {
    rows: Vec<String>,
    row: Vec<String>,
    cell: String,
}

#[derive(Default)]
struct Body {
    sections: Sections,
    /// Paragraph nesting: text boxes put whole paragraphs inside a run of another paragraph.
    p_depth: usize,
    text: String,
    style: Option<String>,
    outline: Option<u8>,
    in_text: bool,
    /// Inside `mc:Fallback`, which repeats the `mc:Choice` content for old readers.
    skipping: usize,
    tables: Vec<Table>,
}

/// Walks `word/document.xml`.
fn body_sections(xml: &str, styles: &Styles) -> std::result::Result<Sections, quick_xml::Error> {
    let mut reader = Reader::from_str(xml);
    let mut b = Body::default();
    loop {
        match reader.read_event()? {
            Event::Start(e) => {
                if b.skipping > 0 || e.name().as_ref() == b"mc:Fallback" {
                    b.skipping += 1;
                    continue;
                }
                b.start(&e)?;
            }
            Event::Empty(e) if b.skipping == 0 => b.empty(&e)?,
            Event::End(e) => {
                if b.skipping > 0 {
                    b.skipping -= 1;
                    continue;
                }
                b.end(e.name().as_ref(), styles);
            }
            Event::Text(t) if b.in_text && b.skipping == 0 => b.text.push_str(&t.unescape()?),
            Event::CData(t) if b.in_text && b.skipping == 0 => b.text.push_str(&String::from_utf8_lossy(&t)),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(b.sections)
}

fn val(e: &BytesStart<'_>) -> std::result::Result<Option<String>, quick_xml::Error> {
    match e.try_get_attribute("w:val")? {
        Some(a) => Ok(Some(a.unescape_value()?.into_owned())),
        None => Ok(None),
    }
}

impl Body {
    fn start(&mut self, e: &BytesStart<'_>) -> std::result::Result<(), quick_xml::Error> {
        match e.name().as_ref() {
            b"w:p" => {
                self.p_depth += 1;
                if self.p_depth == 1 {
                    self.text.clear();
                    self.style = None;
                    self.outline = None;
                }
            }
            b"w:t" => self.in_text = true,
            b"w:tbl" => self.tables.push(Table::default()),
            b"w:tr" => {
                if let Some(t) = self.tables.last_mut() {
                    t.row.clear();
                }
            }
            b"w:tc" => {
                if let Some(t) = self.tables.last_mut() {
                    t.cell.clear();
                }
            }
            _ => self.empty(e)?,
        }
        Ok(())
    }

    /// Elements that matter whether written `<x/>` or `<x>…</x>`.
    fn empty(&mut self, e: &BytesStart<'_>) -> std::result::Result<(), quick_xml::Error> {
        match e.name().as_ref() {
            b"w:pStyle" if self.p_depth == 1 => self.style = val(e)?,
            b"w:outlineLvl" if self.p_depth == 1 => {
                self.outline = val(e)?.and_then(|v| v.parse().ok());
            }
            b"w:tab" if self.p_depth > 0 => self.text.push('\t'),
            b"w:br" | b"w:cr" if self.p_depth > 0 => self.text.push('\n'),
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8], styles: &Styles) {
        match name {
            b"w:t" => self.in_text = false,
            b"w:p" => {
                self.p_depth = self.p_depth.saturating_sub(1);
                if self.p_depth == 0 {
                    self.end_paragraph(styles);
                }
            }
            b"w:tc" => {
                if let Some(t) = self.tables.last_mut() {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell.trim().to_owned());
                }
            }
            b"w:tr" => {
                if let Some(t) = self.tables.last_mut() {
                    let row = std::mem::take(&mut t.row);
                    if row.iter().any(|c| !c.is_empty()) {
                        t.rows.push(row.join(" | "));
                    }
                }
            }
            b"w:tbl" => {
                if let Some(table) = self.tables.pop() {
                    let text = table.rows.join("\n");
                    match self.tables.last_mut() {
                        Some(outer) => append_cell(&mut outer.cell, &text),
                        None => self.sections.paragraph(&text),
                    }
                }
            }
            _ => {}
        }
    }

    fn end_paragraph(&mut self, styles: &Styles) {
        let text = std::mem::take(&mut self.text);
        if let Some(table) = self.tables.last_mut() {
            append_cell(&mut table.cell, &text);
            return;
        }
        let kind = match self.outline {
            // Direct outline levels 0–8 are headings 1–9; 9 means body text.
            Some(l) if l < 9 => Some(HeadingKind::Level(l + 1)),
            _ => self.style.as_deref().and_then(|s| styles.heading_kind(s)),
        };
        match kind {
            Some(HeadingKind::Level(level)) => self.sections.heading(level, &text),
            // The Title style sits above every heading.
            Some(HeadingKind::Title) => self.sections.heading(0, &text),
            None => self.sections.paragraph(&text),
        }
    }
}

/// Paragraphs inside one cell are joined by a space so that a row stays one line.
fn append_cell(cell: &mut String, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if !cell.is_empty() {
        cell.push(' ');
    }
    cell.push_str(&text.replace('\n', " "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Block;

    const NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    fn para(style: Option<&str>, text: &str) -> String {
        let ppr = style
            .map(|s| format!(r#"<w:pPr><w:pStyle w:val="{s}"/></w:pPr>"#))
            .unwrap_or_default();
        format!(r#"<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
    }

    #[test]
    fn headings_tables_and_fallbacks() {
        let body = [
            para(Some("Heading1"), "Travel &amp; expenses"),
            para(None, "Book through the portal."),
            para(Some("2"), "报销"),
            r#"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Item</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Limit</w:t></w:r></w:p></w:tc></w:tr>
               <w:tr><w:tc><w:p><w:r><w:t>Hotel</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>500</w:t></w:r></w:p><w:p><w:r><w:t>per night</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#.to_owned(),
            r#"<w:p><w:r><mc:AlternateContent><mc:Choice><w:t>shape text</w:t></mc:Choice><mc:Fallback><w:t>shape text</w:t></mc:Fallback></mc:AlternateContent><w:t>; line</w:t><w:br/><w:t>two</w:t></w:r></w:p>"#.to_owned(),
        ]
        .concat();
        let xml = format!(r#"<?xml version="1.0"?><w:document {NS}><w:body>{body}</w:body></w:document>"#);
        let (blocks, title) = body_sections(&xml, &Styles::default()).unwrap().finish();
        let got: Vec<(Vec<String>, String)> = blocks
            .into_iter()
            .map(|b| match b {
                Block::Text(t) => (t.heading_path, t.text),
                Block::Qa(_) => unreachable!(),
            })
            .collect();
        assert_eq!(title.as_deref(), Some("Travel & expenses"));
        assert_eq!(got[0].0, ["Travel & expenses"]);
        assert_eq!(got[0].1, "Book through the portal.");
        assert_eq!(got[1].0, ["Travel & expenses", "报销"]);
        assert_eq!(
            got[1].1,
            "Item | Limit\nHotel | 500 per night\n\nshape text; line\ntwo"
        );
    }
}
