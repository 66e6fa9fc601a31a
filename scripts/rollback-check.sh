#!/usr/bin/env bash
# Rollback across a schema migration, with real binaries: this tree's `honeybot` creates and
# migrates a HoneyDB, the previous release's `honeybot` (built from git, default: the last
# commit before schema revision 2) keeps importing into it, and this tree's binary imports
# again. Checks that every line is counted once, that the old binary's rows (NULL class/kind)
# are classified by the next writer, and that the ring is written again.
#
#   scripts/rollback-check.sh [OLD_REV]
#   OLD_BIN=/path/to/old/honeybot scripts/rollback-check.sh   # a previous release already built
#
# Needs git, cargo, sqlite3 and python3. Builds OLD_REV in a temporary worktree (a minute or
# two with a warm cargo cache). Not part of scripts/test.sh: tests/schema.rs runs the released v1
# migrate code in the test suite; this script is the end-to-end check with the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
old_rev=${1:-1157750}
target=${CARGO_TARGET_DIR:-$root/target}

command -v sqlite3 >/dev/null || { echo "rollback-check: sqlite3 missing (apt-get install sqlite3)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/honeybot-rollback.XXXXXX")
cleanup() { git -C "$root" worktree remove --force "$work/old-src" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --locked -p honeybot >&2
cp "$target/release/honeybot" "$work/new"
if [ -n "${OLD_BIN:-}" ]; then
  echo "==> previous release: $OLD_BIN" >&2
  cp "$OLD_BIN" "$work/old"
else
  echo "==> building $old_rev" >&2
  git worktree add --detach "$work/old-src" "$old_rev" >&2
  # Its own target directory (kept between runs): the old workspace's crates have the same
  # names and versions, and sharing this tree's target directory mixed their artifacts up.
  old_target=$target/rollback-old
  (cd "$work/old-src" && cargo build --release --locked -p honeybot --target-dir "$old_target" >&2)
  cp "$old_target/release/honeybot" "$work/old"
fi

sample=$root/crates/honeybot/data/sample-access.log
head -n 2000 "$sample" >"$work/a.log"
sed -n 2001,3000p "$sample" >"$work/b.log"
sed -n '3001,$p' "$sample" >"$work/c.log"
db=$work/h.db
q() { sqlite3 "$db" "$1"; }
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1 ($2)"; else echo "FAIL: $1: got $2, want $3"; fail=1; fi; }

"$work/new" ingest --db "$db" "$work/a.log" >/dev/null
"$work/old" ingest --db "$db" "$work/b.log" >/dev/null || { echo "FAIL: the previous release refused the migrated database"; exit 1; }
check "previous release writes the migrated file, user_version" "$(q 'PRAGMA user_version')" 1
left=$(q "SELECT (SELECT count(*) FROM user_agents WHERE class IS NULL) + (SELECT count(*) FROM paths WHERE kind IS NULL)")
echo "   rows the previous release left unclassified: $left"
ring_before=$(q "SELECT coalesce(max(id), 0) FROM recent_requests")
"$work/new" ingest --db "$db" "$work/c.log" >/dev/null
total=$(cat "$work/a.log" "$work/b.log" "$work/c.log" | wc -l)
check "every line counted once (requests + malformed = lines)" "$(q "SELECT (SELECT sum(count) FROM daily_logs) + coalesce((SELECT value FROM kv_store WHERE key = 'lines_malformed'), 0)")" "$total"
check "lines parsed" "$(q "SELECT value FROM kv_store WHERE key = 'lines_parsed'")" "$(q 'SELECT sum(count) FROM daily_logs')"
check "no NULL class or kind after this release wrote again" "$(q "SELECT (SELECT count(*) FROM user_agents WHERE class IS NULL) + (SELECT count(*) FROM paths WHERE kind IS NULL)")" 0
check "ring written again" "$(q "SELECT max(id) > $ring_before FROM recent_requests")" 1
# Revision 3's report summaries, kept by triggers through the previous release's writes and
# rebuilt with the kinds this release set: they equal the facts.
check "report summaries equal the facts" "$(q "SELECT count(*) FROM (SELECT d.date, d.ua_id, p.kind, d.status, sum(d.count) FROM daily_logs d JOIN paths p ON p.id = d.path_id GROUP BY 1, 2, 3, 4 EXCEPT SELECT date, ua_id, kind, status, count FROM daily_agent_kinds)")" 0
check "report summaries hold every request" "$(q 'SELECT sum(count) FROM daily_agent_kinds')" "$(q 'SELECT sum(count) FROM daily_logs')"
# Revision 5: this release writes the summaries once per commit, the previous one through
# the triggers; the path and probe summaries and the monthly roll-ups agree too.
check "path summaries equal the facts" "$(q "SELECT count(*) FROM (SELECT status, date, path_id, sum(count) FROM daily_logs GROUP BY 1, 2, 3 EXCEPT SELECT status, date, path_id, count FROM daily_paths)")" 0
check "probe summaries equal the facts" "$(q "SELECT count(*) FROM (SELECT d.date, d.ip_id, sum(d.count) FROM daily_logs d JOIN paths p ON p.id = d.path_id WHERE p.kind = 'probe' GROUP BY 1, 2 EXCEPT SELECT date, ip_id, count FROM daily_client_probes)")" 0
check "monthly roll-ups equal the daily summaries" "$(q "SELECT (SELECT count(*) FROM (SELECT substr(date, 1, 7), ua_id, kind, status, sum(count), min(date), max(date) FROM daily_agent_kinds GROUP BY 1, 2, 3, 4 EXCEPT SELECT month, ua_id, kind, status, count, first_date, last_date FROM monthly_agent_kinds)) + (SELECT count(*) FROM (SELECT status, substr(date, 1, 7), path_id, sum(count), min(date), max(date) FROM daily_paths GROUP BY 1, 2, 3 EXCEPT SELECT status, month, path_id, count, first_date, last_date FROM monthly_paths))")" 0
# Revision 4's summaries, kept by triggers through the previous release's writes too.
check "requests per day and agent equal the facts" "$(q "SELECT count(*) FROM (SELECT date, ua_id, sum(count) FROM daily_logs GROUP BY 1, 2 EXCEPT SELECT date, ua_id, count FROM daily_agents)")" 0
days=$(q "SELECT min(date) || ' ' || max(date) FROM daily_logs")
since=$(q "SELECT date(min(date), '+1 day') FROM daily_logs"); until=$(q "SELECT date(max(date), '-1 day') FROM daily_logs")
check "distinct clients of a window ($since..$until of $days) equal the facts" \
  "$("$work/new" report summary --db "$db" --since "$since" --until "$until" --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["clients"])')" \
  "$(q "SELECT count(DISTINCT ip_id) FROM daily_logs WHERE date BETWEEN '$since' AND '$until'")"
exit $fail
