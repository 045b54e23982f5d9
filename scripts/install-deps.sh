#!/usr/bin/env bash
# Installs what building and testing Herald needs and is missing: Debian/Ubuntu packages, the
# UI's npm packages, and tauri-driver for the webview test. Safe to run again; it only adds.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev
  xvfb xauth dbus-daemon dbus-x11 libglib2.0-bin x11-utils xdotool imagemagick
  notification-daemon webkit2gtk-driver libnotify-bin
  openbox  # a window manager for the test that a click elsewhere hides the quick panel
  iproute2  # ip netns: the sync tests change the network in a namespace of their own
  gnome-keyring libsecret-tools  # a real Secret Service keyring for the token tests, and a second client to check it
  chromium  # the web inbox's browser tests (playwright-core drives it; no browser is downloaded)
  gcc-mingw-w64-x86-64 wine64  # the Windows build (x86_64-pc-windows-gnu) and its tests, run under Wine
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v cargo >/dev/null || { echo "Rust is missing: install it from rustup.rs, then run this again" >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js 20.19+ is missing (the UI build needs it)" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "Node.js $(node --version) is too old: Vite 8 needs 20.19 or newer" >&2; exit 1; }

# npm ci only when the lock file changed since the last install.
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "==> npm ci (ui/)"
  npm --prefix ui ci --no-audit --no-fund
fi

if ! command -v tauri-driver >/dev/null; then
  echo "==> cargo install tauri-driver"
  cargo install tauri-driver --locked --version '^2'
fi

# The Windows target's standard library, for scripts/test-windows.sh (rustup fetches it once).
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  echo "==> rustup target add x86_64-pc-windows-gnu"
  rustup target add x86_64-pc-windows-gnu
fi

# Fuzzing (scripts/fuzz.sh): cargo-fuzz, and the nightly compiler libFuzzer's instrumentation needs.
if ! command -v cargo-fuzz >/dev/null; then
  echo "==> cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked --version '^0.13'
fi
if command -v rustup >/dev/null && ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "==> rustup toolchain install nightly"
  rustup toolchain install nightly --profile minimal
fi

# schemathesis (scripts/api-fuzz.sh), in a virtualenv of its own outside the clone.
venv="${HERALD_VENV:-$HOME/.cache/herald/venv}"
if [ ! -x "$venv/bin/st" ]; then
  echo "==> schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis==4.32.5'
fi
# aiosmtpd: the real SMTP server the hub's email tests send to (scripts/smtp-sink.py).
if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  echo "==> aiosmtpd into $venv"
  "$venv/bin/pip" install -q 'aiosmtpd==1.4.6'
fi
