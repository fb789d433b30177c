//! "Ask this document": when the documents a question is scoped to are short enough to fit the
//! model's context, the model reads them whole, in order, instead of the five retrieved passages.
//! A question about a contract's parties, a list spread over three sections or "what does the
//! last clause say" is then answered from everything the document says, not from what one search
//! happened to rank first. The answer says so ([`super::Answer::whole_document`]).

use doctalk_models::llm::Generator;
use doctalk_store::ChunkKind;
use doctalk_store::ChunkRecord;

use super::{prompt, Lang, Source};
use crate::kb::{DocumentInfo, KnowledgeBase};
use crate::{Result, Scope};

/// Prompt tokens a whole document may take on the CPU. The default model prefilled the 5-page
/// sample policy (2,859 tokens) in 16.4 s on 2 cores: a wait a user who chose one document accepts
/// for an answer from all of it, but not much more. With a GPU the context window is the only limit.
pub const CPU_WHOLE_DOCUMENT_TOKENS: usize = 3072;

/// Documents read whole at most: a scope of many documents is a search, not a reading.
const MAX_WHOLE_DOCUMENTS: usize = 3;

/// Characters per token that ordinary text stays under (Chinese runs near 1.3, English prose near
/// 4): a document longer than `budget × this` is not tokenized to find out that it does not fit.
const MAX_CHARS_PER_TOKEN: usize = 6;

/// Every passage of the scoped documents, numbered in reading order, when the prompt holding all of
/// them whole fits the budget; `None` otherwise (the answer then uses retrieved passages).
pub(crate) async fn sources(
    kb: &KnowledgeBase,
    scope: &Scope,
    generator: &dyn Generator,
    question: &str,
    lang: Lang,
    max_answer_tokens: usize,
) -> Result<Option<Vec<Source>>> {
    if scope.doc_ids.is_empty() || scope.doc_ids.len() > MAX_WHOLE_DOCUMENTS {
        return Ok(None);
    }
    let budget = budget(generator, max_answer_tokens);
    let mut docs: Vec<DocumentInfo> = Vec::new();
    for id in &scope.doc_ids {
        match kb.find_document(id).await? {
            Some(doc) => docs.push(doc),
            None => return Ok(None),
        }
    }
    // The order the user sees them listed in.
    docs.sort_by(|a, b| a.path.cmp(&b.path));
    let mut sources = Vec::new();
    let mut chars = 0usize;
    for doc in &docs {
        let chunks = kb.store().chunks_of(&doc.id).await?;
        let mut previous: Option<&ChunkRecord> = None;
        for chunk in &chunks {
            let mut source = Source::from_chunk(sources.len() + 1, doc, chunk);
            if let Some(prev) =
                previous.filter(|p| p.kind == ChunkKind::Passage && chunk.kind == ChunkKind::Passage)
            {
                source.text = without_overlap(&prev.text, &source.text).to_string();
            }
            chars += source.text.chars().count();
            if chars > budget * MAX_CHARS_PER_TOKEN {
                return Ok(None);
            }
            sources.push(source);
            previous = Some(chunk);
        }
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let messages = prompt::whole(question, lang, &sources);
    let tokens = generator.count_tokens(&generator.render_chat(&messages)?)?;
    tracing::debug!(tokens, budget, passages = sources.len(), "whole-document prompt");
    Ok((tokens <= budget).then_some(sources))
}

/// Prompt tokens the whole documents may take: the context window less the answer, and on the CPU
/// (where the generator sets a prompt budget for speed) at most [`CPU_WHOLE_DOCUMENT_TOKENS`].
fn budget(generator: &dyn Generator, max_answer_tokens: usize) -> usize {
    let window = generator.context_window().saturating_sub(max_answer_tokens);
    match generator.prompt_budget() {
        Some(_) => window.min(CPU_WHOLE_DOCUMENT_TOKENS),
        None => window,
    }
}

/// `next` without the sentences it repeats from the end of `previous`: the chunker starts each
/// passage with the last few of the one before, so that a passage found alone reads on; read in
/// order, they would be read twice.
fn without_overlap<'a>(previous: &str, next: &'a str) -> &'a str {
    let mut best = 0;
    for (i, _) in next.char_indices().skip(1) {
        let head = &next[..i];
        if previous.ends_with(head) {
            best = i;
        }
    }
    // A repeat of a few characters is a coincidence ("the", "。"), not the carried overlap.
    if next[..best].chars().count() < 12 {
        return next;
    }
    next[best..].trim_start()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_overlap_is_read_once() {
        let prev = "Laptops are encrypted. Keys are escrowed with IT.";
        let next = "Keys are escrowed with IT. Passwords rotate yearly.";
        assert_eq!(without_overlap(prev, next), "Passwords rotate yearly.");
        assert_eq!(without_overlap("ends with the", "the start"), "the start");
        assert_eq!(without_overlap("", "text"), "text");
        let zh_prev = "员工每年享有带薪年假。年假天数为工作满一年十三天。";
        let zh_next = "年假天数为工作满一年十三天。病假需提交医院证明。";
        assert_eq!(without_overlap(zh_prev, zh_next), "病假需提交医院证明。");
    }
}
