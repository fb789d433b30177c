//! Structure-first chunking: blocks → paragraphs → sentences → token budget with overlap.
//! Q&A pairs are never split.

mod sentences;
mod tokens;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::parse::HeadingTracker;
use crate::{Block, Document, PdfEngineId, QaPair, TextBlock};

pub use sentences::split_sentences;
pub use tokens::estimate_tokens;
pub(crate) use tokens::is_cjk;
use tokens::token_tenths;

/// Passages with fewer non-whitespace characters than this carry no retrievable meaning
/// (a stray "1.", a lone bracket) and are dropped.
const MIN_PASSAGE_CHARS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkConfig {
    /// Soft upper bound per chunk, in estimated tokens (see [`estimate_tokens`]).
    pub max_tokens: usize,
    /// Tokens of trailing context repeated at the start of the next chunk of the same block.
    pub overlap_tokens: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig {
            max_tokens: 256,
            overlap_tokens: 32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkKind {
    Passage,
    Qa,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub kind: ChunkKind,
    /// The text that is embedded, indexed and shown. For Q&A: "question\nanswer".
    pub text: String,
    pub page: Option<u32>,
    pub heading_path: Vec<String>,
    /// Index into `Document::blocks` this chunk came from.
    pub block_index: usize,
    /// Byte range of the chunk within that block's text (passages) — used for highlighting.
    /// `text == block.text[span]` always holds for passages; Q&A chunks have `0..0`.
    pub span: Range<usize>,
    /// For Q&A chunks: the main question followed by similar questions.
    pub questions: Vec<String>,
    /// For Q&A chunks: the answer alone.
    pub answer: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub engine: Option<PdfEngineId>,
}

/// Splits a document into chunks, in block order.
///
/// Each Q&A pair becomes exactly one [`ChunkKind::Qa`] chunk, whatever its length. Each text
/// block is split into paragraphs (blank lines) and sentences ([`split_sentences`]); a
/// sentence longer than `max_tokens` is cut at a comma or a word boundary. Sentences are then
/// packed up to `max_tokens`, preferring to end a chunk where a paragraph ends, and each chunk
/// after the first of a block starts with up to `overlap_tokens` of the previous chunk's
/// trailing whole sentences.
///
/// PDF pages come without structure: their numbered headings ("第六章 …", "3.2打卡与考勤",
/// "8. Incident Reporting") are found in the text and carried across pages, so each passage knows
/// the sections it sits in (the path open where it starts, including headings it opens with).
pub fn chunk_document(doc: &Document, cfg: &ChunkConfig) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut pdf_headings = HeadingTracker::default();
    for (block_index, block) in doc.blocks.iter().enumerate() {
        match block {
            Block::Qa(qa) => chunks.push(qa_chunk(block_index, qa)),
            Block::Text(tb) if tb.page.is_some() && tb.heading_path.is_empty() => {
                let mut lines = PageLines::new(&tb.text);
                for span in pack(&tb.text, cfg, &heading_starts(&tb.text)) {
                    lines.advance_to(span.start, &mut pdf_headings);
                    let mut chunk = passage_chunk(block_index, tb, span.clone());
                    chunk.heading_path = lines.path_at(span, &pdf_headings);
                    chunks.push(chunk);
                }
                lines.advance_to(tb.text.len(), &mut pdf_headings);
            }
            Block::Text(tb) => {
                for span in pack(&tb.text, cfg, &[]) {
                    chunks.push(passage_chunk(block_index, tb, span));
                }
            }
        }
    }
    chunks
}

/// Byte offsets where a heading line starts in a PDF page's text. Whether a line is a heading does
/// not depend on the headings before it (only its level does), so a fresh tracker can tell.
fn heading_starts(text: &str) -> Vec<usize> {
    let mut probe = HeadingTracker::default();
    let mut starts = Vec::new();
    let (mut at, mut prev_blank) = (0, true);
    for line in text.split_inclusive('\n') {
        if probe.line(line, prev_blank) {
            starts.push(at + line.len() - line.trim_start().len());
        }
        prev_blank = line.trim().is_empty();
        at += line.len();
    }
    starts
}

/// The lines of one PDF page, fed to the heading tracker as the chunks move down the page.
struct PageLines<'a> {
    text: &'a str,
    /// Byte offset where the next unread line starts.
    next: usize,
    prev_blank: bool,
}

impl<'a> PageLines<'a> {
    fn new(text: &'a str) -> Self {
        PageLines {
            text,
            next: 0,
            prev_blank: true,
        }
    }

    /// The line starting at `at`, and where the one after it starts.
    fn line_at(&self, at: usize) -> (&'a str, usize) {
        let rest = &self.text[at..];
        match rest.find('\n') {
            Some(end) => (&rest[..end], at + end + 1),
            None => (rest, self.text.len()),
        }
    }

    /// Feeds every line that starts before `offset` to `tracker`.
    fn advance_to(&mut self, offset: usize, tracker: &mut HeadingTracker) {
        while self.next < offset && self.next < self.text.len() {
            let (line, after) = self.line_at(self.next);
            tracker.line(line, self.prev_blank);
            self.prev_blank = line.trim().is_empty();
            self.next = after;
        }
    }

