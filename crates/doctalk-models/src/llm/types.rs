//! Plain data that crosses the [`Generator`](super::Generator) boundary.

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    /// The lowercase name that chat templates expect (`message['role']`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// How to pick tokens and when to stop.
///
/// `temperature == 0.0` means greedy decoding (deterministic; `seed`, `top_p` and `top_k` are then unused).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    /// Upper bound on generated tokens (the context window may cut it shorter).
    pub max_tokens: usize,
    pub temperature: f64,
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches `top_p`. `None` = off.
    pub top_p: Option<f64>,
    /// Keep only the `top_k` most likely tokens. `None` = off.
    pub top_k: Option<usize>,
    /// Divides the logit of every token already in the context (prompt and output) when > 1.0.
    pub repeat_penalty: f32,
    /// How many of the most recent tokens the repeat penalty looks at.
    pub repeat_last_n: usize,
    pub seed: u64,
    /// Generation ends before the first occurrence of any of these strings (not included in the output).
    pub stop: Vec<String>,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            max_tokens: 512,
            temperature: 0.0,
            top_p: None,
            top_k: None,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            seed: 299_792_458,
            stop: Vec::new(),
        }
    }
}

impl GenerationParams {
    /// Greedy decoding with at most `max_tokens` tokens: what tests and extractive-like answers want.
    pub fn greedy(max_tokens: usize) -> Self {
        Self {
            max_tokens,
            ..Self::default()
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The model emitted one of its end-of-turn tokens.
    EndOfText,
    /// One of `GenerationParams::stop` appeared; the string is the one that matched.
    StopString(String),
    /// `max_tokens` were generated.
    MaxTokens,
    /// The context window is full.
    ContextFull,
    /// The caller's callback returned `ControlFlow::Break`.
    Cancelled,
}

/// The result of one [`Generator::generate`](super::Generator::generate) call.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationOutput {
    /// Everything streamed to the callback, concatenated (stop strings excluded).
    pub text: String,
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values were still cached from the previous generation (a shared
    /// system prompt, or a follow-up on the same sources), so prefill skipped them.
    pub reused_prompt_tokens: usize,
    pub completion_tokens: usize,
    /// Completion tokens that were guessed from the prompt and confirmed in one pass with others
    /// (prompt lookup), not decoded one at a time.
    pub guessed_tokens: usize,
    pub stop_reason: StopReason,
}
