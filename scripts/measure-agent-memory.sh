#!/usr/bin/env bash
# Measures the resident agent's memory while idle and connected to a hub, with a real
# notification daemon, in a private X server and D-Bus session. Release build.
#   scripts/measure-agent-memory.sh [NOTIFICATIONS_BEFORE_MEASURING]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HERALD_MEASURE_INNER:-}" ]; then
  cargo build --release -p herald-agent -p herald-hub
  exec env HERALD_MEASURE_INNER=1 xvfb-run -a dbus-run-session -- "$0" "$@" 2> >(grep -v dbus-daemon >&2)
fi
n="${1:-0}"
bin="${CARGO_TARGET_DIR:-target}/release"
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
/usr/lib/notification-daemon/notification-daemon --replace 2>/dev/null & pids+=($!)
"$bin/herald-hub" serve --listen 127.0.0.1:0 --data "$dir/hub" > "$dir/hub.out" 2>/dev/null & pids+=($!)
until grep -q "listening on" "$dir/hub.out" 2>/dev/null; do sleep 0.1; done
server=$(sed -n 's/^herald-hub listening on //p' "$dir/hub.out")
token=$("$bin/herald-hub" user add bob --data "$dir/hub")
sender=$("$bin/herald-hub" user add erp --data "$dir/hub")
HERALD_SERVER=$server HERALD_TOKEN=$token HERALD_DATA_DIR="$dir/profile" HERALD_LOG=info "$bin/herald" 2> "$dir/agent.log" & agent=$!; pids+=($agent)
until grep -q "feed connected" "$dir/agent.log" 2>/dev/null; do sleep 0.1; done
for i in $(seq "$n"); do
  curl -sf -H "Authorization: Bearer $sender" -H 'content-type: application/json' \
    -d "{\"to\":{\"user\":\"bob\"},\"subject\":\"Notification $i\",\"body\":\"body\"}" "$server/v1/notifications" > /dev/null
done
sleep 5 # let toasts be shown and the agent settle; memory is what is measured, not time
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$agent/status")
anon=$(awk '/^RssAnon/ {print $2}' "/proc/$agent/status")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$agent/smaps_rollup")
echo "herald agent, idle and connected after $n notifications: RSS ${rss} kB, PSS ${pss} kB, anonymous ${anon} kB, threads $(ls "/proc/$agent/task" | wc -l)"
