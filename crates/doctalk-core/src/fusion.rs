//! Fusion of the dense and lexical result lists, the exact-identifier rule and the FAQ near-exact rule.

use std::collections::HashMap;

/// How much BM25 adds to a passage's cosine similarity, its score scaled by the query's best BM25
/// score to 0..1. Measured with `bench/retrieval/fusion_sweep.py` on candidate dumps of five public
/// sets and with `doctalk bench answers` on the labelled answer set (figures in ARCHITECTURE.md):
/// paraphrased questions (InsuranceQA, the FAQ paraphrase set) want little BM25 (0.02 is best
/// there), real documents with exact terms (court judgments, our handbook and policy) want more
/// (0.1 answered best). 0.05 beats equal-weight reciprocal-rank fusion on all five public sets and
/// keeps the labelled answers within 2–3 questions of it; one weight does not suit every corpus.
pub const BM25_WEIGHT: f64 = 0.05;

/// The BM25 weight in use: [`BM25_WEIGHT`], or `DOCTALK_BM25_WEIGHT` when set to a number in 0..=1
/// (for calibration runs: `bench answers` and `bench retrieval` with another weight, no rebuild).
pub fn bm25_weight() -> f64 {
    static WEIGHT: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *WEIGHT.get_or_init(|| {
        std::env::var("DOCTALK_BM25_WEIGHT")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|w| (0.0..=1.0).contains(w))
            .unwrap_or(BM25_WEIGHT)
    })
}

/// What a passage holding every [identifier](identifiers) of the query adds to its fused score:
/// more than BM25 can add, so an error code or product name looked up comes first among passages
/// the encoder finds about as close, but not so much that a passage naming the product beats the
/// one that answers the question ("XH-Connect 连不上怎么办" is answered by the FAQ entry "VPN连不上
/// 怎么办？", which does not name the client, 0.05 closer by cosine in the sample knowledge base).
/// Chosen by hand on that example and the unit tests, not calibrated on a labelled set.
pub const IDENTIFIER_BONUS: f64 = 0.03;

/// Similarity (0..=1) at or above which a stored FAQ question counts as "the same question".
pub const FAQ_MATCH_THRESHOLD: f32 = 0.85;

/// A component's opinion of one candidate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, ts_rs::TS)]
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

