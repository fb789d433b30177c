//! Whisper weights in CTranslate2's `model.bin` (the format faster-whisper ships, and the one the
//! registry package carries), read into candle tensors under the HuggingFace names that
//! `candle_transformers::models::whisper` loads.
//!
//! The file: `u32 version`, then (version ≥ 2) the spec name and a `u32` revision, `u32` variable
//! count, and per variable its name, `u8` rank, `u32` dims, (version ≥ 4) a `u8` dtype and a `u32`
//! byte count, then the raw little-endian data, unaligned; finally aliases (version ≥ 3). Strings
//! are a `u16` length that counts a trailing NUL. CTranslate2 fuses q/k/v (and cross-attention
//! k/v) by rows; they are split here.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};

use doctalk_models::{ModelError, Result};

/// One variable as stored.
pub(crate) struct Variable {
    pub shape: Vec<usize>,
    pub dtype: u8,
    pub data: Vec<u8>,
}

const DT_F32: u8 = 0;
const DT_I8: u8 = 1;
const DT_I16: u8 = 2;
const DT_I32: u8 = 3;
const DT_F16: u8 = 4;
const DT_BF16: u8 = 5;

fn item_size(dtype: u8) -> Option<usize> {
    match dtype {
        DT_I8 => Some(1),
        DT_I16 | DT_F16 | DT_BF16 => Some(2),
        DT_F32 | DT_I32 => Some(4),
        _ => None,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| self.corrupt(format!("truncated at byte {} (wanted {n} more bytes)", self.at)))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.u16()? as usize;
        let raw = self.take(n)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec()).map_err(|_| self.corrupt("a name is not UTF-8".into()))
    }
    fn corrupt(&self, reason: String) -> ModelError {
        ModelError::CorruptFile {
            path: self.path.to_owned(),
            reason,
        }
    }
}

/// Every variable of a CTranslate2 model file, aliases resolved to copies of their targets' names.
pub(crate) fn read_variables(path: &Path) -> Result<(String, HashMap<String, Variable>)> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&bytes, path)
}

