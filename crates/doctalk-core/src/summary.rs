//! Whole-document summaries: "summarise this contract". The document's passages (all of a short
//! one; for a long one, passages spread evenly from start to end; never a table of contents) are
//! each put in one sentence by the language model, in document order, cited, and every sentence
//! checked against its passage as answers are. Without a model the summary is extractive: the
//! opening sentence of each chosen passage, cited.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use doctalk_models::llm::{ChatMessage, GenerationParams, Generator};
use serde::{Deserialize, Serialize};

use crate::answer::claims::UnsupportedClaim;
use crate::answer::gate::SentenceGate;
use crate::answer::topic::statements;
use crate::answer::{Lang, Source};
use crate::kb::KnowledgeBase;
use crate::{ChineseScript, CoreError, Result};

/// How long a summary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SummaryLength {
    #[default]
    Short,
    Long,
}

impl SummaryLength {
    /// Points made, one per passage read: a long document is sampled evenly, so a summary takes
    /// seconds to a minute on a laptop CPU, not hours.
    fn points(self) -> usize {
        match self {
            SummaryLength::Short => 6,
            SummaryLength::Long => 16,
        }
    }
}

impl std::str::FromStr for SummaryLength {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "short" => Ok(SummaryLength::Short),
            "long" => Ok(SummaryLength::Long),
            _ => Err(format!("{s:?} is not a summary length (short, long)")),
        }
    }
}

pub struct SummaryRequest {
    /// The document: an id, an id prefix, a path, or a file name only one document has.
    pub doc: String,
    pub length: SummaryLength,
    /// `None`: an extractive summary.
    pub generator: Option<Arc<dyn Generator>>,
    pub cancel: Arc<AtomicBool>,
    pub script: Option<ChineseScript>,
}

impl SummaryRequest {
    pub fn new(doc: impl Into<String>) -> Self {
        SummaryRequest {
            doc: doc.into(),
            length: SummaryLength::Short,
            generator: None,
            cancel: Arc::new(AtomicBool::new(false)),
            script: None,
        }
    }
}

/// One step done, for a progress bar: batches summarised (`total` includes the combining step).
#[derive(Debug, Clone, Serialize)]
pub struct SummaryProgress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub doc_id: String,
    pub title: String,
    pub path: String,
    pub lang: Lang,
    /// "llm" or "extractive".
    pub mode: String,
    pub model: Option<String>,
    /// The summary, with `[n]` citations of `sources`.
    pub summary: String,
    pub sources: Vec<Source>,
    /// Claims the model made that its cited passages do not hold (shown replaced by a quote).
    pub unverified: Vec<UnsupportedClaim>,
    /// The passages read, of how many the document has.
    pub passages_read: usize,
    pub passages_total: usize,
    /// Stopped by the user: `summary` holds what was done.
    pub cancelled: bool,
}

/// Characters kept of each passage (its opening, where sections state what they are about).
const PASSAGE_CHARS: usize = 500;

