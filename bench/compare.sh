#!/usr/bin/env bash
# Side-by-side benchmark of casebook against sqlite3, Python and DuckDB on the
# benchmark city of ../shared/bench (100,000 institutions, 1,000,000 findings),
# or a city SIZE times as large (SIZE=10: the province, 1,000,000 institutions
# and inspections, 10,000,000 findings; 5,000,000 courses).
#
#   bench/compare.sh [DIR] [RUNS] [SIZE]     e.g. bench/compare.sh /tmp/city 5
#                                                 bench/compare.sh /tmp/city10 1 10
#
# Builds the release binary, builds the city once (if DIR has none), then, RUNS
# times and interleaved: imports the three CSVs into a fresh ledger and loads
# them into a fresh sqlite file; prints both files' sizes; times `casebook
# verify`; runs the credit rule in casebook, sqlite3, Python and DuckDB (when
# `import duckdb` works); times `casebook show`, the export of every finding
# and the REPL's start-up. Prints medians and ratios. Needs sqlite3 and python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
dir=${1:-/tmp/city}; runs=${2:-5}; size=${3:-${SIZE:-1}}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
(cd "$root" && cargo build --release --quiet)
cb=$root/target/release/casebook
[ -f "$dir/findings.csv" ] || python3 "$shared/bench/gen_city.py" "$dir" $((size * 100000)) $((size * 1000000)) >&2
t() { # name cmd… : appends "name seconds maxrss_kib" to $log
  local name=$1; shift
  /usr/bin/time -f "$name %e %M" -a -o "$log" "$@" >/dev/null
}
log=$(mktemp)
# Phase 1: loading, interleaved. Phase 2 runs on the last load, after the
# file system has written it out (a rule timed right after a 290 MB import
# mostly measures the kernel flushing that import).
for r in $(seq "$runs"); do
  rm -f "$dir/bench.redb" "$dir/bench.sqlite"
  t casebook-import sh -c "'$cb' init --db '$dir/bench.redb' && for k in institutions inspections findings; do '$cb' import \$k '$dir/'\$k.csv --db '$dir/bench.redb'; done"
  t sqlite3-load sh -c "cd '$dir' && sqlite3 bench.sqlite < '$shared/bench/load_sqlite.sql'"
done
echo "file sizes: casebook $(stat -c %s "$dir/bench.redb") bytes, sqlite3 $(stat -c %s "$dir/bench.sqlite") bytes"
# DuckDB's first call loads the CSVs into DIR/city.duckdb: made here, untimed.
if python3 -c 'import duckdb' 2>/dev/null; then python3 "$shared/bench/score_duckdb.py" "$dir" >/dev/null; fi
sync; sleep 2
t casebook-verify "$cb" verify --db "$dir/bench.redb"
for r in $(seq "$runs"); do
  t casebook-rule "$cb" run "$shared/bench/rule.rhai" --as-of 2019-02-20 --db "$dir/bench.redb" --format jsonl
  t sqlite3-rule sh -c "sqlite3 '$dir/bench.sqlite' < '$shared/bench/score.sql'"
  t casebook-score "$cb" score "$shared/bench/rule.rhai" --as-of 2019-02-20 --db "$dir/bench.redb" --format jsonl
  t python-rule python3 "$shared/bench/score.py" "$dir/bench.sqlite"
  if python3 -c 'import duckdb' 2>/dev/null; then t duckdb-rule python3 "$shared/bench/score_duckdb.py" "$dir"; fi
  t casebook-show "$cb" show I0042424 --as-of 2019-02-20 --db "$dir/bench.redb"
  t casebook-export-findings "$cb" export findings --db "$dir/bench.redb"
  # Start-up to the first answer: open the ledger, count the institutions, quit.
  t casebook-repl-start sh -c "printf 'institutions().len()\\n:quit\\n' | '$cb' repl --db '$dir/bench.redb'"
done
# Course filings (issue 6): 500,000 courses, the course check in casebook vs one SQL query.
[ -f "$dir/courses.csv" ] || python3 "$root/bench/gen_courses.py" "$dir" $((size * 500000)) $((size * 100000)) >&2
cp "$dir/bench.sqlite" "$dir/bench-courses.sqlite"; sqlite3 "$dir/bench-courses.sqlite" ".mode csv" ".import '$dir/courses.csv' courses"
cp "$dir/bench.redb" "$dir/bench-courses.redb"
t casebook-import-courses "$cb" import courses "$dir/courses.csv" --db "$dir/bench-courses.redb"
for r in $(seq "$runs"); do
  t casebook-course-check sh -c "'$cb' run '$root/scripts/course_check.rhai' --as-of 2019-02-20 --db '$dir/bench-courses.redb' --format jsonl --timeout 600 --max-memory $((2048 * size)) | wc -l > '$dir/cb-courses.txt'"
  t sqlite3-course-check sh -c "sqlite3 '$dir/bench-courses.sqlite' < '$root/bench/course_check.sql' > '$dir/sql-courses.txt'"
  # The same check printing, like the script, one row per rejected course with its reasons.
  t sqlite3-course-rows sh -c "sqlite3 '$dir/bench-courses.sqlite' < '$root/bench/course_check_rows.sql' | tail -n +2 | wc -l > '$dir/sql-course-rows.txt'"
done
echo "rejected courses: casebook $(cat "$dir/cb-courses.txt"), sqlite3 $(cat "$dir/sql-courses.txt") (rows query: $(cat "$dir/sql-course-rows.txt"))"
echo "checksums:"
"$cb" run "$shared/bench/rule.rhai" --as-of 2019-02-20 --db "$dir/bench.redb" --format jsonl
sqlite3 "$dir/bench.sqlite" < "$shared/bench/score.sql"
python3 - "$log" "$runs" "$size" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 3 and not p[0].startswith("Command"):
        rows[p[0]].append((float(p[1]), int(p[2])))
med = {k: statistics.median(s for s, _ in v) for k, v in rows.items()}
print(f"\nmedians of {sys.argv[2]} interleaved runs (wall seconds, peak RSS MiB):")
for k, v in rows.items():
    print(f"  {k:26s} {med[k]:7.3f} s  {max(m for _, m in v) / 1024:7.1f} MiB")
def ratio(a, b):
    if a in med and b in med: print(f"  {a} / {b} = {med[a] / med[b]:.2f}")
print("ratios:")
ratio("casebook-import", "sqlite3-load")
ratio("casebook-rule", "sqlite3-rule")
ratio("casebook-rule", "python-rule")
ratio("casebook-rule", "duckdb-rule")
ratio("casebook-score", "sqlite3-rule")
ratio("casebook-course-check", "sqlite3-course-check")
ratio("casebook-course-check", "sqlite3-course-rows")
if "casebook-export-findings" in med:
    print(f"  export: {int(sys.argv[3]) * 1_000_000 / med['casebook-export-findings']:,.0f} findings/s")
PY
rm -f "$log"
