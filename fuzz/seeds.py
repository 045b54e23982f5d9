"""Writes the hand-made seeds of fuzz/corpus: feed sessions as a hub sends them, and the seed 004
events and ingest files. Run from fuzz/: python3 seeds.py (the fuzzers' finds are merged beside
these by scripts/fuzz.sh --merge)."""

import json
import os


def notification(id, subject, **fields):
    n = {"id": id, "type": "task.due", "subject": subject, "body": "b", "link": None, "tag": None,
         "sub_tag": None, "priority": "normal", "object": None, "sender": None,
         "created_at": "2026-11-21T10:00:00.000Z", "read": False}
    n.update(fields)
    return n


HELLO = {"type": "hello", "hub_id": "a" * 32, "user_id": 2}
SESSIONS = {
    "catch_up": [
        HELLO, {"type": "do_not_disturb", "quiet_hours": None, "dnd_until": None},
        {"type": "backlog", "changes": 3},
        {"type": "change", "seq": 1, "kind": "created", "notification": notification(10, "first", tag="t")},
        {"type": "change", "seq": 2, "kind": "created", "notification": notification(
            11, "second", tag="t", buttons=[{"value": "Y", "label": "Yes"}], reply={"placeholder": "Why?"})},
        {"type": "change", "seq": 3, "kind": "read_changed", "ids": [10, 11], "read": True},
        {"type": "caught_up", "seq": 3},
        {"type": "change", "seq": 4, "kind": "deleted", "ids": [10]},
        {"type": "change", "seq": 5, "kind": "updated", "notification": notification(
            11, "second", answer={"value": "Y", "text": None, "at": "2026-11-21T10:01:00.000Z"})},
    ],
    "resync": [
        HELLO, {"type": "resync", "floor": 40},
        {"type": "snapshot", "notifications": [notification(50, "kept"), notification(51, "also", read=True)]},
        {"type": "caught_up", "seq": 60},
    ],
    "live_and_error": [
        HELLO, {"type": "caught_up", "seq": 0},
        {"type": "event", "id": "e1", "kind": "call", "title": "Call", "body": "x",
         "actions": [{"value": "answer", "label": "Answer"}], "at": None, "expires_at": "2026-11-21T10:05:00.000Z"},
        {"type": "event_answered", "id": "e1", "action": "answer", "at": "2026-11-21T10:00:30.000Z"},
        {"type": "error", "code": "cursor_ahead", "message": "m"},
    ],
    # Ids no hub gives (the first CI crash): skipped, and the rest of the session applies.
    "ids_out_of_range": [
        HELLO, {"type": "change", "seq": 1, "kind": "created", "notification": notification(-10, "negative")},
        {"type": "change", "seq": 2, "kind": "created", "notification": notification(1 << 40, "too big")},
        {"type": "change", "seq": 3, "kind": "read_changed", "ids": [-1, 2**63 - 1], "read": True},
        {"type": "caught_up", "seq": 3},
        {"type": "change", "seq": 4, "kind": "deleted", "ids": [-(2**63)]},
        {"type": "change", "seq": 5, "kind": "updated", "notification": notification(-3, "x")},
        {"type": "snapshot", "notifications": [notification(-7, "kept?")]},
    ],
    "other_user": [
        HELLO, {"type": "caught_up", "seq": 2}, {"type": "hello", "hub_id": "b" * 32, "user_id": 3},
        {"type": "change", "seq": 1, "kind": "created", "notification": notification(1, "x")},
        {"type": "caught_up", "seq": 1},
    ],
}
SMALL_CONFIG = b"""[sources.selfcommunity]
recipient = "sc-{{ recipient }}"
[sources.selfcommunity.events."notification.comment"]
type = "c"
subject = "{{ data.comment.html | plain }}"
"""

for target in ("feed_frames", "ingest_templates", "hub_requests"):
    os.makedirs(f"corpus/{target}", exist_ok=True)
for name, frames in SESSIONS.items():
    with open(f"corpus/feed_frames/{name}", "w") as f:
        f.write("\n".join(json.dumps(frame) for frame in frames))
# ingest_templates: byte 0 even = an envelope for the built-in templates, odd = a templates file.
with open("../crates/herald-hub/tests/fixtures/selfcommunity_events.json") as f:
    for i, event in enumerate(json.load(f)):
        with open(f"corpus/ingest_templates/sample_{i:02}", "wb") as out:
            out.write(b"\x00" + json.dumps(event).encode())
with open("../config/ingest.toml", "rb") as f:
    with open("corpus/ingest_templates/built_in_config", "wb") as out:
        out.write(b"\x01" + f.read())
with open("corpus/ingest_templates/small_config", "wb") as out:
    out.write(b"\x01" + SMALL_CONFIG)
