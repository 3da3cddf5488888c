//! The ledger and rules the score and runs tests share: five institutions in
//! two districts as of [`AS_OF`], two versions of a rule, and readers of
//! what `casebook score` prints.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{jsonl, Ws};

pub(super) const AS_OF: &str = "2019-02-20";

/// Two districts' worth of institutions, as of 2019-02-20 under [`RULE`]:
/// A1 100 A, A2 70 C (unlicensed, no fire approval), A3 70 C (overdue
/// severity-3 finding), A4 40 D (all three), A5 100 A (an open finding, not overdue).
pub(super) const INSTITUTIONS: &str = "\
id,name,district,category,licence_no,licence_issued,licence_expires,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date
A1,星辰数学,天河,subject,教民1,2018-01-01,2021-12-31,100,5,5,400,0,true,operating,2018-01-01
A2,无证英语,天河,subject,,,,50,3,3,200,0,false,operating,2018-01-01
A3,小画家美术,海珠,non_subject,,,,30,2,2,100,0,true,operating,2018-01-01
A4,启航作文,海珠,subject,,,,80,4,4,300,0,false,operating,2018-01-01
A5,跳跳舞蹈,番禺,non_subject,,,,20,2,2,150,0,true,operating,2018-01-01
";

pub(super) const FINDINGS: &str = "\
id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note
F1,A3,fire_hazard,3,2019-01-01,2019-02-01,,,通道堵塞
F2,A4,late_hours,3,2019-01-01,2019-02-10,,,超时
F3,A5,false_advertising,1,2019-02-10,2019-03-10,,,虚假宣传
";

/// The base rule: every point lost is recorded with deduct().
pub(super) const RULE: &str = r#"// rule.rhai — a test rule
fn score(i) {
    let s = 100;
    if i.category == "subject" && !i.licensed {
        s -= deduct(20, "无证办学 / unlicensed");
    }
    if !i.fire_approved {
        s -= deduct(10, "消防未验收 / fire");
    }
    for f in i.findings() {
        if f.overdue {
            s -= deduct(10 * f.severity, `逾期 ${f.id} / overdue ${f.id}`);
        }
    }
    s
}
"#;

/// A proposed change: no licence costs 45, fire approval no longer counts.
pub(super) const RULE_V2: &str = r#"fn score(i) {
    let s = 100;
    if i.category == "subject" && !i.licensed {
        s -= deduct(45, "无证办学 / unlicensed");
    }
    for f in i.findings() {
        if f.overdue {
            s -= deduct(10 * f.severity, `逾期 ${f.id} / overdue ${f.id}`);
        }
    }
    s
}
"#;

pub(super) fn city() -> Ws {
    let ws = Ws::init();
    let f = ws.write("institutions.csv", INSTITUTIONS);
    ws.import("institutions", &f);
    let f = ws.write("findings.csv", FINDINGS);
    ws.import("findings", &f);
    ws
}

pub(super) fn by_id(rows: &[Value]) -> BTreeMap<String, Value> {
    rows.iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// `casebook score FILE --as-of DATE --format jsonl`, parsed.
#[track_caller]
pub(super) fn score(ws: &Ws, file: &str, as_of: &str) -> Vec<Value> {
    jsonl(
        &ws.run(&["score", file, "--as-of", as_of, "--format", "jsonl"])
            .ok()
            .stdout,
    )
}

/// The cells of the table rows of `text` (lines starting with │), split on the column bars.
pub(super) fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('│'))
        .map(|l| {
            l.trim_matches('│')
                .split('┆')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}
