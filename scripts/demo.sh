#!/usr/bin/env bash
# `make demo`: the whole job on a laptop. Start the emulator with a demo key, then on
# examples/quickstart: validate, plan, apply --auto-approve, and plan again (No changes).
set -euo pipefail
BIN=${BIN:-.venv/bin}
export CHATSYNC_SECRET_KEY=${CHATSYNC_SECRET_KEY:-demo-secret-key-not-for-production}
log=$(mktemp)
"$BIN/chatsync" emulator --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
url=$(sed -n 's/^chatsync emulator listening on //p' "$log")
[ -n "$url" ] || { cat "$log" >&2; exit 1; }
export CHATSYNC_ENDPOINT=$url   # the quickstart says 127.0.0.1:8080; the demo's emulator took a free port
run() { echo; echo "\$ chatsync $*"; "$BIN/chatsync" "$@"; }
echo "== emulator at $url; seeding it with what a live app might hold: alice (nick \"Al\") and mallory"
"$BIN/python" examples/call_emulator.py "$url" multiaccount_import \
  '{"AccountList": [{"UserID": "alice", "Nick": "Al"}, {"UserID": "mallory"}]}' >/dev/null
run validate examples/quickstart
run plan examples/quickstart
run apply examples/quickstart --auto-approve
run plan examples/quickstart --detailed-exitcode
echo
echo "== done: the app matches examples/quickstart"
