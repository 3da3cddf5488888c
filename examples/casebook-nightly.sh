#!/bin/sh
# casebook-nightly.sh — the night's notices (整改通知书, 逾期催告, 黑名单告知书)
# for cron (casebook-nightly.crontab) or systemd (casebook-nightly.service and
# .timer). Each night writes under its own folder, OUT/DATE, so no night's
# files are ever replaced by the next one's.
#
# Settings, from the environment:
#   CASEBOOK_HOME           where scripts/ and templates/ are (default /srv/casebook)
#   CASEBOOK_DB             the ledger (default $CASEBOOK_HOME/casebook.redb)
#   CASEBOOK_OUT            where the nights' folders go (default $CASEBOOK_HOME/out)
#   CASEBOOK_BIN            the casebook binary (default: casebook on the PATH)
#   CASEBOOK_TRIES          tries while the ledger is busy, exit 3 (default 6)
#   CASEBOOK_RETRY_SECONDS  seconds between them (default 600)
#   CASEBOOK_BUSY_TIMEOUT   seconds one try waits for the ledger (casebook's own, default 10)
#   AS_OF                   the night's date (default today)
#
# Exit codes are casebook's: 0 done, 1 failed (nothing committed: read the
# log, fix, run again), 2 usage error, 3 still busy after every try (retry later).
set -u
home=${CASEBOOK_HOME:-/srv/casebook}
bin=${CASEBOOK_BIN:-casebook}
day=${AS_OF:-$(date +%F)}
out=${CASEBOOK_OUT:-$home/out}/$day
tries=${CASEBOOK_TRIES:-6}
pause=${CASEBOOK_RETRY_SECONDS:-600}
export CASEBOOK_DB="${CASEBOOK_DB:-$home/casebook.redb}"
cd "$home" || exit 1

n=1
while :; do
    echo "$(date '+%F %T') notices as of $day into $out (try $n of $tries)"
    # The rows also go to $out/notices-$day.jsonl; the log gets the summary.
    "$bin" run scripts/notices.rhai --as-of "$day" --write --out "$out" --format jsonl > /dev/null
    rc=$?
    case $rc in
        0)
            echo "$(date '+%F %T') done"
            exit 0
            ;;
        3)
            if [ "$n" -ge "$tries" ]; then
                echo "$(date '+%F %T') the ledger stayed busy for $n tries: nothing was done; run again later (exit 3)"
                exit 3
            fi
            echo "$(date '+%F %T') the ledger is busy (exit 3): nothing was done; trying again in ${pause}s"
            sleep "$pause"
            n=$((n + 1))
            ;;
        *)
            echo "$(date '+%F %T') failed (exit $rc): nothing was committed; the error is above"
            exit "$rc"
            ;;
    esac
done
