#!/usr/bin/env python3
"""Issue 17's findings, reproduced from outside against any herald-hub binary.

    scripts/abuse-probe.py path/to/herald-hub

Starts the binary on a fresh data directory with its default settings (as `serve` runs it) and
tries each finding as a hostile user, app or stranger would; prints one line per finding, "held"
or "FAILS" with what was seen. Run it on an older binary to see what the fixes changed: the
in-process tests of crates/herald-hub/tests/abuse.rs use settings and types an older hub lacks.
Standard library only; takes about 30 s.
"""

import base64
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "crates", "herald-hub", "tests", "fixtures")


class Hub:
    def __init__(self, binary):
        self.binary = binary
        self.data = tempfile.mkdtemp(prefix="herald-probe-")
        self.admin = self.cli("token", "add", "--admin")
        self.alice = self.cli("user", "add", "alice")
        self.cli("user", "add", "sc-7")
        self.cli("role", "grant", "staff", "alice")
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data", self.data],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "HERALD_LOG": "info"}, text=True)
        first = self.process.stdout.readline()
        self.address = first.strip().split("http://", 1)[1]
        self.log = []
        threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True).start()

    def cli(self, *args):
        out = subprocess.run([self.binary, *args, "--data", self.data], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def request(self, method, path, token=None, body=None, headers=None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(f"http://{self.address}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return res.status, res.headers, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=15)


def silent_connection_open_after(hub, seconds):
    host, port = hub.address.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.settimeout(seconds)
    try:
        return s.recv(1) != b""  # b"" is the hub closing it
    except socket.timeout:
        return True
    except ConnectionResetError:
        return False
    finally:
        s.close()


def feed(hub, token):
    host, port = hub.address.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /v1/feed HTTP/1.1\r\nHost: {hub.address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
    s.settimeout(5)
    head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def closed_within(s, seconds):
    """True if the peer closes `s` (a close frame or EOF) within `seconds`; frames are read past."""
    s.settimeout(seconds)
    deadline = time.time() + seconds
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if chunk == b"" or b"\x88" in chunk[:2]:
                return True
    except (socket.timeout, ConnectionResetError):
        return False
    return False


def probes(hub):
    erp = hub.cli("token", "add", "--app", "erp")
    evil = hub.cli("token", "add", "--app", "evil")
    results = []

    def check(name, held, seen):
        results.append((name, held, seen))
        print(f"{'held ' if held else 'FAILS'}  {name}: {seen}", flush=True)

    status, _, _ = hub.request("GET", "/v1/notifications?q=" + "+".join(["zebra"] * 5000), hub.alice)
    check("1. a q of 5,000 words", status == 400, f"answered {status}")
    status, _, _ = hub.request("GET", "/v1/notifications?q=%00", hub.alice)
    check("9. q=%00", status == 400, f"answered {status}")

    open_after = silent_connection_open_after(hub, 15)
    check("2. a silent connection", not open_after, "still open after 15 s" if open_after else "closed within 15 s")
    feeds = [feed(hub, hub.alice) for _ in range(17)]
    first_closed = closed_within(feeds[0], 3)
    check("2. 17 feeds of one token", first_closed, "the oldest closed" if first_closed else "all 17 open")
    for s in feeds:
        s.close()

    recipients = json.load(open(os.path.join(FIXTURES, "selfcommunity_events.json")))
    event = next(e for e in recipients if e["type"] == "notification.private_message")
    event["data"]["recipients"] = [7] * 25000
    community = hub.cli("token", "add", "--app", "community")
    started = time.time()
    status, _, _ = hub.request("POST", "/v1/ingest/selfcommunity", community, event)
    took = time.time() - started
    check("3. an event naming one recipient 25,000 times", status == 200 and took < 2, f"answered {status} in {took:.1f} s")

    minted = []
    for _ in range(2):
        status, _, body = hub.request("POST", "/v1/admin/tokens", hub.admin, {"app": "probe"},
                                      {"Idempotency-Key": "probe-key-1"})
        minted.append(body)
    db = sqlite3.connect(os.path.join(hub.data, "hub.sqlite3"))
    stored = " ".join(str(r) for r in db.execute("SELECT response FROM idempotency_keys"))
    db.close()
    check("4. a token minted under an idempotency key", "hrld_" not in stored,
          "a token is stored in idempotency_keys" if "hrld_" in stored else "no token at rest")
    other_admin = hub.cli("token", "add", "--admin")
    status, _, body = hub.request("POST", "/v1/admin/tokens", other_admin, {"app": "probe"},
                                  {"Idempotency-Key": "probe-key-1"})
    leaked = "hrld_" in body and body == minted[0]
    check("4. another admin replaying that key", not leaked, "got the first admin's token" if leaked else f"answered {status}, no token of the other")

    approval = {"to": {"role": "staff"}, "subject": "Approve PO-2?", "tag": "po-2",
                "buttons": [{"value": "Y", "label": "Approve"}]}
    hub.request("POST", "/v1/notifications", erp, approval)
    hub.request("POST", "/v1/notifications", evil, {"to": {"everyone": True}, "subject": "x", "tag": "po-2"})
    _, _, inbox = hub.request("GET", "/v1/notifications?tag=po-2", hub.alice)
    kept = any(i["subject"] == "Approve PO-2?" for i in json.loads(inbox)["items"])
    check("5. another app sending the same tag", kept, "the approval is kept" if kept else "the approval is gone")

    status, _, _ = hub.request("POST", "/v1/events", erp, {"to": {"role": "staff"}, "kind": "reminder",
                                                            "ttl_seconds": 86400, "title": "t", "body": "x" * 31000})
    check("6. a live event with a 31 KB body", status == 400, f"answered {status}")

    event = next(e for e in recipients if e["type"] == "notification.private_message")
    event["event_id"] = "e1\nFORGED level=ERROR admin logged in\x1b[31m"
    status, _, _ = hub.request("POST", "/v1/ingest/selfcommunity", community, event)
    for _ in range(50):  # the log line is written after the answer
        if any("e1" in line for line in hub.log):
            break
        time.sleep(0.1)
    time.sleep(0.2)
    forged = any(line.startswith("FORGED") or "\x1b[31m" in line for line in hub.log)
    check("8. an event id with a line break and an escape", not forged, "forged a log line" if forged else "logged escaped")

    statuses = [hub.request("GET", "/v1/notifications", f"hrld_bogus_{i}")[0] for i in range(60)]
    check("10. 60 made-up tokens from one address", 429 in statuses, f"{statuses.count(429)} of 60 got 429")
    time.sleep(2)

    status, _, _ = hub.request("POST", "/v1/admin/tokens", hub.admin,
                               {"app": "meta", "callback_url": "http://169.254.169.254/latest/meta-data/"})
    check("11. a callback URL at the metadata address", status == 400, f"answered {status}")

    _, headers, _ = hub.request("GET", "/v1/notifications", hub.alice)
    sniff = headers.get("X-Content-Type-Options")
    check("12. API answers", sniff == "nosniff", f"X-Content-Type-Options: {sniff}")
    return results


def main():
    hub = Hub(sys.argv[1])
    try:
        results = probes(hub)
    finally:
        hub.stop()
    failed = sum(1 for _, held, _ in results if not held)
    print(f"{len(results) - failed} of {len(results)} held")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
