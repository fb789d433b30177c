#!/usr/bin/env python3
"""Tiny random GLM checkpoints and reference logits for doctalk-models' parity tests.

Writes, under crates/doctalk-models/tests/fixtures/llm/<name>/: config.json, model.safetensors (f32),
tokenizer.json (a small word-level vocabulary with the GLM special tokens, enough for the loader) and
expected.json: the last-position logits for a prompt and for several KV-cached decode steps.

References:
  glm-hf        transformers.GlmForCausalLM   (THUDM/glm-4-9b-chat-hf layout)
  glm4-0414     transformers.Glm4ForCausalLM  (GLM-4-0414 layout)
  chatglm3      ChatGLM3-6B's ChatGLMForConditionalGeneration, re-implemented below in plain PyTorch
  glm4-chat     the same module with GLM-4-9B-chat's rope_ratio (base 10000 * rope_ratio)
              (ChatGLM's modelling code ships with the checkpoints, not with transformers.)

Run: /var/cache/doctalk-torch-venv/bin/python models/gen/glm_tiny.py   (torch, transformers, safetensors, tokenizers)
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers, decoders

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/doctalk-models/tests/fixtures/llm"
VOCAB = 96
PROMPT = [5, 17, 42, 8, 63, 11, 90]
STEPS = [23, 7, 88, 51]  # tokens fed one at a time after the prompt, using the KV cache
SPECIAL = ["[gMASK]", "sop", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|endoftext|>"]


def write_tokenizer(d: pathlib.Path):
    words = SPECIAL + [f"w{i}" for i in range(VOCAB - len(SPECIAL))]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="w0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(SPECIAL)
    tok.save(str(d / "tokenizer.json"))


def run_steps(step_fn):
    """step_fn(ids, past) -> (last logits, past). Returns the list of logits rows."""
    rows = []
    logits, past = step_fn(torch.tensor([PROMPT]), None)
    rows.append(logits)
    for t in STEPS:
        logits, past = step_fn(torch.tensor([[t]]), past)
        rows.append(logits)
    return [r.reshape(-1).tolist() for r in rows]


def save(name, config, state, rows):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    save_file({k: v.contiguous() for k, v in state.items()}, str(d / "model.safetensors"))
    write_tokenizer(d)
    (d / "expected.json").write_text(json.dumps({"prompt": PROMPT, "steps": STEPS, "logits": rows}) + "\n")
    print(f"{name}: {sum(v.numel() for v in state.values())} parameters, {len(rows)} logit rows")


def hf_model(name, cls_name, cfg_cls_name, extra):
    import transformers

    cfg = getattr(transformers, cfg_cls_name)(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=128,
        rms_norm_eps=1e-5, rope_theta=10000.0, attention_bias=True, tie_word_embeddings=False,
        partial_rotary_factor=0.5, pad_token_id=0, bos_token_id=1, eos_token_id=[7, 4], **extra,
    )
    model = getattr(transformers, cls_name)(cfg).eval().float()
    # Randomise everything, norms included, so that no weight is a no-op the test could miss.
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(1.0 + 0.1 * torch.randn_like(p) if "norm" in n else 0.2 * torch.randn_like(p))

    def step(ids, past):
        out = model(input_ids=ids, past_key_values=past, use_cache=True)
        return out.logits[0, -1], out.past_key_values

    with torch.no_grad():
        rows = run_steps(step)
    config = json.loads(cfg.to_json_string())
    config["torch_dtype"] = "float32"
    # transformers 5 nests these under rope_parameters; released GLM checkpoints keep them top-level.
    rope = config.get("rope_parameters") or {}
    config["rope_theta"] = rope.get("rope_theta", config.get("rope_theta", 10000.0))
    config["partial_rotary_factor"] = rope.get("partial_rotary_factor", config.get("partial_rotary_factor", 0.5))
    save(name, config, dict(model.state_dict()), rows)


# ---------------------------------------------------------------- ChatGLM (independent reference)
class ChatGLM(torch.nn.Module):
    """ChatGLM2/3 and GLM-4-9B-chat, as in their modeling_chatglm.py (inference path only)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        h, hn, np_, g = c["hidden_size"], c["kv_channels"], c["num_attention_heads"], c["multi_query_group_num"]
        P = lambda *s: torch.randn(*s) * 0.2
        self.p = {}
        self.p["transformer.embedding.word_embeddings.weight"] = P(c["padded_vocab_size"], h)
        for i in range(c["num_layers"]):
            pre = f"transformer.encoder.layers.{i}."
            self.p[pre + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(h)
            self.p[pre + "self_attention.query_key_value.weight"] = P(np_ * hn + 2 * g * hn, h)
            self.p[pre + "self_attention.query_key_value.bias"] = P(np_ * hn + 2 * g * hn)
            self.p[pre + "self_attention.dense.weight"] = P(h, np_ * hn)
            self.p[pre + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(h)
            self.p[pre + "mlp.dense_h_to_4h.weight"] = P(2 * c["ffn_hidden_size"], h)
            self.p[pre + "mlp.dense_4h_to_h.weight"] = P(h, c["ffn_hidden_size"])
        self.p["transformer.encoder.final_layernorm.weight"] = 1 + 0.1 * torch.randn(h)
        self.p["transformer.output_layer.weight"] = P(c["padded_vocab_size"], h)

    def rms(self, x, k):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.c["layernorm_epsilon"]) * self.p[k]

    def rope(self, x, offset):
        # x: [seq, heads, hn]; rotate the first hn/2 dims in interleaved pairs.
        seq, hn = x.shape[0], self.c["kv_channels"]
        dim = hn // 2
        base = 10000 * self.c.get("rope_ratio", 1)
        theta = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
        pos = torch.arange(offset, offset + seq, dtype=torch.float)
        idx = torch.outer(pos, theta)  # [seq, dim/2]
        cos, sin = torch.cos(idx)[:, None, :], torch.sin(idx)[:, None, :]
        rot, rest = x[..., :dim], x[..., dim:]
        x0, x1 = rot[..., 0::2], rot[..., 1::2]
        out = torch.stack([x0 * cos - x1 * sin, x1 * cos + x0 * sin], dim=-1).flatten(-2)
        return torch.cat([out, rest], dim=-1)

    def forward(self, ids, past):
        c = self.c
        np_, hn, g = c["num_attention_heads"], c["kv_channels"], c["multi_query_group_num"]
        ids = ids[0]
        offset = 0 if past is None else past[0][0].shape[0]
        x = F.embedding(ids, self.p["transformer.embedding.word_embeddings.weight"])  # [seq, h]
        new_past = []
        for i in range(c["num_layers"]):
            pre = f"transformer.encoder.layers.{i}."
            y = self.rms(x, pre + "input_layernorm.weight")
            qkv = F.linear(y, self.p[pre + "self_attention.query_key_value.weight"], self.p[pre + "self_attention.query_key_value.bias"])
            q, k, v = qkv.split([np_ * hn, g * hn, g * hn], dim=-1)
            q = self.rope(q.view(-1, np_, hn), offset)
            k = self.rope(k.view(-1, g, hn), offset)
            v = v.view(-1, g, hn)
            if past is not None:
                k = torch.cat([past[i][0], k], 0)
                v = torch.cat([past[i][1], v], 0)
            new_past.append((k, v))
            rep = np_ // g
            kk, vv = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
            scores = torch.einsum("qhd,khd->hqk", q, kk) / math.sqrt(hn)
            sq, sk = q.shape[0], kk.shape[0]
            mask = torch.arange(sk)[None, :] > (torch.arange(sq)[:, None] + offset)
            scores = scores.masked_fill(mask[None], float("-inf"))
            ctx = torch.einsum("hqk,khd->qhd", scores.softmax(-1), vv).reshape(sq, np_ * hn)
            x = x + F.linear(ctx, self.p[pre + "self_attention.dense.weight"])
            y = self.rms(x, pre + "post_attention_layernorm.weight")
            a, b = F.linear(y, self.p[pre + "mlp.dense_h_to_4h.weight"]).chunk(2, dim=-1)
            x = x + F.linear(F.silu(a) * b, self.p[pre + "mlp.dense_4h_to_h.weight"])
        x = self.rms(x, "transformer.encoder.final_layernorm.weight")
        return F.linear(x[-1], self.p["transformer.output_layer.weight"]), new_past


def chatglm(name, rope_ratio):
    c = dict(
        model_type="chatglm", architectures=["ChatGLMModel"], num_layers=2, padded_vocab_size=VOCAB,
        hidden_size=64, ffn_hidden_size=96, kv_channels=16, num_attention_heads=4, seq_length=128,
        layernorm_epsilon=1e-5, rmsnorm=True, apply_residual_connection_post_layernorm=False,
        post_layer_norm=True, add_bias_linear=False, add_qkv_bias=True, bias_dropout_fusion=True,
        multi_query_attention=True, multi_query_group_num=2, apply_query_key_layer_scaling=True,
        attention_softmax_in_fp32=True, fp32_residual_connection=False, torch_dtype="float32",
        eos_token_id=[SPECIAL.index("<|endoftext|>"), SPECIAL.index("<|user|>")],
    )
    if rope_ratio != 1:
        c["rope_ratio"] = rope_ratio
    model = ChatGLM(c).eval()
    with torch.no_grad():
        rows = run_steps(lambda ids, past: model(ids, past))
    save(name, c, {k: v.detach() for k, v in model.p.items()}, rows)


if __name__ == "__main__":
    torch.manual_seed(20261129)
    hf_model("glm-hf", "GlmForCausalLM", "GlmConfig", {})
    hf_model("glm4-0414", "Glm4ForCausalLM", "Glm4Config", {})
    chatglm("chatglm3", 1)
    chatglm("glm4-chat", 500)