/// Fuses two ranked lists (best first) of `(key, score)`: cosine similarity plus [`bm25_weight`] ×
/// BM25 / the best BM25 score. A candidate only BM25 found counts the lowest cosine of the dense
/// list. Ties keep the better best rank first so the order is deterministic.
pub fn fuse(dense: &[(String, f32)], bm25: &[(String, f32)]) -> Vec<Fused> {
    let mut by_key: HashMap<&str, Fused> = HashMap::new();
    for (i, (key, score)) in dense.iter().enumerate() {
        let entry = by_key.entry(key).or_insert_with(|| empty(key));
        if entry.dense.is_none() {
            entry.dense = Some(ComponentScore {
                rank: i + 1,
                score: *score,
            });
        }
    }
    for (i, (key, score)) in bm25.iter().enumerate() {
        let entry = by_key.entry(key).or_insert_with(|| empty(key));
        if entry.bm25.is_none() {
            entry.bm25 = Some(ComponentScore {
                rank: i + 1,
                score: *score,
            });
        }
    }
    let floor = dense.iter().map(|(_, s)| *s).reduce(f32::min).unwrap_or(0.0);
    let top = bm25.iter().map(|(_, s)| *s).reduce(f32::max).unwrap_or(0.0);
    let weight = bm25_weight() as f32;
    let mut out: Vec<Fused> = by_key
        .into_values()
        .map(|mut f| {
            let lexical = match f.bm25 {
                Some(b) if top > 0.0 => b.score / top,
                _ => 0.0,
            };
            f.fused = f.dense.map_or(floor, |d| d.score) + weight * lexical;
            f
        })
        .collect();
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

/// The identifiers of a query: error codes, version numbers, product and file names ("E1234",
/// "0x80070005", "XH-Connect", "v2.3", "DocTalk"). A passage that holds every one of them is likely
/// what the user looked up, whatever an encoder thinks of the rest of the words: it gets
/// [`IDENTIFIER_BONUS`]. Plain words, acronyms and numbers that are only a count ("3 days") are not
/// identifiers.
pub fn identifiers(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/');
    for token in query.split(|c: char| !token_char(c)) {
        let token = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let letters = token.chars().filter(|c| c.is_ascii_alphabetic()).count();
        let digits = token.chars().filter(|c| c.is_ascii_digit()).count();
        // "e.g." and "i.e." are joined too, but too short to name anything.
        if letters + digits < 3 {
            continue;
        }
        let joined = token.contains(['-', '_', '.', ':', '/']);
        // An upper-case letter after a lower-case one: "DocTalk", "iPhone".
        let inner_capital = token
            .chars()
            .zip(token.chars().skip(1))
            .any(|(a, b)| a.is_ascii_lowercase() && b.is_ascii_uppercase());
        let code = (letters > 0 && digits > 0) || joined;
        if (code || inner_capital) && !out.iter().any(|t| t.eq_ignore_ascii_case(token)) {
            out.push(token.to_string());
        }
    }
    out
}

/// Whether `text` holds every identifier (ASCII case ignored).
pub fn holds_identifiers(text: &str, identifiers: &[String]) -> bool {
    if identifiers.is_empty() {
        return false;
    }
    let text = text.to_ascii_lowercase();
    identifiers
        .iter()
        .all(|id| text.contains(&id.to_ascii_lowercase()))
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

    fn scored(pairs: &[(&str, f32)]) -> Vec<(String, f32)> {
        pairs.iter().map(|(k, s)| (k.to_string(), *s)).collect()
    }

    #[test]
    fn bm25_settles_what_the_encoder_finds_equally_close() {
        // b and a are 0.005 apart by cosine; b is BM25's best, a its third: b wins. c is far
        // behind by cosine and BM25's second: BM25 cannot lift it over a.
        let dense = scored(&[("a", 0.900), ("b", 0.895), ("c", 0.850)]);
        let bm25 = scored(&[("b", 12.0), ("c", 9.0), ("a", 3.0), ("d", 2.0)]);
        let fused = fuse(&dense, &bm25);
        let keys: Vec<&str> = fused.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c", "d"]);
        assert_eq!(fused[0].dense.unwrap().rank, 2);
        assert_eq!(fused[0].bm25.unwrap().rank, 1);
        assert!((fused[0].fused - (0.895 + bm25_weight() as f32)).abs() < 1e-6);
        // d, found by BM25 only, counts the lowest cosine of the dense list.
        let d = fused.iter().find(|f| f.key == "d").unwrap();
        assert!(d.dense.is_none());
        assert!((d.fused - (0.850 + bm25_weight() as f32 * 2.0 / 12.0)).abs() < 1e-6);
    }

    #[test]
    fn duplicates_in_one_list_count_once() {
        let fused = fuse(&list(&["a", "a"]), &[]);
        assert_eq!(fused.len(), 1);
        assert!((fused[0].fused - 1.0).abs() < 1e-6);
    }

    #[test]
    fn identifiers_are_codes_versions_and_product_names_not_words() {
        assert_eq!(identifiers("错误代码E1234是什么意思"), ["E1234"]);
        assert_eq!(
            identifiers("How do I install XH-Connect v2.3?"),
            ["XH-Connect", "v2.3"]
        );
        assert_eq!(identifiers("0x80070005 when saving"), ["0x80070005"]);
        assert_eq!(identifiers("What is DocTalk"), ["DocTalk"]);
        assert!(identifiers("How long does an account stay locked after 5 attempts?").is_empty());
        assert!(identifiers("VPN空闲多久会断开？").is_empty());
        assert!(identifiers("出差一天餐补多少钱").is_empty());
        assert!(identifiers("Tools, e.g. a VPN").is_empty());
        assert!(holds_identifiers(
            "Install xh-connect first",
            &["XH-Connect".into()]
        ));
        assert!(!holds_identifiers("Install it first", &["XH-Connect".into()]));
        assert!(!holds_identifiers("anything", &[]));
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
