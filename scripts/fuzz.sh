#!/usr/bin/env bash
# Coverage-guided fuzzing of DocTalk's parsers with afl.rs (stable Rust, AFL++).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]      (default: 300 s, every target)
#
# Builds crates/doctalk-fuzz instrumented (release), runs afl-fuzz on each target from its stored
# corpus, copies any crash into crates/doctalk-fuzz/regressions/TARGET/ (the test suite replays
# those), minimises the grown queue back into the corpus (afl-cmin, then at most 300 inputs and
# 1.5 MB per target, smallest first), and prints executions, corpus sizes and crashes per target. The document targets build without the model and engine crates; the model targets
# (wav, gguf, chat-template, piper-onnx, ct2, e5, pth) and the request bodies (http-bodies) build
# with them.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-300}
shift || true
all=(pdf-oxide pdf-extract docx xlsx csv tsv json jsonl html markdown text wav gguf chat-template http-bodies piper-onnx ct2 e5 pth)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

command -v cargo-afl >/dev/null || cargo install cargo-afl --locked
cargo afl config --build >/dev/null 2>&1 || true   # builds AFL++ once per toolchain

export CARGO_TARGET_DIR=${DOCTALK_FUZZ_TARGET_DIR:-target/fuzz}
features_of() {
  case "$1" in
    wav|gguf|chat-template|piper-onnx|ct2|e5|pth) echo "afl,models" ;;
    http-bodies) echo "afl,app" ;;
    *) echo "afl" ;;
  esac
}
out=${DOCTALK_FUZZ_OUT:-target/fuzz-out}
crate=crates/doctalk-fuzz
mkdir -p "$out"
report="$out/report.tsv"
printf 'target\tseconds\texecs\texecs_per_s\tcorpus_in\tcorpus_out\tcrashes\thangs\n' > "$report"

for t in "${targets[@]}"; do
  features=$(features_of "$t")
  bin_dir="$CARGO_TARGET_DIR/${features//,/-}"
  if [ ! -x "$bin_dir/doctalk-fuzz" ]; then
    echo "== building the $features harness"
    timeout 3600 cargo afl build --locked --release -p doctalk-fuzz --no-default-features --features "$features"
    mkdir -p "$bin_dir"
    cp "$CARGO_TARGET_DIR/release/doctalk-fuzz" "$bin_dir/doctalk-fuzz"
  fi
  bin="$bin_dir/doctalk-fuzz"
  rm -rf "${out:?}/$t"
  echo "== fuzzing $t for $secs s"
  # -t: per-input timeout (ms) above the harness's own 5 s PDF budget; -m none: the parsers'
  # own limits are what is being tested.
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
    timeout $((secs + 120)) cargo afl fuzz -V "$secs" -t 12000 -m none \
      -i "$crate/corpus/$t" -o "$out/$t" -- "$bin" "$t" > "$out/$t.log" 2>&1 || true
  stats="$out/$t/default/fuzzer_stats"
  val() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$stats" 2>/dev/null || echo 0; }
  crashes=0
  if compgen -G "$out/$t/default/crashes/id:*" > /dev/null; then
    mkdir -p "$crate/regressions/$t"
    for c in "$out/$t/default/crashes"/id:*; do
      name=$(sha256sum "$c" | cut -c1-16)
      cp "$c" "$crate/regressions/$t/$name"
      crashes=$((crashes + 1))
    done
  fi
  before=$(ls "$crate/corpus/$t" | wc -l)
  # Keep the smallest set of inputs that covers what the whole queue covered.
  rm -rf "$out/$t.cmin"
  if AFL_NO_UI=1 timeout 1800 cargo afl cmin -t 12000 -m none -i "$out/$t/default/queue" -o "$out/$t.cmin" \
      -- "$bin" "$t" > "$out/$t.cmin.log" 2>&1 && [ -n "$(ls -A "$out/$t.cmin" 2>/dev/null)" ]; then
    rm -rf "${crate:?}/corpus/$t"
    mkdir -p "$crate/corpus/$t"
    for f in "$out/$t.cmin"/*; do cp "$f" "$crate/corpus/$t/$(sha256sum "$f" | cut -c1-16)"; done
    # Bounded for the repository and the suite's replay: the smallest inputs first.
    python3 "$crate/cap_corpus.py" "$crate/corpus/$t"
  fi
  after=$(ls "$crate/corpus/$t" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$secs" "$(val execs_done)" "$(val execs_per_sec)" \
    "$before" "$after" "$crashes" "$(val saved_hangs)" >> "$report"
done
column -t "$report"
