#!/usr/bin/env python3
"""LoRA adapters made by Hugging Face PEFT on tiny random checkpoints, with reference logits, for
doctalk-models' adapter parity tests (tests/llm_adapters.rs).

Writes, under crates/doctalk-models/tests/fixtures/lora/<name>/:
  base/            the base model when the LLM fixtures do not have it already: model.gguf (f32, as
                   llama.cpp's convert_hf_to_gguf.py names and lays out the tensors) + tokenizer.json
  peft/            adapter_config.json + adapter_model.safetensors, written by PeftModel.save_pretrained
  adapter.gguf     the same adapter in llama.cpp's GGUF LoRA layout (GGUF bases only)
  expected.json    prompt, decode steps, the base model's logits and the adapted model's logits

Models:
  qwen2     transformers.Qwen2ForCausalLM (q/k/v biases) -> GGUF `qwen2`
  llama     transformers.LlamaForCausalLM -> GGUF `llama` (q/k rows permuted as llama.cpp does)
  glm-hf    transformers.GlmForCausalLM, the checkpoint of tests/fixtures/llm/glm-hf (safetensors)
  chatglm3  the ChatGLM3 checkpoint of tests/fixtures/llm/chatglm3 (safetensors, and chatglm3-gguf):
            PEFT wraps a module tree with the same names; the reference logits come from glm_tiny's
            independent ChatGLM forward pass on the weights PEFT's merge_and_unload() gives.

Every adapter uses a rank pattern and an alpha pattern so that per-module ranks and scales are tested,
and its lora_A/lora_B are random (PEFT starts lora_B at zero, which would test nothing).

Run: /var/cache/doctalk-torch-venv/bin/python models/gen/lora_tiny.py   (torch, transformers, peft, gguf)
then, with a built doctalk binary, the adapter DocTalk trains and PEFT's logits for it:
     /var/cache/doctalk-torch-venv/bin/python models/gen/lora_tiny.py tuned path/to/doctalk
"""
import json
import pathlib
import sys

import numpy as np
import torch
from gguf import GGUFWriter
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import glm_tiny  # noqa: E402  (the tokenizer, prompt and ChatGLM reference are shared)

REPO = pathlib.Path(__file__).resolve().parents[2]
LLM = REPO / "crates/doctalk-models/tests/fixtures/llm"
OUT = REPO / "crates/doctalk-models/tests/fixtures/lora"
PROMPT, STEPS = glm_tiny.PROMPT, glm_tiny.STEPS
RANK, ALPHA = 4, 8


def randomise_lora(model):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_" in n:
                p.copy_(0.3 * torch.randn_like(p))


def save_expected(d, base_rows, adapted_rows, extra=None):
    d.mkdir(parents=True, exist_ok=True)
    doc = {"prompt": PROMPT, "steps": STEPS, "base": base_rows, "adapted": adapted_rows}
    doc.update(extra or {})
    (d / "expected.json").write_text(json.dumps(doc) + "\n")


def hf_rows(model):
    def step(ids, past):
        out = model(input_ids=ids, past_key_values=past, use_cache=True)
        return out.logits[0, -1], out.past_key_values

    with torch.no_grad():
        return glm_tiny.run_steps(step)


def scale_of(cfg: LoraConfig, module: str):
    """PEFT's per-module scale (rank and alpha patterns matched on the module name's tail)."""
    r, alpha = cfg.r, cfg.lora_alpha
    for key, v in cfg.rank_pattern.items():
        if module == key or module.endswith("." + key):
            r = v
    for key, v in cfg.alpha_pattern.items():
        if module == key or module.endswith("." + key):
            alpha = v
    return alpha / r


# ------------------------------------------------------------------------- llama.cpp GGUF writing
def llama_permute(w: np.ndarray, heads: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: rotary pairs made adjacent."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
    # ChatGLM
    "self_attention.query_key_value": "attn_qkv", "self_attention.dense": "attn_output",
    "mlp.dense_h_to_4h": "ffn_up", "mlp.dense_4h_to_h": "ffn_down",
}