fn parse(bytes: &[u8], path: &Path) -> Result<(String, HashMap<String, Variable>)> {
    let mut r = Reader { bytes, at: 0, path };
    let version = r.u32()?;
    if !(1..=6).contains(&version) {
        return Err(r.corrupt(format!(
            "not a CTranslate2 model (binary version {version}; expected 1 to 6)"
        )));
    }
    let spec = if version >= 2 {
        let name = r.string()?;
        let _revision = r.u32()?;
        name
    } else {
        String::new()
    };
    let count = r.u32()? as usize;
    if count > 100_000 {
        return Err(r.corrupt(format!("{count} variables is not plausible")));
    }
    let mut vars = HashMap::with_capacity(count);
    for _ in 0..count {
        let name = r.string()?;
        let rank = r.u8()? as usize;
        let shape = (0..rank)
            .map(|_| r.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>>>()?;
        let (dtype, nbytes) = if version >= 4 {
            let dtype = r.u8()?;
            let nbytes = r.u32()? as usize;
            (dtype, nbytes)
        } else {
            // Older files store the item size and an element count.
            let size = r.u8()?;
            let n = r.u32()? as usize;
            let dtype = match size {
                1 => DT_I8,
                2 => DT_I16,
                _ => DT_F32,
            };
            (dtype, n * size as usize)
        };
        let item = item_size(dtype).ok_or_else(|| r.corrupt(format!("{name}: unknown dtype id {dtype}")))?;
        // Checked: a shape from a damaged file can overflow any product of its sizes.
        let needed = doctalk_models::dims::element_count(&shape).and_then(|n| n.checked_mul(item));
        if needed != Some(nbytes) {
            return Err(r.corrupt(match needed {
                Some(needed) => {
                    format!("{name}: shape {shape:?} needs {needed} bytes but {nbytes} are stored")
                }
                None => format!("{name}: shape {shape:?} is too large to be stored"),
            }));
        }
        let data = r.take(nbytes)?.to_vec();
        vars.insert(name, Variable { shape, dtype, data });
    }
    if version >= 3 {
        let aliases = r.u32()? as usize;
        // Each alias is a copy of its target: a damaged file naming one tensor many times over
        // would ask for many times the file's size. Real files alias a few tensors (Whisper: the
        // output projection to the embeddings), far less than the file holds.
        let mut copied = 0usize;
        for _ in 0..aliases {
            let alias = r.string()?;
            let target = r.string()?;
            let v = vars
                .get(&target)
                .ok_or_else(|| r.corrupt(format!("alias {alias} points to missing {target}")))?;
            copied = copied.saturating_add(v.data.len());
            if copied > bytes.len() {
                return Err(r.corrupt(format!(
                    "its aliases copy more than the file's {} bytes (damaged?)",
                    bytes.len()
                )));
            }
            let copy = Variable {
                shape: v.shape.clone(),
                dtype: v.dtype,
                data: v.data.clone(),
            };
            vars.insert(alias, copy);
        }
    }
    Ok((spec, vars))
}

impl Variable {
    /// The values as f32 (f16/bf16 widened exactly; integers converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match self.dtype {
            DT_F32 => self
                .data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DT_F16 => self
                .data
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
            DT_BF16 => self
                .data
                .chunks_exact(2)
                .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
                .collect(),
            DT_I8 => self.data.iter().map(|&b| b as i8 as f32).collect(),
            DT_I16 => self
                .data
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32)
                .collect(),
            _ => self
                .data
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
                .collect(),
        }
    }

    /// A scalar's integer value.
    pub fn scalar(&self) -> Option<i64> {
        (self.shape.iter().product::<usize>() == 1).then(|| self.to_f32()[0] as i64)
    }
}

/// IEEE half → single precision, exactly (subnormals, infinities and NaN included).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = frac × 2^-24, exact in f32.
            let v = frac as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// The tensors `candle_transformers::models::whisper::model::Whisper` loads, by HuggingFace name.
