//! Fills a store with random normalised 384-d vectors and random text, then
//! prints insert time and the latency of dense and full-text search.
//!
//! `cargo run -p doctalk-store --example search_bench --release -- 10000 100000`
//! (the dev profile already optimises dependencies, so a debug run is
//! representative of LanceDB's own cost).

use std::time::{Duration, Instant};

use doctalk_store::{NewChunk, NewDocument, Store};

const DIM: usize = 384;
const CHUNKS_PER_DOC: usize = 100;
const QUERIES: usize = 200;
const K: usize = 10;
const MODEL: &str = "bench-model";

#[path = "../tests/support/rng.rs"]
mod rng;

use rng::Rng;

/// What the benchmark draws: random embeddings and words.
trait Draw {
    fn vector(&mut self) -> Vec<f32>;
    fn word(&mut self, vocab: &[String]) -> String;
}

impl Draw for Rng {
    fn vector(&mut self) -> Vec<f32> {
        self.unit_vector(DIM)
    }

    /// A word from a 20k vocabulary, skewed towards frequent words like real text.
    fn word(&mut self, vocab: &[String]) -> String {
        let u = self.unit();
        let i = ((u * u * u) * vocab.len() as f32) as usize;
        vocab[i.min(vocab.len() - 1)].clone()
    }
}

fn vocabulary() -> Vec<String> {
    const ZH: [&str; 10] = [
        "出差", "制度", "报销", "发票", "审批", "合同", "员工", "休假", "预算", "流程",
    ];
    (0..20_000)
        .map(|i| match i % 10 {
            0 => format!("{}{}", ZH[(i / 10) % ZH.len()], i / 100),
            _ => format!("word{i}"),
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

async fn time_queries<F, Fut>(n: usize, mut run: F) -> (f64, f64)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        let found = run(i).await;
        times.push(start.elapsed());
        assert!(found > 0, "query {i} found nothing");
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn measure(store: &Store, rng: &mut Rng, vocab: &[String], label: &str) {
    let queries: Vec<Vec<f32>> = (0..QUERIES).map(|_| rng.vector()).collect();
    let (p50, p95) = time_queries(QUERIES, |i| {
        let q = &queries[i];
        async move {
            store
                .vector_search(q, MODEL, K)
                .await
                .expect("vector search")
                .len()
        }
    })
    .await;
    println!("  {label}: vector_search k={K}: p50 {p50:.1} ms, p95 {p95:.1} ms");
    // Frequent words, so every query has matches.
    let texts: Vec<String> = (0..QUERIES)
        .map(|i| format!("{} {} {}", vocab[i % 50], vocab[(i * 7) % 200], vocab[1 + i % 30]))
        .collect();
    let (p50, p95) = time_queries(QUERIES, |i| {
        let q = &texts[i];
        async move { store.text_search(q, K).await.expect("text search").len() }
    })
    .await;
    println!("  {label}: text_search   k={K}: p50 {p50:.1} ms, p95 {p95:.1} ms");
}

async fn run(rows: usize) -> doctalk_store::Result<()> {
    let dir = tempfile::tempdir().map_err(|source| doctalk_store::StoreError::CreateDir {
        path: std::env::temp_dir(),
        source,
    })?;
    let store = Store::open(dir.path()).await?;
    // The exact scan throughout: this measures LanceDB's brute-force cost (the ANN index is
    // tested in tests/ann.rs).
    store.set_ann_min_rows(usize::MAX);
    let vocab = vocabulary();
    let mut rng = Rng(rows as u64);
    let docs = rows.div_ceil(CHUNKS_PER_DOC);
    println!("{rows} chunks ({docs} documents of {CHUNKS_PER_DOC}), {DIM}-d:");

    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    for d in 0..docs {
        let chunks: Vec<NewChunk> = (0..CHUNKS_PER_DOC)
            .map(|c| {
                let words: Vec<String> = (0..40).map(|_| rng.word(&vocab)).collect();
                let text = words.join(" ");
                NewChunk {
                    ordinal: c as u32,
                    kind: doctalk_store::ChunkKind::Passage,
                    text: text.clone(),
                    text_segmented: text,
                    page: Some(c as u32 / 5 + 1),
                    heading_path: vec![format!("Section {}", c / 10)],
                    span_start: 0,
                    span_end: 0,
                    questions: vec![],
                    answer: None,
                    metadata_json: "{}".into(),
                    engine: None,
                    vector: rng.vector(),
                }
            })
            .collect();
        let doc = NewDocument {
            path: format!("/bench/doc{d}.txt"),
            title: format!("Document {d}"),
            format: "txt".into(),
            content_hash: format!("{d}"),
            size_bytes: 0,
            page_count: None,
            embedding_model: MODEL.into(),
            diagnostics_json: "[]".into(),
        };
        let t = Instant::now();
        store.commit_document(doc, chunks).await?;
        slowest = slowest.max(t.elapsed());
    }
    let insert = start.elapsed();
    println!(
        "  insert: {:.1} s total, {:.0} ms per 100-chunk commit on average, slowest {:.0} ms",
        insert.as_secs_f64(),
        insert.as_secs_f64() * 1e3 / docs as f64,
        slowest.as_secs_f64() * 1e3
    );
    measure(&store, &mut rng, &vocab, "as committed").await;

    let t = Instant::now();
    store.optimize().await?;
    println!(
        "  optimize (compact + index + prune): {:.1} s",
        t.elapsed().as_secs_f64()
    );
    measure(&store, &mut rng, &vocab, "after optimize").await;
    if let Some(rss) = peak_rss_mib() {
        println!("  peak RSS so far: {rss:.0} MiB");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> doctalk_store::Result<()> {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    for rows in sizes {
        run(rows).await?;
    }
    Ok(())
}
