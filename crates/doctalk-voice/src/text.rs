//! What a voice reads: answer text cut into sentences, each with its language, without citation
//! markers or Markdown, and a streaming splitter that hands out sentences as tokens arrive (so the
//! first sentence is spoken while the model still writes the rest).

/// The language of one sentence, which picks the voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The language's code, as serialised and as voice profiles key their measurements.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// Chinese when the sentence has Han characters, English when it has Latin letters, else the name
/// of the script no voice speaks.
pub fn detect(sentence: &str) -> Result<Lang, String> {
    let mut latin = 0;
    for c in sentence.chars() {
        match c as u32 {
            0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF => return Ok(Lang::Zh),
            _ if c.is_ascii_alphabetic() => latin += 1,
            0x00C0..=0x024F => latin += 1,
            _ => {}
        }
    }
    if latin > 0 {
        return Ok(Lang::En);
    }
    let script = sentence.chars().find_map(|c| match c as u32 {
        0x0400..=0x04FF => Some("Cyrillic"),
        0x0600..=0x06FF => Some("Arabic"),
        0x0900..=0x097F => Some("Devanagari"),
        0x3040..=0x30FF => Some("Japanese kana"),
        0xAC00..=0xD7AF => Some("Korean"),
        0x0E00..=0x0E7F => Some("Thai"),
        0x0590..=0x05FF => Some("Hebrew"),
        0x0370..=0x03FF => Some("Greek"),
        _ => None,
    });
    match script {
        Some(s) => Err(s.to_string()),
        // Digits and punctuation only: read as English ("120").
        None => Ok(Lang::En),
    }
}

/// Removes what should not be read aloud: `[1]` citations, Markdown emphasis, headings, code ticks.
pub fn speakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                // `[12]` or `[1][2]`: a citation marker; anything else stays.
                let rest: String = chars.clone().take_while(|c| *c != ']').collect();
                if !rest.is_empty() && rest.len() <= 4 && rest.chars().all(|c| c.is_ascii_digit()) {
                    for _ in 0..=rest.len() {
                        chars.next();
                    }
                } else {
                    out.push(c);
                }
            }
            '*' | '#' | '`' | '_' | '>' => {}
            _ => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn ends_sentence(c: char, next: Option<char>) -> bool {
    match c {
        '。' | '！' | '？' | '；' | '\n' => true,
        '.' | '!' | '?' | ';' => next.is_none_or(char::is_whitespace),
        _ => false,
    }
}

/// Splits finished text into sentences (speakable, non-empty).
pub fn sentences(text: &str) -> Vec<String> {
    let mut s = SentenceStream::default();
    let mut out = s.push(text);
    out.extend(s.finish());
    out
}

/// Sentences out of a token stream.
#[derive(Debug, Default)]
pub struct SentenceStream {
    pending: String,
}

impl SentenceStream {
    /// Adds streamed text; returns the sentences it completed.
    pub fn push(&mut self, piece: &str) -> Vec<String> {
        self.pending.push_str(piece);
        let mut out = Vec::new();
        loop {
            let chars: Vec<(usize, char)> = self.pending.char_indices().collect();
            // A '.' at the very end may be "3.5" still arriving: wait for the next character.
            let cut = chars.iter().enumerate().find_map(|(i, &(at, c))| {
                let next = chars.get(i + 1).map(|&(_, n)| n);
                let complete = next.is_some() || !matches!(c, '.' | '!' | '?' | ';');
                (complete && ends_sentence(c, next)).then_some(at + c.len_utf8())
            });
            let Some(cut) = cut else { break };
            let sentence: String = self.pending.drain(..cut).collect();
            let clean = speakable(&sentence);
            if clean.chars().any(char::is_alphanumeric) {
                out.push(clean);
            }
        }
        out
    }

    /// The rest, when the stream ends.
    pub fn finish(&mut self) -> Option<String> {
        let clean = speakable(&std::mem::take(&mut self.pending));
        clean.chars().any(char::is_alphanumeric).then_some(clean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_follow_the_script() {
        assert_eq!(detect("出差的话一天餐补120元"), Ok(Lang::Zh));
        assert_eq!(detect("The VPN disconnects after 30 minutes."), Ok(Lang::En));
        assert_eq!(detect("120"), Ok(Lang::En));
        assert_eq!(detect("Привет мир"), Err("Cyrillic".to_string()));
    }

    #[test]
    fn citations_and_markdown_are_not_read() {
        assert_eq!(speakable("**餐补**为120元[1][2]。"), "餐补为120元。");
        assert_eq!(speakable("See [the manual] and [12]."), "See [the manual] and .");
    }

    #[test]
    fn sentences_stream_out_as_they_complete() {
        let mut s = SentenceStream::default();
        assert!(s.push("出差餐补").is_empty());
        assert_eq!(s.push("120元[1]。住宿"), vec!["出差餐补120元。"]);
        assert!(s.push("标准见第3.").is_empty(), "a decimal point is not an end");
        assert!(s.push("5节").is_empty());
        assert_eq!(
            s.push("。 The VPN lasts 12 hours. It"),
            vec!["住宿标准见第3.5节。", "The VPN lasts 12 hours."]
        );
        assert_eq!(s.finish().as_deref(), Some("It"));
        assert_eq!(sentences("[1]\n\nOK!"), vec!["OK!"]);
    }
}
