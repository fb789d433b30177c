//! The local language model a choice names, with its LoRA adapter: one place where the CLI, the
//! server and the desktop app turn "this model, this adapter, this device" into a generator.

use doctalk_models::llm::{load_generator_adapted, locate_llm, Generator};
use doctalk_models::{DeviceChoice, SearchRoots};

use crate::Result;

/// Loads `model` (a known name or a path; `None`: the offline default) with `adapter` (a name in
/// `<data dir>/adapters/` or a path), on `device`. Blocking: minutes for a large model.
pub fn load(
    roots: &SearchRoots,
    model: Option<&str>,
    adapter: Option<&str>,
    device: DeviceChoice,
) -> Result<Box<dyn Generator>> {
    // The adapter is found first: a misspelt name fails at once.
    let adapter = adapter
        .map(|a| crate::adapters::resolve_in(roots.data_dir.as_deref(), a))
        .transpose()?;
    let path = locate_llm(model, roots)?;
    // Prompt starts are kept beside the user's other data (see `doctalk_models::llm::prompt_starts`).
    let starts = roots
        .data_dir
        .as_ref()
        .map(|d| d.join("cache").join("prompt-starts"));
    Ok(load_generator_adapted(
        &path,
        device,
        adapter.as_deref(),
        starts.as_deref(),
    )?)
}
