//! The two PDF text engines behind one small trait.
//!
//! Each engine turns the bytes of one file into raw per-page text. Engines may error,
//! panic or hang; [`super::isolate`] contains that. Within one engine a failing page does
//! not lose the others: every page is extracted under its own `catch_unwind`.

use crate::PdfEngineId;
use doctalk_contain::contained;

/// What one engine read from one file.
#[derive(Debug, Clone)]
pub(crate) struct EngineOutput {
    /// Raw text per page, page 1 first; `Err` when the engine failed on that page only.
    pub pages: Vec<Result<String, String>>,
    /// The Info dictionary's /Title, decoded, when there is one.
    pub title: Option<String>,
    /// The file was encrypted and how it was opened.
    pub opened: Opened,
}

/// How an engine got at a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opened {
    /// Not encrypted.
    Plain,
    /// Encrypted, and the empty user password opened it (an owner password only).
    EmptyPassword,
    /// Encrypted, and one of the passwords the user gave opened it.
    GivenPassword,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EngineError {
    /// Encrypted, and neither the empty password nor any given one opens it.
    Encrypted,
    /// Anything else: not a PDF, a broken structure, an unsupported feature.
    Failed(String),
}

pub(crate) trait PdfEngine {
    const ID: PdfEngineId;
    /// `passwords`: the byte strings to try, in order, when the empty password does not open
    /// an encrypted file (see [`super::password::PdfPassword::candidates`]).
    fn extract_pages(bytes: &[u8], passwords: &[Vec<u8>]) -> Result<EngineOutput, EngineError>;
}

/// Opens an encrypted file with the empty password, else with the first given one that works;
/// `try_password` says whether a password opened it.
fn unlock(
    passwords: &[Vec<u8>],
    mut try_password: impl FnMut(&[u8]) -> Result<bool, EngineError>,
) -> Result<Opened, EngineError> {
    if try_password(b"")? {
        return Ok(Opened::EmptyPassword);
    }
    for password in passwords {
        if try_password(password)? {
            return Ok(Opened::GivenPassword);
        }
    }
    Err(EngineError::Encrypted)
}

/// Runs one page's extraction, turning a panic into that page's error.
fn guarded_page(extract: impl FnOnce() -> Result<String, String>) -> Result<String, String> {
    contained(extract).unwrap_or_else(|panic| Err(format!("panicked: {panic}")))
}

/// `pdf_oxide`: its own parser with xref reconstruction and CID/ToUnicode handling.
pub(crate) struct PdfOxide;

impl PdfEngine for PdfOxide {
    const ID: PdfEngineId = PdfEngineId::PdfOxide;

    fn extract_pages(bytes: &[u8], passwords: &[Vec<u8>]) -> Result<EngineOutput, EngineError> {
        use pdf_oxide::PdfDocument;
        let doc = PdfDocument::from_bytes(bytes.to_vec()).map_err(oxide_error)?;
        let opened = if doc.is_encrypted() {
            // pdf_oxide already tries the empty password when it sets up decryption;
            // asking again tells us whether that worked.
            unlock(passwords, |password| {
                doc.authenticate(password).map_err(oxide_error)
            })?
        } else {
            Opened::Plain
        };
        let count = doc.page_count().map_err(oxide_error)?;
        let pages = (0..count)
            .map(|i| guarded_page(|| doc.extract_text(i).map_err(|e| e.to_string())))
            .collect();
        Ok(EngineOutput {
            pages,
            title: oxide_title(&doc),
            opened,
        })
    }
}

fn oxide_error(e: pdf_oxide::Error) -> EngineError {
    match e {
        pdf_oxide::Error::EncryptedPdf => EngineError::Encrypted,
        other => EngineError::Failed(other.to_string()),
    }
}

fn oxide_title(doc: &pdf_oxide::PdfDocument) -> Option<String> {
    let info_ref = doc.trailer().as_dict()?.get("Info")?.clone();
    let info = doc.resolve_object(&info_ref).ok()?;
    let title_ref = info.as_dict()?.get("Title")?.clone();
    let title = doc.resolve_object(&title_ref).ok()?;
    Some(decode_text_string(title.as_string()?))
}

/// `pdf-extract` (on lopdf): the engine the user asked for.
pub(crate) struct PdfExtract;

impl PdfEngine for PdfExtract {
    const ID: PdfEngineId = PdfEngineId::PdfExtract;

    fn extract_pages(bytes: &[u8], passwords: &[Vec<u8>]) -> Result<EngineOutput, EngineError> {
        let mut doc = pdf_extract::Document::load_mem(bytes).map_err(lopdf_error)?;
        // lopdf may already have decrypted with the empty password while loading
        // (`was_encrypted`); otherwise it leaves the /Encrypt entry for us to try.
        let opened = if doc.is_encrypted() {
            unlock(passwords, |password| {
                match doc.decrypt_raw(password).map_err(lopdf_error) {
                    Ok(()) => Ok(true),
                    Err(EngineError::Encrypted) => Ok(false),
                    Err(other) => Err(other),
                }
            })?
        } else if doc.was_encrypted() {
            Opened::EmptyPassword
        } else {
            Opened::Plain
        };
        // pdf-extract's own `extract_text_from_mem_by_pages` stops at the first page that
        // errors, losing the rest; going page by page keeps them.
        let pages = doc
            .get_pages()
            .into_keys()
            .map(|number| {
                guarded_page(|| {
                    let mut text = String::new();
                    {
                        let mut sink = pdf_extract::PlainTextOutput::new(&mut text);
                        pdf_extract::output_doc_page(&doc, &mut sink, number).map_err(|e| e.to_string())?;
                    }
                    Ok(text)
                })
            })
            .collect();
        Ok(EngineOutput {
            pages,
            title: lopdf_title(&doc),
            opened,
        })
    }
}

fn lopdf_error(e: pdf_extract::Error) -> EngineError {
    use pdf_extract::encryption::DecryptionError;
    match e {
        pdf_extract::Error::Decryption(DecryptionError::IncorrectPassword) => EngineError::Encrypted,
        other => EngineError::Failed(other.to_string()),
    }
}

fn lopdf_title(doc: &pdf_extract::Document) -> Option<String> {
    let info = doc
        .trailer
        .get(b"Info")
        .and_then(|o| o.as_reference())
        .and_then(|id| doc.get_dictionary(id))
        .ok()?;
    let title = info.get(b"Title").ok()?;
    let title = match title.as_reference() {
        Ok(id) => doc.get_object(id).ok()?,
        Err(_) => title,
    };
    Some(decode_text_string(title.as_str().ok()?))
}

/// Decodes a PDF text string: UTF-16BE or UTF-8 with a byte-order mark, else
/// PDFDocEncoding (read as Latin-1, which matches it for the printable range).
pub(crate) fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(utf8) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_strings() {
        assert_eq!(decode_text_string(&[0xFE, 0xFF, 0x4E, 0x2D, 0x65, 0x87]), "中文");
        assert_eq!(decode_text_string(b"Plain title"), "Plain title");
        assert_eq!(decode_text_string(&[0xEF, 0xBB, 0xBF, 0xE4, 0xB8, 0xAD]), "中");
    }

    #[test]
    fn engines_reject_non_pdf_bytes_without_panicking() {
        assert!(matches!(
            PdfOxide::extract_pages(b"hello, not a pdf", &[]),
            Err(EngineError::Failed(_))
        ));
        assert!(matches!(
            PdfExtract::extract_pages(b"hello, not a pdf", &[]),
            Err(EngineError::Failed(_))
        ));
    }
}
