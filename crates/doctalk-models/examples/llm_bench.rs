//! Prefill and decode throughput of a local GGUF chat model (default: DocTalk's default LLM).
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p doctalk-models --example llm_bench -- [model.gguf] [runs] [adapter]
//! ```
//! With an adapter (a PEFT directory or a llama.cpp .gguf adapter; bench/llm/make_lora.py makes a
//! random one of any rank), the same figures with it applied, for its cost at run time.
//! Prints medians over `runs` (default 3): prefill tokens/s for a ~200-token prompt, decode tokens/s
//! for 64 greedy tokens. models/gen/llm_bench_llamacpp.py measures llama.cpp on the same file.
//! `LLM_BENCH_REPEAT=N` (both programs; default 12) repeats the prompt's sentence N times: 45 gives
//! about 750 tokens, the size of a grounded answer's prompt on the CPU.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use doctalk_models::llm::{find_llm, load_adapted, GenerationParams, Generator, Kernels, DEFAULT_LLM};
use doctalk_models::{DeviceChoice, SearchRoots};

const DECODE_TOKENS: usize = 64;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As the programs do: without it every large tensor is a fresh mmap, faulted in page by page.
    doctalk_models::tune_allocator();
    let mut args = std::env::args().skip(1);
    let path = match args.next() {
        Some(p) => PathBuf::from(p),
        None => find_llm(&DEFAULT_LLM, &SearchRoots::from_env())?,
    };
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3).max(1);
    let adapter = args.next().map(PathBuf::from);
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());

    let start = Instant::now();
    // Decoding one token at a time, as llama.cpp's figure is: prompt lookup would guess most of
    // this prompt's repeated sentence and measure that instead.
    let model = load_adapted(&path, DeviceChoice::Cpu, Kernels::from_env(), adapter.as_deref())?
        .with_prompt_lookup(false);
    println!(
        "model {} loaded in {:.2} s ({threads} threads)",
        model.model_id(),
        start.elapsed().as_secs_f64()
    );

    let repeat: usize = std::env::var("LLM_BENCH_REPEAT").map_or(Ok(12), |r| r.parse())?;
    let text =
        "DocTalk answers questions from a person's own documents, offline, with citations. ".repeat(repeat);
    let prompt = model.render_chat(&[doctalk_models::llm::ChatMessage::user(format!(
        "{text}\nSummarise the text above in one long paragraph."
    ))])?;
    let ids = model.encode(&prompt)?;

    let mut prefill = Vec::new();
    let mut decode = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        model.logits(&ids, 0)?;
        prefill.push(ids.len() as f64 / t.elapsed().as_secs_f64());

        // Decode speed from generate() itself: from the first streamed token to the end, so the
        // prefill inside generate() is not counted.
        let mut first_token_at = None;
        let out = model.generate(&prompt, &GenerationParams::greedy(DECODE_TOKENS), &mut |_| {
            first_token_at.get_or_insert_with(Instant::now);
            ControlFlow::Continue(())
        })?;
        let end = Instant::now();
        if let Some(first) = first_token_at {
            let steps = out.completion_tokens.saturating_sub(1).max(1);
            decode.push(steps as f64 / (end - first).as_secs_f64().max(1e-9));
        }
    }
    println!("prompt tokens:  {}", ids.len());
    println!(
        "prefill:        {:.1} tokens/s (median of {runs})",
        median(prefill)
    );
    if decode.is_empty() {
        println!("decode:         no tokens were generated");
    } else {
        println!(
            "decode:         {:.1} tokens/s (median of {runs}, up to {DECODE_TOKENS} tokens)",
            median(decode)
        );
    }
    Ok(())
}
