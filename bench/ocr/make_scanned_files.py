#!/usr/bin/env python3
"""Makes the scanned-document fixtures of the ingest tests from the repository's own sample PDFs:

    make_scanned_files.py OUT_DIR

  scanned-zh.pdf       员工手册.pdf page 3 as a 150-dpi greyscale JPEG, the only thing on its page (no text layer)
  mixed.pdf            it-security-policy.pdf page 2 (text layer) followed by a scanned page 3
  two-pages.tif        员工手册.pdf pages 4 and 5 at 200 dpi, 1 bit, CCITT G4, one TIFF
  white-is-zero.tif    its first page stored as fax machines do: WhiteIsZero (photometric 0), bits inverted
  photo.png            it-security-policy.pdf page 3 at 150 dpi with a transparent margin (RGBA)
  truncated.jpg        the first 40% of a JPEG
  bomb.png             a PNG header declaring 60,000 x 60,000 pixels (a decompression bomb), no pixels
  zero-area.pdf        a one-page PDF whose MediaBox has no area
  jbig2-no-globals.pdf a page whose only image is JBIG2 data naming a JBIG2Globals object that does not exist

Needs poppler-utils (pdftoppm), qpdf, and Pillow (the OCR reference venv has it). Deterministic.
"""
import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib

from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZH = os.path.join(REPO, "examples/sample-kb/员工手册.pdf")
EN = os.path.join(REPO, "examples/sample-kb/it-security-policy.pdf")


def page_image(pdf, page, dpi):
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "p")
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page), "-l", str(page),
                        pdf, base], check=True)
        return Image.open(base + ".png").convert("RGB")


def white_is_zero(page, path):
    """`page` (mode "1") as a G4 TIFF whose set bits are black: the pixels inverted, and the
    PhotometricInterpretation tag (262) patched to 0, since Pillow writes BlackIsZero for mode "1"."""
    page.convert("L").point(lambda v: 255 - v).convert("1").save(path, compression="group4")
    data = bytearray(open(path, "rb").read())
    endian = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(endian + "I", data, 4)
    (count,) = struct.unpack_from(endian + "H", data, ifd)
    for i in range(count):
        at = ifd + 2 + 12 * i
        tag, kind, _ = struct.unpack_from(endian + "HHI", data, at)
        if tag == 262:
            if kind != 3 or struct.unpack_from(endian + "H", data, at + 8)[0] != 1:
                raise SystemExit(f"{path}: unexpected PhotometricInterpretation entry")
            struct.pack_into(endian + "H", data, at + 8, 0)
            break
    else:
        raise SystemExit(f"{path}: no PhotometricInterpretation tag")
    open(path, "wb").write(bytes(data))


def scanned_pdf(img, path, dpi):
    img.save(path, "PDF", resolution=dpi, quality=50)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    scanned_pdf(page_image(ZH, 3, 150).convert("L"), os.path.join(out, "scanned-zh.pdf"), 150)

    with tempfile.TemporaryDirectory() as tmp:
        scan = os.path.join(tmp, "scan.pdf")
        scanned_pdf(page_image(EN, 3, 150).convert("L"), scan, 150)
        subprocess.run(["qpdf", "--empty", "--pages", EN, "2", scan, "1", "--",
                        "--deterministic-id", os.path.join(out, "mixed.pdf")], check=True)

    pages = [page_image(ZH, n, 200).convert("L").point(lambda v: 255 if v > 200 else 0).convert("1") for n in (4, 5)]
    pages[0].save(os.path.join(out, "two-pages.tif"), compression="group4", save_all=True, append_images=pages[1:])
    white_is_zero(pages[0], os.path.join(out, "white-is-zero.tif"))

    photo = page_image(EN, 3, 150).convert("RGBA")
    w, h = photo.size
    for x in range(w):
        for y in range(0, 40):
            photo.putpixel((x, y), (0, 0, 0, 0))
    photo.save(os.path.join(out, "photo.png"))

    buf = io.BytesIO()
    page_image(ZH, 4, 100).save(buf, "JPEG", quality=70)
    data = buf.getvalue()
    open(os.path.join(out, "truncated.jpg"), "wb").write(data[: len(data) * 2 // 5])

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 60001)) + chunk(b"IEND", b"")
    open(os.path.join(out, "bomb.png"), "wb").write(bomb)

    zero = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 0 0]/Contents 4 0 R>>endobj\n"
            b"4 0 obj<</Length 0>>stream\n\nendstream endobj\n")
    xref_at = len(zero)
    offsets = [zero.index(b"%d 0 obj" % n) for n in range(1, 5)]
    zero += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    zero += b"trailer<</Size 5/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    open(os.path.join(out, "zero-area.pdf"), "wb").write(zero)

    # A JBIG2 image whose shared dictionary (JBIG2Globals) is missing and whose data is not JBIG2.
    image = bytes(range(256)) * 4
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream",
        b"<</Type/XObject/Subtype/Image/Width 595/Height 842/ColorSpace/DeviceGray/BitsPerComponent 1"
        b"/Filter/JBIG2Decode/DecodeParms<</JBIG2Globals 9 0 R>>/Length %d>>stream\n" % len(image) + image + b"\nendstream",
    ]
    pdf = b"%PDF-1.5\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj" % n + body + b"endobj\n"
    xref_at = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    open(os.path.join(out, "jbig2-no-globals.pdf"), "wb").write(pdf)


if __name__ == "__main__":
    main()
