//! Reciprocal-rank fusion of the dense and lexical result lists, and the FAQ near-exact rule.

use std::collections::HashMap;

/// RRF's damping constant: the usual 60 (Cormack et al.) keeps one list's top hit from
/// drowning agreement between the two lists.
pub const RRF_K: f32 = 60.0;

/// Similarity (0..=1) at or above which a stored FAQ question counts as "the same question".
pub const FAQ_MATCH_THRESHOLD: f32 = 0.85;

/// A component's opinion of one candidate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ComponentScore {
    /// 1-based rank in that component's list.
    pub rank: usize,
    /// Cosine similarity (dense) or BM25 score (lexical).
    pub score: f32,
}

/// One fused candidate, identified by its key (the chunk id).
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    pub key: String,
    pub fused: f32,
    pub dense: Option<ComponentScore>,
    pub bm25: Option<ComponentScore>,
}

/// Fuses two ranked lists (best first) of `(key, score)` with reciprocal-rank fusion.
/// Ties keep the better best-rank first so the order is deterministic.
pub fn rrf(dense: &[(String, f32)], bm25: &[(String, f32)]) -> Vec<Fused> {
    let mut by_key: HashMap<&str, Fused> = HashMap::new();
    for (i, (key, score)) in dense.iter().enumerate() {
        let entry = by_key.entry(key).or_insert_with(|| empty(key));
        if entry.dense.is_none() {
            entry.dense = Some(ComponentScore {
                rank: i + 1,
                score: *score,
            });
            entry.fused += 1.0 / (RRF_K + (i + 1) as f32);
        }
    }
    for (i, (key, score)) in bm25.iter().enumerate() {
        let entry = by_key.entry(key).or_insert_with(|| empty(key));
        if entry.bm25.is_none() {
            entry.bm25 = Some(ComponentScore {
                rank: i + 1,
                score: *score,
            });
            entry.fused += 1.0 / (RRF_K + (i + 1) as f32);
        }
    }
    let mut out: Vec<Fused> = by_key.into_values().collect();
    out.sort_by(|a, b| {
        b.fused
            .total_cmp(&a.fused)
            .then_with(|| best_rank(a).cmp(&best_rank(b)))
            // Then the dense rank: ties are settled by the ranks alone, never by chunk ids, so
            // that the same index (a restored backup) orders its hits the same way.
            .then_with(|| rank_or_last(a.dense).cmp(&rank_or_last(b.dense)))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

fn rank_or_last(score: Option<ComponentScore>) -> usize {
    score.map_or(usize::MAX, |s| s.rank)
}

fn empty(key: &str) -> Fused {
    Fused {
        key: key.to_string(),
        fused: 0.0,
        dense: None,
        bm25: None,
    }
}

fn best_rank(f: &Fused) -> usize {
    let d = f.dense.map_or(usize::MAX, |c| c.rank);
    let b = f.bm25.map_or(usize::MAX, |c| c.rank);
    d.min(b)
}

/// Politeness and filler that do not change what is asked ("请问…", "…呢？").
const PREFIXES: &[&str] = &[
    "请问一下",
    "请问",
    "请教一下",
    "请教",
    "你好",
    "您好",
    "我想知道",
    "我想问一下",
    "我想问",
    "想问一下",
    "麻烦问一下",
    "hi",
    "hello",
    "please",
];
const SUFFIXES: &[&str] = &["呢", "吗", "呀", "啊", "please"];

/// Lower-cases, drops punctuation/whitespace and filler words, so that "请问，如何下载滴滴APP？"
/// and "如何下载滴滴app" compare equal.
pub fn normalize_question(q: &str) -> String {
    let mut s: String = q
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    loop {
        let before = s.len();
        for p in PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                if !rest.is_empty() {
                    s = rest.to_string();
                }
            }
        }
        for p in SUFFIXES {
            if let Some(rest) = s.strip_suffix(p) {
                if !rest.is_empty() {
                    s = rest.to_string();
                }
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

/// Dice coefficient over character bigrams of the normalised questions (1.0 = identical).
pub fn question_similarity(a: &str, b: &str) -> f32 {
    let a = normalize_question(a);
    let b = normalize_question(b);
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let grams = |s: &str| -> Vec<(char, char)> {
        let cs: Vec<char> = s.chars().collect();
        if cs.len() == 1 {
            return vec![(cs[0], ' ')];
        }
        cs.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let ga = grams(&a);
    let mut gb = grams(&b);
    let total = ga.len() + gb.len();
    let mut common = 0usize;
    for g in &ga {
        if let Some(pos) = gb.iter().position(|x| x == g) {
            gb.swap_remove(pos);
            common += 1;
        }
    }
    2.0 * common as f32 / total as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(keys: &[&str]) -> Vec<(String, f32)> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), 1.0 - i as f32 * 0.1))
            .collect()
    }

    #[test]
    fn agreement_beats_a_single_top_hit() {
        let fused = rrf(&list(&["a", "b", "c"]), &list(&["b", "d", "a"]));
        let keys: Vec<&str> = fused.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys[0], "b");
        assert_eq!(keys[1], "a");
        assert_eq!(fused[0].dense.unwrap().rank, 2);
        assert_eq!(fused[0].bm25.unwrap().rank, 1);
        assert!(fused.iter().find(|f| f.key == "d").unwrap().dense.is_none());
    }

    #[test]
    fn duplicates_in_one_list_count_once() {
        let fused = rrf(&list(&["a", "a"]), &[]);
        assert_eq!(fused.len(), 1);
        assert!((fused[0].fused - 1.0 / 61.0).abs() < 1e-6);
    }

    #[test]
    fn questions_compare_without_filler_and_punctuation() {
        assert_eq!(
            question_similarity("请问，如何下载滴滴APP？", "如何下载滴滴app"),
            1.0
        );
        assert_eq!(
            question_similarity("如何登陆管理员后台呀", "如何登陆管理员后台"),
            1.0
        );
        assert!(question_similarity("如何登陆管理员后台", "如何登录管理员后台") < 1.0);
        assert!(question_similarity("如何下载滴滴APP", "如何申请年假") < 0.5);
        assert!(question_similarity("How do I reset my password?", "how do i reset my password") > 0.99);
    }
}
