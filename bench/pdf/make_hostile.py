#!/usr/bin/env python3
"""Writes the hostile PDF fixtures used by crates/doctalk-ingest/tests/pdf.rs.

Deterministic except for the two encrypted files (AES-256 key derivation salts are
random, even with qpdf's --static-id). Needs only Python 3 and Debian's `qpdf`
(apt-get install qpdf).

    python3 bench/pdf/make_hostile.py            # writes into the fixtures folder
    python3 bench/pdf/make_hostile.py OUT_DIR
"""
import os
import random
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "crates", "doctalk-ingest", "tests", "fixtures", "pdf")
SOURCE = os.path.join(FIXTURES, "en-zhlipsum-en.pdf")


def build_pdf(pages, extra_objects=None):
    """A minimal, valid PDF. `pages` is a list of (content_stream_bytes, resources_bytes);
    `extra_objects` maps object numbers >= 100 to their bodies, for fonts and images."""
    objects = {}
    kids = []
    for i, (content, resources) in enumerate(pages):
        page_no = 10 + 2 * i
        content_no = page_no + 1
        kids.append(f"{page_no} 0 R")
        objects[page_no] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] "
            f"/Resources {resources.decode()} /Contents {content_no} 0 R >>"
        ).encode()
        objects[content_no] = stream(content)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    objects[3] = b"<< /Title (Hostile fixture) /Producer (make_hostile.py) >>"
    objects.update(extra_objects or {})

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += f"xref\n0 {size}\n".encode()
    out += b"0000000000 65535 f \n"
    for number in range(1, size):
        if number in offsets:
            out += f"{offsets[number]:010d} 00000 n \n".encode()
        else:
            out += b"0000000000 65535 f \n"
    out += f"trailer\n<< /Size {size} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def stream(data, extra=b""):
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_page(text):
    content = b"BT /F1 14 Tf 20 150 Td (" + text.encode("latin-1") + b") Tj ET"
    return content, b"<< /Font << /F1 100 0 R >> >>"


def image_page():
    content = b"q 260 160 0 0 20 20 cm /Im1 Do Q"
    return content, b"<< /XObject << /Im1 110 0 R >> >>"


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def image_object():
    # A 64x64 grey gradient: a "scan" with no text layer.
    pixels = bytes((x * 4 + y * 2) % 256 for y in range(64) for x in range(64))
    data = zlib.compress(pixels, 9)
    return stream(
        data,
        b"/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode ",
    )


def pua_font_objects():
    # A font whose ToUnicode map sends every printable code into the Private Use Area,
    # the way broken CID fonts come out of some producers.
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        b"1 beginbfrange <20> <7E> <E020> endbfrange\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    return {
        120: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 121 0 R >>",
        121: stream(cmap),
    }


def garbled_page():
    content = b"BT /F2 14 Tf 20 150 Td (Private use only text here) Tj ET"
    return content, b"<< /Font << /F2 120 0 R >> >>"


def fuzz(data, seed, flips):
    rng = random.Random(seed)
    out = bytearray(data)
    # Keep the header so the file still claims to be a PDF; corrupt the body.
    for _ in range(flips):
        i = rng.randrange(1024, len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def qpdf_encrypt(src, dst, user, owner):
    subprocess.run(
        ["qpdf", "--static-id", "--static-aes-iv", "--encrypt", user, owner, "256", "--",
         src, dst],
        check=True,
    )


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FIXTURES, "hostile")
    os.makedirs(out_dir, exist_ok=True)
    path = lambda name: os.path.join(out_dir, name)
    with open(SOURCE, "rb") as f:
        source = f.read()

    def write(name, data):
        with open(path(name), "wb") as f:
            f.write(data)

    write("truncated-half.pdf", source[: len(source) // 2])
    write("truncated-header-only.pdf", source[:400])
    write("empty.pdf", b"")
    write("not-a-pdf.pdf", b"PK\x03\x04 this is a zip-looking text file, renamed to .pdf\n" * 20)
    for seed in (1, 2, 3):
        write(f"fuzzed-{seed}.pdf", fuzz(source, seed, 200))
    qpdf_encrypt(SOURCE, path("encrypted-user-password.pdf"), "secret", "owner-secret")
    qpdf_encrypt(SOURCE, path("encrypted-empty-user-password.pdf"), "", "owner-secret")

    images = {100: HELVETICA, 110: image_object()}
    write("image-only.pdf", build_pdf([image_page(), image_page()], images))
    write(
        "text-then-scan.pdf",
        build_pdf([text_page("A page with a real text layer."), image_page()], images),
    )
    fonts = {100: HELVETICA, **pua_font_objects()}
    write(
        "garbled-second-page.pdf",
        build_pdf([text_page("Readable first page about travel."), garbled_page()], fonts),
    )
    write("garbled-only.pdf", build_pdf([garbled_page()], fonts))


if __name__ == "__main__":
    main()
