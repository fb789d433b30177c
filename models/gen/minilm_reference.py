#!/usr/bin/env python3
"""Reference embeddings for all-MiniLM-L6-v2, computed independently of candle.

A plain numpy (float64) forward pass of BERT written out below, reading the weights with the
`safetensors` package and tokenising with the `tokenizers` package; masked mean pooling and L2
normalisation as sentence-transformers does. The Rust parity test
(crates/doctalk-models/tests/encoder.rs) compares doctalk's BertEncoder against the JSON this writes.

Setup (a throwaway venv; nothing here is a DocTalk dependency):
    python3 -m venv /var/cache/doctalk-ref-venv
    /var/cache/doctalk-ref-venv/bin/pip install numpy safetensors tokenizers
    scripts/fetch-models.sh
    /var/cache/doctalk-ref-venv/bin/python models/gen/minilm_reference.py \
        .models/all-MiniLM-L6-v2 crates/doctalk-models/tests/fixtures/minilm_reference.json
"""

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "The invoice must be paid within 30 days of receipt.",
    "How do I reset my password?",
    "To reset your password, open Settings and choose 'Forgot password'.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The Treaty of Westphalia (1648) ended the Thirty Years' War.",
    "Rust's borrow checker prevents data races at compile time.",
    "Café crème brûlée — naïve résumé façade!",
    "",
    "e-mail: support@example.com, tel. +1 (555) 010-9999",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "In the beginning of the quarterly report, the committee summarised revenue, costs, "
    "headcount changes and the outlook for the next fiscal year, noting that supply-chain "
    "delays had eased while energy prices remained volatile across most regions.",
]

MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def gelu(x):
    # BERT's "gelu" is the exact erf form, not the tanh approximation.
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def linear(x, w, b):
    return x @ w.T + b


class Bert:
    def __init__(self, model_dir: Path):
        self.cfg = json.loads((model_dir / "config.json").read_text())
        raw = load_file(str(model_dir / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in raw else ""
        self.w = {k[len(prefix):]: v.astype(np.float64) for k, v in raw.items() if k.startswith(prefix)}

    def forward(self, ids):
        c, w = self.cfg, self.w
        eps = c["layer_norm_eps"]
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        heads = c["num_attention_heads"]
        hd = c["hidden_size"] // heads
        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q = linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"])
            k = linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"])
            v = linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"])
            q, k, v = (t.reshape(n, heads, hd).transpose(1, 0, 2) for t in (q, k, v))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(1, 0, 2).reshape(n, heads * hd)
            attn = linear(ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
            x = layer_norm(x + attn, w[p + "attention.output.LayerNorm.weight"],
                           w[p + "attention.output.LayerNorm.bias"], eps)
            inter = gelu(linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
            out = linear(inter, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
            x = layer_norm(x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        return x


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: minilm_reference.py MODEL_DIR OUT_JSON")
    model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)
    bert = Bert(model_dir)
    items = []
    for text in SENTENCES:
        ids = tok.encode(text).ids
        hidden = bert.forward(np.array(ids))
        # One unpadded sentence: every position counts, so the masked mean is the plain mean.
        pooled = hidden.mean(0)
        emb = pooled / max(np.linalg.norm(pooled), 1e-12)
        items.append({"text": text, "token_ids": ids, "embedding": [float(f"{v:.7g}") for v in emb]})
    digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_safetensors_sha256": digest,
        "generator": "models/gen/minilm_reference.py (numpy float64 BERT forward, mean pooling, L2 norm)",
        "max_tokens": MAX_TOKENS,
        "sentences": items,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    # One sentence per line: readable diffs without a line per float.
    body = ",\n".join("  " + json.dumps(it, ensure_ascii=False) for it in items)
    head = json.dumps({k: v for k, v in doc.items() if k != "sentences"}, ensure_ascii=False, indent=1)
    out.write_text(head[:-2] + ',\n "sentences": [\n' + body + "\n ]\n}\n")
    print(f"wrote {len(items)} reference embeddings to {out}")


if __name__ == "__main__":
    main()
