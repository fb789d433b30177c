#!/usr/bin/env python3
"""llama.cpp (llama-cpp-python) on the same GGUF and prompt as `cargo run --example llm_bench`:
prefill and decode tokens/s, medians over runs, 2 threads by default.

Run: /var/cache/doctalk-llamacpp-venv/bin/python models/gen/llm_bench_llamacpp.py [model.gguf] [runs] [threads] [prompt_tokens]

The venv (a native build of llama.cpp, several minutes on 2 cores):
  python3 -m venv /var/cache/doctalk-llamacpp-venv
  /var/cache/doctalk-llamacpp-venv/bin/pip install numpy gguf safetensors cmake
  CMAKE_ARGS=-DGGML_NATIVE=ON /var/cache/doctalk-llamacpp-venv/bin/pip install llama-cpp-python==0.3.16
0.3.16 is pinned: 0.3.36 (the newest in Dec 2026) crashed in llama_decode on every prompt here.

prompt_tokens cuts the prompt to the length `llm_bench` reported, for files whose vocabulary tokenizes
the text differently (the random ChatGLM3-6B-shaped bench file spells it out byte by byte).
"""
import os
import pathlib
import statistics
import sys
import time

from jinja2.sandbox import ImmutableSandboxedEnvironment
from llama_cpp import Llama

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = pathlib.Path(os.environ.get("DOCTALK_MODELS_DIR", REPO / ".models"))
DEFAULT = MODELS / "qwen2.5-coder-0.5b-instruct-q4_k_m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DECODE_TOKENS = 64


def main():
    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else str(DEFAULT)
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=2048, n_batch=512, verbose=False)
    text = "DocTalk answers questions from a person's own documents, offline, with citations. " * int(os.environ.get("LLM_BENCH_REPEAT", "12"))
    messages = [{"role": "user", "content": f"{text}\nSummarise the text above in one long paragraph."}]
    template = llm.metadata.get("tokenizer.chat_template")
    if template:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        prompt = env.from_string(template).render(messages=messages, add_generation_prompt=True)
    else:
        # ChatGLM3 GGUFs (models/gen/chatglm_gguf.py bench) carry no template: ChatGLM3's own turn format.
        prompt = "[gMASK]sop<|user|>\n" + messages[0]["content"] + "<|assistant|>"
    ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    if len(sys.argv) > 4:
        ids = ids[: int(sys.argv[4])]

    prefill, decode = [], []
    for _ in range(runs):
        llm.reset()
        t = time.perf_counter()
        llm.eval(ids)
        prefill.append(len(ids) / (time.perf_counter() - t))
        t = time.perf_counter()
        made = 0
        for _ in range(DECODE_TOKENS):
            tok = llm.sample(temp=0.0)
            if tok == llm.token_eos():
                break
            llm.eval([tok])
            made += 1
        decode.append(max(made, 1) / (time.perf_counter() - t))
    print(f"llama.cpp, {threads} threads, {path}")
    print(f"prompt tokens:  {len(ids)}")
    print(f"prefill:        {statistics.median(prefill):.1f} tokens/s (median of {runs})")
    print(f"decode:         {statistics.median(decode):.1f} tokens/s (median of {runs}, up to {DECODE_TOKENS} tokens)")


if __name__ == "__main__":
    main()
