#!/usr/bin/env bash
# Takes the screenshots in docs/screenshots (shown in README.md) under a private Xvfb and D-Bus
# session: a real toast, the inbox, the quick panel and settings, over a real hub with traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
npm --prefix ui run build
cargo build --workspace --bins
xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- \
  cargo test -p herald-e2e --test screenshots -- --ignored --nocapture
ls -l docs/screenshots