pub(crate) fn to_hf_tensors(
    vars: &HashMap<String, Variable>,
    path: &Path,
    device: &Device,
) -> Result<HashMap<String, Tensor>> {
    let get = |name: &str| {
        vars.get(name).ok_or_else(|| ModelError::CorruptFile {
            path: path.to_owned(),
            reason: format!("no variable {name}"),
        })
    };
    let tensor = |name: &str| -> Result<Tensor> {
        let v = get(name)?;
        Ok(Tensor::from_vec(v.to_f32(), v.shape.as_slice(), device)?)
    };
    let mut out = HashMap::new();
    let linear = |out: &mut HashMap<String, Tensor>, from: &str, to: &str, bias: bool| -> Result<()> {
        out.insert(format!("{to}.weight"), tensor(&format!("{from}/weight"))?);
        if bias {
            out.insert(format!("{to}.bias"), tensor(&format!("{from}/bias"))?);
        }
        Ok(())
    };
    let norm = |out: &mut HashMap<String, Tensor>, from: &str, to: &str| -> Result<()> {
        out.insert(format!("{to}.weight"), tensor(&format!("{from}/gamma"))?);
        out.insert(format!("{to}.bias"), tensor(&format!("{from}/beta"))?);
        Ok(())
    };
    // Fused projections: rows [q; k; v] (self-attention) or [k; v] (cross-attention).
    let split = |out: &mut HashMap<String, Tensor>, from: &str, to: &[&str]| -> Result<()> {
        let w = tensor(&format!("{from}/weight"))?;
        let b = tensor(&format!("{from}/bias"))?;
        let rows = w.dim(0)? / to.len();
        for (i, name) in to.iter().enumerate() {
            out.insert(
                format!("{name}.weight"),
                w.narrow(0, i * rows, rows)?.contiguous()?,
            );
            // Whisper's key projection has no bias (CTranslate2 stores zeros there).
            if !name.ends_with("k_proj") {
                out.insert(format!("{name}.bias"), b.narrow(0, i * rows, rows)?.contiguous()?);
            }
        }
        Ok(())
    };

    // What encoder and decoder layers share: self-attention and the feed-forward block.
    let self_attention_and_ffn = |out: &mut HashMap<String, Tensor>, from: &str, to: &str| -> Result<()> {
        let attn = format!("{to}.self_attn");
        let (q, k, v) = (
            format!("{attn}.q_proj"),
            format!("{attn}.k_proj"),
            format!("{attn}.v_proj"),
        );
        split(out, &format!("{from}/self_attention/linear_0"), &[&q, &k, &v])?;
        linear(
            out,
            &format!("{from}/self_attention/linear_1"),
            &format!("{attn}.out_proj"),
            true,
        )?;
        norm(
            out,
            &format!("{from}/self_attention/layer_norm"),
            &format!("{to}.self_attn_layer_norm"),
        )?;
        linear(out, &format!("{from}/ffn/linear_0"), &format!("{to}.fc1"), true)?;
        linear(out, &format!("{from}/ffn/linear_1"), &format!("{to}.fc2"), true)?;
        norm(
            out,
            &format!("{from}/ffn/layer_norm"),
            &format!("{to}.final_layer_norm"),
        )
    };

    linear(&mut out, "encoder/conv1", "model.encoder.conv1", true)?;
    linear(&mut out, "encoder/conv2", "model.encoder.conv2", true)?;
    norm(&mut out, "encoder/layer_norm", "model.encoder.layer_norm")?;
    for i in 0..count_layers(vars, "encoder") {
        self_attention_and_ffn(
            &mut out,
            &format!("encoder/layer_{i}"),
            &format!("model.encoder.layers.{i}"),
        )?;
    }

    out.insert(
        "model.decoder.embed_tokens.weight".into(),
        tensor("decoder/embeddings/weight")?,
    );
    out.insert(
        "model.decoder.embed_positions.weight".into(),
        tensor("decoder/position_encodings/encodings")?,
    );
    norm(&mut out, "decoder/layer_norm", "model.decoder.layer_norm")?;
    for i in 0..count_layers(vars, "decoder") {
        let (from, to) = (format!("decoder/layer_{i}"), format!("model.decoder.layers.{i}"));
        self_attention_and_ffn(&mut out, &from, &to)?;
        let cross = format!("{to}.encoder_attn");
        linear(
            &mut out,
            &format!("{from}/attention/linear_0"),
            &format!("{cross}.q_proj"),
            true,
        )?;
        let (k, v) = (format!("{cross}.k_proj"), format!("{cross}.v_proj"));
        split(&mut out, &format!("{from}/attention/linear_1"), &[&k, &v])?;
        linear(
            &mut out,
            &format!("{from}/attention/linear_2"),
            &format!("{cross}.out_proj"),
            true,
        )?;
        norm(
            &mut out,
            &format!("{from}/attention/layer_norm"),
            &format!("{to}.encoder_attn_layer_norm"),
        )?;
    }
    Ok(out)
}

