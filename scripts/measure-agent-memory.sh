#!/usr/bin/env bash
# Measures the resident agent's memory while idle and connected to a hub, with a real
# notification daemon, in a private X server and D-Bus session. The agent as shipped (the `agent`
# profile: small code), the hub in release.
#   scripts/measure-agent-memory.sh [NOTIFICATIONS_BEFORE_MEASURING]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HERALD_MEASURE_INNER:-}" ]; then
  cargo build --release -p herald-hub
  cargo build --profile agent -p herald-agent
  exec env HERALD_MEASURE_INNER=1 xvfb-run -a dbus-run-session -- "$0" "$@" 2> >(grep -v dbus-daemon >&2)
fi
n="${1:-0}"
bin="${CARGO_TARGET_DIR:-target}/release"
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
/usr/lib/notification-daemon/notification-daemon --replace 2>/dev/null & pids+=($!)
"$bin/herald-hub" serve --listen 127.0.0.1:0 --rate-limit 0 --data "$dir/hub" > "$dir/hub.out" 2>/dev/null & pids+=($!)
until grep -q "listening on" "$dir/hub.out" 2>/dev/null; do sleep 0.1; done
server=$(sed -n 's/^herald-hub listening on //p' "$dir/hub.out")
token=$("$bin/herald-hub" user add bob --data "$dir/hub")
sender=$("$bin/herald-hub" token add --app erp --data "$dir/hub")
# The notifications are on the hub before the agent starts: it mirrors them as a catch-up, as
# after a first sign-in. Four keep-alive connections at once (100,000 take about a minute).
python3 - "$server" "$sender" "$n" <<'PY'
import http.client, json, sys, threading, urllib.parse
server, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urllib.parse.urlparse(server)
def send(part):
    conn = http.client.HTTPConnection(url.hostname, url.port)
    for i in range(part, n, 4):
        body = json.dumps({"to": {"user": "bob"}, "subject": f"Notification {i}",
                           "body": "Quarterly figures for the northern region, as discussed"})
        conn.request("POST", "/v1/notifications", body,
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
threads = [threading.Thread(target=send, args=(p,)) for p in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
PY
HERALD_SERVER=$server HERALD_TOKEN=$token HERALD_DATA_DIR="$dir/profile" HERALD_LOG=info "${CARGO_TARGET_DIR:-target}/agent/herald" 2> "$dir/agent.log" & agent=$!; pids+=($agent)
until grep -q "feed connected" "$dir/agent.log" 2>/dev/null; do sleep 0.1; done
sleep 10 # let the search index catch up and the agent settle; memory is what is measured, not time
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$agent/status")
anon=$(awk '/^RssAnon/ {print $2}' "/proc/$agent/status")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$agent/smaps_rollup")
tray=$(sed -n 's/.*since_start_ms=\([0-9.]*\).*tray ready.*/\1/p; s/.*tray ready.*since_start_ms=\([0-9.]*\).*/\1/p' "$dir/agent.log" | head -n 1)
echo "herald agent: tray ready ${tray} ms after start"
echo "herald agent, idle and connected with $n notifications mirrored: RSS ${rss} kB, PSS ${pss} kB, anonymous ${anon} kB, threads $(ls "/proc/$agent/task" | wc -l)"
