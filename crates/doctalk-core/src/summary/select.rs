//! The "map" step of a summary: every passage of the document is weighed, without the model, and
//! the ones worth a sentence are chosen. A book is cut into as many consecutive stretches as the
//! summary has points and each stretch gives the passage closest to its own centre (the mean of
//! its passages' vectors: what the stretch is mostly about) among those that read as prose; an FAQ
//! export, whose order means nothing, gives the entries most typical of the whole that are least
//! like those already chosen. Reading every passage this way costs milliseconds; asking the model
//! about each of a 429-page book's 1,028 passages would cost an hour on a laptop.

use doctalk_store::ChunkKind;
use doctalk_store::ChunkRecord;

use super::han_share;

/// How much a chosen passage's likeness to those already chosen counts against it (FAQ entries).
const REDUNDANCY: f32 = 0.6;

/// Indices into `chunks` (of those in `readable`), in document order: `points` passages.
pub(crate) fn choose(chunks: &[ChunkRecord], readable: &[usize], points: usize) -> Vec<usize> {
    if readable.len() <= points {
        return readable.to_vec();
    }
    let faq = readable.iter().all(|&i| chunks[i].kind == ChunkKind::Qa);
    let mut chosen = if faq {
        most_typical_and_diverse(chunks, readable, points)
    } else {
        let document = han_share(readable.iter().map(|&i| chunks[i].text.as_str()));
        stretches(readable.len(), points)
            .into_iter()
            .filter_map(|(start, end)| centre_of(chunks, &readable[start..end], document))
            .collect()
    };
    chosen.sort_unstable();
    chosen.dedup();
    chosen
}

/// `take` consecutive, nearly equal stretches of `0..len`, as `(start, end)`.
fn stretches(len: usize, take: usize) -> Vec<(usize, usize)> {
    (0..take)
        .map(|i| (i * len / take, (i + 1) * len / take))
        .filter(|(s, e)| e > s)
        .collect()
}

