#!/usr/bin/env python3
"""Writes the password-protected PDF fixtures used by crates/doctalk-ingest/tests/pdf.rs and the
CLI tests: the two real documents of tests/fixtures/pdf encrypted by Debian's `qpdf` with every
kind of PDF encryption a user meets.

    python3 bench/pdf/make_encrypted.py            # writes into tests/fixtures/pdf/encrypted
    python3 bench/pdf/make_encrypted.py OUT_DIR

The AES files differ from run to run (qpdf's key-derivation salts are random); the passwords,
listed in PASSWORDS.md beside them, do not.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "crates", "doctalk-ingest", "tests", "fixtures", "pdf")
EN = os.path.join(FIXTURES, "en-zhlipsum-en.pdf")
ZH = os.path.join(FIXTURES, "zh-zhlipsum.pdf")

# name, source, user password, owner password, qpdf key length and options, what it is
FILES = [
    ("rc4-40.pdf", EN, "rc4-forty", "owner-1", ["40"], "RC4, 40-bit key (revision 2)"),
    ("rc4-128.pdf", ZH, "rc4-128bit", "owner-2", ["128", "--use-aes=n"], "RC4, 128-bit key (revision 3)"),
    # Revision 4 passwords are PDFDocEncoding bytes: a Latin-1 password is stored as Latin-1.
    ("aes-128.pdf", EN, "Pässwörd", "owner-3", ["128", "--use-aes=y"], "AES-128 (revision 4), non-ASCII password"),
    # Revision 6 passwords are UTF-8 after SASLprep. qpdf stores what it is given, so the file is
    # made with the normalised form "密码IX"; a user typing "密码Ⅸ" (U+2168) must still open it.
    ("aes-256.pdf", ZH, "密码IX", "owner-4", ["256"], "AES-256 (revision 6), Chinese password"),
    ("aes-128-owner-only.pdf", EN, "", "owner-5", ["128", "--use-aes=y"], "AES-128, owner password only"),
]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FIXTURES, "encrypted")
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for name, source, user, owner, key, what in FILES:
        dst = os.path.join(out_dir, name)
        subprocess.run(
            ["qpdf", "--static-id", "--static-aes-iv", "--allow-weak-crypto", "--encrypt", user, owner, *key, "--", source, dst],
            check=True,
        )
        rows.append(f"| `{name}` | {what} | `{os.path.basename(source)}` | `{user}` | `{owner}` |")
    with open(os.path.join(out_dir, "PASSWORDS.md"), "w", encoding="utf-8") as f:
        f.write("# Password-protected fixtures\n\nMade by `python3 bench/pdf/make_encrypted.py` with qpdf "
                "from the real documents one folder up (same licence).\n\n"
                "| file | encryption | from | user password | owner password |\n|---|---|---|---|---|\n")
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
