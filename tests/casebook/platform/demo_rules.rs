//! The three platform rules (licence_review, course_check, annual_evaluation)
//! and the reports on the demo city, which must find exactly the cases the
//! generator planted.

use casebook::demo::PLANTED;
use serde_json::Value;

use super::{exported, jsonl};

use crate::common::*;

// ---------------------------------------------------------------------------
// The platform rules on the demo city

/// A workspace holding the demo city (built through the library: the same
/// generator `casebook demo` uses).
fn demo() -> Ws {
    let ws = Ws::new();
    casebook::demo::build(&ws.db, "tester").expect("the demo city");
    ws
}

fn rows(ws: &Ws, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["run"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "jsonl"]);
    jsonl(&ws.run(&a).ok().stdout)
}

fn count(rows: &[Value], f: impl Fn(&Value) -> bool) -> usize {
    rows.iter().filter(|r| f(r)).count()
}

fn reasons_have(r: &Value, s: &str) -> bool {
    r["reasons"].as_str().unwrap().contains(s)
}

/// The 合计 row of a district report.
fn total(report: &[Value]) -> &Value {
    let t = report.last().unwrap();
    assert_eq!(t["区"], "合计", "{t}");
    t
}

#[test]
fn licence_review_on_the_demo_city_decides_the_planted_cases() {
    let ws = demo();
    let lr = script("licence_review.rhai");
    let week = script("weekly_report.rhai");
    let preview = rows(&ws, &[&lr, "--as-of", "2019-02-20"]);
    assert_eq!(preview.len(), PLANTED.pending);
    let approve = |r: &Value| r["decision"] == "approve";
    assert_eq!(count(&preview, approve), PLANTED.pending_approve);
    assert_eq!(
        count(&preview, |r| r["decision"] == "reject"),
        PLANTED.pending_reject
    );
    for (phrase, n) in [
        ("below 3 m² per student", PLANTED.site_area_per_student),
        (
            "below the 200 m² Guangdong minimum",
            PLANTED.site_area_total,
        ),
        ("fire-safety acceptance not passed", PLANTED.fire),
        (
            "teachers hold a teacher qualification",
            PLANTED.subject_teachers,
        ),
        (
            "severity-3 finding(s) not closed out",
            PLANTED.severe_finding,
        ),
    ] {
        assert_eq!(count(&preview, |r| reasons_have(r, phrase)), n, "{phrase}");
    }
    assert!(preview.iter().all(|r| r["applied"] == false));
    assert!(preview
        .iter()
        .all(|r| approve(r) == r["reasons"].as_str().unwrap().is_empty()));
    // New licence numbers: 教民1 + division + 2019 + serial, unique; renewals keep theirs.
    let mut numbers: Vec<&str> = preview
        .iter()
        .filter(|r| approve(r))
        .map(|r| r["licence_no"].as_str().unwrap())
        .collect();
    let new = numbers
        .iter()
        .filter(|n| n.len() == "教民144010620190001号".len() && n.contains("2019"))
        .count();
    assert_eq!(new, PLANTED.pending_approve - PLANTED.pending_renewals);
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), PLANTED.pending_approve);
    let before = rows(&ws, &[&week, "--as-of", "2019-02-20"]);

    // With --write: the same decisions, applied.
    let applied = rows(&ws, &[&lr, "--as-of", "2019-02-20", "--write"]);
    assert_eq!(applied.len(), preview.len());
    for (a, p) in applied.iter().zip(&preview) {
        assert_eq!(a["applied"], true);
        for k in ["id", "decision", "reasons", "licence_no"] {
            assert_eq!(a[k], p[k]);
        }
    }
    let apps = exported(&ws, "applications");
    let insts = exported(&ws, "institutions");
    for r in &applied {
        let a = &apps[r["id"].as_str().unwrap()];
        assert_eq!(a["decided_on"], "2019-02-20");
        if approve(r) {
            assert_eq!(a["status"], "approved");
            let i = &insts[r["institution_id"].as_str().unwrap()];
            assert_eq!(i["licence_no"], r["licence_no"].as_str().unwrap());
            assert_eq!(
                (i["licence_issued"].as_str(), i["licence_expires"].as_str()),
                ("2019-02-20", "2022-02-19")
            );
        } else {
            assert_eq!(a["status"], "rejected");
            assert_eq!(a["decision_reason"], r["reasons"].as_str().unwrap());
        }
    }
    // Nothing is pending any more.
    assert!(rows(&ws, &[&lr, "--as-of", "2019-02-20"]).is_empty());
    assert!(rows(&ws, &[&lr, "--as-of", "2019-02-21", "--write"]).is_empty());

    // The weekly report shows the decisions.
    let after = rows(&ws, &[&week, "--as-of", "2019-02-20"]);
    let (b, a) = (total(&before), total(&after));
    assert_eq!(
        int(&a["许可批准"]) - int(&b["许可批准"]),
        PLANTED.pending_approve as i64
    );
    assert_eq!(
        int(&a["许可驳回"]) - int(&b["许可驳回"]),
        PLANTED.pending_reject as i64
    );
    assert_eq!(a["许可申请"], b["许可申请"]);
    // Every licence issued in the week came through an approved application.
    assert_eq!(b["许可批准"], b["新发证"]);
    assert_eq!(a["许可批准"], a["新发证"]);
    for r in &after[..11] {
        let district = r["区"].as_str().unwrap();
        let decided = count(&applied, |x| x["district"] == district && approve(x));
        let was = before.iter().find(|x| x["区"] == district).unwrap();
        assert_eq!(
            int(&r["许可批准"]) - int(&was["许可批准"]),
            decided as i64,
            "{district}"
        );
    }
}

