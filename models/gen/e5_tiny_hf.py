#!/usr/bin/env python3
"""A tiny random multilingual-e5-small-shaped checkpoint in the HuggingFace layout, with reference outputs.

Writes into OUT_DIR (default crates/doctalk-models/tests/fixtures/e5/tiny-hf):
- config.json, model.safetensors (XLMRobertaModel names, f32, 32-wide, 2 layers, 34 positions with
  padding_idx 1 so real positions start at 2), tokenizer.json (XLM-R-style Unigram built with the
  `tokenizers` package: NFKC, Metaspace, <s> … </s>);
- expected.json: for a few texts (with the "query: "/"passage: " prefixes applied), the token ids
  from the `tokenizers` package and the embedding from an independent float64 numpy forward pass
  (BERT post-LN, exact GELU, masked mean pooling, L2 normalisation).

The Rust test crates/doctalk-models/tests/e5_hf.rs loads the directory with E5Encoder::load_hf_dir
and compares. Deterministic (seeded), so regenerating gives the same files.

    /var/cache/doctalk-e5-venv/bin/pip install numpy tokenizers==0.21.1
    /var/cache/doctalk-e5-venv/bin/python models/gen/e5_tiny_hf.py
"""

import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

H, LAYERS, HEADS, FF, PAD = 32, 2, 2, 64, 1
MAX_POS = 34  # 32 usable positions after padding_idx + 1
EPS = 1e-5
PIECES = [
    ("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0),
    ("▁", -3.0), ("▁query", -2.0), (":", -2.5), ("▁passage", -2.0), ("▁hello", -2.0),
    ("▁world", -2.5), ("▁出差", -3.0), ("住宿", -3.5), ("标准", -3.5), ("▁hotel", -2.5),
    ("▁cap", -3.0), ("s", -4.0), ("▁the", -2.0), ("a", -4.5), ("b", -4.5), ("c", -4.5),
]
TEXTS = [
    ("query", "hello world"),
    ("query", "出差住宿标准"),
    ("passage", "the hotel caps"),
    ("passage", "hello hello world the world abc"),
    ("passage", "ｈｅｌｌｏ  world"),
]


def make_tokenizer() -> Tokenizer:
    tok = Tokenizer(Unigram(PIECES, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tok


def make_weights(rng: np.random.Generator) -> dict:
    w = {}
    n = lambda *shape: (rng.standard_normal(shape) * 0.2).astype(np.float32)
    e = "embeddings."
    w[e + "word_embeddings.weight"] = n(len(PIECES), H)
    w[e + "position_embeddings.weight"] = n(MAX_POS, H)
    w[e + "token_type_embeddings.weight"] = n(1, H)
    w[e + "LayerNorm.weight"] = (1 + n(H)).astype(np.float32)
    w[e + "LayerNorm.bias"] = n(H)
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        for name, rows, cols in [
            ("attention.self.query", H, H), ("attention.self.key", H, H), ("attention.self.value", H, H),
            ("attention.output.dense", H, H), ("intermediate.dense", FF, H), ("output.dense", H, FF),
        ]:
            w[p + name + ".weight"] = n(rows, cols)
            w[p + name + ".bias"] = n(rows)
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"]:
            w[p + ln + ".weight"] = (1 + n(H)).astype(np.float32)
            w[p + ln + ".bias"] = n(H)
    # A pooler the encoder must ignore, as real XLMRobertaModel checkpoints carry one.
    w["pooler.dense.weight"] = n(H, H)
    w["pooler.dense.bias"] = n(H)
    return w


def write_safetensors(path: Path, tensors: dict) -> None:
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def forward(w: dict, ids: list) -> np.ndarray:
    w = {k: v.astype(np.float64) for k, v in w.items()}
    e = "embeddings."
    pos = np.arange(len(ids)) + PAD + 1  # XLM-R: positions start after padding_idx
    x = w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][pos] + w[e + "token_type_embeddings.weight"][0]
    x = layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"])
    hd = H // HEADS
    lin = lambda p, x: x @ w[p + ".weight"].T + w[p + ".bias"]
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        q, k, v = (lin(p + "attention.self." + m, x) for m in ("query", "key", "value"))
        ctx = np.zeros_like(x)
        for h in range(HEADS):
            s = slice(h * hd, (h + 1) * hd)
            att = q[:, s] @ k[:, s].T / math.sqrt(hd)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx[:, s] = att @ v[:, s]
        x = layer_norm(x + lin(p + "attention.output.dense", ctx), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        mid = gelu(lin(p + "intermediate.dense", x))
        x = layer_norm(x + lin(p + "output.dense", mid), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("crates/doctalk-models/tests/fixtures/e5/tiny-hf")
    out.mkdir(parents=True, exist_ok=True)
    tok = make_tokenizer()
    tok.save(str(out / "tokenizer.json"))
    weights = make_weights(np.random.default_rng(7))
    write_safetensors(out / "model.safetensors", weights)
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_size": H,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": FF,
        "hidden_act": "gelu", "vocab_size": len(PIECES), "max_position_embeddings": MAX_POS,
        "type_vocab_size": 1, "layer_norm_eps": EPS, "pad_token_id": PAD, "bos_token_id": 0,
        "eos_token_id": 2, "position_embedding_type": "absolute",
    }
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    records = []
    for kind, text in TEXTS:
        ids = tok.encode(f"{kind}: {text}").ids
        records.append({"kind": kind, "text": text, "ids": ids, "embedding": [round(float(v), 6) for v in forward(weights, ids)]})
    (out / "expected.json").write_text(json.dumps({"generator": "models/gen/e5_tiny_hf.py", "records": records}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote tiny checkpoint and {len(records)} reference vectors to {out}")


if __name__ == "__main__":
    main()
