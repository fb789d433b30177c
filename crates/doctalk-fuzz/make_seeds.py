"""Writes the seed inputs of the fuzz targets that have no small real file in the repository:
tiny WAV recordings in the layouts recorders produce, a one-page text PDF, chat templates in the
styles model files carry, and request bodies; and copies the small real documents of the test
fixtures (PDF, DOCX, XLSX, CSV, TSV, JSON, HTML, Markdown, text, a tiny GGUF model). The fuzzer
grows and minimises these (scripts/fuzz.sh). Run: python3 make_seeds.py (no third-party packages)."""

import json
import math
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def wav(rate, channels, bits, frames, fmt_tag=1, extra_chunk=b""):
    samples = []
    for i in range(frames):
        v = math.sin(2 * math.pi * 440 * i / rate) * 0.5
        for _ in range(channels):
            samples.append(v)
    if fmt_tag == 3:
        body = b"".join(struct.pack("<f", s) for s in samples)
    elif bits == 8:
        body = bytes(int(128 + s * 127) for s in samples)
    elif bits == 16:
        body = b"".join(struct.pack("<h", int(s * 32767)) for s in samples)
    else:
        body = b"".join(struct.pack("<i", int(s * 8388607))[:3] for s in samples)
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunk
    chunks += b"data" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def pdf(text):
    """A one-page PDF with one line of text and a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for o in offsets:
        out += f"{o:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


put("wav", "pcm16-mono-16k.wav", wav(16000, 1, 16, 800))
put("wav", "pcm8-mono-8k.wav", wav(8000, 1, 8, 400))
put("wav", "pcm24-stereo-48k.wav", wav(48000, 2, 24, 480))
put("wav", "float-stereo-44k.wav", wav(44100, 2, 32, 441, fmt_tag=3))
put("wav", "with-list-chunk.wav", wav(16000, 1, 16, 160, extra_chunk=b"LIST\x04\x00\x00\x00INFO"))

put("pdf-oxide", "one-line.pdf", pdf("The VPN server is vpn.example.com"))
put("pdf-extract", "one-line.pdf", pdf("The VPN server is vpn.example.com"))

put("chat-template", "chatml.jinja",
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
put("chat-template", "llama.jinja",
    "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}<<SYS>>{{ m.content | trim }}<</SYS>>"
    "{% elif m.role == 'user' %}[INST] {{ m.content }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}"
    "{% endfor %}")
put("chat-template", "loops-and-filters.jinja",
    "{% set ns = namespace(n=0) %}{% for m in messages | reverse %}{% set ns.n = ns.n + 1 %}"
    "{{ loop.index }}:{{ m.content | length }}:{{ m.role | upper }}{% endfor %}{{ raise_exception('x') if ns.n > 9 }}")

put("http-bodies", "ask.json", json.dumps({
    "question": "请问商旅的出差制度", "conversation": "new", "no_llm": False, "top_k": 5,
    "scope": {"docs": ["abc123"], "folders": ["/home/me/docs"]}}, ensure_ascii=False))
put("http-bodies", "settings.json", json.dumps({
    "model": {"kind": "remote", "url": "http://gpu:8080/v1"}, "device": {"current": "cpu"},
    "voice": {"enabled": True, "voice": "zh"}, "language": "zh", "script": "traditional"}))
put("http-bodies", "user.json", json.dumps({"name": "alice", "role": "editor", "kbs": ["hr", "finance"]}))
put("http-bodies", "check.json", json.dumps({
    "jsonl": "{\"q\": \"迟到一次扣多少钱\", \"expect_any\": [\"50\"]}\n", "extractive": True, "llm": False},
    ensure_ascii=False))
put("http-bodies", "folder.json", json.dumps({"path": "/srv/docs", "include": ["*.pdf"], "exclude": ["drafts/**"]}))


FIXTURES = os.path.join(HERE, "..", "doctalk-ingest", "tests", "fixtures")
COPIES = {
    "pdf-oxide": ["pdf/hostile/garbled-only.pdf", "pdf/hostile/garbled-second-page.pdf",
                  "pdf/hostile/image-only.pdf", "pdf/hostile/text-then-scan.pdf",
                  "pdf/hostile/truncated-header-only.pdf", "pdf/hostile/not-a-pdf.pdf"],
    "pdf-extract": ["pdf/hostile/garbled-only.pdf", "pdf/hostile/text-then-scan.pdf",
                    "pdf/hostile/truncated-header-only.pdf"],
    "docx": ["docx/travel_policy.docx", "docx/corrupt.docx"],
    "xlsx": ["faq/kb_export.xlsx"],
    "csv": ["faq/hr_faq_gbk.csv", "faq/product_faq_bom.csv", "faq/missing_answers.csv", "faq/unknown_headers.csv"],
    "tsv": ["faq/support_faq.tsv"],
    "json": ["faq/faq_array.json", "faq/faq_nested.json", "faq/malformed.json"],
    "jsonl": ["faq/faq.jsonl"],
    "html": ["html/help_zh.html", "html/returns_gbk.html"],
    "markdown": ["text/handbook_zh.md", "text/guide_en.md"],
    "text": ["text/attendance_gb18030.txt", "text/notes_en.txt"],
}
for target, files in COPIES.items():
    for rel in files:
        folder = os.path.join(HERE, "corpus", target)
        os.makedirs(folder, exist_ok=True)
        shutil.copy(os.path.join(FIXTURES, rel), os.path.join(folder, os.path.basename(rel)))
os.makedirs(os.path.join(HERE, "corpus", "gguf"), exist_ok=True)
shutil.copy(os.path.join(HERE, "..", "doctalk-models", "tests", "fixtures", "llm", "chatglm3-gguf", "model.gguf"),
            os.path.join(HERE, "corpus", "gguf", "chatglm3-tiny.gguf"))
