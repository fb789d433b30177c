"""Reads cargo's JSON messages (`cargo test --no-run --message-format=json...`) on stdin and prints
one line per test binary: `<package> <target> <package dir> <executable>`. Other messages (the
rendered diagnostics) pass through to stderr, so warnings and errors still show."""
import json
import os
import sys


def package_name(package_id: str) -> str:
    # "path+file:///repo/crates/doctalk-cli#0.1.0" (name = last path segment) or
    # "path+file:///repo#doctalk-desktop@0.1.0".
    url, _, fragment = package_id.partition("#")
    if "@" in fragment:
        return fragment.split("@")[0]
    return url.rstrip("/").split("/")[-1]


for line in sys.stdin:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        sys.stderr.write(line)
        continue
    if message.get("reason") == "compiler-message":
        sys.stderr.write(message.get("message", {}).get("rendered") or "")
    if (
        message.get("reason") == "compiler-artifact"
        and message.get("profile", {}).get("test")
        and message.get("executable")
    ):
        print(
            package_name(message["package_id"]),
            message["target"]["name"],
            os.path.dirname(message["manifest_path"]),
            message["executable"],
        )
