#!/usr/bin/env bash
# Commit-to-screen latency of `honeybot watch` (issue 8: "updates within a second of the
# ingester's commit"). The release `honeybot watch` runs in a private tmux server on a
# HoneyDB; each round appends one request with a unique path to a log, `honeybot ingest`
# commits it (the clock starts when ingest has exited, i.e. after the commit), and
# `tmux capture-pane` is polled every 5 ms until the path is on the screen.
# The peer, measured in the same rounds: the same poll loop reading the ring with sqlite3.
#
#   benches/watch-latency.sh            # 20 rounds (BENCH_ROUNDS to change)
#
# Needs: cargo, tmux, sqlite3 (Debian: apt-get install tmux sqlite3).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-20}
target=${CARGO_TARGET_DIR:-$PWD/target}
command -v tmux >/dev/null || { echo "tmux missing (apt-get install tmux)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 missing (apt-get install sqlite3)" >&2; exit 1; }
cargo build --release --locked -p honeybot >&2
bin=$target/release/honeybot
work=$(mktemp -d)
sock=$work/tmux.sock
cleanup() { tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

line() { # PATH
  printf '192.0.2.1 - - [%s] "GET %s HTTP/1.1" 200 1 "-" "bench/1.0" Accept:"*/*" MarkdownServed:0\n' \
    "$(date -u '+%d/%b/%Y:%H:%M:%S +0000')" "$1"
}
line /start >> "$work/access.log"
"$bin" ingest --db "$work/db" "$work/access.log" >/dev/null
tmux -S "$sock" -f /dev/null new-session -d -x 160 -y 40 "$bin watch --db $work/db"
until tmux -S "$sock" capture-pane -p | grep -q /start; do sleep 0.005; done

ms() { echo $(( ($2 - $1) / 1000000 )); }
screen=(); db=()
for i in $(seq "$rounds"); do
  line "/round-$i-x" >> "$work/access.log"
  "$bin" ingest --db "$work/db" "$work/access.log" >/dev/null
  t0=$(date +%s%N)
  until [ "$(sqlite3 "$work/db" "SELECT count(*) FROM recent_requests r JOIN paths p ON p.id = r.path_id WHERE p.value = '/round-$i-x'")" = 1 ]; do sleep 0.005; done
  t1=$(date +%s%N)
  until tmux -S "$sock" capture-pane -p | grep -q "/round-$i-x"; do sleep 0.005; done
  t2=$(date +%s%N)
  db+=("$(ms "$t0" "$t1")"); screen+=("$(ms "$t0" "$t2")")
done
stats() { sort -n | awk '{a[NR]=$1} END {printf "p50 %d ms, max %d ms", a[int((NR+1)/2)], a[NR]}'; }
echo "rounds: $rounds"
echo "sqlite3 sees the row:      $(printf '%s\n' "${db[@]}" | stats)"
echo "honeybot watch shows it:   $(printf '%s\n' "${screen[@]}" | stats)"
