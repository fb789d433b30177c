//! A `tokenizers::Tokenizer` rebuilt from the vocabulary a GGUF file carries in its metadata.
//!
//! Many GGUF files ship without a `tokenizer.json`. llama.cpp stores the vocabulary instead:
//! `tokenizer.ggml.model` (`gpt2` = byte-level BPE with merges, `llama` = SentencePiece with scores),
//! `tokens`, `token_type` (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte), `merges`
//! or `scores`, and `tokenizer.ggml.pre`, which names the pre-tokenizer regex of the original model.

use std::collections::HashMap;

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::{Prepend, Replace, NFC};
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence as PreSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer,
};

use crate::error::{ModelError, Result};

const TOKEN_TYPE_CONTROL: i64 = 3;
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

/// Qwen2 / Qwen2.5 / Qwen3 (`tokenizer.ggml.pre = qwen2`), as in their tokenizer.json.
const QWEN2_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3 (`llama-bpe`): like Qwen2 but numbers in groups of up to three digits.
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Builds the tokenizer described by `content`'s metadata. `what` names the file in errors.
pub(crate) fn tokenizer_from_gguf(content: &Content, what: &str) -> Result<Tokenizer> {
    let md = &content.metadata;
    let bad = |reason: String| ModelError::tokenizer(format!("{what}: {reason}"));
    let model = get_str(md, "tokenizer.ggml.model").ok_or_else(|| bad("no tokenizer.ggml.model".into()))?;
    let tokens =
        get_strings(md, "tokenizer.ggml.tokens").ok_or_else(|| bad("no tokenizer.ggml.tokens".into()))?;
    let types = get_ints(md, "tokenizer.ggml.token_type").unwrap_or_default();
    let mut tokenizer = match model {
        "gpt2" => {
            let merges = get_strings(md, "tokenizer.ggml.merges")
                .ok_or_else(|| bad("a gpt2 tokenizer needs tokenizer.ggml.merges".into()))?;
            let pre = get_str(md, "tokenizer.ggml.pre").unwrap_or("default");
            byte_level_bpe(&tokens, &merges, pre).map_err(|e| bad(e.to_string()))?
        }
        "llama" => {
            let scores = get_floats(md, "tokenizer.ggml.scores")
                .ok_or_else(|| bad("a llama tokenizer needs tokenizer.ggml.scores".into()))?;
            let add_space_prefix = md
                .get("tokenizer.ggml.add_space_prefix")
                .and_then(|v| v.to_bool().ok())
                .unwrap_or(true);
            let unk =
                get_int(md, "tokenizer.ggml.unknown_token_id").and_then(|i| tokens.get(i as usize).cloned());
            sentencepiece_bpe(&tokens, &scores, &types, unk, add_space_prefix)
                .map_err(|e| bad(e.to_string()))?
        }
        other => return Err(bad(format!("unsupported tokenizer.ggml.model {other:?}"))),
    };
    // Control and user-defined tokens (<|im_start|>, <start_of_turn>, ...) must be matched whole in the
    // rendered prompt, never split by the BPE: register them as added tokens.
    let special: Vec<AddedToken> = tokens
        .iter()
        .zip(types.iter())
        .filter(|(_, &t)| t == TOKEN_TYPE_CONTROL || t == TOKEN_TYPE_USER_DEFINED)
        .filter(|(tok, _)| !tok.is_empty())
        .map(|(tok, &t)| AddedToken::from(tok.clone(), t == TOKEN_TYPE_CONTROL))
        .collect();
    tokenizer
        .add_special_tokens(special)
        .map_err(|e| bad(e.to_string()))?;
    Ok(tokenizer)
}

fn byte_level_bpe(tokens: &[String], merges: &[String], pre: &str) -> tokenizers::Result<Tokenizer> {
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let merges = merges
        .iter()
        .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect();
    let bpe = BPE::builder().vocab_and_merges(vocab, merges).build()?;
    let mut tokenizer = Tokenizer::new(bpe);
    let split = |pattern: &str| -> tokenizers::Result<PreTokenizerWrapper> {
        Ok(Split::new(
            SplitPattern::Regex(pattern.into()),
            SplitDelimiterBehavior::Isolated,
            false,
        )?
        .into())
    };
    // The regex does the splitting; ByteLevel then only maps bytes to its printable alphabet.
    let bytes_only: PreTokenizerWrapper = ByteLevel::new(false, false, false).into();
    let pre_tokenizer: PreTokenizerWrapper = match pre {
        "qwen2" => PreSequence::new(vec![split(QWEN2_PATTERN)?, bytes_only]).into(),
        "llama-bpe" | "llama3" => PreSequence::new(vec![split(LLAMA3_PATTERN)?, bytes_only]).into(),
        // SmolLM's tokenizer.json: single digits, then GPT-2's own regex.
        "smollm" => PreSequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, false, true).into(),
        ])
        .into(),
        _ => ByteLevel::new(false, false, true).into(),
    };
    if pre == "qwen2" {
        tokenizer.with_normalizer(Some(NormalizerWrapper::from(NFC)))?;
    }
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
    tokenizer.with_decoder(Some(DecoderWrapper::from(ByteLevel::default())));
    Ok(tokenizer)
}

