#!/usr/bin/env python3
"""A random PEFT LoRA adapter shaped for a GGUF model (qwen2/llama naming), for adapter benchmarks.

Reads the projection shapes from the GGUF file's tensor table and writes OUT/adapter_config.json and
OUT/adapter_model.safetensors with rank R on every attention and MLP projection of every layer: the
usual "all linear layers" fine-tune. The values are random (small), so the adapter measures cost, not
quality.

Run: /var/cache/doctalk-torch-venv/bin/python bench/llm/make_lora.py MODEL.gguf OUT [--rank 8]
"""
import argparse
import json
import pathlib

import numpy as np
from gguf import GGUFReader
from safetensors.numpy import save_file

GGUF_TO_HF = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--rank", type=int, default=8)
    args = ap.parse_args()
    rng = np.random.default_rng(20261206)
    tensors = {}
    for t in GGUFReader(args.model).tensors:
        parts = t.name.split(".")
        if len(parts) != 4 or parts[0] != "blk" or parts[2] not in GGUF_TO_HF or parts[3] != "weight":
            continue
        n_in, n_out = int(t.shape[0]), int(t.shape[1])  # GGUF lists the inner dimension first
        key = f"base_model.model.model.layers.{parts[1]}.{GGUF_TO_HF[parts[2]]}"
        tensors[f"{key}.lora_A.weight"] = (0.01 * rng.standard_normal((args.rank, n_in))).astype(np.float32)
        tensors[f"{key}.lora_B.weight"] = (0.01 * rng.standard_normal((n_out, args.rank))).astype(np.float32)
    if not tensors:
        raise SystemExit(f"{args.model}: no qwen2/llama projections found")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    config = {
        "peft_type": "LORA", "r": args.rank, "lora_alpha": 2 * args.rank, "lora_dropout": 0.0,
        "target_modules": sorted({v.split(".")[1] for v in GGUF_TO_HF.values()}), "bias": "none",
        "base_model_name_or_path": pathlib.Path(args.model).name,
    }
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(f"{out}: {len(tensors) // 2} adapted projections, rank {args.rank}")


if __name__ == "__main__":
    main()
