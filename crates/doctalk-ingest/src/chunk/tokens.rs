//! A tokenizer-free token estimate, good enough to size chunks for any embedding model.
//!
//! BERT-style and LLM tokenizers spend about one token per Chinese/Japanese/Korean character
//! and about 1.3 tokens per English word (sub-word pieces plus punctuation). So:
//! every CJK character (including full-width punctuation) counts 1, and every other word —
//! a maximal run of characters that are neither whitespace nor CJK — counts 1.3. A word
//! longer than 8 characters counts 1.3 per started 8 characters, so that a URL or a hash
//! is not taken for one token. Internally the count is kept in tenths of a token so that
//! sums of pieces are exact.

/// Tenths of a token per CJK character and per other word.
pub(super) const CJK_TENTHS: usize = 10;
pub(super) const WORD_TENTHS: usize = 13;
/// Characters of a word covered by one [`WORD_TENTHS`].
const WORD_CHARS: usize = 8;

/// Counts character by character, so that a piece can be cut where a budget runs out.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TokenCounter {
    /// Characters of the current non-CJK word so far (0: not inside a word).
    word_len: usize,
}

impl TokenCounter {
    /// Tenths of a token that `c` adds.
    pub fn cost(&mut self, c: char) -> usize {
        if c.is_whitespace() {
            self.word_len = 0;
            0
        } else if is_cjk(c) {
            self.word_len = 0;
            CJK_TENTHS
        } else {
            self.word_len += 1;
            if self.word_len % WORD_CHARS == 1 {
                WORD_TENTHS
            } else {
                0
            }
        }
    }

    /// Whether the last character counted started a new word (or was CJK).
    pub fn at_word_start(&self, c: char) -> bool {
        is_cjk(c) || self.word_len == 1
    }
}

/// Estimated tokens of `text`: 1 per CJK character, 1.3 per other word, rounded up.
///
/// ```
/// use doctalk_ingest::estimate_tokens;
/// assert_eq!(estimate_tokens("年假怎么休？"), 6);
/// assert_eq!(estimate_tokens("How do I apply for leave?"), 8); // 6 words × 1.3 = 7.8
/// ```
pub fn estimate_tokens(text: &str) -> usize {
    token_tenths(text).div_ceil(10)
}

/// The estimate in tenths of a token.
pub(super) fn token_tenths(text: &str) -> usize {
    let mut counter = TokenCounter::default();
    text.chars().map(|c| counter.cost(c)).sum()
}

/// Characters of scripts written without spaces between words (Han, kana, Hangul) and the
/// full-width punctuation that goes with them.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF     // radicals
        | 0x3001..=0x303F   // CJK punctuation (U+3000, the ideographic space, is whitespace)
        | 0x3040..=0x31FF   // kana, bopomofo, Hangul compatibility jamo
        | 0x3400..=0x4DBF   // extension A
        | 0x4E00..=0x9FFF   // unified ideographs
        | 0xA960..=0xA97F
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // compatibility ideographs
        | 0xFE30..=0xFE4F   // compatibility forms (vertical punctuation)
        | 0xFF01..=0xFF60   // full-width ASCII forms: ，！？（）：；
        | 0xFF61..=0xFFDC   // half-width kana, Hangul
        | 0x20000..=0x3FFFF // extensions B and later
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_text() {
        // 4 CJK + "API" + "v2" (2 words) = 4 + 2.6
        assert_eq!(token_tenths("调用API v2接口"), 40 + 26);
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("   \n"), 0);
        assert_eq!(estimate_tokens("word"), 2);
        assert_eq!(estimate_tokens("十个字十个字十个字十"), 10);
        // 20 characters: three started 8-character runs.
        assert_eq!(token_tenths("internationalization"), 39);
        assert_eq!(token_tenths("https://example.com/a/very/long/path"), 13 * 5);
    }

    #[test]
    fn cjk_classification() {
        assert!(is_cjk('中') && is_cjk('。') && is_cjk('，') && is_cjk('カ') && is_cjk('한'));
        assert!(!is_cjk('a') && !is_cjk('\u{3000}') && !is_cjk('“') && !is_cjk('1'));
    }
}
