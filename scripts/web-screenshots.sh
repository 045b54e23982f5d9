#!/usr/bin/env bash
# The web inbox's screenshots (docs/screenshots/web-*.png), the browser notification included:
# a virtual screen, a session bus and the freedesktop notification daemon Chromium talks to.
# Needs a built herald-hub (make build) and ui/node_modules (npm ci in ui/).
set -euo pipefail
cd "$(dirname "$0")/../ui"
exec xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- sh -c '
  /usr/lib/notification-daemon/notification-daemon --replace &
  node e2e/screenshots.mjs
'