def gguf_name(hf: str) -> str:
    """`model.layers.N.<module>.<param>` (or ChatGLM's `transformer.encoder.layers.N…`) -> llama.cpp's name."""
    fixed = {
        "model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight", "transformer.output_layer.weight": "output.weight",
    }
    if hf in fixed:
        return fixed[hf]
    parts = hf.split(".")
    i = parts.index("layers")
    module, param = ".".join(parts[i + 2:-1]), parts[-1]
    return f"blk.{parts[i + 1]}.{HF_TO_GGUF[module]}.{param}"


def write_base_gguf(path, arch, cfg, state):
    w = GGUFWriter(str(path), arch)
    w.add_name(f"{arch}-tiny-random")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_file_type(0)
    for name, t in sorted(state.items()):
        a = t.detach().float().numpy()
        if arch == "llama" and name.endswith("q_proj.weight"):
            a = llama_permute(a, cfg.num_attention_heads)
        if arch == "llama" and name.endswith("k_proj.weight"):
            a = llama_permute(a, cfg.num_key_value_heads)
        w.add_tensor(gguf_name(name), np.ascontiguousarray(a, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_adapter_gguf(path, arch, peft_dir, cfg: LoraConfig, heads=None):
    """llama.cpp's LoRA GGUF (convert_lora_to_gguf.py): general.type=adapter, one alpha, tensors
    `<base tensor>.lora_a` (r × in) and `.lora_b` (out × r). Per-module alphas are folded into lora_b,
    since llama.cpp's scale is alpha / rank with a single alpha."""
    w = GGUFWriter(str(path), arch)
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", float(cfg.lora_alpha))
    tensors = load_file(str(peft_dir / "adapter_model.safetensors"))
    for key in sorted(tensors):
        if ".lora_A." not in key:
            continue
        module = key[len("base_model.model."):].split(".lora_A.")[0]
        a = tensors[key].float().numpy()
        b = tensors[key.replace(".lora_A.", ".lora_B.")].float().numpy()
        r = a.shape[0]
        b = b * (scale_of(cfg, module) / (cfg.lora_alpha / r))
        if arch == "llama" and module.endswith("q_proj"):
            b = llama_permute(b, heads[0])
        if arch == "llama" and module.endswith("k_proj"):
            b = llama_permute(b, heads[1])
        base = gguf_name(module + ".weight")
        w.add_tensor(base + ".lora_a", np.ascontiguousarray(a, dtype=np.float32))
        w.add_tensor(base + ".lora_b", np.ascontiguousarray(b, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ------------------------------------------------------------------------------------- models
LLAMA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def llama_shaped(name, cls_name, cfg_cls_name, arch):
    import transformers

    cfg = getattr(transformers, cfg_cls_name)(
        vocab_size=glm_tiny.VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
        rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=7,
    )
    model = getattr(transformers, cls_name)(cfg).eval().float()
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(1.0 + 0.1 * torch.randn_like(p) if "norm" in n else 0.2 * torch.randn_like(p))
    d = OUT / name
    (d / "base").mkdir(parents=True, exist_ok=True)
    write_base_gguf(d / "base/model.gguf", arch, cfg, model.state_dict())
    glm_tiny.write_tokenizer(d / "base")
    base_rows = hf_rows(model)
    if name == "qwen2":
        # The same base for transformers, so that PEFT can load the adapter DocTalk trains (`tuned`).
        model.save_pretrained(str(d / "hf"))

    lora = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=LLAMA_TARGETS,
                      rank_pattern={"down_proj": 2}, alpha_pattern={"o_proj": 16})
    peft_model = get_peft_model(model, lora).eval()
    randomise_lora(peft_model)
    peft_model.save_pretrained(str(d / "peft"))
    adapted_rows = hf_rows(peft_model)
    write_adapter_gguf(d / "adapter.gguf", arch, d / "peft", lora,
                       heads=(cfg.num_attention_heads, cfg.num_key_value_heads))
    save_expected(d, base_rows, adapted_rows)
    print(f"{name}: base + PEFT adapter + GGUF adapter")


def glm_hf():
    import transformers

    src = LLM / "glm-hf"
    model = transformers.GlmForCausalLM.from_pretrained(str(src), torch_dtype=torch.float32).eval()
    base_rows = hf_rows(model)
    want = json.loads((src / "expected.json").read_text())["logits"]
    drift = max(abs(a - b) for r, w in zip(base_rows, want) for a, b in zip(r, w))
    assert drift < 1e-4, f"glm-hf reloads with different logits ({drift})"
    lora = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0,
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"],
                      rank_pattern={"gate_up_proj": 2}, alpha_pattern={"v_proj": 4})
    peft_model = get_peft_model(model, lora).eval()
    randomise_lora(peft_model)
    d = OUT / "glm-hf"
    peft_model.save_pretrained(str(d / "peft"))
    save_expected(d, base_rows, hf_rows(peft_model))
    print("glm-hf: PEFT adapter")


class Shell(torch.nn.Module):
    """Only the linear layers of a state dict, under their names: something PEFT can wrap."""

    def __init__(self, weights: dict):
        super().__init__()
        for name, w in weights.items():
            path = name[: -len(".weight")].split(".")
            parent = self
            for part in path[:-1]:
                if not hasattr(parent, part):
                    parent.add_module(part, torch.nn.Module())
                parent = getattr(parent, part)
            linear = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
            linear.weight.data.copy_(w)
            parent.add_module(path[-1], linear)

    def forward(self, x):  # PEFT never calls it here
        raise NotImplementedError


def chatglm3():
    src = LLM / "chatglm3"
    c = json.loads((src / "config.json").read_text())
    state = load_file(str(src / "model.safetensors"))
    model = glm_tiny.ChatGLM(c)
    model.p = {k: v.clone() for k, v in state.items()}
    with torch.no_grad():
        base_rows = glm_tiny.run_steps(lambda ids, past: model(ids, past))
    want = json.loads((src / "expected.json").read_text())["logits"]
    drift = max(abs(a - b) for r, w in zip(base_rows, want) for a, b in zip(r, w))
    assert drift < 1e-4, f"chatglm3 recomputes with different logits ({drift})"

    targets = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]
    linear = {k: v for k, v in state.items()
              if k.endswith(".weight") and k.split(".")[-2] in targets and "layers" in k}
    lora = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=targets,
                      rank_pattern={"dense_4h_to_h": 2}, alpha_pattern={"query_key_value": 12})
    peft_model = get_peft_model(Shell(linear), lora)
    randomise_lora(peft_model)
    d = OUT / "chatglm3"
    peft_model.save_pretrained(str(d / "peft"))
    merged = peft_model.merge_and_unload()
    for name in linear:
        module = merged.get_submodule(name[: -len(".weight")])
        model.p[name] = module.weight.detach().clone()
    with torch.no_grad():
        adapted_rows = glm_tiny.run_steps(lambda ids, past: model(ids, past))
    write_adapter_gguf(d / "adapter.gguf", "chatglm", d / "peft", lora)
    save_expected(d, base_rows, adapted_rows)
    print("chatglm3: PEFT adapter + GGUF adapter")