/// The passage of `members` nearest their mean vector, weighed by how much it reads as prose (a
/// code listing or a symbol table is central to nothing a reader wants summarised).
/// A passage in another language than the document (a Chinese book's English licence appendix)
/// counts for little.
fn centre_of(chunks: &[ChunkRecord], members: &[usize], document_han: f32) -> Option<usize> {
    let centre = mean(members.iter().map(|&i| chunks[i].vector.as_slice()))?;
    members
        .iter()
        .map(|&i| {
            let c = &chunks[i];
            let foreign = (han_share(std::iter::once(c.text.as_str())) - document_han).abs() > 0.5;
            let language = if foreign { 0.2 } else { 1.0 };
            let score = (1.0 + cosine(&c.vector, &centre)) * prose(&c.text).powi(2) * language;
            (i, score)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Maximal marginal relevance against the document's mean: typical entries first, each next one
/// penalised by its likeness to those chosen, so six FAQ points cover six topics.
fn most_typical_and_diverse(chunks: &[ChunkRecord], readable: &[usize], points: usize) -> Vec<usize> {
    let Some(centre) = mean(readable.iter().map(|&i| chunks[i].vector.as_slice())) else {
        return readable.iter().copied().take(points).collect();
    };
    let typical: Vec<f32> = readable
        .iter()
        .map(|&i| cosine(&chunks[i].vector, &centre))
        .collect();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < points {
        let best = readable
            .iter()
            .enumerate()
            .filter(|(_, i)| !chosen.contains(i))
            .map(|(k, &i)| {
                let like = chosen
                    .iter()
                    .map(|&j| cosine(&chunks[i].vector, &chunks[j].vector))
                    .fold(f32::MIN, f32::max)
                    .max(0.0);
                (i, typical[k] - REDUNDANCY * like)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, _)) => chosen.push(i),
            None => break,
        }
    }
    chosen
}

fn mean<'a>(vectors: impl Iterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let mut sum: Vec<f32> = Vec::new();
    let mut n = 0usize;
    for v in vectors {
        if v.is_empty() {
            continue;
        }
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        if v.len() != sum.len() {
            continue;
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
        n += 1;
    }
    (n > 0).then(|| sum.into_iter().map(|s| s / n as f32).collect())
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// 0–1: how much `text` reads as sentences. Letters (and Han characters) count for it; markup and
/// code symbols, digits and lines without sentence punctuation count against it.
pub(crate) fn prose(text: &str) -> f32 {
    let (mut letters, mut against) = (0usize, 0usize);
    for c in text.chars() {
        if c.is_alphabetic() {
            letters += 1;
        } else if c.is_ascii_digit() {
            against += 1;
        } else if matches!(
            c,
            '\\' | '{'
                | '}'
                | '['
                | ']'
                | '<'
                | '>'
                | '$'
                | '^'
                | '_'
                | '='
                | '|'
                | '~'
                | '#'
                | '@'
                | '&'
                | '*'
                | '%'
        ) {
            against += 3;
        }
    }
    if letters == 0 {
        return 0.0;
    }
    let sentences = text
        .chars()
        .filter(|c| matches!(c, '。' | '！' | '？' | '.' | '!' | '?'))
        .count();
    let share = letters as f32 / (letters + against) as f32;
    if sentences == 0 {
        share * 0.5
    } else {
        share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(i: u32, kind: ChunkKind, text: &str, vector: Vec<f32>) -> ChunkRecord {
        ChunkRecord {
            id: format!("d:{i}"),
            doc_id: "d".into(),
            ordinal: i,
            kind,
            text: text.into(),
            text_segmented: String::new(),
            page: Some(i + 1),
            heading_path: vec![],
            span_start: 0,
            span_end: 0,
            questions: vec![],
            answer: None,
            metadata_json: "{}".into(),
            engine: None,
            vector,
            embedding_model: "e".into(),
        }
    }

    #[test]
    fn each_stretch_gives_its_most_central_prose_passage() {
        let chunks = vec![
            chunk(
                0,
                ChunkKind::Passage,
                "Leave is booked in the portal.",
                vec![1.0, 0.0],
            ),
            chunk(1, ChunkKind::Passage, "\\def\\x{1}\\y{2} $a^2$", vec![0.9, 0.1]),
            chunk(
                2,
                ChunkKind::Passage,
                "Annual leave is 13 days a year.",
                vec![0.95, 0.05],
            ),
            chunk(
                3,
                ChunkKind::Passage,
                "Laptops are encrypted with BitLocker.",
                vec![0.0, 1.0],
            ),
            chunk(
                4,
                ChunkKind::Passage,
                "Passwords rotate every 90 days.",
                vec![0.1, 0.9],
            ),
            chunk(
                5,
                ChunkKind::Passage,
                "Report lost devices at once.",
                vec![0.05, 0.95],
            ),
        ];
        let all: Vec<usize> = (0..6).collect();
        let got = choose(&chunks, &all, 2);
        assert_eq!(got.len(), 2);
        assert!(got[0] < 3 && got[1] >= 3, "one from each half: {got:?}");
        assert_ne!(got[0], 1, "markup is never the point");
        assert!(prose("\\def\\x{1}") < 0.3 && prose("A plain sentence.") > 0.9);
    }

    #[test]
    fn faq_points_cover_different_topics() {
        let chunks = vec![
            chunk(0, ChunkKind::Qa, "VPN?", vec![1.0, 0.0, 0.0]),
            chunk(1, ChunkKind::Qa, "VPN again?", vec![0.99, 0.01, 0.0]),
            chunk(2, ChunkKind::Qa, "Invoice?", vec![0.0, 1.0, 0.0]),
            chunk(3, ChunkKind::Qa, "Laptop?", vec![0.0, 0.0, 1.0]),
        ];
        let got = choose(&chunks, &[0, 1, 2, 3], 3);
        assert!(!(got.contains(&0) && got.contains(&1)), "{got:?}");
        assert_eq!(got.len(), 3);
    }
}
