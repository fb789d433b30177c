//! `doctalk bench retrieval --dataset DIR`: recall@1/5/10 and nDCG@10 of dense, BM25 and hybrid
//! retrieval on a BEIR-style folder, with the encoder chosen by `--encoder`.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use doctalk_core::eval::{ndcg_at, recall_at, BeirDataset};
use doctalk_core::{Candidates, KnowledgeBase, SearchHit};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::BenchRetrievalArgs;
use crate::output::{out_line, Progress};

/// Fused hits fetched per query (dense and BM25 each contribute their top 200 candidates).
const FETCH: usize = 50;
const CUTOFFS: [usize; 3] = [1, 5, 10];
/// Candidates per component (the dense and BM25 figures, `--dump`): as many as search fuses.
const CANDIDATES: usize = 200;

pub async fn run(ctx: &Ctx, args: BenchRetrievalArgs) -> anyhow::Result<ExitCode> {
    let mut data = BeirDataset::load(&args.dataset)?;
    if let Some(n) = args.max_queries {
        data.queries.truncate(n);
    }
    let embedder = ctx.load_embedder()?;
    let scratch = tempfile::tempdir()?;
    let kb = KnowledgeBase::open(scratch.path(), embedder.clone()).await?;

    let started = Instant::now();
    let bar = Progress::new(data.corpus.len() as u64, "indexing");
    kb.index_passages("corpus.jsonl", &data.corpus, &|done, _| bar.set(done as u64))
        .await?;
    bar.finish();
    let index_s = started.elapsed().as_secs_f64();

    let names = ["dense", "bm25", "hybrid"];
    let mut sums: HashMap<&str, [f64; 4]> = names.iter().map(|n| (*n, [0.0; 4])).collect();
    let mut latencies = Vec::with_capacity(data.queries.len());
    let mut dump = match &args.dump {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    let bar = Progress::new(data.queries.len() as u64, "querying");
    for (i, (qid, text)) in data.queries.iter().enumerate() {
        let t = Instant::now();
        let hits = kb.search(text, FETCH).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        let relevant = &data.qrels[qid];
        // Each component's own list (not its ranks among the fused hits: fusion may leave part of
        // BM25's top 10 out of the first 50).
        let candidates = kb.candidates(text, CANDIDATES, None).await?;
        let dense = passage_scores(&candidates, &candidates.dense);
        let bm25 = passage_scores(&candidates, &candidates.lexical);
        if let Some(out) = dump.as_mut() {
            let line = json!({"qid": qid, "relevant": relevant, "dense": dense, "bm25": bm25});
            writeln!(out, "{line}").context("writing the candidate dump")?;
        }
        let ids = |list: &[(String, f32)]| list.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
        let ranked = [ids(&dense), ids(&bm25), hits.iter().map(passage_id).collect()];
        for (name, ranked) in names.iter().zip(ranked) {
            let s = sums.get_mut(name).expect("known name");
            for (j, k) in CUTOFFS.iter().enumerate() {
                s[j] += recall_at(&ranked, relevant, *k);
            }
            s[3] += ndcg_at(&ranked, relevant, 10);
        }
        bar.set(i as u64 + 1);
    }
    bar.finish();
    if let Some(mut out) = dump {
        out.flush().context("writing the candidate dump")?;
    }
    latencies.sort_by(f64::total_cmp);

    let n = data.queries.len() as f64;
    let mut result = serde_json::Map::new();
    for name in names {
        let s = sums[name];
        result.insert(
            name.to_string(),
            json!({"recall@1": s[0] / n, "recall@5": s[1] / n, "recall@10": s[2] / n, "ndcg@10": s[3] / n}),
        );
    }
    result.insert(
        "run".into(),
        json!({
            "dataset": args.dataset,
            "encoder": embedder.model_id(),
            "corpus": data.corpus.len(),
            "queries": data.queries.len(),
            "index_seconds": index_s,
            "passages_per_s": data.corpus.len() as f64 / index_s.max(1e-9),
            "query_ms_p50": latencies[latencies.len() / 2],
            "peak_rss_mib": super::bench::peak_rss_kib().map(|k| k as f64 / 1024.0),
        }),
    );
    if args.json {
        out_line(&serde_json::Value::Object(result).to_string())?;
    } else {
        out_line(&format!(
            "{} — {} passages, {} queries, encoder {}",
            args.dataset.display(),
            data.corpus.len(),
            data.queries.len(),
            embedder.model_id()
        ))?;
        out_line(&format!(
            "{:<8} {:>9} {:>9} {:>10} {:>8}",
            "", "recall@1", "recall@5", "recall@10", "nDCG@10"
        ))?;
        for name in names {
            let m = &result[name];
            out_line(&format!(
                "{name:<8} {:>9.3} {:>9.3} {:>10.3} {:>8.3}",
                m["recall@1"].as_f64().unwrap_or(0.0),
                m["recall@5"].as_f64().unwrap_or(0.0),
                m["recall@10"].as_f64().unwrap_or(0.0),
                m["ndcg@10"].as_f64().unwrap_or(0.0)
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `[[passage id, score], …]` of one component's list.
fn passage_scores(candidates: &Candidates, list: &[(String, f32)]) -> Vec<(String, f32)> {
    list.iter()
        .filter_map(|(key, score)| {
            let chunk = candidates.chunk(key)?;
            let metadata: serde_json::Value = serde_json::from_str(&chunk.metadata_json).ok()?;
            Some((metadata["id"].as_str()?.to_string(), *score))
        })
        .collect()
}

/// The benchmark passage id a hit carries in its metadata.
fn passage_id(hit: &SearchHit) -> String {
    hit.metadata["id"].as_str().unwrap_or_default().to_string()
}
