#!/usr/bin/env bash
# Fuzzes each cargo-fuzz target in fuzz/ for HERALD_FUZZ_SECONDS (default 60), starting from the
# corpus kept in fuzz/corpus/<target>. What the fuzzer finds goes to a scratch corpus beside the
# build (so a run leaves the repository as it was); `scripts/fuzz.sh --merge` then folds it,
# minimised, into fuzz/corpus. A crash stops the run, and its input is in fuzz/artifacts/<target>/.
#
# libFuzzer and AddressSanitizer need a nightly compiler; this machine's rustup has one.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${HERALD_FUZZ_SECONDS:-60}"
# Beside the main build's (a fuzz build differs in every flag), or in fuzz/target.
target_dir="${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR-fuzz}"
target_dir="${target_dir:-$PWD/target}"
fuzz=(cargo +nightly fuzz)
flags=(-O --debug-assertions --target-dir "$target_dir")

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzzing needs a nightly toolchain (rustup toolchain list shows none)" >&2
  exit 1
fi
"${fuzz[@]}" build "${flags[@]}"

for target in $("${fuzz[@]}" list); do
  scratch="$target_dir/corpus/$target"
  mkdir -p "$scratch" "corpus/$target"
  if [[ "${1:-}" == "--merge" ]]; then
    echo "==> $target: merging $scratch into fuzz/corpus/$target"
    # libFuzzer's merge adds to the first directory the inputs of the others that reach code it
    # does not (cargo fuzz cmin would rewrite the committed corpus instead).
    "${fuzz[@]}" run "${flags[@]}" "$target" "corpus/$target" "$scratch" -- -merge=1 2>&1 |
      grep -E "MERGE-OUTER: [0-9]+ new"
    continue
  fi
  echo "==> $target: ${seconds}s"
  # -timeout: an input that takes 10 s is a hang, and a failure like a crash.
  "${fuzz[@]}" run "${flags[@]}" "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 2>&1 |
    grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)|NEW_FUNC' || { echo "fuzz target $target failed" >&2; exit 1; }
done
