//! Admission to the language model. One model is one set of weights and one KV cache: generations
//! run one at a time, so under load the queue, not the model, decides latency. The gate lets one
//! generation run and `max_waiting` wait; a question beyond that is answered extractively at once
//! (grounded answers) or refused with 503 (raw completions), instead of waiting minutes.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct LlmGate {
    slots: Arc<Semaphore>,
    max_waiting: usize,
}

/// Held while a request waits for or uses the model.
pub struct Admitted(#[allow(dead_code)] OwnedSemaphorePermit);

impl LlmGate {
    pub fn new(max_waiting: usize) -> Self {
        LlmGate {
            slots: Arc::new(Semaphore::new(1 + max_waiting)),
            max_waiting,
        }
    }

    /// A place in the queue, or `None` when it is full.
    pub fn try_enter(&self) -> Option<Admitted> {
        self.slots.clone().try_acquire_owned().ok().map(Admitted)
    }

    /// Why a request was not admitted, in the words answers carry.
    pub fn busy_reason(&self) -> String {
        format!(
            "the language model is busy (1 answer running, {} waiting); answered from the documents directly",
            self.max_waiting
        )
    }
}
