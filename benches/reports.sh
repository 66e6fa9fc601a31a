#!/usr/bin/env bash
# Report-speed benchmark: every `honeybot report` on a year of a busy personal site, beside
# GoAccess producing its report from the same log, in the same run, on this machine.
#
#   benches/reports.sh              # 365 days x ~50 k requests/day (~18 M lines)
#   benches/reports.sh --days 30    # a quick run
#   BENCH_KEEP=1 benches/reports.sh # keep the log and the DB (path printed)
#   BENCH_DIR=/tmp/honeybot-reports-bench.XXXX benches/reports.sh
#                                   # re-measure the reports and GoAccess on a kept log and
#                                   # DB (no generation, no import; the DB is migrated to this
#                                   # build's schema revision first), e.g. after a query change
#
# Steps: generate the log (benches/gen-busy-log.py), import it with `honeybot ingest`,
# then time each report (JSON, default --limit 50) over the whole history and over the last
# 30 days, best of 3 runs, wall time of the whole `honeybot report` process (start-up
# included); then `goaccess LOG -o report.json` (it re-parses the log for every report) on
# the same log. Target (issue 8): every report <= 100 ms on the year.
#
# Needs: cargo, python3, goaccess (Debian: apt-get install goaccess; without it the
# honeybot figures are still printed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
days=365
while [ $# -gt 0 ]; do
  case $1 in
    --days) days=$2; shift 2 ;;
    *) echo "usage: $0 [--days N]" >&2; exit 2 ;;
  esac
done
target=${CARGO_TARGET_DIR:-$root/target}
have_goaccess=1
command -v goaccess >/dev/null || { have_goaccess=0; echo "NOTE: goaccess missing (apt-get install goaccess): peer not measured" >&2; }

echo "==> building honeybot (release)" >&2
cargo build --release --locked -p honeybot >&2
bin=$target/release/honeybot

if [ -n "${BENCH_DIR:-}" ]; then
  work=$BENCH_DIR
  [ -f "$work/busy.log" ] && [ -f "$work/busy.db" ] || { echo "no busy.log/busy.db in $work" >&2; exit 1; }
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/honeybot-reports-bench.XXXXXX")
  if [ -z "${BENCH_KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; else echo "keeping $work" >&2; fi
fi
log=$work/busy.log
db=$work/busy.db

ms() { echo $(( ($2 - $1) / 1000000 )); }
now() { date +%s%N; }

if [ -z "${BENCH_DIR:-}" ]; then
  t0=$(now)
  python3 benches/gen-busy-log.py --days "$days" > "$log"
  t1=$(now)
  lines=$(wc -l < "$log")
  echo "generated $lines lines ($(du -h "$log" | cut -f1)) in $(ms "$t0" "$t1") ms"

  t0=$(now)
  "$bin" ingest --db "$db" --format json "$log" > "$work/ingest.json"
  t1=$(now)
  import_ms=$(ms "$t0" "$t1")
  echo "imported in $import_ms ms ($(( lines * 1000 / (import_ms + 1) )) lines/s); DB $(du -h "$db" | cut -f1)"
else
  echo "re-using $log ($(wc -l < "$log") lines) and $db"
  # A DB kept by an older build is brought to this build's schema revision first (reports
  # open read-only and refuse an outdated file): open it as a writer with nothing to import.
  : > "$work/empty.log"
  t0=$(now)
  "$bin" ingest --db "$db" --format json "$work/empty.log" > /dev/null
  t1=$(now)
  echo "opened as a writer (schema migrations, if any): $(ms "$t0" "$t1") ms"
fi
python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for t in ["daily_logs", "daily_agent_kinds", "daily_agents", "daily_paths", "daily_client_probes",
          "yearly_clients", "ips", "user_agents", "paths"]:
    print(f"  {t:20} {c.execute(f'SELECT count(*) FROM {t}').fetchone()[0]:>10} rows")
PY

last=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT max(date) FROM daily_logs').fetchone()[0])" "$db")
first30=$(python3 -c "import datetime,sys; print(datetime.date.fromisoformat(sys.argv[1]) - datetime.timedelta(days=29))" "$last")

best() { # best-of-3 wall ms of one report
  local b=999999 s e t
  for _ in 1 2 3; do
    s=$(now); "$bin" report "$@" --db "$db" --format json > /dev/null; e=$(now)
    t=$(ms "$s" "$e"); [ "$t" -lt "$b" ] && b=$t
  done
  echo "$b"
}

s=$(now); "$bin" report agents --db "$db" --since 9999-01-01 --format json > /dev/null; e=$(now)
echo "process start-up + open + an empty window: $(ms "$s" "$e") ms"
printf '%-9s %12s %12s\n' report "year ms" "30 days ms"
worst=0
for r in summary agents ai js markdown robots 404 hostile new trends; do
  a=$(best "$r")
  b=$(best "$r" --since "$first30" --until "$last")
  [ "$a" -gt "$worst" ] && worst=$a
  printf '%-9s %12s %12s\n' "$r" "$a" "$b"
done

if [ "$have_goaccess" = 1 ]; then
  s=$(now)
  goaccess "$log" --log-format='%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %^' \
    --date-format=%d/%b/%Y --time-format=%T --no-global-config -o "$work/goaccess.json" \
    > /dev/null 2> "$work/goaccess.err" || { cat "$work/goaccess.err" >&2; exit 1; }
  e=$(now)
  g=$(ms "$s" "$e")
  echo "goaccess report from the log: $g ms"
  echo "ratio goaccess / slowest honeybot report (year): $(python3 -c "print(round($g / max($worst, 1), 1))")"
fi