/// SentencePiece BPE (Llama 2, Gemma) expressed as a `tokenizers` BPE: merges are recovered from the
/// vocabulary the way `transformers`' SentencePiece converter does it: every split of a piece into two
/// pieces that both exist is a merge, ranked by the merged piece's score.
fn sentencepiece_bpe(
    tokens: &[String],
    scores: &[f64],
    types: &[i64],
    unk: Option<String>,
    add_space_prefix: bool,
) -> tokenizers::Result<Tokenizer> {
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let mut ranked: Vec<(f64, u32, (String, String))> = Vec::new();
    for (id, piece) in tokens.iter().enumerate() {
        let normal = types.get(id).is_none_or(|&t| t == 1);
        if !normal || piece.chars().count() < 2 {
            continue;
        }
        for (at, _) in piece.char_indices().skip(1) {
            let (left, right) = piece.split_at(at);
            if let (Some(&l), Some(&r)) = (vocab.get(left), vocab.get(right)) {
                let score = scores.get(id).copied().unwrap_or(0.0);
                ranked.push((score, l.max(r), (left.to_string(), right.to_string())));
            }
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let merges = ranked.into_iter().map(|(_, _, m)| m).collect();
    let mut builder = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .byte_fallback(true)
        .fuse_unk(true);
    if let Some(unk) = unk {
        builder = builder.unk_token(unk);
    }
    let mut tokenizer = Tokenizer::new(builder.build()?);
    let space: NormalizerWrapper = Replace::new(" ", "▁")?.into();
    let normalizer: NormalizerWrapper = if add_space_prefix {
        tokenizers::normalizers::Sequence::new(vec![Prepend::new("▁".into()).into(), space]).into()
    } else {
        space
    };
    tokenizer.with_normalizer(Some(normalizer))?;
    tokenizer.with_decoder(Some(DecoderWrapper::from(DecoderSequence::new(vec![
        tokenizers::decoders::DecoderWrapper::Replace(Replace::new("▁", " ")?),
        ByteFallback::new().into(),
        Fuse::new().into(),
    ]))));
    Ok(tokenizer)
}

pub(crate) fn get_str<'a>(md: &'a HashMap<String, Value>, key: &str) -> Option<&'a str> {
    md.get(key).and_then(|v| v.to_string().ok()).map(String::as_str)
}

fn get_strings(md: &HashMap<String, Value>, key: &str) -> Option<Vec<String>> {
    let values = md.get(key)?.to_vec().ok()?;
    values.iter().map(|v| v.to_string().ok().cloned()).collect()
}

pub(crate) fn get_int(md: &HashMap<String, Value>, key: &str) -> Option<i64> {
    int_of(md.get(key)?)
}

fn get_ints(md: &HashMap<String, Value>, key: &str) -> Option<Vec<i64>> {
    md.get(key)?.to_vec().ok()?.iter().map(int_of).collect()
}

fn get_floats(md: &HashMap<String, Value>, key: &str) -> Option<Vec<f64>> {
    md.get(key)?
        .to_vec()
        .ok()?
        .iter()
        .map(|v| match v {
            Value::F32(x) => Some(f64::from(*x)),
            Value::F64(x) => Some(*x),
            _ => None,
        })
        .collect()
}

/// GGUF writers differ in the integer width they use for ids and types; accept any.
pub(crate) fn int_of(v: &Value) -> Option<i64> {
    Some(match v {
        Value::U8(x) => i64::from(*x),
        Value::I8(x) => i64::from(*x),
        Value::U16(x) => i64::from(*x),
        Value::I16(x) => i64::from(*x),
        Value::U32(x) => i64::from(*x),
        Value::I32(x) => i64::from(*x),
        Value::U64(x) => i64::try_from(*x).ok()?,
        Value::I64(x) => *x,
        _ => return None,
    })
}
