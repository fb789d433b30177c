//! Bytes → `String` for the text-like formats (TXT, CSV/TSV, JSON, HTML).
//!
//! Order of evidence: a byte-order mark, then valid UTF-8, then (HTML only) a declared
//! `charset`, then a statistical guess by `chardetng`. Chinese users mostly have GBK/GB18030
//! (Excel's "CSV" on a Chinese Windows) or Big5 files, which `chardetng` tells apart well.
//! A guess is reported as [`DiagnosticCode::EncodingGuessed`] so the user can see it.

use std::path::Path;

use encoding_rs::{Encoding, UTF_8};

use crate::{Diagnostic, DiagnosticCode, IngestError, Result};

/// Decoded text and, when the encoding was not certain, the diagnostic saying what was assumed.
#[derive(Debug)]
pub(super) struct Decoded {
    pub text: String,
    pub diagnostic: Option<Diagnostic>,
}

/// Reads a whole file; I/O failures carry the path.
pub(super) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads and decodes a text file (see [`decode`]).
pub(super) fn read_text(path: &Path) -> Result<Decoded> {
    Ok(decode(&read_bytes(path)?))
}

/// Decodes bytes of unknown encoding.
pub(super) fn decode(bytes: &[u8]) -> Decoded {
    decode_with_hint(bytes, None)
}

/// Decodes HTML: like [`decode`], but a `<meta charset>` in the first kilobytes beats guessing.
pub(super) fn decode_html(bytes: &[u8]) -> Decoded {
    let declared = sniff_meta_charset(bytes);
    decode_with_hint(bytes, declared)
}

fn decode_with_hint(bytes: &[u8], declared: Option<&'static Encoding>) -> Decoded {
    // A BOM is authoritative (UTF-8, UTF-16LE, UTF-16BE); encoding_rs strips it.
    if let Some((encoding, _bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_with_bom_removal(bytes);
        return Decoded {
            text: text.into_owned(),
            diagnostic: had_errors.then(|| replaced(encoding)),
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_owned(),
            diagnostic: None,
        };
    }
    if let Some(encoding) = declared.filter(|e| *e != UTF_8) {
        let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
        return Decoded {
            text: text.into_owned(),
            diagnostic: had_errors.then(|| replaced(encoding)),
        };
    }
    let encoding = guess(bytes);
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    let mut message = format!("the file is not UTF-8; decoded as {} (guessed)", encoding.name());
    if had_errors {
        message.push_str(", some bytes were invalid and replaced with U+FFFD");
    }
    Decoded {
        text: text.into_owned(),
        diagnostic: Some(Diagnostic::new(DiagnosticCode::EncodingGuessed, message, None)),
    }
}

fn replaced(encoding: &'static Encoding) -> Diagnostic {
    Diagnostic::new(
        DiagnosticCode::EncodingGuessed,
        format!(
            "some bytes are invalid {} and were replaced with U+FFFD",
            encoding.name()
        ),
        None,
    )
}

/// The most likely legacy encoding of non-UTF-8 bytes.
fn guess(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let guessed = detector.guess(None, false);
    // chardetng sometimes takes short Simplified-Chinese texts for Japanese or Korean legacy
    // encodings. Our users are far more likely to have GBK files, so when the bytes are also
    // flawless GB18030 (a superset of GBK) we prefer it.
    let east_asian_other = ["Shift_JIS", "EUC-JP", "EUC-KR", "ISO-2022-JP"];
    if east_asian_other.contains(&guessed.name()) {
        let (_, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
        if !had_errors {
            return encoding_rs::GBK;
        }
    }
    guessed
}

/// Finds `charset=...` in the head of an HTML file (ASCII-compatible encodings only, which is
/// what a non-UTF-8 page in the wild always is).
fn sniff_meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let needle = b"charset=";
    let pos = lower.windows(needle.len()).position(|w| w == needle)?;
    let rest = &lower[pos + needle.len()..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
        .unwrap_or(rest.len());
    Encoding::for_label(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_is_stripped_without_diagnostic() {
        let d = decode(b"\xEF\xBB\xBFquestion,answer");
        assert_eq!(d.text, "question,answer");
        assert!(d.diagnostic.is_none());
    }

    #[test]
    fn utf16_le_and_be_with_bom() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("问题".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("问题".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&le).text, "问题");
        assert_eq!(decode(&be).text, "问题");
    }

    #[test]
    fn gbk_is_guessed_and_reported() {
        let text = "如何申请年假？员工需要提前三天在系统中提交申请，并由直属主管审批。";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        let d = decode(&bytes);
        assert_eq!(d.text, text);
        let diag = d.diagnostic.expect("a guessed encoding is reported");
        assert_eq!(diag.code, DiagnosticCode::EncodingGuessed);
        assert!(diag.message.contains("GBK"), "{}", diag.message);
    }

    #[test]
    fn big5_is_guessed() {
        let text = "請問如何申請退款？請在訂單頁面點選申請退款，我們會在三個工作天內處理。";
        let (bytes, _, _) = encoding_rs::BIG5.encode(text);
        let d = decode(&bytes);
        assert_eq!(d.text, text);
        assert!(d.diagnostic.unwrap().message.contains("Big5"));
    }

    #[test]
    fn html_meta_charset_beats_guessing() {
        let (body, _, _) = encoding_rs::GBK.encode("<p>中文</p>");
        let mut bytes = b"<html><head><meta charset=\"gb2312\"></head><body>".to_vec();
        bytes.extend_from_slice(&body);
        let d = decode_html(&bytes);
        assert!(d.text.contains("<p>中文</p>"));
        assert!(d.diagnostic.is_none());
    }
}
