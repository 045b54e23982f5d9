#!/usr/bin/env bash
# The Windows build of the desktop: herald-client, the agent and herald-ui are linted for
# x86_64-pc-windows-gnu, and the client's and agent's tests run under Wine — the named-pipe IPC,
# the Run key, the Credential Manager, the mirror and sync against a real hub (built for Windows
# too). What Wine cannot show (WinRT toasts, the webview) is only compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-pc-windows-gnu
# Its own target dir: switching targets in one would rebuild the host's build scripts each time.
# Absolute: Wine wants an absolute prefix, and the e2e test hands the path to Wine as Z:\….
host_target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
export CARGO_TARGET_DIR="$host_target-windows"
export WINEPREFIX="$CARGO_TARGET_DIR/wine"
export WINEDEBUG=-all
# No Mono or Gecko: nothing here needs them, and Wine would try to download them.
export WINEDLLOVERRIDES="mscoree,mshtml="
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$(command -v wine64 || echo /usr/lib/wine/wine64)"

echo "==> cargo clippy (Windows: herald-client, herald, herald-ui)"
cargo clippy -p herald-client -p herald-agent -p herald-ui --all-targets --locked --target "$target" -- -D warnings

echo "==> Wine: a prefix with ProcessPrng"
mkdir -p "$WINEPREFIX"
if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
  # No display: a first boot would otherwise open dialogs on the user's screen.
  DISPLAY= "$CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER" wineboot --init >/dev/null 2>&1 || true
  [ -d "$WINEPREFIX/drive_c/windows/system32" ] || { echo "wineboot could not make $WINEPREFIX" >&2; exit 1; }
fi
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c -ladvapi32

echo "==> cargo test under Wine (Windows build)"
# search_at_scale is left out: a million rows through Wine's file calls take minutes and test
# SQLite, which is the same on every system.
cargo test -p herald-client -p herald-agent --locked --target "$target" --lib --bins --test sync --test outbox

echo "==> the Windows agent under Wine against a real hub (tests/windows_agent.rs)"
cargo build -p herald-agent --locked --target "$target"
HERALD_WINDOWS_AGENT="$CARGO_TARGET_DIR/$target/debug/herald.exe" HERALD_WINE="$CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER" \
  CARGO_TARGET_DIR="$host_target" xvfb-run -a -s '-screen 0 1280x800x24' \
  cargo test -p herald-e2e --locked --test windows_agent -- --ignored
