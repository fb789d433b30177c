//! Search across several knowledge bases at once (`doctalk --kb a,b search`, `/api/search?kb=a,b`).
//!
//! Each knowledge base is searched on its own and the hits are merged on their fused scores. Those
//! are comparable across knowledge bases: every knowledge base is embedded with the workspace's one
//! encoder (a knowledge base built with another is re-embedded when opened), so the cosine — most
//! of the fused score — means the same everywhere, and the BM25 part is each list's score over its
//! own best, at most [`crate::fusion::bm25_weight`] either way. A near-exact FAQ question still comes
//! first, whichever knowledge base holds it.

use std::cmp::Ordering;

use crate::search::SearchHit;
use crate::workspace::valid_kb_name;
use crate::{CoreError, Result};

/// Names in a comma-separated list ("handbook,it-faq"), each checked, duplicates dropped, order
/// kept. An empty entry or a bad name is an error naming it.
pub fn kb_names(list: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for name in list.split(',').map(str::trim) {
        if !valid_kb_name(name) {
            return Err(CoreError::BadKbName(name.to_string()));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// The best `top_k` of several knowledge bases' hits, each hit labelled with its knowledge base and
/// ranked anew: FAQ matches first (closest first), then by fused score.
pub fn merge_ranked(per_kb: Vec<(String, Vec<SearchHit>)>, top_k: usize) -> Vec<SearchHit> {
    let mut all: Vec<SearchHit> = per_kb
        .into_iter()
        .flat_map(|(kb, hits)| {
            hits.into_iter().map(move |mut h| {
                h.kb = Some(kb.clone());
                h
            })
        })
        .collect();
    all.sort_by(|a, b| {
        let by_faq = match (a.faq_match, b.faq_match) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_faq.then_with(|| b.fused_score.total_cmp(&a.fused_score))
    });
    all.truncate(top_k);
    for (i, h) in all.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, fused: f32, faq: Option<f32>) -> SearchHit {
        SearchHit {
            rank: 0,
            chunk_id: id.into(),
            doc_id: "d".into(),
            path: "p".into(),
            also_at: Vec::new(),
            title: "t".into(),
            page: None,
            kind: doctalk_store::ChunkKind::Passage,
            text: id.into(),
            heading_path: Vec::new(),
            questions: Vec::new(),
            answer: None,
            span: (0, 0),
            fused_score: fused,
            dense: None,
            bm25: None,
            faq_match: faq,
            identifier_match: false,
            metadata: serde_json::Value::Null,
            kb: None,
        }
    }

    #[test]
    fn lists_of_names_are_checked_and_deduplicated() {
        assert_eq!(
            kb_names("handbook, it-faq,handbook").unwrap(),
            ["handbook", "it-faq"]
        );
        assert!(matches!(kb_names("handbook,,it"), Err(CoreError::BadKbName(n)) if n.is_empty()));
        assert!(matches!(kb_names("a,../b"), Err(CoreError::BadKbName(n)) if n == "../b"));
    }

    #[test]
    fn hits_interleave_by_score_with_faq_matches_first_and_are_ranked_anew() {
        let merged = merge_ranked(
            vec![
                ("a".into(), vec![hit("a1", 0.91, None), hit("a2", 0.85, None)]),
                (
                    "b".into(),
                    vec![hit("b1", 0.88, None), hit("b2", 0.80, Some(0.97))],
                ),
            ],
            3,
        );
        let got: Vec<(&str, &str, usize)> = merged
            .iter()
            .map(|h| (h.kb.as_deref().unwrap(), h.chunk_id.as_str(), h.rank))
            .collect();
        assert_eq!(got, [("b", "b2", 1), ("a", "a1", 2), ("b", "b1", 3)]);
    }
}
