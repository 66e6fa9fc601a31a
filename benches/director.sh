#!/usr/bin/env bash
# Cue-to-visible-page latency of honeybot-director per browser, against the browser's own
# launch-to-paint time measured in the same run.
#
#   benches/director.sh [runs per browser, default 3]
#
# For each run: `honeybot-director run --once` shows one page (from a local HTTP server on
# 127.0.0.1, a private Xvfb + openbox, a real narrator with espeak-ng into WAV files).
#   cue      = the director's log line "browser started" (its clock, ms)
#   paint    = the page's own first contentful paint (performance.timeOrigin + the paint
#              entry), reported back to the server by the page's script
#   visible  = the first screenshot (`import -window root`) in which the page's magenta
#              covers 40 % of the screen; screenshots are taken back to back, so this is
#              late by up to one screenshot (the script prints how long one takes)
# Prints, per browser, the medians of cue→paint (the browser's own time) and cue→visible,
# and their ratio. Needs: Xvfb openbox wmctrl xdotool imagemagick chromium firefox-esr
# espeak-ng python3 (scripts/deps/director.apt).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
nice cargo build -q -p honeybot-director -p honeybot-narrator
BIN=target/debug

W=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# X display on a free number.
Xvfb -displayfd 1 -screen 0 1024x768x24 -nolisten tcp > "$W/display" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$W/display" ] && break; sleep 0.05; done
export DISPLAY=":$(head -1 "$W/display")"
openbox > /dev/null 2>&1 &
pids+=($!)
until wmctrl -m 2>/dev/null | grep -q Openbox; do sleep 0.05; done

# The site: /page/ is full-screen magenta and reports its first paint to /painted.
mkdir -p "$W/posts" "$W/wav" "$W/run" "$W/tmp"
cat > "$W/server.py" <<'PY'
import http.server, sys, urllib.parse
PAGE = b"""<!doctype html><html><head><title>Bench page</title></head>
<body style="background:#ff00ff;margin:0;height:100vh"><h1>Bench</h1>
<script>
function report(t) { fetch('/painted?t=' + t); }
new PerformanceObserver(function (list) {
  for (const e of list.getEntries()) {
    if (e.name === 'first-contentful-paint') report(performance.timeOrigin + e.startTime);
  }
}).observe({ type: 'paint', buffered: true });
</script></body></html>"""
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == '/painted':
            t = urllib.parse.parse_qs(u.query)['t'][0]
            with open(sys.argv[2], 'a') as f:
                f.write(t + '\n')
            body = b'ok'
        else:
            body = PAGE
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
open(sys.argv[1], 'w').write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$W/server.py" "$W/port" "$W/painted" &
pids+=($!)
until [ -s "$W/port" ]; do sleep 0.05; done
SITE="http://127.0.0.1:$(cat "$W/port")"
printf -- '---\ntitle: "Bench page"\npermalink: /page/\n---\nA short page.\n' > "$W/posts/2025-01-01-bench.md"

cat > "$W/narrator.toml" <<EOF
socket = "$W/narrator.sock"
engine = "espeak-ng"
fallback = "none"
[sink]
kind = "wav"
dir = "$W/wav"
EOF
"$BIN/honeybot-narrator" serve --config "$W/narrator.toml" 2> "$W/narrator.log" &
pids+=($!)
until "$BIN/honeybot-narrator" status --socket "$W/narrator.sock" > /dev/null 2>&1; do sleep 0.05; done

# The screenshot poller: prints the Unix ms of the first screenshot that shows the page,
# and the median time one screenshot took.
cat > "$W/poll.py" <<'PY'
import subprocess, sys, time, statistics
deadline = time.time() + 60
took = []
while time.time() < deadline:
    t0 = time.time()
    raw = subprocess.run(['import', '-window', 'root', '-depth', '8', 'rgb:-'],
                         capture_output=True).stdout
    t1 = time.time()
    took.append(t1 - t0)
    px = memoryview(raw)
    n = len(raw) // 3
    hits = sum(1 for i in range(0, n * 3, 3 * 16)
               if raw[i] > 200 and raw[i + 1] < 80 and raw[i + 2] > 200)
    if n and hits / (n / 16) > 0.4:
        print(int(t1 * 1000), int(statistics.median(took) * 1000))
        sys.exit(0)
print('none', int(statistics.median(took) * 1000))
PY

ms_of_log_line() { # "[2026-12-05T15:03:11.385Z INFO ..." -> Unix ms
  python3 -c 'import sys,datetime; s=sys.argv[1][1:24]; print(int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()*1000))' "$1"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

for browser in chromium firefox; do
  cmd=$([ $browser = firefox ] && echo firefox-esr || echo chromium)
  command -v "$cmd" > /dev/null || { echo "SKIP $browser: $cmd not installed"; continue; }
  : > "$W/$browser.paint"; : > "$W/$browser.visible"
  for run in $(seq "$RUNS"); do
    : > "$W/painted"
    printf 'intro = ""\narticle_lines = []\nmin_show_secs = 3\n[browser]\nkind = "%s"\ncommand = "%s"\n' \
      "$browser" "$cmd" > "$W/director.toml"
    python3 "$W/poll.py" > "$W/poll.out" &
    poller=$!
    XDG_RUNTIME_DIR="$W/run" TMPDIR="$W/tmp" RUST_LOG=info "$BIN/honeybot-director" run --once \
      --config "$W/director.toml" --posts "$W/posts" --site-url "$SITE" \
      --narrator-socket "$W/narrator.sock" 2> "$W/director.log"
    wait $poller || true
    cue=$(ms_of_log_line "$(grep -m1 'browser started' "$W/director.log")")
    read -r visible shot < "$W/poll.out"
    paint=$(python3 -c 'import sys; print(int(float(open(sys.argv[1]).readline())))' "$W/painted")
    echo "$browser run $run: cue→paint $((paint - cue)) ms, cue→visible $((visible - cue)) ms (one screenshot: $shot ms)"
    echo $((paint - cue)) >> "$W/$browser.paint"
    echo $((visible - cue)) >> "$W/$browser.visible"
  done
  p=$(median < "$W/$browser.paint"); v=$(median < "$W/$browser.visible")
  echo "$browser median over $RUNS: cue→paint ${p} ms (browser's own), cue→visible ${v} ms, ratio $(python3 -c "print(round($v/$p, 2))")"
done
