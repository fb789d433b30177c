//! How to load and run an encoder: everything that is a choice rather than a fact of the files.

use crate::bert::MatmulPath;
use crate::device::DeviceChoice;
use doctalk_catalog::ModelSpec;

/// Inputs per forward pass. 32 keeps padding waste low after length sorting and memory small.
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// The hard ceiling for BERT-family position tables.
pub const BERT_MAX_POSITIONS: usize = 512;

/// Options for [`BertEncoder::load`](crate::BertEncoder::load). Setters take and return `self`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderOptions {
    pub(crate) model_id: String,
    pub(crate) expected_dimension: Option<usize>,
    pub(crate) max_tokens: Option<usize>,
    pub(crate) fallback_max_tokens: usize,
    pub(crate) batch_size: usize,
    pub(crate) query_prefix: String,
    pub(crate) passage_prefix: String,
    pub(crate) device: DeviceChoice,
    pub(crate) matmul: MatmulPath,
}

impl EncoderOptions {
    /// Options for a model this crate knows: its id, dimension (checked at load), prefixes and length.
    pub fn for_spec(spec: &ModelSpec) -> Self {
        EncoderOptions {
            model_id: spec.id.to_string(),
            expected_dimension: Some(spec.dimension),
            max_tokens: None,
            fallback_max_tokens: spec.max_tokens,
            batch_size: DEFAULT_BATCH_SIZE,
            query_prefix: spec.query_prefix.to_string(),
            passage_prefix: spec.passage_prefix.to_string(),
            device: DeviceChoice::Cpu,
            matmul: MatmulPath::default(),
        }
    }

    /// Options for any BERT directory: no prefixes, the full position table, dimension from config.json.
    pub fn new(model_id: impl Into<String>) -> Self {
        EncoderOptions {
            model_id: model_id.into(),
            expected_dimension: None,
            max_tokens: None,
            fallback_max_tokens: BERT_MAX_POSITIONS,
            batch_size: DEFAULT_BATCH_SIZE,
            query_prefix: String::new(),
            passage_prefix: String::new(),
            device: DeviceChoice::Cpu,
            matmul: MatmulPath::default(),
        }
    }

    /// Truncate inputs to this many tokens, overriding `sentence_bert_config.json` (still capped by
    /// the model's position table).
    pub fn max_tokens(mut self, n: usize) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Inputs per forward pass (at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Text prepended to queries and to passages.
    pub fn prefixes(mut self, query: impl Into<String>, passage: impl Into<String>) -> Self {
        self.query_prefix = query.into();
        self.passage_prefix = passage.into();
        self
    }

    /// Where to run the model.
    pub fn device(mut self, device: DeviceChoice) -> Self {
        self.device = device;
        self
    }

    /// How the matrices are multiplied (default: DocTalk's integer kernels on the CPU).
    pub fn matmul(mut self, path: MatmulPath) -> Self {
        self.matmul = path;
        self
    }
}
