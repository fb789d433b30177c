//! Greedy generations of a GGUF model on DocTalk's integer kernels and on candle's own model, side by
//! side, on the twenty prompts of `tests/fixtures/parity_prompts.json`.
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p doctalk-models --example llm_parity -- [model.gguf] [tokens]
//! ```
//! Prints, per prompt, whether the two generations are identical and, where not, both texts from the
//! first differing character.

use std::ops::ControlFlow;
use std::path::PathBuf;

use doctalk_models::llm::{
    find_llm, load_with, ChatMessage, GenerationParams, Generator, Kernels, DEFAULT_LLM,
};
use doctalk_models::{DeviceChoice, SearchRoots};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = match args.next().filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => find_llm(&DEFAULT_LLM, &SearchRoots::from_env())?,
    };
    let tokens: usize = args.next().map(|t| t.parse()).transpose()?.unwrap_or(32);
    let prompts: Vec<String> = serde_json::from_str(&std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/parity_prompts.json"
    ))?)?;
    let ours = load_with(&path, DeviceChoice::Cpu, Kernels::Integer)?;
    let reference = load_with(&path, DeviceChoice::Cpu, Kernels::Candle)?;
    let generate = |model: &dyn Generator, prompt: &str| -> Result<String, Box<dyn std::error::Error>> {
        let text = model.render_chat(&[ChatMessage::user(prompt)])?;
        let out = model.generate(&text, &GenerationParams::greedy(tokens), &mut |_| {
            ControlFlow::Continue(())
        })?;
        Ok(out.text)
    };
    let mut same = 0;
    for prompt in &prompts {
        let (a, b) = (generate(&ours, prompt)?, generate(&reference, prompt)?);
        if a == b {
            same += 1;
            println!("same      {prompt:?}");
        } else {
            let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            let tail = |s: &str| s.chars().skip(at).collect::<String>();
            println!(
                "differs   {prompt:?} after {at} chars:\n  ours:   {:?}\n  candle: {:?}",
                tail(&a),
                tail(&b)
            );
        }
    }
    println!(
        "{same} of {} greedy generations ({tokens} tokens) identical",
        prompts.len()
    );
    Ok(())
}
