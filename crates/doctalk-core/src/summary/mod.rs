//! Whole-document summaries: "summarise this contract", as a map-reduce. Map: every passage of the
//! document is weighed without the model (`select`: the most central prose passage of each
//! stretch of a book, the most typical and least alike entries of an FAQ; never a table of
//! contents). Reduce: each chosen passage is put in one sentence by the language model, in
//! document order, cited, a sentence that is no statement in the document's language replaced by
//! the passage's own, and every sentence checked against its passage as answers are. Without a
//! model the summary is extractive: the opening sentence of each chosen passage (of an FAQ entry,
//! its answer), cited.

mod select;

use doctalk_store::ChunkKind;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use doctalk_models::llm::{ChatMessage, GenerationParams, Generator};
use serde::{Deserialize, Serialize};

use crate::answer::citations::bigram_overlap;
use crate::answer::claims::UnsupportedClaim;
use crate::answer::gate::SentenceGate;
use crate::answer::topic::statements;
use crate::answer::AnswerMode;
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
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SummaryProgress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Summary {
    pub doc_id: String,
    pub title: String,
    pub path: String,
    pub lang: Lang,
    pub mode: AnswerMode,
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
        let chosen = select::choose(&chunks, &readable, req.length.points());
        let sources: Vec<Source> = chosen
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let mut source = Source::from_chunk(i + 1, &doc, &chunks[c]);
                source.text = cut(from_sentence_start(&source.text), PASSAGE_CHARS);
                source
            })
            .collect();
        let lang = document_lang(&sources);
        let mut summary = Summary {
            doc_id: doc.id.clone(),
            title: doc.title.clone(),
            path: doc.path.clone(),
            lang,
            mode: AnswerMode::Extractive,
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
                let (text, cancelled, unverified) =
                    point_by_point(&generator, &summary.sources, &doc.title, &req, progress).await?;
                summary.summary = text;
                summary.unverified = unverified;
                summary.cancelled = cancelled;
                summary.mode = AnswerMode::Llm;
                summary.model = Some(generator.model_id().to_string());
                if summary.summary.is_empty() && !cancelled {
                    // The model wrote nothing that could be shown: the extractive summary instead.
                    summary.summary = extractive(&summary.sources);
                    summary.mode = AnswerMode::Extractive;
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
    if han_share(sources.iter().map(|s| s.text.as_str())) >= 0.2 {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// The share of letters that are Han characters (0 without letters).
fn han_share<'a>(texts: impl Iterator<Item = &'a str>) -> f32 {
    let (mut han, mut letters) = (0usize, 0usize);
    for c in texts.flat_map(str::chars) {
        if crate::segment::is_han(c) {
            han += 1;
            letters += 1;
        } else if c.is_alphabetic() {
            letters += 1;
        }
    }
    han as f32 / letters.max(1) as f32
}

/// The opening sentence of each passage (a heading alone is skipped; of an FAQ entry, its
/// answer's), cited.
fn extractive(sources: &[Source]) -> String {
    sources
        .iter()
        .filter_map(|s| {
            let lang = document_lang(std::slice::from_ref(s));
            Some(format!("- {} [{}]", opening_statement(s, lang)?, s.n))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a passage says first: a sentence, not a heading (the first statement that ends like one,
/// else the first long one). For an FAQ entry ("question\nanswer"), the answer's.
fn opening_sentence(source: &Source, lang: Lang) -> Option<String> {
    let text = match (source.kind, source.text.split_once('\n')) {
        (ChunkKind::Qa, Some((_, answer))) => answer,
        _ => source.text.as_str(),
    };
    let all = statements(text);
    let long = |st: &&String| st.chars().filter(|c| c.is_alphanumeric()).count() >= 12;
    all.iter()
        .find(|st| long(st) && acceptable(st, lang))
        .map(|st| st.trim_end_matches('…').to_string())
}

/// [`opening_sentence`], else the first long statement in the document's language (slides and
/// lists have no sentences; without a model, a summary of them still quotes something).
fn opening_statement(source: &Source, lang: Lang) -> Option<String> {
    opening_sentence(source, lang).or_else(|| {
        statements(&source.text)
            .into_iter()
            .find(|st| st.chars().filter(|c| c.is_alphanumeric()).count() >= 12 && in_language(st, lang))
    })
}

/// Mostly Han characters for Chinese, mostly other letters for English.
fn in_language(text: &str, lang: Lang) -> bool {
    let share = han_share(std::iter::once(text));
    match lang {
        Lang::Zh => share >= 0.5,
        Lang::En => share < 0.2,
    }
}

/// `text` from its first whole sentence: a passage cut from a page may open mid-sentence ("个盒子的
/// 位置，而不必…", "with all words of the title…"), and a model asked about it copied the fragment.
fn from_sentence_start(text: &str) -> &str {
    let trimmed = text.trim_start();
    let Some(first) = trimmed.chars().next() else {
        return text;
    };
    let mid_sentence = first.is_lowercase()
        || matches!(
            first,
            '，' | '、'
                | '。'
                | '；'
                | '）'
                | '”'
                | '的'
                | '了'
                | '个'
                | '和'
                | '与'
                | '而'
                | '或'
                | '及'
                | '并'
                | '地'
                | '得'
                | ','
                | ';'
                | ')'
        );
    if !mid_sentence {
        return trimmed;
    }
    let end = trimmed
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '。' | '！' | '？' | '!' | '?')
                || (c == '.' && trimmed[i + 1..].starts_with([' ', '\n']))
        })
        .map(|(i, c)| i + c.len_utf8());
    match end {
        // The rest must still say something; otherwise the fragment is all there is.
        Some(end) if trimmed[end..].trim().chars().count() >= 40 => trimmed[end..].trim_start(),
        _ => trimmed,
    }
}

/// A point worth showing: a statement (not a question), complete (ends like a sentence, quotes
/// and brackets closed), long enough to say something, and in the document's language (a small
/// model asked about a Chinese book that quotes an English example copied the example out).
fn acceptable(point: &str, lang: Lang) -> bool {
    let point = point.trim();
    let meaningful = point.chars().filter(|c| c.is_alphanumeric()).count();
    let ends = point.ends_with(['。', '！', '.', '!', '；', ';']);
    // An English sentence starts with a capital or a figure, not mid-way ("with all words of…").
    let starts = lang == Lang::Zh || point.chars().next().is_some_and(|c| !c.is_lowercase());
    let balanced = |open: char, close: char| point.matches(open).count() == point.matches(close).count();
    let quotes_even = point.matches('"').count().is_multiple_of(2);
    meaningful >= 8
        && ends
        && starts
        && in_language(point, lang)
        && quotes_even
        && balanced('(', ')')
        && balanced('（', '）')
        && balanced('“', '”')
        && balanced('《', '》')
}

/// The model's summary: each passage put in one sentence of its own words ("map"), in document
/// order, cited. One short task at a time is what a small local model does reliably: asked for the
/// key points of several passages at once, the 0.5B default copied them out or looped; asked to
/// merge notes, it lost their citations.
async fn point_by_point(
    generator: &Arc<dyn Generator>,
    sources: &[Source],
    title: &str,
    req: &SummaryRequest,
    progress: &(dyn Fn(SummaryProgress) + Send + Sync),
) -> Result<(String, bool, Vec<UnsupportedClaim>)> {
    let total = sources.len();
    let mut lines = Vec::new();
    let mut unverified = Vec::new();
    for (done, s) in sources.iter().enumerate() {
        if req.cancel.load(Ordering::Relaxed) {
            return Ok((lines.join("\n"), true, unverified));
        }
        // Each point in its passage's language: an English entry of a Chinese FAQ translated by a
        // small model came out half in each ("报告丢失或 stolen laptop时…") and could not be checked.
        let lang = document_lang(std::slice::from_ref(s));
        let section = s.heading_path.last().map(String::as_str).unwrap_or(title);
        let faq = s.kind == ChunkKind::Qa && s.text.contains('\n');
        let (question, answer) = s.text.split_once('\n').unwrap_or(("", &s.text));
        let ask = match lang {
            // An FAQ entry: what the answer tells, not the question again.
            Lang::Zh if faq => format!(
                "下面是《{title}》中的一条问答。请用一句中文陈述句写出回答的要点，不要重复问题，只写这一句。\n\n问：{question}\n答：{answer}"
            ),
            Lang::En if faq => format!(
                "Below is one question and answer from \"{title}\". State what the answer tells the reader in one plain sentence (not a question), and write only that sentence.\n\nQ: {question}\nA: {answer}"
            ),
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
        // Not a statement in the document's language, or a claim its passage does not hold (the
        // claim gate of answers): the passage's own opening sentence instead.
        let point = if acceptable(&point, lang)
            && drawn_from(&point, &s.text)
            && supported(&point, s.n, sources, title, lang, &mut unverified)
        {
            Some(point)
        } else {
            tracing::debug!(passage = s.n, point = %point, "summary point replaced by the passage's sentence");
            opening_sentence(s, lang)
        };
        if let Some(point) = point {
            lines.push(format!("- {point} [{}]", s.n));
        }
        progress(SummaryProgress {
            done: done + 1,
            total,
        });
        if stopped {
            return Ok((lines.join("\n"), true, unverified));
        }
    }
    Ok((lines.join("\n"), false, unverified))
}

/// Whether `point` is recognisably drawn from `passage`: at least a third of its pairs of adjacent
/// letters and digits occur in the passage ([`bigram_overlap`]). The claim gate checks figures and names; a point with
/// none passes it whatever it says, and the default model sometimes glossed a passage in words of
/// its own ("为员工提供全面的指导和操作指南" for the handbook's statement of purpose) that the passage
/// cannot confirm. The passage's own sentence is shown instead.
fn drawn_from(point: &str, passage: &str) -> bool {
    bigram_overlap(point, passage) >= 1.0 / 3.0
}

/// Whether the claim gate lets `point`, citing passage `n`, through as written; the claims it
/// does not are added to `unverified`.
fn supported(
    point: &str,
    n: usize,
    sources: &[Source],
    title: &str,
    lang: Lang,
    unverified: &mut Vec<UnsupportedClaim>,
) -> bool {
    let mut gate = SentenceGate::new(sources, title, lang);
    gate.push(&format!("{point}[{n}]"));
    gate.finish();
    unverified.append(&mut gate.unsupported);
    gate.replaced == 0 && gate.passed > 0
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
    let line = without_preamble(line);
    match line.find(['。', '！', '？']) {
        Some(end) => line[..end + '。'.len_utf8()].to_string(),
        None => match line.find(". ") {
            Some(end) => line[..=end].to_string(),
            None => line.to_string(),
        },
    }
}

/// The point without the model's talk about the passage ("The passage states that …", "这段话
/// 说明了…"), which says nothing about the document.
fn without_preamble(line: &str) -> String {
    const EN: [&str; 6] = [
        "The passage states that ",
        "The passage says that ",
        "The passage explains that ",
        "The passage describes how ",
        "This passage states that ",
        "The main point is that ",
    ];
    const ZH: [&str; 6] = [
        "这段话说明了",
        "这段话说明",
        "这段话指出",
        "这段话介绍了",
        "该段落指出",
        "这段文字说明",
    ];
    for p in EN {
        if let Some(rest) = line.strip_prefix(p) {
            let mut chars = rest.chars();
            return match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            };
        }
    }
    for p in ZH {
        if let Some(rest) = line.strip_prefix(p) {
            return rest.trim_start_matches(['：', ':', '，']).to_string();
        }
    }
    line.to_string()
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
    fn only_statements_in_the_document_language_are_points() {
        assert!(acceptable("员工每年享有十三天带薪年假。", Lang::Zh));
        assert!(!acceptable("如何下载滴滴APP？", Lang::Zh), "a question");
        assert!(
            !acceptable("Rabbits have long ears.", Lang::Zh),
            "another language"
        );
        assert!(
            !acceptable(
                "这个命令产生一个宽度为零的盒子，盒子的高度(8.5pt)和深度",
                Lang::Zh
            ),
            "cut off"
        );
        assert!(!acceptable("腊字母 \"。", Lang::Zh), "a fragment");
        assert!(acceptable("Laptops must be encrypted with BitLocker.", Lang::En));
        assert!(!acceptable("How do I reset my password?", Lang::En));
        assert!(!acceptable(
            "with all words of the title equally prominent.",
            Lang::En
        ));
        let qa = Source {
            n: 1,
            path: String::new(),
            also_at: vec![],
            title: String::new(),
            page: None,
            text: "如何下载滴滴APP？\n在应用商店搜索“滴滴出行”下载安装即可。".into(),
            kind: doctalk_store::ChunkKind::Qa,
            doc_id: String::new(),
            chunk_id: String::new(),
            heading_path: vec![],
            row: None,
            score: 0.0,
        };
        assert_eq!(
            opening_sentence(&qa, Lang::Zh).as_deref(),
            Some("在应用商店搜索“滴滴出行”下载安装即可。"),
            "an FAQ entry's answer, not its question"
        );
    }

    #[test]
    fn a_point_in_words_its_passage_does_not_hold_is_not_drawn_from_it() {
        let purpose = "1.1编制目的\n为帮助员工了解公司的基本制度、日常办事流程和行为规范，使新老员工能够快速找到所需信息，公司人力资源部会同行政部、财务部和信息技术部编制本手册。";
        assert!(!drawn_from("为员工提供全面的指导和操作指南。", purpose));
        assert!(drawn_from(
            "本手册帮助员工了解公司的基本制度和日常办事流程。",
            purpose
        ));
        let vpn = "Use the XH-Connect client and the server address vpn.xinghe-tech.cn.";
        assert!(drawn_from(
            "Staff connect with the XH-Connect client to vpn.xinghe-tech.cn.",
            vpn
        ));
        assert!(!drawn_from("", vpn));
    }

    #[test]
    fn lengths_contents_and_first_sentences() {
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
            first_sentence("The passage states that rules are supported. More."),
            "Rules are supported."
        );
        assert_eq!(
            from_sentence_start(
                "个盒子的位置。T E X 把盒子放在基线上，再按照粘连把它们排成一行，这样就不必担心复杂的调整。"
            ),
            "T E X 把盒子放在基线上，再按照粘连把它们排成一行，这样就不必担心复杂的调整。"
        );
        assert_eq!(from_sentence_start("Leave is 13 days."), "Leave is 13 days.");
        assert_eq!(
            first_sentence("Laptops are encrypted. Keys are escrowed."),
            "Laptops are encrypted."
        );
    }
}