    /// The heading path for a chunk over `span`: the headings open where it starts, updated by those
    /// in its first half (a chunk that starts with the tail of one section and is mostly the next
    /// belongs to the next).
    fn path_at(&self, span: Range<usize>, tracker: &HeadingTracker) -> Vec<String> {
        let mut ahead = tracker.clone();
        let middle = span.start + span.len() / 2;
        let (mut at, mut prev_blank) = (self.next.max(span.start), self.prev_blank);
        while at < middle.max(span.start + 1) && at < self.text.len() {
            let (line, after) = self.line_at(at);
            ahead.line(line, prev_blank);
            prev_blank = line.trim().is_empty();
            at = after;
        }
        ahead.path()
    }
}

fn qa_chunk(block_index: usize, qa: &QaPair) -> Chunk {
    let mut questions = Vec::with_capacity(1 + qa.similar_questions.len());
    questions.push(qa.question.clone());
    questions.extend(qa.similar_questions.iter().cloned());
    Chunk {
        kind: ChunkKind::Qa,
        text: format!("{}\n{}", qa.question, qa.answer),
        page: None,
        heading_path: Vec::new(),
        block_index,
        span: 0..0,
        questions,
        answer: Some(qa.answer.clone()),
        metadata: qa.metadata.clone(),
        engine: None,
    }
}

fn passage_chunk(block_index: usize, tb: &TextBlock, span: Range<usize>) -> Chunk {
    Chunk {
        kind: ChunkKind::Passage,
        text: tb.text[span.clone()].to_owned(),
        page: tb.page,
        heading_path: tb.heading_path.clone(),
        block_index,
        span,
        questions: Vec::new(),
        answer: None,
        metadata: BTreeMap::new(),
        engine: tb.engine,
    }
}

/// A sentence (or a piece of an over-long one) with its size.
#[derive(Debug)]
struct Unit {
    range: Range<usize>,
    tenths: usize,
    /// Tenths of this unit and the rest of its paragraph; set on a paragraph's first unit.
    paragraph_tenths: Option<usize>,
    /// A section heading starts in this unit.
    opens_section: bool,
}

/// A chunk holding at least this share of the budget (1/n) ends where a section heading starts,
/// so that a passage speaks of one section: "…入职培训（80分及格）。第三章考勤与休假 3.1工作时间 …午休
/// 时间为12:00至13:00" in one chunk matched "中午几点开始午休？" too weakly to be retrieved. Smaller
/// pieces of a section stay with the next one rather than becoming passages of their own.
const SECTION_BREAK_FILL: usize = 4;

/// Byte ranges of the chunks of one text; `section_starts`: byte offsets where headings start.
fn pack(text: &str, cfg: &ChunkConfig, section_starts: &[usize]) -> Vec<Range<usize>> {
    let max = cfg.max_tokens.max(1) * 10;
    let overlap = cfg.overlap_tokens * 10;
    let mut units = units(text, max);
    for u in &mut units {
        u.opens_section = section_starts.iter().any(|s| u.range.contains(s));
    }

    let mut spans = Vec::new();
    let mut i = 0;
    let mut prev_start = 0;
    while i < units.len() {
        // Overlap: trailing whole sentences of the previous chunk (never all of it).
        let mut start = i;
        let mut total = units[i].tenths;
        // A new section starts clean: the last one's tail would only blur what this passage is about.
        if i > 0 && !units[i].opens_section {
            let mut carried = 0;
            while start > prev_start + 1 {
                let t = units[start - 1].tenths;
                if carried + t > overlap || total + t > max {
                    break;
                }
                carried += t;
                total += t;
                start -= 1;
            }
        }
        let mut end = i + 1;
        while end < units.len() && total + units[end].tenths <= max {
            if units[end].opens_section && total * SECTION_BREAK_FILL >= max {
                break;
            }
            // End the chunk at a paragraph break when the next paragraph would not fit but
            // would fit whole in the next chunk — unless this chunk is still small.
            if let Some(para) = units[end].paragraph_tenths {
                if total + para > max && para <= max && total * 2 >= max {
                    break;
                }
            }
            total += units[end].tenths;
            end += 1;
        }
        spans.push(units[start].range.start..units[end - 1].range.end);
        prev_start = start;
        i = end;
    }
    spans.retain(|s| is_meaningful(&text[s.clone()]));
    spans
}

/// Paragraphs → sentences → pieces of at most `max` tenths.
fn units(text: &str, max: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    for para in sentences::paragraphs(text) {
        let first = units.len();
        for s in split_sentences(&text[para.clone()]) {
            let s = para.start + s.start..para.start + s.end;
            let tenths = token_tenths(&text[s.clone()]);
            let pieces = if tenths > max {
                sentences::cut_long(text, s, max)
            } else {
                vec![s]
            };
            for range in pieces {
                let tenths = token_tenths(&text[range.clone()]);
                units.push(Unit {
                    range,
                    tenths,
                    paragraph_tenths: None,
                    opens_section: false,
                });
            }
        }
        let para_total = units[first..].iter().map(|u| u.tenths).sum();
        if let Some(u) = units.get_mut(first) {
            u.paragraph_tenths = Some(para_total);
        }
    }
    units
}

fn is_meaningful(text: &str) -> bool {
    let t = text.trim();
    t.chars().filter(|c| !c.is_whitespace()).count() >= MIN_PASSAGE_CHARS
        && t.chars().any(char::is_alphanumeric)
}
