//! Chunker output on real documents, as text a reviewer can read (tests/snapshots/).

mod common;

use std::fmt::Write;

use common::parse;
use doctalk_ingest::{chunk_document, estimate_tokens, Chunk, ChunkConfig, ChunkKind};

fn render(chunks: &[Chunk]) -> String {
    let mut out = String::new();
    for (i, c) in chunks.iter().enumerate() {
        let kind = match c.kind {
            ChunkKind::Passage => "passage",
            ChunkKind::Qa => "qa",
        };
        let page = c.page.map_or("-".to_owned(), |p| p.to_string());
        let _ = writeln!(
            out,
            "── chunk {} · {kind} · block {} · page {page} · span {:?} · ~{} tokens",
            i + 1,
            c.block_index,
            c.span,
            estimate_tokens(&c.text)
        );
        if !c.heading_path.is_empty() {
            let _ = writeln!(out, "path: {}", c.heading_path.join(" > "));
        }
        if c.kind == ChunkKind::Qa {
            let _ = writeln!(out, "questions: {}", c.questions.join(" | "));
            for (k, v) in &c.metadata {
                let _ = writeln!(out, "meta {k}: {v}");
            }
        }
        let _ = writeln!(out, "{}\n", c.text);
    }
    out
}

#[test]
fn chinese_handbook() {
    let doc = parse("text/handbook_zh.md");
    let cfg = ChunkConfig {
        max_tokens: 48,
        overlap_tokens: 12,
    };
    insta::assert_snapshot!("handbook_zh", render(&chunk_document(&doc, &cfg)));
}

#[test]
fn english_guide() {
    let doc = parse("text/guide_en.md");
    let cfg = ChunkConfig {
        max_tokens: 40,
        overlap_tokens: 10,
    };
    insta::assert_snapshot!("guide_en", render(&chunk_document(&doc, &cfg)));
}

#[test]
fn chinese_faq_export() {
    let doc = parse("faq/faq_nested.json");
    insta::assert_snapshot!(
        "faq_nested_zh",
        render(&chunk_document(&doc, &ChunkConfig::default()))
    );
}
