#!/usr/bin/env python3
"""Reference renderings of the chat templates DocTalk supports, made with Python's jinja2 exactly as
transformers' apply_chat_template renders them (sandboxed, trim_blocks, lstrip_blocks).

Templates: the ones stored in the GGUF metadata of the models scripts/fetch-llm.sh fetches (copied into
the fixture so the Rust test needs no GGUF), and DocTalk's built-in official formats
(crates/doctalk-models/src/llm/templates/*.jinja) for models whose files carry none.

Writes crates/doctalk-models/tests/fixtures/llm/templates.json.
Run: /var/cache/doctalk-torch-venv/bin/python models/gen/llm_templates.py   (jinja2, gguf; run scripts/fetch-llm.sh --all first)
"""
import json
import os
import pathlib

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = pathlib.Path(os.environ.get("DOCTALK_MODELS_DIR", REPO / ".models"))
BUILTIN = REPO / "crates/doctalk-models/src/llm/templates"
OUT = REPO / "crates/doctalk-models/tests/fixtures/llm/templates.json"

CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "What is the capital of France?"}],
    "system_multi_turn": [
        {"role": "system", "content": "Answer only from the sources. Cite as [n]."},
        {"role": "user", "content": "法国的首都是哪里？"},
        {"role": "assistant", "content": "巴黎 [1]。"},
        {"role": "user", "content": "  And Germany?  "},
    ],
}


def render(source, bos, eos, messages):
    def raise_exception(message):
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source).render(messages=messages, add_generation_prompt=True, bos_token=bos, eos_token=eos)


def gguf_template(path):
    import gguf

    r = gguf.GGUFReader(str(path))
    f = r.fields

    def token(key):
        if key not in f:
            return ""
        tokens = f["tokenizer.ggml.tokens"]
        return tokens.contents(int(f[key].contents()))

    return f["tokenizer.chat_template"].contents(), token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id")


def main():
    templates = []
    for name, file in [
        ("qwen2.5-coder-0.5b-instruct-q4_k_m", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
        ("smollm2-135m-instruct-q4_1", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ]:
        source, bos, eos = gguf_template(MODELS / name / file)
        templates.append((name, source, bos, eos))
    templates.append(("builtin:chatglm3", (BUILTIN / "chatglm3.jinja").read_text(), "", ""))
    templates.append(("builtin:glm4", (BUILTIN / "glm4.jinja").read_text(), "", ""))
    templates.append(("builtin:gemma3", (BUILTIN / "gemma3.jinja").read_text(), "<bos>", "<eos>"))

    cases = []
    for name, source, bos, eos in templates:
        for conv_name, messages in CONVERSATIONS.items():
            cases.append({
                "name": f"{name}/{conv_name}",
                "template": source,
                "bos_token": bos,
                "eos_token": eos,
                "messages": messages,
                "expected": render(source, bos, eos, messages),
            })
    OUT.write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
