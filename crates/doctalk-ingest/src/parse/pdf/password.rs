//! Passwords for encrypted PDFs: kept out of logs, and turned into the bytes each kind of PDF
//! encryption stores.
//!
//! A typed password is one string, but the file compares bytes: revisions 2–4 (RC4, AES-128)
//! take the password in PDFDocEncoding, revisions 5–6 (AES-256) take UTF-8 after SASLprep
//! (RFC 4013: non-ASCII spaces become spaces, compatibility forms are folded, so "Ⅸ" is "IX").
//! Which revision a file uses is known only inside the engine, so every form is tried.

use std::fmt;

/// A password the user gave for encrypted PDFs. Its `Debug` never shows it, so options that carry
/// it can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PdfPassword(String);

impl PdfPassword {
    pub fn new(password: impl Into<String>) -> Self {
        PdfPassword(password.into())
    }

    /// The byte strings this password may be stored as, most likely first, without repeats.
    pub(crate) fn candidates(&self) -> Vec<Vec<u8>> {
        let typed = self.0.as_str();
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut push = |bytes: Vec<u8>| {
            if !out.contains(&bytes) {
                out.push(bytes);
            }
        };
        if let Ok(prepared) = stringprep::saslprep(typed) {
            push(prepared.as_bytes().to_vec());
        }
        push(typed.as_bytes().to_vec());
        if let Some(bytes) = pdf_doc_encoded(typed) {
            push(bytes);
        }
        out
    }
}

impl fmt::Debug for PdfPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PdfPassword(<hidden>)")
    }
}

/// `text` in PDFDocEncoding (ISO 32000 Annex D), or `None` when a character has no code there.
fn pdf_doc_encoded(text: &str) -> Option<Vec<u8>> {
    text.chars().map(pdf_doc_byte).collect()
}

fn pdf_doc_byte(c: char) -> Option<u8> {
    let code = c as u32;
    // Printable ASCII and Latin-1 above 0xA0 are the same bytes (0xAD is undefined there).
    if (0x20..0x7F).contains(&code) || ((0xA1..=0xFF).contains(&code) && code != 0xAD) {
        return u8::try_from(code).ok();
    }
    // The 0x80–0xA0 block holds typographic marks and letters Latin-1 lacks.
    const HIGH: [(char, u8); 32] = [
        ('•', 0x80),
        ('†', 0x81),
        ('‡', 0x82),
        ('…', 0x83),
        ('—', 0x84),
        ('–', 0x85),
        ('ƒ', 0x86),
        ('⁄', 0x87),
        ('‹', 0x88),
        ('›', 0x89),
        ('−', 0x8A),
        ('‰', 0x8B),
        ('„', 0x8C),
        ('“', 0x8D),
        ('”', 0x8E),
        ('‘', 0x8F),
        ('’', 0x90),
        ('‚', 0x91),
        ('™', 0x92),
        ('ﬁ', 0x93),
        ('ﬂ', 0x94),
        ('Ł', 0x95),
        ('Œ', 0x96),
        ('Š', 0x97),
        ('Ÿ', 0x98),
        ('Ž', 0x99),
        ('ı', 0x9A),
        ('ł', 0x9B),
        ('œ', 0x9C),
        ('š', 0x9D),
        ('ž', 0x9E),
        ('€', 0xA0),
    ];
    HIGH.iter().find(|(ch, _)| *ch == c).map(|&(_, b)| b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", vec![PdfPassword::new("hunter2")]);
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn an_ascii_password_is_tried_once() {
        assert_eq!(PdfPassword::new("secret").candidates(), vec![b"secret".to_vec()]);
    }

    #[test]
    fn a_latin_password_is_tried_as_utf8_and_as_pdf_doc_encoding() {
        let candidates = PdfPassword::new("Pässwörd").candidates();
        assert_eq!(candidates[0], "Pässwörd".as_bytes());
        assert!(candidates.contains(&b"P\xe4ssw\xf6rd".to_vec()), "{candidates:?}");
        assert!(PdfPassword::new("€ürö")
            .candidates()
            .contains(&b"\xa0\xfcr\xf6".to_vec()));
    }

    #[test]
    fn saslprep_folds_compatibility_forms_and_spaces_first() {
        let candidates = PdfPassword::new("密码Ⅸ").candidates();
        assert_eq!(candidates[0], "密码IX".as_bytes());
        assert_eq!(candidates[1], "密码Ⅸ".as_bytes());
        // No-break space is mapped to a space; Chinese has no PDFDocEncoding form.
        let candidates = PdfPassword::new("a\u{a0}b").candidates();
        assert_eq!(candidates[0], b"a b");
        assert_eq!(candidates.len(), 2, "{candidates:?}");
    }
}
