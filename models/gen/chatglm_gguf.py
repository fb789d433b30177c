#!/usr/bin/env python3
"""ChatGLM3 as llama.cpp stores it in GGUF (architecture `chatglm`), for doctalk-models' quantized GLM path.

  fixture        converts the tiny ChatGLM3 checkpoint of glm_tiny.py (tests/fixtures/llm/chatglm3) to an f32
                 GGUF with llama.cpp's tensor names and metadata, next to a copy of its tokenizer.json and
                 PyTorch reference logits (tests/fixtures/llm/chatglm3-gguf). With --check-llamacpp it also
                 runs the file through llama.cpp and compares its logits with the PyTorch reference, which
                 shows that our naming and rotary convention are llama.cpp's own.
  bench OUT.gguf writes a GGUF with ChatGLM3-6B's exact shape and random Q4_0 weights (about 3.6 GB) for
                 decode benchmarks of our engine against llama.cpp on the same file. Not a usable model.

Run: /var/cache/doctalk-llamacpp-venv/bin/python models/gen/chatglm_gguf.py fixture [--check-llamacpp]
     /var/cache/doctalk-llamacpp-venv/bin/python models/gen/chatglm_gguf.py bench /var/cache/doctalk-bench/chatglm3-6b-shape-q4_0.gguf
(venv: numpy, gguf, safetensors; llama-cpp-python for the check)
"""
import json
import pathlib
import shutil
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, TokenType

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "crates/doctalk-models/tests/fixtures/llm"

# ChatGLM3-6B's config.json.
CHATGLM3_6B = dict(
    padded_vocab_size=65024, hidden_size=4096, ffn_hidden_size=13696, num_layers=28,
    num_attention_heads=32, multi_query_group_num=2, kv_channels=128, seq_length=8192,
    layernorm_epsilon=1e-5, rope_ratio=1,
)


