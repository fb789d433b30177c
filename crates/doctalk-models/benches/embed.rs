//! Throughput of BertEncoder on realistic passages: `cargo bench -p doctalk-models --bench embed`.
//!
//! Embeds 512 passages of mixed length (one sentence up to a full 256-token chunk) several times and
//! prints the median chunks per second, the spread, and the process's peak RSS. Not a pass/fail test:
//! the machine's noise makes absolute timings a report, not an assertion.
//!
//! Environment: `DOCTALK_BENCH_PASSAGES` (default 512), `DOCTALK_BENCH_RUNS` (default 5),
//! `DOCTALK_BENCH_BATCH` (default the encoder's).

use std::time::Instant;

use doctalk_models::{BertEncoder, Embedder, EncoderOptions, SearchRoots, ALL_MINILM_L6_V2};

const SENTENCES: &[&str] = &[
    "The warranty covers manufacturing defects for two years from the date of purchase.",
    "Returns are accepted within 30 days if the item is unused and in its original packaging.",
    "To reset the device, hold the power button for ten seconds until the light blinks twice.",
    "Section 4.2 describes how personal data is stored, processed and deleted on request.",
    "Revenue for the third quarter rose 8% year over year, driven by subscription growth.",
    "Operating expenses increased mainly because of hiring in research and development.",
    "The committee recommends replacing the cooling pumps before the summer maintenance window.",
    "Employees may carry over up to five days of unused annual leave into the next year.",
    "Invoices must include the purchase order number, otherwise payment will be delayed.",
    "Photosynthesis converts light energy into chemical energy stored in sugars.",
    "The mitochondria produce most of the cell's supply of adenosine triphosphate.",
    "In 1648 the Peace of Westphalia ended the Thirty Years' War in the Holy Roman Empire.",
    "Install the package with the system package manager, then restart the service.",
    "If the connection times out, check the proxy settings and the firewall rules.",
    "Each chunk keeps the title and page number of the document it came from.",
    "Questions about billing should be sent to the finance team, not to support.",
    "The study enrolled 412 participants across six hospitals over eighteen months.",
    "Side effects were mild and resolved without treatment in most patients.",
    "Use a torque wrench and tighten the bolts in a star pattern to 45 newton metres.",
    "Backups run nightly at 02:00 and are kept for ninety days.",
];

/// A small deterministic generator, so every run embeds the same corpus.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

/// Passages of 1 to 14 sentences, skewed short like real chunked documents (FAQ answers, paragraphs).
fn passages(n: usize) -> Vec<String> {
    let mut rng = Lcg(0x5eed);
    (0..n)
        .map(|_| {
            let len = match rng.next() % 10 {
                0..=3 => 1 + rng.next() % 2,
                4..=7 => 3 + rng.next() % 4,
                _ => 8 + rng.next() % 7,
            };
            (0..len)
                .map(|_| SENTENCES[rng.next() % SENTENCES.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size in MiB, from /proc (Linux); `None` elsewhere.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` run passes nothing else useful.
    let n = env_usize("DOCTALK_BENCH_PASSAGES", 512);
    let runs = env_usize("DOCTALK_BENCH_RUNS", 5).max(1);
    let mut options = EncoderOptions::for_spec(&ALL_MINILM_L6_V2);
    if let Ok(b) = std::env::var("DOCTALK_BENCH_BATCH") {
        if let Ok(b) = b.parse() {
            options = options.batch_size(b);
        }
    }

    let dir = match doctalk_models::resolve_model_dir(ALL_MINILM_L6_V2.id, &SearchRoots::from_env()) {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(2);
        }
    };
    let t = Instant::now();
    let encoder = match BertEncoder::load(&dir, options) {
        Ok(e) => e,
        Err(err) => {
            eprintln!("loading the encoder failed: {err}");
            std::process::exit(2);
        }
    };
    let load_s = t.elapsed().as_secs_f64();

    let corpus = passages(n);
    let refs: Vec<&str> = corpus.iter().map(String::as_str).collect();
    let tokens: usize = refs
        .iter()
        .map(|p| encoder.token_ids(p).map(|ids| ids.len()).unwrap_or(0))
        .sum();
    let truncated = refs
        .iter()
        .filter(|p| encoder.token_ids(p).map(|ids| ids.len()).unwrap_or(0) >= encoder.max_tokens())
        .count();

    // One warm-up pass: first-touch page faults and thread-pool start-up are not throughput.
    if let Err(err) = encoder.embed_passages(&refs[..refs.len().min(64)]) {
        eprintln!("embedding failed: {err}");
        std::process::exit(1);
    }
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        match encoder.embed_passages(&refs) {
            Ok(v) => assert_eq!(v.len(), n),
            Err(err) => {
                eprintln!("embedding failed: {err}");
                std::process::exit(1);
            }
        }
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];

    println!("model            {}", encoder.model_id());
    println!("load time        {load_s:.2} s");
    println!(
        "corpus           {n} passages, {tokens} tokens (mean {:.0}/passage, {truncated} at the {}-token limit)",
        tokens as f64 / n as f64,
        encoder.max_tokens()
    );
    println!(
        "threads          {} available",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    println!(
        "chunks/s         median {median:.1} over {runs} runs (min {:.1}, max {:.1})",
        rates[0],
        rates[rates.len() - 1]
    );
    println!("tokens/s         median {:.0}", median * tokens as f64 / n as f64);
    match peak_rss_mib() {
        Some(mib) => println!("peak RSS         {mib:.0} MiB"),
        None => println!("peak RSS         unavailable on this platform"),
    }
}