#[test]
fn course_check_on_the_demo_city_decides_the_planted_cases() {
    let ws = demo();
    let cc = script("course_check.rhai");
    let month = script("monthly_report.rhai");
    let preview = rows(&ws, &[&cc, "--as-of", "2019-02-20"]);
    assert_eq!(
        preview.len(),
        PLANTED.courses_rejected,
        "only rejections by default"
    );
    let late_offline = count(&preview, |r| reasons_have(r, "after 20:30"));
    let late_online = count(&preview, |r| reasons_have(r, "after 21:00"));
    assert_eq!(late_offline, PLANTED.late_offline);
    assert_eq!(late_online, PLANTED.late_online);
    assert_eq!(
        count(&preview, |r| r["mode"] == "online"
            && reasons_have(r, "after 21:00")),
        late_online
    );
    assert_eq!(
        count(&preview, |r| reasons_have(r, "months, more than 3")),
        PLANTED.prepay_months
    );
    assert_eq!(
        count(&preview, |r| reasons_have(r, "class hours, more than 60")),
        PLANTED.prepay_hours
    );
    assert_eq!(
        count(&preview, |r| reasons_have(r, "without a valid licence")),
        PLANTED.subject_unlicensed
    );
    assert_eq!(
        count(&preview, |r| reasons_have(r, "yuan, more than 5,000")),
        PLANTED.fee_over_5000
    );
    assert!(preview
        .iter()
        .all(|r| r["decision"] == "reject" && r["applied"] == false));
    assert!(
        count(&preview, |r| reasons_have(r, "；")) > 0,
        "some break two rules"
    );
    let all = rows(&ws, &[&cc, "--as-of", "2019-02-20", "--arg", "all=1"]);
    assert_eq!(all.len(), PLANTED.courses);
    assert_eq!(
        count(&all, |r| r["decision"] == "accept"),
        PLANTED.courses - PLANTED.courses_rejected
    );
    // As of an earlier day only the courses filed by then are checked.
    let early = rows(&ws, &[&cc, "--as-of", "2019-01-31", "--arg", "all=1"]);
    assert!(!early.is_empty() && early.len() < all.len());
    assert!(early
        .iter()
        .all(|r| r["filed_on"].as_str().unwrap() <= "2019-01-31"));

    // With --write every filed course is decided, and the institutions are untouched.
    let institutions = ws.export("institutions", "csv");
    let applied = rows(&ws, &[&cc, "--as-of", "2019-02-20", "--write"]);
    assert_eq!(applied.len(), PLANTED.courses_rejected);
    assert!(applied.iter().all(|r| r["applied"] == true));
    assert_eq!(ws.export("institutions", "csv"), institutions);
    let courses = exported(&ws, "courses");
    let rejected = courses
        .values()
        .filter(|c| c["status"] == "rejected")
        .count();
    let accepted = courses
        .values()
        .filter(|c| c["status"] == "accepted")
        .count();
    assert_eq!(
        (rejected, accepted),
        (
            PLANTED.courses_rejected,
            PLANTED.courses - PLANTED.courses_rejected
        )
    );
    assert!(rows(&ws, &[&cc, "--as-of", "2019-02-20", "--arg", "all=1"]).is_empty());

    // The monthly reports of January and February show the filings and the rejections by reason.
    let jan = rows(&ws, &[&month, "--as-of", "2019-01-31"]);
    let feb = rows(&ws, &[&month, "--as-of", "2019-02-20"]);
    let both = |k: &str| int(&total(&jan)[k]) + int(&total(&feb)[k]);
    assert_eq!(both("课程备案"), PLANTED.courses as i64);
    assert_eq!(both("课程驳回"), PLANTED.courses_rejected as i64);
    assert_eq!(
        both("驳回:超时"),
        (PLANTED.late_offline + PLANTED.late_online) as i64
    );
    assert_eq!(
        both("驳回:超期预收"),
        (PLANTED.prepay_months + PLANTED.prepay_hours) as i64
    );
    assert_eq!(both("驳回:无证学科"), PLANTED.subject_unlicensed as i64);
    assert_eq!(both("驳回:超额收费"), PLANTED.fee_over_5000 as i64);
    for report in [&jan, &feb] {
        for k in [
            "课程备案",
            "课程驳回",
            "驳回:超时",
            "许可申请",
            "许可批准",
            "许可驳回",
        ] {
            let sum: i64 = report[..11].iter().map(|r| int(&r[k])).sum();
            assert_eq!(int(&total(report)[k]), sum, "{k}");
        }
    }
}