def write_header(w: GGUFWriter, cfg: dict, tokens: list, name: str):
    """Metadata exactly as llama.cpp's convert_hf_to_gguf.py writes it for ChatGLM3."""
    w.add_name(name)
    w.add_context_length(cfg["seq_length"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["ffn_hidden_size"])
    w.add_block_count(cfg["num_layers"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["multi_query_group_num"])
    w.add_layer_norm_rms_eps(cfg["layernorm_epsilon"])
    w.add_file_type(0)
    w.add_rope_dimension_count(cfg["kv_channels"] // 2)
    w.add_rope_freq_base(10000.0 * cfg.get("rope_ratio", 1))
    w.add_add_bos_token(False)
    # A SentencePiece-shaped vocabulary so that llama.cpp accepts the file; DocTalk prefers the
    # tokenizer.json written beside it.
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * len(tokens))
    w.add_token_types([
        TokenType.BYTE if len(t) == 6 and t.startswith("<0x") and t.endswith(">")
        else TokenType.CONTROL if t.startswith(("<", "["))
        else TokenType.NORMAL
        for t in tokens
    ])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)


def hf_to_gguf_name(name: str) -> str | None:
    parts = name.split(".")
    if name == "transformer.embedding.word_embeddings.weight":
        return "token_embd.weight"
    if name == "transformer.encoder.final_layernorm.weight":
        return "output_norm.weight"
    if name == "transformer.output_layer.weight":
        return "output.weight"
    if name.endswith("rotary_pos_emb.inv_freq"):
        return None
    # transformer.encoder.layers.N.<module>.<param>
    n, rest = parts[3], ".".join(parts[4:])
    table = {
        "input_layernorm.weight": "attn_norm.weight",
        "self_attention.query_key_value.weight": "attn_qkv.weight",
        "self_attention.query_key_value.bias": "attn_qkv.bias",
        "self_attention.dense.weight": "attn_output.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "mlp.dense_h_to_4h.weight": "ffn_up.weight",
        "mlp.dense_4h_to_h.weight": "ffn_down.weight",
    }
    return f"blk.{n}.{table[rest]}"


def fixture(check_llamacpp: bool):
    from safetensors.numpy import load_file

    src, dst = FIXTURES / "chatglm3", FIXTURES / "chatglm3-gguf"
    dst.mkdir(exist_ok=True)
    cfg = json.loads((src / "config.json").read_text())
    vocab = json.loads((src / "tokenizer.json").read_text())["model"]["vocab"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    w = GGUFWriter(str(dst / "model.gguf"), "chatglm")
    write_header(w, cfg, tokens, "chatglm3-tiny-random")
    for name, tensor in sorted(load_file(str(src / "model.safetensors")).items()):
        gname = hf_to_gguf_name(name)
        if gname:
            w.add_tensor(gname, tensor.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    for f in ("tokenizer.json", "expected.json"):
        shutil.copy(src / f, dst / f)
    print(f"wrote {dst / 'model.gguf'}")
    if check_llamacpp:
        check_with_llamacpp(dst)


def check_with_llamacpp(d: pathlib.Path):
    from llama_cpp import Llama

    expected = json.loads((d / "expected.json").read_text())
    # f32 KV cache: llama.cpp's default f16 cache alone moves logits by ~4e-3.
    llm = Llama(model_path=str(d / "model.gguf"), n_ctx=64, logits_all=True, type_k=0, type_v=0, verbose=False)
    ids = expected["prompt"] + expected["steps"]
    llm.eval(ids)
    scores = np.asarray(llm.scores)
    n = len(expected["prompt"])
    rows = [scores[n - 1 + i] for i in range(len(expected["steps"]) + 1)]
    diff = max(float(np.max(np.abs(np.asarray(r) - np.asarray(e)))) for r, e in zip(rows, expected["logits"]))
    print(f"llama.cpp vs PyTorch reference: max |diff| = {diff:.2e}")
    if diff > 1e-3:
        sys.exit("llama.cpp disagrees with the reference: the GGUF layout is wrong")


def q4_0_random(rows: int, cols: int, rng) -> np.ndarray:
    """Random Q4_0 blocks: an f16 scale (0.01) and 16 bytes of random nibbles per 32 weights."""
    blocks = rows * cols // 32
    data = np.empty((blocks, 18), dtype=np.uint8)
    data[:, :2] = np.frombuffer(np.float16(0.01).tobytes(), dtype=np.uint8)
    data[:, 2:] = rng.integers(0, 256, size=(blocks, 16), dtype=np.uint8)
    return data.reshape(rows, cols // 32 * 18)


def bench(out: pathlib.Path):
    cfg = CHATGLM3_6B
    rng = np.random.default_rng(6)
    h, ff, v = cfg["hidden_size"], cfg["ffn_hidden_size"], cfg["padded_vocab_size"]
    hd, nh, nkv = cfg["kv_channels"], cfg["num_attention_heads"], cfg["multi_query_group_num"]
    qkv = hd * (nh + 2 * nkv)
    # SentencePiece-style: llama.cpp's loader looks up the byte tokens (<0x0A> for newlines).
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tokens = ["<unk>", "<s>", "</s>"] + byte_tokens + [f"\u2581w{i}" for i in range(v - 3 - 256)]
    out.parent.mkdir(parents=True, exist_ok=True)
    w = GGUFWriter(str(out), "chatglm")
    write_header(w, cfg, tokens, "chatglm3-6b-shape-random-q4_0")
    w.add_file_type(2)  # MOSTLY_Q4_0

    def q4(name, rows, cols):
        # With raw_dtype, gguf takes the array's shape in bytes and derives (rows, cols) itself.
        w.add_tensor(name, q4_0_random(rows, cols, rng), raw_dtype=GGMLQuantizationType.Q4_0)

    q4("token_embd.weight", v, h)
    for i in range(cfg["num_layers"]):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(h, dtype=np.float32))
        q4(f"blk.{i}.attn_qkv.weight", qkv, h)
        w.add_tensor(f"blk.{i}.attn_qkv.bias", np.zeros(qkv, dtype=np.float32))
        q4(f"blk.{i}.attn_output.weight", h, h)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(h, dtype=np.float32))
        q4(f"blk.{i}.ffn_up.weight", 2 * ff, h)
        q4(f"blk.{i}.ffn_down.weight", h, ff)
    w.add_tensor("output_norm.weight", np.ones(h, dtype=np.float32))
    q4("output.weight", v, h)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=True)
    w.close()
    # A word-level tokenizer.json beside it: the benchmark feeds token ids, not text.
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "vocab": {t: i for i, t in enumerate(tokens)}, "unk_token": "<unk>"},
    }
    (out.parent / "tokenizer.json").write_text(json.dumps(tok))
    print(f"wrote {out} ({out.stat().st_size / 1e9:.2f} GB)")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "fixture":
        fixture("--check-llamacpp" in sys.argv)
    elif len(sys.argv) == 3 and sys.argv[1] == "bench":
        bench(pathlib.Path(sys.argv[2]))
    else:
        sys.exit(__doc__)