/// Layers `layer_0 … layer_{n-1}` present under `prefix`.
pub(crate) fn count_layers(vars: &HashMap<String, Variable>, prefix: &str) -> usize {
    (0..)
        .take_while(|i| vars.contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight")))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// A two-variable version-6 file with one alias, as CTranslate2 writes it (unaligned data).
    fn tiny_file() -> Vec<u8> {
        let mut f = 6u32.to_le_bytes().to_vec();
        string(&mut f, "WhisperSpec");
        f.extend_from_slice(&3u32.to_le_bytes());
        f.extend_from_slice(&2u32.to_le_bytes());
        string(&mut f, "a/weight");
        f.push(2);
        f.extend_from_slice(&2u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.push(DT_F16);
        f.extend_from_slice(&4u32.to_le_bytes());
        for v in [1.5f32, -2.0] {
            // 1.5 = 0x3E00, -2.0 = 0xC000 in IEEE half.
            let h: u16 = if v > 0.0 { 0x3E00 } else { 0xC000 };
            f.extend_from_slice(&h.to_le_bytes());
        }
        string(&mut f, "a/num_heads");
        f.push(0);
        f.push(DT_I16);
        f.extend_from_slice(&2u32.to_le_bytes());
        f.extend_from_slice(&8i16.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        string(&mut f, "b/weight");
        string(&mut f, "a/weight");
        f
    }

    #[test]
    fn reads_variables_scalars_and_aliases() {
        let (spec, vars) = parse(&tiny_file(), Path::new("model.bin")).unwrap();
        assert_eq!(spec, "WhisperSpec");
        assert_eq!(vars["a/weight"].shape, vec![2, 1]);
        assert_eq!(vars["a/weight"].to_f32(), vec![1.5, -2.0]);
        assert_eq!(vars["a/num_heads"].scalar(), Some(8));
        assert_eq!(vars["b/weight"].to_f32(), vec![1.5, -2.0]);
    }

    /// A version-6 file with one variable of `shape` holding `data`, and `aliases` names for it.
    fn one_variable(shape: &[u32], data: &[u8], aliases: usize) -> Vec<u8> {
        let mut f = 6u32.to_le_bytes().to_vec();
        string(&mut f, "WhisperSpec");
        f.extend_from_slice(&3u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        string(&mut f, "a/weight");
        f.push(shape.len() as u8);
        for d in shape {
            f.extend_from_slice(&d.to_le_bytes());
        }
        f.push(DT_I8);
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        f.extend_from_slice(data);
        f.extend_from_slice(&(aliases as u32).to_le_bytes());
        for i in 0..aliases {
            string(&mut f, &format!("alias/{i}"));
            string(&mut f, "a/weight");
        }
        f
    }

    #[test]
    fn shapes_too_large_and_alias_copies_past_the_file_are_corrupt_not_panics() {
        // The product of these sizes overflows (a panic before sizes were multiplied checked).
        let huge = one_variable(&[u32::MAX, u32::MAX, u32::MAX], &[], 0);
        let err = parse(&huge, Path::new("model.bin")).err().unwrap().to_string();
        assert!(err.contains("too large"), "{err}");
        // 64 names for one 4 KiB tensor would copy 256 KiB out of a 5 KiB file.
        let bomb = one_variable(&[4096], &[7; 4096], 64);
        let err = parse(&bomb, Path::new("model.bin")).err().unwrap().to_string();
        assert!(err.contains("aliases copy more than the file"), "{err}");
        // A real file's few aliases still load.
        let (_, vars) = parse(&one_variable(&[4096], &[7; 4096], 1), Path::new("model.bin")).unwrap();
        assert_eq!(vars["alias/0"].data.len(), 4096);
    }

    #[test]
    fn half_precision_widens_exactly() {
        assert_eq!(f16_to_f32(0x3C00), 1.0);
        assert_eq!(f16_to_f32(0xC000), -2.0);
        assert_eq!(f16_to_f32(0x7BFF), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert!(f16_to_f32(0x7C00).is_infinite() && f16_to_f32(0x7E00).is_nan());
    }

    #[test]
    fn truncated_and_foreign_files_are_corrupt_not_panics() {
        let file = tiny_file();
        for cut in [0, 3, 10, 30, file.len() - 1] {
            let err = parse(&file[..cut], Path::new("model.bin"))
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("model.bin"), "{err}");
        }
        let err = parse(b"GGUF\x03\0\0\0", Path::new("x.gguf"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not a CTranslate2 model"), "{err}");
    }
}