#[test]
fn annual_evaluation_grades_the_demo_city_and_publishes_the_grades() {
    let ws = demo();
    let ae = script("annual_evaluation.rhai");
    let out = ws
        .run(&[
            "score",
            &ae,
            "--as-of",
            "2018-12-31",
            "--save",
            "--format",
            "jsonl",
        ])
        .ok();
    let ds = jsonl(&out.stdout);
    assert_eq!(ds.len(), 8562);
    let grade_of = |s: i64| match s {
        980.. => "A",
        950..=979 => "B",
        900..=949 => "C",
        800..=899 => "D",
        _ => "E",
    };
    for d in &ds {
        let s = int(&d["score"]);
        assert!((0..=1000).contains(&s), "{d}");
        assert_eq!(d["grade"], grade_of(s), "{d}");
        let lost: i64 = d["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                // "扣90分 …"; a deduction of nothing (an indicator used up) has no prefix.
                let r = r.as_str().unwrap();
                r.strip_prefix('扣')
                    .and_then(|t| t.split_once('分'))
                    .map_or(0, |(n, _)| n.parse::<i64>().unwrap())
            })
            .sum();
        assert_eq!(1000 - lost, s, "the reasons account for every point: {d}");
    }
    let not_evaluated = |d: &&Value| d["reasons"].to_string().contains("not evaluated");
    assert!(ds.iter().filter(not_evaluated).all(|d| d["score"] == 0));
    assert!(ds
        .iter()
        .any(|d| d["reasons"].to_string().contains("overdue: doubled")));
    assert!(ds
        .iter()
        .any(|d| d["reasons"].to_string().contains("indicator used up")));

    // The run's distribution per district agrees with the scores.
    let dist = rows(&ws, &[&ae, "--as-of", "2018-12-31"]);
    assert_eq!(dist.len(), 12);
    for r in &dist[..11] {
        let district = r["区"].as_str().unwrap();
        let mine: Vec<&Value> = ds.iter().filter(|d| d["district"] == district).collect();
        let skipped = mine.iter().filter(|d| not_evaluated(d)).count();
        assert_eq!(int(&r["不参评"]), skipped as i64, "{district}");
        assert_eq!(int(&r["参评"]), (mine.len() - skipped) as i64, "{district}");
        for g in ["A", "B", "C", "D", "E"] {
            let n = mine
                .iter()
                .filter(|d| !not_evaluated(d) && d["grade"] == g)
                .count();
            assert_eq!(int(&r[g]), n as i64, "{district} {g}");
        }
    }
    assert_eq!(
        int(&total(&dist)["参评"]) + int(&total(&dist)["不参评"]),
        8562
    );

    // The published pages, from the saved run.
    let site = ws.path().join("site");
    let templates = root().join("templates");
    let pub_rows = rows(
        &ws,
        &[
            &script("publish_grades.rhai"),
            "--as-of",
            "2018-12-31",
            "--out",
            site.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(pub_rows.len(), 12);
    for (p, r) in pub_rows.iter().zip(&dist) {
        assert_eq!(p["区"], r["区"]);
        assert_eq!(p["评价日期"], "2018-12-31");
        for k in ["参评", "A", "B", "C", "D", "E"] {
            assert_eq!(p[k], r[k], "{} {k}", r["区"]);
        }
    }
    let index = std::fs::read_to_string(site.join("grades.html")).unwrap();
    assert!(
        index.contains("grades-天河.html") && index.contains("年度信用评价"),
        "{index}"
    );
    let th = std::fs::read_to_string(site.join("grades-天河.html")).unwrap();
    let th_row = &pub_rows[3];
    assert_eq!(th_row["区"], "天河");
    assert_eq!(th.matches("<tr><td>").count() as i64, int(&th_row["参评"]));
    // Best first: the first listed institution has grade A.
    let first = th.find("class=\"g-").unwrap();
    assert!(
        th[first..].starts_with("class=\"g-A\""),
        "{}",
        &th[first..first + 40]
    );
    // Without a saved run the page cannot be made, and says why.
    let ws2 = Ws::init();
    let r = ws2
        .run(&["run", &script("publish_grades.rhai"), "--out", "site"])
        .code(1);
    assert!(
        r.stderr
            .contains("casebook score scripts/annual_evaluation.rhai"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_platform_rules_pass_their_own_tests() {
    let ws = Ws::new();
    for name in [
        "licence_review.rhai",
        "course_check.rhai",
        "annual_evaluation.rhai",
        "publish_grades.rhai",
        "weekly_report.rhai",
        "monthly_report.rhai",
    ] {
        let r = ws.run(&["test", &script(name)]).ok();
        assert!(r.stdout.contains(", 0 failed"), "{name}: {}", r.stdout);
        assert!(
            r.stdout.matches("\nok   ").count() + 1 >= 3,
            "{name}: {}",
            r.stdout
        );
    }
}

/// The demo's black list comes from every criterion of blacklist.rhai (it
/// was 575 closed institutions keeping their students): a closed institution
/// has no students, but for the 12 planted as still enrolling.
#[test]
fn the_demo_black_list_has_planted_cases_of_every_criterion() {
    let ws = demo();
    let bl = script("blacklist.rhai");
    let preview = rows(&ws, &[&bl, "--as-of", "2019-02-20", "--dry-run"]);
    let has = |s: &str| count(&preview, |r| r["reason"].as_str().unwrap().contains(s));
    assert_eq!(preview.len(), 26, "{preview:?}");
    assert_eq!(has("unlicensed subject-type training still operating"), 6);
    assert_eq!(has("severity-3 finding"), 8);
    assert_eq!(has("still enrolling"), 12);
    let closed_with_students = rows(
        &ws,
        &[
            &ws.write(
                "c.rhai",
                "for i in institutions() { if (i.status == \"closed\" || i.status == \"self_closed\") && i.students > 0 { emit(#{id: i.id}); } }\n",
            ),
            "--as-of",
            "2019-02-20",
        ],
    );
    assert_eq!(closed_with_students.len(), 12);
}
