//! Helpers shared by the integration tests of the non-PDF parsers and the chunker.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

use doctalk_ingest::{parse_file, Block, Document, ParseOptions, QaPair, TextBlock};

pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

#[track_caller]
pub fn parse(rel: &str) -> Document {
    match parse_file(&fixture(rel), &ParseOptions::default()) {
        Ok(doc) => doc,
        Err(e) => panic!("{rel}: {e}"),
    }
}

pub fn pairs(doc: &Document) -> Vec<&QaPair> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Qa(q) => Some(q),
            Block::Text(_) => None,
        })
        .collect()
}

pub fn texts(doc: &Document) -> Vec<&TextBlock> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t),
            Block::Qa(_) => None,
        })
        .collect()
}

/// (heading path joined by " > ", text) per text block, for compact assertions.
pub fn sections(doc: &Document) -> Vec<(String, String)> {
    texts(doc)
        .into_iter()
        .map(|t| (t.heading_path.join(" > "), t.text.clone()))
        .collect()
}