impl KnowledgeBase {
    /// Summarises one document. `progress` sees each batch done; `req.cancel` stops it between
    /// batches and within a token.
    pub async fn summarize(
        &self,
        req: SummaryRequest,
        progress: &(dyn Fn(SummaryProgress) + Send + Sync),
    ) -> Result<Summary> {
        let doc = self.resolve_document(&req.doc).await?;
        let chunks = self.store().chunks_of(&doc.id).await?;
        if chunks.is_empty() {
            return Err(CoreError::NoSuchDocument(req.doc.clone()));
        }
        // A table of contents lists the document instead of saying anything.
        let readable: Vec<usize> = (0..chunks.len())
            .filter(|&i| !is_contents(&chunks[i].text))
            .collect();
        let readable = if readable.is_empty() {
            (0..chunks.len()).collect()
        } else {
            readable
        };
        let chosen: Vec<usize> = spread(readable.len(), req.length.points())
            .into_iter()
            .map(|i| readable[i])
            .collect();
        let sources: Vec<Source> = chosen
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let mut source = Source::from_chunk(i + 1, &doc, &chunks[c]);
                source.text = cut(&source.text, PASSAGE_CHARS);
                source
            })
            .collect();
        let lang = document_lang(&sources);
        let mut summary = Summary {
            doc_id: doc.id.clone(),
            title: doc.title.clone(),
            path: doc.path.clone(),
            lang,
            mode: "extractive".into(),
            model: None,
            summary: String::new(),
            sources,
            unverified: Vec::new(),
            passages_read: chosen.len(),
            passages_total: chunks.len(),
            cancelled: false,
        };
        match req.generator.clone() {
            None => {
                summary.summary = extractive(&summary.sources);
                progress(SummaryProgress { done: 1, total: 1 });
            }
            Some(generator) => {
                let (text, cancelled) =
                    point_by_point(&generator, &summary.sources, &doc.title, lang, &req, progress).await?;
                let mut gate = SentenceGate::new(&summary.sources, &doc.title, lang);
                gate.push(&text);
                gate.finish();
                summary.summary = gate.released().trim().to_string();
                summary.unverified = gate.unsupported.clone();
                summary.cancelled = cancelled;
                summary.mode = "llm".into();
                summary.model = Some(generator.model_id().to_string());
                if summary.summary.is_empty() && !cancelled {
                    // The model wrote nothing that could be shown: the extractive summary instead.
                    summary.summary = extractive(&summary.sources);
                    summary.mode = "extractive".into();
                }
            }
        }
        let script = req.script.unwrap_or_else(ChineseScript::from_locale);
        summary.summary = script.convert(&summary.summary);
        Ok(summary)
    }
}

/// A table of contents: dot leaders ("第一章总则 . . . . 2").
fn is_contents(text: &str) -> bool {
    text.matches(". . . .").count() + text.matches("....").count() + text.matches("……").count() >= 2
}

/// `take` indices spread evenly over `0..len`, the first always included.
fn spread(len: usize, take: usize) -> Vec<usize> {
    if len <= take {
        return (0..len).collect();
    }
    (0..take).map(|i| i * len / take).collect()
}

fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars).collect();
    out.push('…');
    out
}

