"""Drives `doctalk serve` with the official OpenAI Python SDK: models, the language model alone, grounded chat (plain and streamed),
embeddings, and an unknown model. Called by serve.rs with the server's base URL and token."""
import json
import sys

import openai
from openai import OpenAI

base, token = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=f"{base}/v1", api_key=token)

models = [m.id for m in client.models.list().data]
# The knowledge base (grounded answers) first, then the language model alone (plain completions).
assert len(models) == 2 and models[0].startswith("doctalk-"), models
model, llm = models

plain = client.chat.completions.create(
    model=llm,
    messages=[{"role": "user", "content": "What is the capital of France? Answer with the city name only."}],
    max_tokens=8,
)
assert "Paris" in plain.choices[0].message.content, plain
assert plain.usage.completion_tokens > 0 and plain.model_extra.get("sources") is None, plain

r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "如何下载滴滴APP"}])
text = r.choices[0].message.content
assert "滴滴企业版" in text, text
sources = r.model_extra["sources"]
assert sources and sources[0]["path"].endswith("faq.csv"), sources

chunks = client.chat.completions.create(
    model=model,
    messages=[
        {"role": "system", "content": "ignored: DocTalk sets its own rules"},
        {"role": "user", "content": "What's the minimum length for a password?"},
    ],
    stream=True,
    max_tokens=48,
)
pieces, last = [], None
for chunk in chunks:
    last = chunk
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
streamed = "".join(pieces)
# Answers stream sentence by sentence (each is released once its facts are checked against the
# sources), so a one-sentence answer may come as one piece; the stream still ends with a finish chunk.
assert len(pieces) >= 1 and streamed.strip(), pieces
assert last.choices[0].finish_reason == "stop"
stream_sources = last.model_extra["sources"]
assert any("it-security-policy" in s["path"] for s in stream_sources), stream_sources

e = client.embeddings.create(model=model, input=["password policy", "密码策略"])
assert len(e.data) == 2 and len(e.data[0].embedding) == 384

try:
    client.chat.completions.create(model="gpt-17", messages=[{"role": "user", "content": "hi"}])
    raise AssertionError("an unknown model was accepted")
except openai.NotFoundError:
    pass

print(json.dumps({"models": models, "llm_alone": plain.choices[0].message.content, "plain": text[:80], "streamed_pieces": len(pieces), "streamed": streamed[:120]}, ensure_ascii=False))
