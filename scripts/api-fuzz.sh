#!/usr/bin/env bash
# Schemathesis against a real herald-hub process, from the hub's own OpenAPI document: requests
# generated from every operation's schema (and mutated out of it), as a user, an app and an
# admin. Passes when no response is a 5xx and every error is exactly {code, message}
# (scripts/schemathesis/herald_checks.py). Then the hub's debug log, which saw every request, is
# searched for the tokens: none may appear.
#
# HERALD_API_FUZZ_SECONDS: the time per caller (default 40). Needs the debug herald-hub built.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${HERALD_API_FUZZ_SECONDS:-40}"
hub_bin="${CARGO_TARGET_DIR:-target}/debug/herald-hub"
st="${HERALD_VENV:-$HOME/.cache/herald/venv}/bin/st"
hooks="$PWD/scripts/schemathesis"
[ -x "$st" ] || { echo "schemathesis is missing: run scripts/install-deps.sh" >&2; exit 1; }

work=$(mktemp -d -t herald-api-fuzz.XXXXXX)
hub_pid=""
cleanup() {
  [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
bob=$("$hub_bin" user add bob --data "$data")
"$hub_bin" user add alice --data "$data" >/dev/null
"$hub_bin" user add sc-7 --data "$data" >/dev/null
app=$("$hub_bin" token add --app community --data "$data")
admin=$("$hub_bin" token add --admin --data "$data")

HERALD_LOG=debug "$hub_bin" serve --listen 127.0.0.1:0 --data "$data" --rate-limit 0 \
  >"$work/hub.out" 2>"$work/hub.log" &
hub_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/hub.out" 2>/dev/null && break; sleep 0.1; done
server=$(sed -n 's/^herald-hub listening on //p' "$work/hub.out")
[ -n "$server" ] || { echo "the hub did not start:" >&2; cat "$work/hub.log" >&2; exit 1; }

# Something to act on: notifications for bob, one of them awaiting an answer.
for subject in "PO 7 needs approval" "Ann replied" "Build failed"; do
  curl -fsS -o /dev/null "$server/v1/notifications" -H "authorization: Bearer $app" \
    -H 'content-type: application/json' \
    -d "{\"to\":{\"users\":[\"bob\",\"alice\"]},\"subject\":\"$subject\",\"tag\":\"t\",\"buttons\":[{\"value\":\"Y\",\"label\":\"Yes\"}],\"reply\":{}}"
done

failed=0
for caller in bob app admin; do
  token=${!caller}
  echo "==> schemathesis as $caller (${seconds}s)"
  # From the scratch directory: schemathesis leaves its cache (.schemathesis/) where it runs.
  (cd "$work" && SCHEMATHESIS_HOOKS=herald_checks PYTHONPATH="$hooks" "$st" run "$server/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,error_is_code_and_message \
    --max-time "$seconds" --workers 1 --suppress-health-check all \
    --warnings off --no-color) >"$work/st-$caller.out" 2>&1 || failed=1
  sed -n '/=* SUMMARY =*/,$p' "$work/st-$caller.out"
  if [ "$failed" = 1 ]; then
    sed -n '/=* FAILURES =*/,/=* SUMMARY =*/p' "$work/st-$caller.out" | head -150
    exit 1
  fi
done

echo "==> no token in the hub's debug log ($(wc -l <"$work/hub.log") lines)"
for token in "$bob" "$app" "$admin"; do
  if grep -qF "${token#hrld_}" "$work/hub.log"; then
    echo "a token appears in the hub's log" >&2
    exit 1
  fi
done