/// Chinese when a fifth of the letters are Han characters (an English document quoting a few
/// Chinese names stays English).
fn document_lang(sources: &[Source]) -> Lang {
    let (mut han, mut letters) = (0usize, 0usize);
    for c in sources.iter().flat_map(|s| s.text.chars()) {
        if crate::segment::is_han(c) {
            han += 1;
            letters += 1;
        } else if c.is_alphabetic() {
            letters += 1;
        }
    }
    if letters > 0 && han * 5 >= letters {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// The opening sentence of each passage (a heading alone is skipped), cited.
fn extractive(sources: &[Source]) -> String {
    let mut lines = Vec::new();
    for s in sources {
        // A sentence, not a heading: the first statement that ends like one, else the first long one.
        let all = statements(&s.text);
        let long = |st: &&String| st.chars().filter(|c| c.is_alphanumeric()).count() >= 12;
        let sentence = |st: &&String| {
            st.trim_end()
                .ends_with(['。', '！', '？', '.', '!', '?', '；', ';'])
        };
        let Some(first) = all
            .iter()
            .find(|st| long(st) && sentence(st))
            .or_else(|| all.iter().find(long))
        else {
            continue;
        };
        lines.push(format!("- {} [{}]", first.trim_end_matches('…'), s.n));
    }
    lines.join("\n")
}

/// The model's summary: each passage put in one sentence of its own words ("map"), in document
/// order, cited. One short task at a time is what a small local model does reliably: asked for the
/// key points of several passages at once, the 0.5B default copied them out or looped; asked to
/// merge notes, it lost their citations.
async fn point_by_point(
    generator: &Arc<dyn Generator>,
    sources: &[Source],
    title: &str,
    lang: Lang,
    req: &SummaryRequest,
    progress: &(dyn Fn(SummaryProgress) + Send + Sync),
) -> Result<(String, bool)> {
    let total = sources.len();
    let mut lines = Vec::new();
    for (done, s) in sources.iter().enumerate() {
        if req.cancel.load(Ordering::Relaxed) {
            return Ok((lines.join("\n"), true));
        }
        let section = s.heading_path.last().map(String::as_str).unwrap_or(title);
        let ask = match lang {
            Lang::Zh => format!(
                "下面是《{title}》中“{section}”部分的一段话。请用一句中文概括它的要点，尽量用原文的说法，只写这一句。\n\n{}",
                s.text
            ),
            Lang::En => format!(
                "Below is a passage from the \"{section}\" part of \"{title}\". State its main point in one sentence, in the passage's own words where you can. Write only that sentence.\n\n{}",
                s.text
            ),
        };
        let (text, stopped) = run(generator, &ask, lang, req).await?;
        tracing::debug!(passage = s.n, point = %text, "summary point");
        let point = first_sentence(&text);
        if !point.is_empty() {
            lines.push(format!("- {point} [{}]", s.n));
        }
        progress(SummaryProgress {
            done: done + 1,
            total,
        });
        if stopped {
            return Ok((lines.join("\n"), true));
        }
    }
    Ok((lines.join("\n"), false))
}

/// The model's first sentence, without list marks or the citations it may have added.
fn first_sentence(text: &str) -> String {
    let text = crate::answer::claims::strip_citations(text);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let line = line.trim_start_matches(['-', '*', '•', ' ']);
    match line.find(['。', '！', '？']) {
        Some(end) => line[..end + '。'.len_utf8()].to_string(),
        None => match line.find(". ") {
            Some(end) => line[..=end].to_string(),
            None => line.to_string(),
        },
    }
}

/// One generation on a blocking thread; `true` when the user stopped it.
async fn run(
    generator: &Arc<dyn Generator>,
    ask: &str,
    lang: Lang,
    req: &SummaryRequest,
) -> Result<(String, bool)> {
    let system = match lang {
        Lang::Zh => "你是一个严谨的助手，只根据给出的段落写摘要，不添加段落中没有的内容。",
        Lang::En => "You are a careful assistant. Summarise only what the given passages say; add nothing they do not.",
    };
    let messages = vec![ChatMessage::system(system), ChatMessage::user(ask)];
    let generator = generator.clone();
    let cancel = req.cancel.clone();
    let params = GenerationParams {
        max_tokens: 80,
        // Greedy decoding of a small model loops on a list; a mild penalty breaks the loop.
        repeat_penalty: 1.1,
        ..GenerationParams::default()
    };
    tokio::task::spawn_blocking(move || {
        let mut stopped = false;
        let out = generator.chat(&messages, &params, &mut |_| {
            if cancel.load(Ordering::Relaxed) {
                stopped = true;
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok::<_, CoreError>((out.text, stopped))
    })
    .await
    .map_err(|e| CoreError::Task(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_are_spread_from_start_to_end() {
        assert_eq!(spread(3, 12), [0, 1, 2]);
        assert_eq!(spread(100, 4), [0, 25, 50, 75]);
        assert_eq!("long".parse::<SummaryLength>(), Ok(SummaryLength::Long));
        assert!("medium".parse::<SummaryLength>().is_err());
        assert!(is_contents(
            "目录\n第一章总则 . . . . . . 2\n第二章 . . . . . . 3"
        ));
        assert!(!is_contents("公司实行弹性工作制。"));
        assert_eq!(
            first_sentence("- 员工每天工作8小时[1]。其余时间自由。"),
            "员工每天工作8小时。"
        );
        assert_eq!(
            first_sentence("Laptops are encrypted. Keys are escrowed."),
            "Laptops are encrypted."
        );
    }
}
