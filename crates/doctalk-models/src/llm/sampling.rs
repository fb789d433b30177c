//! Turning a row of logits into the next token: repeat penalty, then greedy or sampled choice.

use candle_core::{DType, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};

use super::types::GenerationParams;
use crate::error::{ModelError, Result};

/// Per-generation sampling state (the RNG lives here, so one `Sampler` per `generate` call).
pub(crate) struct Sampler {
    processor: LogitsProcessor,
    repeat_penalty: f32,
    repeat_last_n: usize,
}

impl Sampler {
    pub(crate) fn new(params: &GenerationParams) -> Result<Self> {
        validate(params)?;
        let temperature = params.temperature;
        let sampling = if temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            match (params.top_k, params.top_p) {
                (None, None) => Sampling::All { temperature },
                (Some(k), None) => Sampling::TopK { k, temperature },
                (None, Some(p)) => Sampling::TopP { p, temperature },
                (Some(k), Some(p)) => Sampling::TopKThenTopP { k, p, temperature },
            }
        };
        Ok(Self {
            processor: LogitsProcessor::from_sampling(params.seed, sampling),
            repeat_penalty: params.repeat_penalty,
            repeat_last_n: params.repeat_last_n,
        })
    }

    /// `logits` is one row (vocab) in any float dtype; `context` is every token so far.
    pub(crate) fn next_token(&mut self, logits: &Tensor, context: &[u32]) -> Result<u32> {
        let logits = logits.to_dtype(DType::F32)?;
        let logits = if self.repeat_penalty == 1.0 || context.is_empty() {
            logits
        } else {
            let start = context.len().saturating_sub(self.repeat_last_n);
            candle_transformers::utils::apply_repeat_penalty(&logits, self.repeat_penalty, &context[start..])?
        };
        Ok(self.processor.sample(&logits)?)
    }
}

fn validate(p: &GenerationParams) -> Result<()> {
    let bad = |msg: String| Err(ModelError::InvalidParams(msg));
    if !p.temperature.is_finite() || p.temperature < 0.0 {
        return bad(format!("temperature must be >= 0, got {}", p.temperature));
    }
    if let Some(top_p) = p.top_p {
        if !(top_p > 0.0 && top_p <= 1.0) {
            return bad(format!("top_p must be in (0, 1], got {top_p}"));
        }
    }
    if p.top_k == Some(0) {
        return bad("top_k must be at least 1".into());
    }
    if !p.repeat_penalty.is_finite() || p.repeat_penalty <= 0.0 {
        return bad(format!("repeat_penalty must be > 0, got {}", p.repeat_penalty));
    }
    if p.stop.iter().any(String::is_empty) {
        return bad("stop strings must not be empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn row(values: &[f32]) -> Tensor {
        Tensor::new(values, &Device::Cpu).unwrap()
    }

    #[test]
    fn greedy_picks_the_largest_logit() {
        let mut s = Sampler::new(&GenerationParams::greedy(1)).unwrap();
        assert_eq!(s.next_token(&row(&[0.1, 3.0, 2.0]), &[]).unwrap(), 1);
    }

    #[test]
    fn repeat_penalty_moves_greedy_off_a_repeated_token() {
        let params = GenerationParams {
            repeat_penalty: 2.0,
            ..GenerationParams::greedy(1)
        };
        let mut s = Sampler::new(&params).unwrap();
        // 3.0 / 2 = 1.5 < 2.0: token 1 was already said, so token 2 wins.
        assert_eq!(s.next_token(&row(&[0.1, 3.0, 2.0]), &[1]).unwrap(), 2);
    }

    #[test]
    fn top_k_one_is_greedy_even_when_hot() {
        let params = GenerationParams {
            temperature: 5.0,
            top_k: Some(1),
            ..GenerationParams::greedy(1)
        };
        let mut s = Sampler::new(&params).unwrap();
        for _ in 0..20 {
            assert_eq!(s.next_token(&row(&[0.1, 3.0, 2.9]), &[]).unwrap(), 1);
        }
    }

    #[test]
    fn sampling_is_reproducible_for_a_seed() {
        let params = GenerationParams {
            temperature: 1.0,
            top_p: Some(0.95),
            seed: 7,
            ..GenerationParams::greedy(1)
        };
        let logits = row(&[1.0, 1.1, 0.9, 1.05]);
        let draw = || {
            let mut s = Sampler::new(&params).unwrap();
            (0..16)
                .map(|_| s.next_token(&logits, &[]).unwrap())
                .collect::<Vec<_>>()
        };
        let first = draw();
        assert_eq!(first, draw());
        assert!(
            first.iter().any(|&t| t != first[0]),
            "a hot sampler should vary: {first:?}"
        );
    }

    #[test]
    fn nonsense_parameters_are_rejected() {
        for params in [
            GenerationParams {
                temperature: -1.0,
                ..Default::default()
            },
            GenerationParams {
                top_p: Some(0.0),
                ..Default::default()
            },
            GenerationParams {
                top_k: Some(0),
                ..Default::default()
            },
            GenerationParams {
                stop: vec![String::new()],
                ..Default::default()
            },
        ] {
            assert!(matches!(Sampler::new(&params), Err(ModelError::InvalidParams(_))));
        }
    }
}
