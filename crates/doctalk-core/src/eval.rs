//! Retrieval evaluation: BEIR-style datasets and the usual metrics (recall@k, nDCG@k).
//!
//! A BEIR folder holds `corpus.jsonl` (`{"_id", "title", "text"}`), `queries.jsonl` (`{"_id", "text"}`)
//! and `qrels/test.tsv` (`query-id  corpus-id  score`, with a header line). Only queries that have
//! relevance judgements are evaluated.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::passages::Passage;
use crate::{CoreError, Result};

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct BeirDataset {
    pub corpus: Vec<Passage>,
    /// `(id, text)` of every judged query, in file order.
    pub queries: Vec<(String, String)>,
    /// query id → (corpus id → graded relevance > 0).
    pub qrels: HashMap<String, HashMap<String, u32>>,
}

impl BeirDataset {
    pub fn load(dir: &Path) -> Result<Self> {
        let corpus = read_jsonl(&dir.join("corpus.jsonl"))?
            .into_iter()
            .map(|(line, v)| {
                Ok(Passage {
                    id: field(&v, "_id", dir, "corpus.jsonl", line)?,
                    title: v
                        .get("title")
                        .and_then(|t| t.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    text: field(&v, "text", dir, "corpus.jsonl", line)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let qrels_path = dir.join("qrels").join("test.tsv");
        let qrels_text = std::fs::read_to_string(&qrels_path).map_err(|e| bad(&qrels_path, e.to_string()))?;
        let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
        for (i, line) in qrels_text.lines().enumerate() {
            let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
            if cols.len() < 3 || (i == 0 && cols[2].parse::<i64>().is_err()) {
                continue; // the header, or a blank line
            }
            let score: i64 = cols[2].parse().map_err(|_| {
                bad(
                    &qrels_path,
                    format!("line {}: score {:?} is not a number", i + 1, cols[2]),
                )
            })?;
            if score > 0 {
                qrels
                    .entry(cols[0].to_string())
                    .or_default()
                    .insert(cols[1].to_string(), score as u32);
            }
        }
        let queries = read_jsonl(&dir.join("queries.jsonl"))?
            .into_iter()
            .map(|(line, v)| {
                Ok((
                    field(&v, "_id", dir, "queries.jsonl", line)?,
                    field(&v, "text", dir, "queries.jsonl", line)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|(id, _)| qrels.contains_key(id))
            .collect::<Vec<_>>();
        if corpus.is_empty() || queries.is_empty() {
            return Err(bad(dir, "no corpus documents or no judged queries".into()));
        }
        Ok(BeirDataset {
            corpus,
            queries,
            qrels,
        })
    }
}

/// Fraction of the relevant documents found in the first `k` of `ranked`.
pub fn recall_at(ranked: &[String], relevant: &HashMap<String, u32>, k: usize) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|id| relevant.contains_key(*id))
        .count();
    found as f64 / relevant.len() as f64
}

/// Normalised discounted cumulative gain over the first `k`, with graded relevance.
pub fn ndcg_at(ranked: &[String], relevant: &HashMap<String, u32>, k: usize) -> f64 {
    let gain = |rel: u32, i: usize| f64::from(rel) / ((i + 2) as f64).log2();
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| relevant.get(id).map_or(0.0, |&r| gain(r, i)))
        .sum();
    let mut ideal: Vec<u32> = relevant.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, &r)| gain(r, i)).sum();
    if idcg == 0.0 {
        0.0
    } else {
        dcg / idcg
    }
}

fn read_jsonl(path: &Path) -> Result<Vec<(usize, serde_json::Value)>> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map(|v| (i + 1, v))
                .map_err(|e| bad(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

fn field(v: &serde_json::Value, name: &str, dir: &Path, file: &str, line: usize) -> Result<String> {
    match v.get(name) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        _ => Err(bad(&dir.join(file), format!("line {line}: no {name:?} string"))),
    }
}

fn bad(path: &Path, reason: String) -> CoreError {
    CoreError::Dataset {
        path: PathBuf::from(path),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recall_counts_relevant_documents_in_the_cutoff() {
        let r = rel(&[("a", 1), ("b", 1)]);
        assert_eq!(recall_at(&ids(&["x", "a", "y", "b"]), &r, 1), 0.0);
        assert_eq!(recall_at(&ids(&["x", "a", "y", "b"]), &r, 2), 0.5);
        assert_eq!(recall_at(&ids(&["x", "a", "y", "b"]), &r, 10), 1.0);
    }

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_discounts_later_hits() {
        let r = rel(&[("a", 2), ("b", 1)]);
        assert!((ndcg_at(&ids(&["a", "b"]), &r, 10) - 1.0).abs() < 1e-12);
        // b first, a second: (1/log2(2) + 2/log2(3)) / (2/log2(2) + 1/log2(3))
        let expected = (1.0 + 2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&ids(&["b", "a"]), &r, 10) - expected).abs() < 1e-12);
        assert_eq!(ndcg_at(&ids(&["x"]), &r, 10), 0.0);
    }
}
