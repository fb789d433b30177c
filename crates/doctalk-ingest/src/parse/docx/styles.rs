//! Which paragraph styles are headings, from `word/styles.xml`.
//!
//! Word stores a style id on each paragraph (`Heading1` in English Word, `1` or `a3` in
//! Chinese Word); the id is arbitrary, the style's *name* ("heading 1", "标题 1", "Title")
//! and its outline level are what mean "heading". Custom styles inherit through `basedOn`.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// What a heading-like style is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeadingKind {
    /// The document title (above every heading).
    Title,
    /// Heading 1–9.
    Level(u8),
}

#[derive(Debug, Default, Clone)]
struct Style {
    name: Option<String>,
    based_on: Option<String>,
    outline: Option<u8>,
}

#[derive(Debug, Default)]
pub(super) struct Styles {
    by_id: HashMap<String, Style>,
}

/// How many `basedOn` links to follow (guards against cycles).
const MAX_INHERITANCE: usize = 10;

impl Styles {
    pub fn heading_kind(&self, id: &str) -> Option<HeadingKind> {
        let mut current = id;
        for _ in 0..MAX_INHERITANCE {
            let Some(style) = self.by_id.get(current) else {
                // Unknown to styles.xml (or no styles.xml): trust conventional ids.
                return kind_from_name(current);
            };
            if let Some(l) = style.outline {
                return (l < 9).then_some(HeadingKind::Level(l + 1));
            }
            if let Some(kind) = style.name.as_deref().and_then(kind_from_name) {
                return Some(kind);
            }
            current = style.based_on.as_deref()?;
        }
        None
    }
}

/// "heading 1", "Heading1", "标题 1", "标题1", a bare "1" (Chinese Word's style id), "Title", "标题".
fn kind_from_name(name: &str) -> Option<HeadingKind> {
    let n: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if n == "title" || n == "标题" {
        return Some(HeadingKind::Title);
    }
    let digits = n
        .strip_prefix("heading")
        .or_else(|| n.strip_prefix("标题"))
        .unwrap_or(&n);
    match digits.parse::<u8>() {
        Ok(level @ 1..=9) => Some(HeadingKind::Level(level)),
        _ => None,
    }
}

fn val(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, quick_xml::Error> {
    match e.try_get_attribute(key)? {
        Some(a) => Ok(Some(a.unescape_value()?.into_owned())),
        None => Ok(None),
    }
}

pub(super) fn parse(xml: &str) -> Result<Styles, quick_xml::Error> {
    let mut reader = Reader::from_str(xml);
    let mut styles = Styles::default();
    let mut current: Option<(String, Style)> = None;
    loop {
        match reader.read_event()? {
            Event::Start(e) if e.name().as_ref() == b"w:style" => {
                let is_paragraph = val(&e, "w:type")?.is_none_or(|t| t == "paragraph");
                current = match val(&e, "w:styleId")? {
                    Some(id) if is_paragraph => Some((id, Style::default())),
                    _ => None,
                };
            }
            Event::Start(e) | Event::Empty(e) => {
                if let Some((_, style)) = current.as_mut() {
                    match e.name().as_ref() {
                        b"w:name" => style.name = val(&e, "w:val")?,
                        b"w:basedOn" => style.based_on = val(&e, "w:val")?,
                        b"w:outlineLvl" => style.outline = val(&e, "w:val")?.and_then(|v| v.parse().ok()),
                        _ => {}
                    }
                }
            }
            Event::End(e) if e.name().as_ref() == b"w:style" => {
                if let Some((id, style)) = current.take() {
                    styles.by_id.insert(id, style);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(styles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_word_styles_resolve_by_name_and_inheritance() {
        let xml = r#"<w:styles xmlns:w="x">
            <w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/></w:style>
            <w:style w:type="paragraph" w:styleId="a3"><w:name w:val="Title"/></w:style>
            <w:style w:type="paragraph" w:styleId="a5"><w:name w:val="Normal"/></w:style>
            <w:style w:type="paragraph" w:styleId="MyChapter"><w:name w:val="我的章"/><w:basedOn w:val="1"/></w:style>
            <w:style w:type="paragraph" w:styleId="Outline"><w:name w:val="x"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
            <w:style w:type="character" w:styleId="2"><w:name w:val="whatever"/></w:style>
        </w:styles>"#;
        let s = parse(xml).unwrap();
        assert_eq!(s.heading_kind("1"), Some(HeadingKind::Level(1)));
        assert_eq!(s.heading_kind("a3"), Some(HeadingKind::Title));
        assert_eq!(s.heading_kind("a5"), None);
        assert_eq!(s.heading_kind("MyChapter"), Some(HeadingKind::Level(1)));
        assert_eq!(s.heading_kind("Outline"), Some(HeadingKind::Level(3)));
        // Not a paragraph style in styles.xml, so the id convention applies.
        assert_eq!(s.heading_kind("2"), Some(HeadingKind::Level(2)));
        assert_eq!(s.heading_kind("标题2"), Some(HeadingKind::Level(2)));
    }
}
