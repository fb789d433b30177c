#!/usr/bin/env python3
"""Reference token ids for DocTalk's GGUF-metadata tokenizers.

transformers converts a GGUF's tokenizer metadata into a fast tokenizer (its own, independent
converter); we record the ids it gives for a set of tricky strings (English, Chinese, digits, code,
whitespace runs, special tokens) and the Rust test checks that our reconstruction agrees.

Writes crates/doctalk-models/tests/fixtures/llm/tokenizer_ids.json.
Run: /var/cache/doctalk-torch-venv/bin/python models/gen/llm_tokenizer_ref.py   (transformers, gguf; run scripts/fetch-llm.sh --all first)
"""
import json
import os
import pathlib

from transformers import AutoTokenizer

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = pathlib.Path(os.environ.get("DOCTALK_MODELS_DIR", REPO / ".models"))
OUT = REPO / "crates/doctalk-models/tests/fixtures/llm/tokenizer_ids.json"

TEXTS = [
    "What is the capital of France?",
    "中国的首都是哪里？北京是中国的首都。",
    "Prices rose 12.5% in 2024 (from $1,234 to $1,388).",
    "fn main() {\n    println!(\"hi\");\n}\n\n\n",
    "  leading spaces, trailing tabs\t\t",
    "<|im_start|>user\nHello 世界<|im_end|>\n<|im_start|>assistant\n",
    "I'm sure they'll say it's DON'T-ish.",
    "Ünïcödé façade — naïve café ☕ 😀",
]

MODELS_TO_CHECK = [
    ("qwen2.5-coder-0.5b-instruct-q4_k_m", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
    ("smollm2-135m-instruct-q4_1", "SmolLM2-135M-Instruct.Q4_1.gguf"),
]


def main():
    out = []
    for name, file in MODELS_TO_CHECK:
        tok = AutoTokenizer.from_pretrained(str(MODELS / name), gguf_file=file)
        for text in TEXTS:
            out.append({"model": name, "text": text, "ids": tok.encode(text, add_special_tokens=False)})
    OUT.write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"{len(out)} cases -> {OUT}")


if __name__ == "__main__":
    main()
