#!/usr/bin/env bash
# Import-speed benchmark: `honeybot ingest` against GoAccess on the same large logs, in the
# same run, on this machine.
#
#   benches/ingest.sh            # ~1.5 M lines per variant (BENCH_LINES to change)
#   BENCH_KEEP=1 benches/ingest.sh   # keep the logs and DBs (e.g. to profile with perf)
#
# Two logs are built in a temporary directory:
#   repeated  the shared real logs (../shared/data/logs/*.log) repeated up to BENCH_LINES
#             lines: realistic mix, repeated keys (what a server's log looks like)
#   highcard  BENCH_LINES generated combined lines, every line a new client IP and a new
#             path (the worst case for HoneyDB's dimension tables)
# Each is imported by `honeybot ingest --format json` into a fresh DB, and by
# `goaccess LOG --log-format=COMBINED -o out.json`. For both: lines/s (wall), CPU seconds
# (user+sys), lines per CPU second, peak RSS (`/usr/bin/time -v`); for honeybot also the
# DB size (main file + WAL, MB = 10^6 bytes) and DB bytes / raw log bytes; then the ratios
# honeybot/goaccess. A loaded machine shows in wall time first: compare CPU seconds.
# Targets (issue 2): >= 1 M lines/s repeated, >= 300 k lines/s high-cardinality, peak RSS
# < 50 MB, DB < 10 % of the raw bytes for the repeated log.
#
# Needs: cargo, python3, GNU time (/usr/bin/time) and goaccess (Debian: apt-get install
# time goaccess). Without GoAccess the honeybot figures are still printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

lines=${BENCH_LINES:-1500000}
logs=${BENCH_LOGS:-$root/../shared/data/logs}
target=${CARGO_TARGET_DIR:-$root/target}

