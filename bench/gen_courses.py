#!/usr/bin/env python3
"""Course filings for the benchmark city: courses.csv in OUT_DIR (SPEC §3 headers).

usage: gen_courses.py OUT_DIR [COURSES=500000] [INSTITUTIONS=100000] [SEED=7]
Institutions are the benchmark city's ids I0000000…; every course is filed by
2019-02-20 and still `filed`. Start days are 1–28 so that "N months later" means
the same in chrono and in sqlite3's date(…, '+N months').
"""
import csv, datetime as dt, os, random, sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 500_000
n_inst = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
os.makedirs(out, exist_ok=True)
SUBJ = ["数学", "英语", "语文", "物理", "化学"]
NON = ["美术", "舞蹈", "编程", "围棋", "篮球", "钢琴"]
cols = ["id", "institution_id", "name", "subject", "subject_type", "grade", "mode", "class_hours", "fee_total",
        "prepay_months", "starts_on", "ends_on", "daily_end_time", "filed_on", "status", "decision_reason"]
with open(os.path.join(out, "courses.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f); w.writerow(cols)
    for k in range(n):
        subject = rnd.random() < 0.3
        s = rnd.choice(SUBJ if subject else NON)
        start = dt.date(2019, rnd.randrange(1, 7), rnd.randrange(1, 29))
        end = start + dt.timedelta(days=rnd.randrange(30, 200))
        filed = dt.date(2019, 1, 1) + dt.timedelta(days=rnd.randrange(0, 51))
        minutes = rnd.choice([18 * 60, 19 * 60, 19 * 60 + 30, 20 * 60, 20 * 60 + 30, 20 * 60 + 45, 21 * 60, 21 * 60 + 30])
        w.writerow([f"C{k:07d}", f"I{rnd.randrange(n_inst):07d}", f"{s}课程{k}", s,
                    "subject" if subject else "non_subject", "小学", "online" if rnd.random() < 0.2 else "offline",
                    rnd.randrange(10, 120), rnd.randrange(500, 20000), rnd.choice([0, 1, 1, 2, 3, 3, 4, 6]),
                    start.isoformat(), end.isoformat(), f"{minutes // 60:02d}:{minutes % 60:02d}",
                    filed.isoformat(), "filed", ""])
print(f"{out}/courses.csv: {n} courses")
