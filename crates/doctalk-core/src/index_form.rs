//! How documents and passages take their place in the store: the key a document is stored under
//! and the text a passage is embedded and full-text indexed by. Ingest writes them; re-embedding,
//! moves and scoped searches find documents and rebuild passages by the same rules.

use doctalk_store::ChunkKind;
use std::path::Path;

/// The key a document is stored under: its absolute path, so that the same file reached by
/// different relative paths is one document.
pub(crate) fn path_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// What is embedded and full-text indexed for a chunk: the heading path gives a passage its
/// context ("出差制度 > 住宿标准"); a Q&A chunk's similar questions make it findable by them.
/// Re-embedding rebuilds it from the stored fields, so it takes fields, not a [`doctalk_ingest::Chunk`].
///
/// A PDF passage (one with a page) is indexed without its heading path: those headings are found
/// in the page text, which already holds them where they stand, and repeating them in front lowered
/// the passages' similarity to questions (`doctalk bench answers` on the labelled set: extractive
/// fact+citation 0.82 → 0.74, grounded answerable questions 0.923 → 0.904). The path still reaches
/// citations and the model's prompt.
pub(crate) fn index_text(
    is_qa: bool,
    questions: &[String],
    answer: Option<&str>,
    heading_path: &[String],
    page: Option<u32>,
    text: &str,
) -> String {
    if is_qa {
        let mut s = questions.join("\n");
        if let Some(answer) = answer {
            s.push('\n');
            s.push_str(answer);
        }
        s
    } else if heading_path.is_empty() || page.is_some() {
        text.to_string()
    } else {
        format!("{}\n{}", heading_path.join(" > "), text)
    }
}

/// The embedding input of a stored chunk, rebuilt exactly as ingest built it.
pub(crate) fn reindex_text(c: &doctalk_store::ChunkRecord) -> String {
    index_text(
        c.kind == ChunkKind::Qa,
        &c.questions,
        c.answer.as_deref(),
        &c.heading_path,
        c.page,
        &c.text,
    )
}
