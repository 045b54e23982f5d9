#!/usr/bin/env bash
# Every test: Rust (unit, hub API, sync against a real hub, end-to-end with real processes and a
# real webview), the UI's type check and component tests, and the generated-types check.
# Runs under its own X server and D-Bus session so it never touches a real desktop.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1
log=$(mktemp -t herald-test.XXXXXX)
trap 'rm -f "$log"' EXIT

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> UI: type check, unit tests, build"
npm --prefix ui run check
npm --prefix ui test 2>&1 | tee -a "$log"
npm --prefix ui run build
# The web inbox, embedded by herald-hub's build.rs: built before any cargo build.
npm --prefix ui run build:web

echo "==> build every binary (the end-to-end tests start them)"
cargo build --workspace --bins --locked

echo "==> the agent links no webview"
if cargo tree -p herald-agent -e normal --locked | grep -iE '\b(tauri|wry|webkit2gtk|gtk)\b'; then
  echo "herald-agent must not depend on a webview or GTK (it runs all day; see README)" >&2
  exit 1
fi

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test (under Xvfb and a private D-Bus session)"
xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- cargo test --workspace --locked 2>&1 | tee -a "$log"

echo "==> schemathesis against a running hub, as a user, an app and an admin"
HERALD_API_FUZZ_SECONDS="${HERALD_API_FUZZ_SECONDS:-30}" scripts/api-fuzz.sh

echo "==> a hostile user, app and stranger against a real hub process, from outside"
python3 scripts/abuse-probe.py "${CARGO_TARGET_DIR:-target}/debug/herald-hub"

echo "==> the web inbox in Debian's Chromium (playwright-core) against a real hub"
node --test --test-reporter=spec ui/e2e/ 2>&1 | tee "$log.web"
web_passed=$(sed -n 's/^ℹ pass //p' "$log.web" | tail -n 1)
rm -f "$log.web"

echo "==> fuzzing: the feed decoder, the ingest templates and the hub's request parsing"
scripts/fuzz.sh

echo "==> the Windows build: lint, and its tests under Wine"
scripts/test-windows.sh 2>&1 | tee -a "$log"

echo "==> benchmark smoke run (numbers are taken in release builds; see BENCHMARKS.md)"
"${CARGO_TARGET_DIR:-target}/debug/herald-bench" --users 50 --seconds 1 --senders 4
"${CARGO_TARGET_DIR:-target}/debug/herald-bench" mirror --rows 2000 --big 5000
"${CARGO_TARGET_DIR:-target}/debug/herald-bench" live --rate 100 --seconds 1 --runs 2

# The tests regenerate the UI's TypeScript types from Rust; committed copies must match.
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- ui/src/lib/backend/generated; then
  echo "ui/src/lib/backend/generated is stale: commit the regenerated files" >&2
  git diff --stat -- ui/src/lib/backend/generated >&2
  exit 1
fi

# One closing line over both runners (cargo's last line is a doc-test run with nothing in it).
rust_passed=$(grep -E '^test result:' "$log" | awk '{s += $4} END {print s + 0}')
rust_failed=$(grep -E '^test result:' "$log" | awk '{s += $6} END {print s + 0}')
ui_passed=$(grep -E '^ +Tests +[0-9]+ passed' "$log" | awk '{print $2}' | tail -n 1)
echo "all tests: $((rust_passed + ${ui_passed:-0} + ${web_passed:-0})) passed, ${rust_failed} failed"