die() { echo "ingest.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "GNU time missing (apt-get install time)"
command -v python3 >/dev/null || die "python3 missing"
have_goaccess=1
command -v goaccess >/dev/null || { have_goaccess=0; echo "NOTE: goaccess missing (apt-get install goaccess): peer not measured" >&2; }

echo "==> building honeybot (release)" >&2
cargo build --release --locked -p honeybot >&2
bin=$target/release/honeybot
[ -x "$bin" ] || die "no binary at $bin"

work=$(mktemp -d "${TMPDIR:-/tmp}/honeybot-bench.XXXXXX")
if [ "${BENCH_KEEP:-}" = 1 ]; then echo "keeping $work (BENCH_KEEP=1)" >&2; else trap 'rm -rf "$work"' EXIT; fi

echo "==> building the logs ($lines lines each) in $work" >&2
shopt -s nullglob
sources=("$logs"/*.log)
((${#sources[@]})) || die "no *.log under $logs (set BENCH_LOGS)"
# Every source file ends with a newline here (one of them does not on disk).
for f in "${sources[@]}"; do cat "$f"; [ -z "$(tail -c1 "$f")" ] || echo; done >"$work/one.log"
per_copy=$(wc -l <"$work/one.log")
copies=$(( (lines + per_copy - 1) / per_copy ))
for ((i = 0; i < copies; i++)); do cat "$work/one.log"; done >"$work/copies.log"
head -n "$lines" "$work/copies.log" >"$work/repeated.log"
rm "$work/copies.log" "$work/one.log"

# Every line a new IP (10.x.y.z from the line number) and a new path; times ascend over
# ~35 days; a realistic spread of statuses and user agents.
awk -v n="$lines" 'BEGIN {
  split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mon, " ");
  ua[0] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36";
  ua[1] = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
  ua[2] = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
  ua[3] = "curl/8.5.0";
  st[0] = 200; st[1] = 200; st[2] = 304; st[3] = 404; st[4] = 301;
  for (i = 0; i < n; i++) {
    s = int(i * 2);                       # 2 s apart: 1.5 M lines span ~35 days
    d = 1 + int(s / 86400); m = 1 + int((d - 1) / 28); dd = 1 + (d - 1) % 28;
    printf "10.%d.%d.%d - - [%02d/%s/2025:%02d:%02d:%02d +0000] \"GET /item/%d/view?ref=%x HTTP/1.1\" %d %d \"https://example.org/list/%d\" \"%s\"\n",
      int(i / 65536) % 256, int(i / 256) % 256, i % 256, dd, mon[m],
      int(s / 3600) % 24, int(s / 60) % 60, s % 60,
      i, i * 2654435761 % 4294967296, st[i % 5], 500 + i % 20000, i % 1000, ua[i % 4];
  }
}' >"$work/highcard.log"

# run NAME OUTFILE CMD...: runs CMD under /usr/bin/time -v, prints "wall cpu rss_kb".
measure() {
  local out=$1; shift
  /usr/bin/time -v -o "$out.time" "$@" >"$out" </dev/null
  python3 - "$out.time" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def f(key):
    return re.search(re.escape(key) + r":\s*(\S+)", t).group(1)
wall = f("Elapsed (wall clock) time (h:mm:ss or m:ss)")
secs = 0.0
for part in wall.split(":"):
    secs = secs * 60 + float(part)
cpu = float(f("User time (seconds)")) + float(f("System time (seconds)"))
print(f"{secs:.3f} {cpu:.3f} {f('Maximum resident set size (kbytes)')}")
PY
}

printf '\n%-9s %-9s %10s %12s %8s %14s %9s %9s %10s\n' log tool lines lines/s cpu_s lines/cpu_s rss_MB db_MB db/raw
for variant in repeated highcard; do
  log=$work/$variant.log
  raw=$(stat -c %s "$log")
  total=$(wc -l <"$log")
  cat "$log" >/dev/null # both tools read from the page cache

  db=$work/$variant.db
  read -r wall cpu rss < <(measure "$work/$variant.honeybot.json" "$bin" ingest --db "$db" --format json "$log")
  dbbytes=0
  for f in "$db" "$db-wal" "$db-shm"; do [ ! -e "$f" ] || dbbytes=$((dbbytes + $(stat -c %s "$f"))); done
  parsed=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["lines_parsed"], j["lines_total"], j["seconds"])' "$work/$variant.honeybot.json")
  read -r hb_parsed hb_total hb_secs <<<"$parsed"
  [ "$hb_total" = "$total" ] || echo "WARNING: honeybot lines_total $hb_total != wc -l $total" >&2
  hb_rate=$(python3 -c "print(round($total / $wall))")
  printf '%-9s %-9s %10s %12s %8s %14s %9.1f %9.1f %9.2f%%\n' "$variant" honeybot "$total" "$hb_rate" "$cpu" \
    "$(python3 -c "print(round($total / max($cpu, 1e-9)))")" "$(python3 -c "print($rss / 1024)")" \
    "$(python3 -c "print($dbbytes / 1e6)")" "$(python3 -c "print(100 * $dbbytes / $raw)")"
  echo "          honeybot: parsed $hb_parsed of $hb_total, own timer ${hb_secs}s, DB $dbbytes bytes, raw $raw bytes" >&2

  if ((have_goaccess)); then
    read -r gwall gcpu grss < <(measure "$work/$variant.goaccess.out" goaccess "$log" --log-format=COMBINED --no-progress -o "$work/$variant.goaccess.json")
    g_valid=$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["general"]; print(g.get("valid_requests"), g.get("failed_requests"))' "$work/$variant.goaccess.json")
    g_rate=$(python3 -c "print(round($total / $gwall))")
    printf '%-9s %-9s %10s %12s %8s %14s %9.1f %9s %10s\n' "$variant" goaccess "$total" "$g_rate" "$gcpu" \
      "$(python3 -c "print(round($total / max($gcpu, 1e-9)))")" "$(python3 -c "print($grss / 1024)")" - -
    echo "          goaccess: valid/failed requests $g_valid" >&2
    printf '%-9s ratio honeybot/goaccess: %.1fx lines/s, %.1fx lines/cpu_s\n' "$variant" \
      "$(python3 -c "print($gwall / $wall)")" "$(python3 -c "print($gcpu / max($cpu, 1e-9))")"
  fi
done