def tuned(doctalk: str):
    """An adapter trained by `doctalk tune` on qwen2/faq.csv, loaded by PEFT onto the same base: the
    logits DocTalk must reproduce with it."""
    import subprocess
    import tempfile

    import transformers
    from peft import PeftModel

    d = OUT / "qwen2"
    out = d / "tuned"
    with tempfile.TemporaryDirectory() as data:
        subprocess.run(
            [doctalk, "--data-dir", data, "tune", "--faq", str(d / "faq.csv"), "--base", str(d / "base/model.gguf"),
             "--out", str(out), *TUNED_ARGS, "--json"],
            check=True, stdout=subprocess.DEVNULL,
        )
    (out / "training.json").unlink()
    base = transformers.Qwen2ForCausalLM.from_pretrained(str(d / "hf"), torch_dtype=torch.float32).eval()
    base_rows = hf_rows(base)
    peft_model = PeftModel.from_pretrained(base, str(out)).eval()
    save_expected(out, base_rows, hf_rows(peft_model))
    print("qwen2/tuned: DocTalk's adapter, PEFT's logits")


# The settings of the `tuned` fixture; tests/llm_tune.rs trains with the same ones.
TUNED_ARGS = ["--rank", "4", "--alpha", "8", "--learning-rate", "0.01", "--epochs", "5"]

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "tuned":
        tuned(sys.argv[2])
        sys.exit(0)
    torch.manual_seed(20261206)
    llama_shaped("qwen2", "Qwen2ForCausalLM", "Qwen2Config", "qwen2")
    llama_shaped("llama", "LlamaForCausalLM", "LlamaConfig", "llama")
    glm_hf()
    chatglm3()
