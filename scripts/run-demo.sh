#!/usr/bin/env bash
# Runs Herald locally: a hub in a temporary data dir, a demo user (with a password for the web
# inbox the hub serves), a generator posting a realistic notification every few seconds, and the
# tray agent connected to it.
# Ctrl-C stops everything. HERALD_DEMO_DIR keeps the data somewhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/debug"
demo="${HERALD_DEMO_DIR:-$(mktemp -d -t herald-demo.XXXXXX)}"
mkdir -p "$demo"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "demo data left in $demo"; }
trap cleanup EXIT INT TERM

# The hub picks a free port and prints it on its first line.
"$bin/herald-hub" serve --listen 127.0.0.1:0 --data "$demo/hub" > "$demo/hub.out" 2> "$demo/hub.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$demo/hub.out" 2>/dev/null && break; sleep 0.1; done
server=$(sed -n 's/^herald-hub listening on //p' "$demo/hub.out")
[ -n "$server" ] || { echo "the hub did not start; see $demo/hub.log" >&2; exit 1; }

recipient=$(printf '%s' "${USER:-you}" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9._-'); [ -n "$recipient" ] || recipient=you
# A password for the web inbox, made fresh for this demo (printed below, never stored in clear).
password=$(head -c 9 /dev/urandom | base64 | tr -d '/+=' | head -c 12)
user_token=$(printf '%s\n' "$password" | "$bin/herald-hub" user add "$recipient" --password-stdin --data "$demo/hub")
"$bin/herald-hub" role grant composer "$recipient" --data "$demo/hub"
sender_token=$("$bin/herald-hub" token add --app demo-erp --data "$demo/hub")
"$bin/herald-hub" demo --server "$server" --token "$sender_token" --to "$recipient" --every "${HERALD_DEMO_EVERY:-6}" > "$demo/demo.log" 2>&1 &
pids+=($!)

echo "hub:   $server   (data: $demo/hub)"
echo "web:   $server/   sign in as '$recipient' with password '$password'"
echo "agent: profile in $demo/profile; click the tray icon for the quick panel, or run '$bin/herald' again to open the inbox"
export HERALD_SERVER="$server" HERALD_TOKEN="$user_token" HERALD_DATA_DIR="$demo/profile"
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "no D-Bus session: running the agent in its own (no tray or toasts will be visible)" >&2
  dbus-run-session -- "$bin/herald"
else
  "$bin/herald"
fi
