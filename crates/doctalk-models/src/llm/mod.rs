//! Local LLMs behind the [`Generator`] trait: small GGUF chat models on the CPU and the GLM family.
//!
//! Main types:
//! - [`Generator`]: prompt in, streamed text out, with the model's chat template and token counting.
//! - [`LocalGenerator`]: the candle implementation; [`load_generator`] opens a `.gguf` file (llama,
//!   qwen2, qwen3, gemma3, glm4 architectures; tokenizer rebuilt from the metadata when no
//!   `tokenizer.json` lies beside it) or a safetensors directory (ChatGLM3 / GLM-4-9B-chat `chatglm`,
//!   GLM-4-0414 `glm4`, `transformers`-native GLM-4 `glm`).
//! - [`RemoteGenerator`]: an OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, another
//!   DocTalk's `/v1`) as a generator.
//! - [`GenerationParams`], [`GenerationOutput`], [`StopReason`], [`ChatMessage`].
//! - [`Adapter`]: a LoRA adapter (PEFT directory or llama.cpp GGUF), applied by [`load_adapted`] /
//!   [`load_generator_adapted`].
//! - [`DEFAULT_LLM`] and [`find_llm`]: the offline default model and where `scripts/fetch-llm.sh` puts it.
//!
//! Errors are the crate's one [`ModelError`](crate::ModelError).
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use doctalk_models::llm::{find_llm, load_generator, ChatMessage, GenerationParams, DEFAULT_LLM};
//! use doctalk_models::{DeviceChoice, SearchRoots};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = find_llm(&DEFAULT_LLM, &SearchRoots::from_env())?;
//! let llm = load_generator(&path, DeviceChoice::Cpu)?;
//! let prompt = llm.render_chat(&[ChatMessage::user("What is the capital of France?")])?;
//! let out = llm.generate(&prompt, &GenerationParams::greedy(32), &mut |piece| {
//!     print!("{piece}");
//!     ControlFlow::Continue(())
//! })?;
//! assert!(out.text.contains("Paris"));
//! # Ok(())
//! # }
//! ```

mod adapter;
mod backend;
mod engine;
mod generator;
mod gguf_tokenizer;
pub mod glm;
mod grouped;
mod llama_like;
mod load;
mod lookup;
mod prompt_starts;
mod remote;
mod requantize;
mod sampling;
mod stops;
mod template;
pub mod tune;
mod types;

pub(crate) use adapter::LowRank;
pub use adapter::{name_of as adapter_name, Adapter, AdapterSummary};
pub use engine::LocalGenerator;
pub use generator::Generator;
pub use load::{load_adapted, load_generator, load_generator_adapted, load_local, load_with, Kernels};
pub use remote::{estimate_tokens, RemoteConfig, RemoteGenerator, DEFAULT_CONTEXT_WINDOW};
// The chat models DocTalk knows and where their files are: the catalogue's.
pub use doctalk_catalog::llm::{
    find_llm, locate_llm, LlmSpec, DEFAULT_LLM, KNOWN_LLMS, QWEN25_CODER_05B_INSTRUCT, SMOLLM2_135M_INSTRUCT,
};
pub use template::{ChatTemplate, CHATGLM3_TEMPLATE, GEMMA3_TEMPLATE, GLM4_TEMPLATE};
pub use types::{ChatMessage, GenerationOutput, GenerationParams, Role, StopReason};
