#!/usr/bin/env bash
# Follow-latency benchmark of honeybot-ingest (issue 3): a real nginx on loopback under
# load from wrk, the release daemon following its access log with its default settings.
#
#   benches/follow-latency.sh          # 60 s at ~10 k requests/s (BENCH_SECONDS, BENCH_CONNS,
#                                      # BENCH_DELAY_MS to change)
#
# Reports:
#   - the delay from a request's log line being written to it being visible in HoneyDB:
#     a probe sends a request with a unique path every 100 ms and polls the DB (a separate
#     read connection, WAL) every 5 ms until the path is there; p50 / p99 / max.
#     The send time is taken when the response arrived, i.e. when nginx logs the line.
#   - the request rate wrk achieved,
#   - the daemon's CPU share (utime+stime / wall, from /proc) and its peak RSS (VmHWM).
# Targets: p99 <= 1 s, RSS <= 30 MB.
#
# wrk in Debian has no rate option: the rate is set by BENCH_CONNS connections that each
# wait BENCH_DELAY_MS between requests (wrk's Lua delay()).
#
# Needs: cargo, nginx, wrk, python3 (Debian: apt-get install nginx wrk python3).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${BENCH_SECONDS:-60}
conns=${BENCH_CONNS:-27}
delay_ms=${BENCH_DELAY_MS:-2}
target=${CARGO_TARGET_DIR:-$root/target}

die() { echo "follow-latency.sh: $*" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || die "nginx missing (apt-get install nginx)"
command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"
command -v python3 >/dev/null || die "python3 missing"

cargo build --release --locked -p honeybot-ingest >&2
daemon_bin=$target/release/honeybot-ingest

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/html" "$work/logs" "$work/tmp"
chmod 755 "$work/html" "$work/logs" "$work/tmp"
echo '<p>hello</p>' > "$work/html/index.html"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
    map \$http_accept \$serve_markdown { default 0; "~text/markdown" 1; }
    log_format honeybot '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" Accept:"\$http_accept" MarkdownServed:\$serve_markdown';
    access_log $work/logs/access.log honeybot;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $work/html;
        location / { try_files \$uri =404; }
    }
}
CONF
"$nginx_bin" -p "$work/" -c "$work/nginx.conf" -e "$work/logs/error.log" &
pids+=($!)
for _ in $(seq 200); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.1)" 2>/dev/null && break
  sleep 0.05
done

"$daemon_bin" --db "$work/honeybot.db" --log "$work/logs/access.log" 2>"$work/ingest.err" &
daemon=$!
pids+=($daemon)
for _ in $(seq 200); do [ -e "$work/honeybot.db" ] && break; sleep 0.05; done

cat > "$work/rate.lua" <<LUA
local paths = {"/index.html", "/missing", "/blog/post-1", "/feed.xml", "/robots.txt"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1] .. "?n=" .. n, {["User-Agent"] = "wrk-bench/" .. (n % 50), ["Accept"] = "text/html"})
end
delay = function() return $delay_ms end
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
hz=$(getconf CLK_TCK)
t0=$(date +%s.%N)
c0=$(cpu_ticks)

wrk -t2 -c"$conns" -d"${seconds}s" -s "$work/rate.lua" "http://127.0.0.1:$port/" > "$work/wrk.out" &
wrk_pid=$!
pids+=($wrk_pid)

python3 - "$port" "$work/honeybot.db" "$seconds" > "$work/probe.out" <<'PY'
import http.client, sqlite3, sys, time
port, db, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
sent = {}      # path -> time its line was logged (response received)
seen = {}
end = time.monotonic() + seconds - 2
next_probe = time.monotonic()
i = 0
while time.monotonic() < end or (len(seen) < len(sent) and time.monotonic() < end + 10):
    now = time.monotonic()
    if now >= next_probe and now < end:
        path = f"/probe/{i:06d}"
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", path, headers={"User-Agent": "probe"})
        c.getresponse().read()
        c.close()
        sent[path] = time.monotonic()
        i += 1
        next_probe += 0.1
    rows = conn.execute("SELECT value FROM paths WHERE value >= '/probe/' AND value < '/probe0'").fetchall()
    t = time.monotonic()
    for (p,) in rows:
        if p in sent and p not in seen:
            seen[p] = t
    time.sleep(0.005)
d = sorted(seen[p] - sent[p] for p in seen)
def pct(q): return d[min(len(d) - 1, int(q * len(d)))] if d else float("nan")
print(f"probes {len(sent)} seen {len(seen)} p50 {pct(0.50)*1000:.0f} ms p99 {pct(0.99)*1000:.0f} ms max {d[-1]*1000 if d else float('nan'):.0f} ms")
PY
wait "$wrk_pid" || true
t1=$(date +%s.%N)
c1=$(cpu_ticks)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
# Let the daemon catch up, then compare its count with nginx's lines.
sleep 2
lines=$(wc -l < "$work/logs/access.log")
kill -TERM "$daemon"; wait "$daemon" || true
counted=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select sum(count) from daily_logs').fetchone()[0])" "$work/honeybot.db")

rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
echo "== follow latency: nginx + wrk ($conns conns, ${delay_ms} ms delay, ${seconds} s), honeybot-ingest defaults"
echo "wrk rate:        $rate req/s"
echo "visibility:      $(cat "$work/probe.out")"
awk -v c0="$c0" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
  'BEGIN { printf "daemon CPU:      %.1f %% of one core (%.2f CPU s over %.1f s)\n", 100*(c1-c0)/hz/(t1-t0), (c1-c0)/hz, t1-t0 }'
echo "daemon RSS:      peak ${hwm} kB, at end ${rss} kB (target <= 30 MB)"
echo "lines logged:    $lines, counted in HoneyDB: $counted"
