//! `casebook show ID --as-of DATE`: one institution's register (一户一册) as a
//! user reads it: fields, status history, inspections and findings in date
//! order with their lifecycle, list entries; Chinese text aligned.

use unicode_width::UnicodeWidthStr;

use crate::common::*;

const HEADER: &str = "id,name,uscc,district,street,address,category,licence_no,licence_issued,licence_expires,organizer,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date";

fn inst_row(status: &str, date: &str) -> String {
    format!(
        "{HEADER}\nS-1,广州市天河区星辰数学培训中心,91440101MA5CJQ4N59,天河,石牌街道,天河路一号 三楼 301 室,subject,教民144010600001,2017-03-01,2020-02-29,广州星辰教育科技有限公司,320,18,15,450.5,128000.50,true,{status},{date}\n\
         S-2,小画家,,海珠,,,non_subject,,,,,1,1,0,10,0,false,operating,2018-01-01\n"
    )
}

/// S-1 with three dated statuses (imported out of date order), two inspections
/// and six findings covering every lifecycle state.
fn register() -> Ws {
    let ws = Ws::init();
    let f = ws.write("i1.csv", inst_row("operating", "2018-01-01"));
    ws.import("institutions", &f);
    let f = ws.write("i2.csv", inst_row("closed", "2019-03-01"));
    ws.import("institutions", &f);
    let f = ws.write("i3.csv", inst_row("rectifying", "2018-06-01"));
    ws.import("institutions", &f);
    // Ids sort opposite to dates, so date order is visible.
    let f = ws.write(
        "s.csv",
        "id,institution_id,date,operation,departments,inspectors,note\n\
         SI-1,S-1,2018-06-01,夏季复查,education;fire,4,复查：消防通道仍堵塞\n\
         SI-9,S-1,2018-03-01,春季联合执法,education;police;market,6,初查发现超前教学\n\
         SI-5,S-2,2018-03-02,春季联合执法,education,2,\n",
    );
    ws.import("inspections", &f);
    let f = ws.write(
        "f.csv",
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         SF-9,S-1,SI-9,fire_hazard,3,2018-03-01,2018-04-01,2018-03-20,2018-04-10,安全出口堵塞\n\
         SF-5,S-1,SI-1,ahead_of_syllabus,2,2018-06-01,2018-07-01,2018-12-01,,超纲教学\n\
         SF-1,S-1,SI-1,no_licence,2,2018-06-02,2018-12-31,,,\n\
         SF-3,S-1,,late_hours,1,2018-10-01,2018-11-01,2019-02-01,,晚上九点后上课\n\
         SF-0,S-1,,prepaid_excess,1,2018-12-31,2019-01-01,,,预收费超过三个月\n\
         SF-7,S-1,,secret_exam,2,2019-03-01,2019-04-01,,,密考\n\
         SF-8,S-2,,other,1,2018-03-02,2018-04-02,,,\n",
    );
    ws.import("findings", &f);
    ws
}

fn show(ws: &Ws, id: &str, as_of: &str) -> String {
    ws.run(&["show", "--format", "table", id, "--as-of", as_of])
        .ok()
        .stdout
}

/// The lines of the section that starts with `title` (up to the next blank line).
fn section<'a>(out: &'a str, title: &str) -> Vec<&'a str> {
    let start = out
        .lines()
        .position(|l| l.starts_with(title))
        .unwrap_or_else(|| panic!("no section {title:?} in:\n{out}"));
    out.lines()
        .skip(start)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// The table rows (lines starting with '│') of a section that contain `needle`.
fn row<'a>(lines: &[&'a str], needle: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.starts_with('│') && l.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?} in:\n{}", lines.join("\n")))
}

/// Positions of `ids` in `out`, asserting each appears.
fn order(out: &str, ids: &[&str]) -> Vec<usize> {
    ids.iter()
        .map(|id| {
            out.find(&format!(" {id} "))
                .unwrap_or_else(|| panic!("{id} not shown:\n{out}"))
        })
        .collect()
}

#[test]
fn show_prints_the_institutions_fields() {
    let ws = register();
    let out = show(&ws, "S-1", "2019-01-01");
    assert!(
        out.starts_with("S-1  广州市天河区星辰数学培训中心    (as of 2019-01-01)\n"),
        "{out}"
    );
    for (label, value) in [
        ("uscc", "91440101MA5CJQ4N59"),
        ("district / street", "天河 / 石牌街道"),
        ("address", "天河路一号 三楼 301 室"),
        ("category", "学科类 subject"),
        ("organizer", "广州星辰教育科技有限公司"),
        (
            "licence",
            "教民144010600001  2017-03-01 – 2020-02-29  (valid on 2019-01-01)",
        ),
        ("students / teachers", "320 / 18 (15 qualified)"),
        ("area", "450.5 m²"),
        ("prepaid balance", "128,000.50 元"),
        ("fire approved", "是 yes"),
        ("status", "整改中 rectifying"),
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("│ {label} ")))
            .unwrap_or_else(|| panic!("no {label} row:\n{out}"));
        assert!(line.contains(value), "{label}: {line}");
    }
}

#[test]
fn show_says_whether_the_licence_was_valid_on_the_date() {
    let ws = register();
    let out = show(&ws, "S-1", "2020-03-01");
    assert!(out.contains("(not valid on 2020-03-01)"), "{out}");
    let out = show(&ws, "S-1", "2020-02-29");
    assert!(
        out.contains("(valid on 2020-02-29)"),
        "valid through its expiry day: {out}"
    );
    let out = show(&ws, "S-2", "2019-01-01");
    assert!(out.contains("none (无证)"), "{out}");
}

#[test]
fn show_lists_the_status_history_in_date_order_and_the_status_as_of_the_date() {
    let ws = register();
    let out = show(&ws, "S-1", "2019-01-01");
    let hist = section(&out, "Status history 状态变更");
    assert_eq!(hist[0], "Status history 状态变更 (3)");
    let rows: Vec<&str> = hist
        .iter()
        .copied()
        .filter(|l| l.starts_with("│ 20"))
        .collect();
    assert_eq!(rows.len(), 3, "{}", hist.join("\n"));
    assert!(rows[0].contains("2018-01-01") && rows[0].contains("经营中 operating"));
    assert!(rows[1].contains("2018-06-01") && rows[1].contains("整改中 rectifying"));
    assert!(rows[2].contains("2019-03-01 (after as-of)") && rows[2].contains("已关停 closed"));
    assert!(
        rows[2].contains("import i2.csv"),
        "the reason says where it came from"
    );

    let status = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("│ status "))
            .unwrap()
            .to_string()
    };
    assert!(status(&show(&ws, "S-1", "2018-03-01")).contains("经营中 operating"));
    assert!(status(&show(&ws, "S-1", "2018-06-01")).contains("整改中 rectifying"));
    assert!(status(&show(&ws, "S-1", "2019-03-01")).contains("已关停 closed"));
    assert!(status(&show(&ws, "S-1", "2017-12-31")).contains("no status yet on this date"));
}

#[test]
fn show_lists_inspections_in_date_order() {
    let ws = register();
    let out = show(&ws, "S-1", "2019-01-01");
    let insp = section(&out, "Inspections 检查记录");
    assert_eq!(insp[0], "Inspections 检查记录 (2)");
    let text = insp.join("\n");
    let pos = order(&text, &["SI-9", "SI-1"]);
    assert!(pos[0] < pos[1], "{text}");
    assert!(
        row(&insp, "SI-9").contains("教育、公安、市场监管"),
        "{text}"
    );
    assert!(
        row(&insp, "SI-1").contains("复查：消防通道仍堵塞"),
        "{text}"
    );
    assert!(
        !text.contains("SI-5"),
        "another institution's inspection: {text}"
    );
}

#[test]
fn show_lists_findings_in_date_order_with_their_lifecycle() {
    let ws = register();
    let out = show(&ws, "S-1", "2019-01-01");
    let fnd = section(&out, "Findings 整改项");
    assert_eq!(
        fnd[0],
        "Findings 整改项 (5: 3 open, 1 rectified, 1 closed; 3 overdue); 1 opened after 2019-01-01 not shown"
    );
    let text = fnd.join("\n");
    let pos = order(&text, &["SF-9", "SF-5", "SF-1", "SF-3", "SF-0"]);
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "date order: {text}");

    let r = row(&fnd, "SF-9");
    assert!(
        r.contains("消防隐患 fire_hazard") && r.contains("┆ 已销号 closed "),
        "{r}"
    );
    assert!(r.contains("2018-03-20") && r.contains("2018-04-10"), "{r}");
    let r = row(&fnd, "SF-5");
    assert!(r.contains("rectified · 逾期 overdue 184 d"), "{r}");
    let r = row(&fnd, "SF-1");
    assert!(r.contains("open · 逾期 overdue 1 d"), "{r}");
    let r = row(&fnd, "SF-3");
    assert!(r.contains("open · 逾期 overdue 61 d"), "{r}");
    assert!(
        r.contains("(2019-02-01)"),
        "a rectification after the date is shown in brackets: {r}"
    );
    let r = row(&fnd, "SF-0");
    assert!(
        r.contains("┆ 未整改 open ") && !r.contains("overdue"),
        "the deadline day itself is not overdue: {r}"
    );
}

#[test]
fn a_finding_opened_after_the_as_of_date_is_not_listed() {
    let ws = register();
    let out = show(&ws, "S-1", "2019-01-01");
    assert!(!out.contains("SF-7"), "{out}");
    assert!(!out.contains("密考"), "{out}");
    let out = show(&ws, "S-1", "2018-03-01");
    let fnd = section(&out, "Findings 整改项");
    assert_eq!(
        fnd[0],
        "Findings 整改项 (1: 1 open, 0 rectified, 0 closed; 0 overdue); 5 opened after 2018-03-01 not shown"
    );
    assert!(row(&fnd, "SF-9").contains("┆ 未整改 open "));
    assert!(
        row(&fnd, "SF-9").contains("(2018-03-20)"),
        "the later rectification is bracketed"
    );
    let out = show(&ws, "S-1", "2019-06-01");
    let fnd = section(&out, "Findings 整改项");
    assert!(fnd[0].starts_with("Findings 整改项 (6: "), "{}", fnd[0]);
    assert!(!fnd[0].contains("not shown"), "{}", fnd[0]);
    assert!(out.contains("SF-7"));
}

#[test]
fn an_institution_with_nothing_recorded_shows_empty_sections() {
    let ws = Ws::init();
    let f = ws.write(
        "one.csv",
        "id,name,district,category,status,status_date\nE-1,空白机构,南沙,non_subject,operating,2018-01-01\n",
    );
    ws.import("institutions", &f);
    let out = show(&ws, "E-1", "2019-01-01");
    assert!(out.contains("Inspections 检查记录 (0)"), "{out}");
    assert!(
        out.contains("Findings 整改项 (0: 0 open, 0 rectified, 0 closed; 0 overdue)"),
        "{out}"
    );
    assert!(out.contains("│ uscc "), "{out}");
}

#[test]
fn show_lists_black_and_white_list_entries() {
    let ws = register();
    let script = ws.write(
        "blacklist.rhai",
        "list_add(\"blacklist\", \"S-1\", \"无证办学 屡查屡犯\");\n",
    );
    ws.run(&["run", &script, "--as-of", "2018-07-01", "--write"])
        .ok();
    let out = show(&ws, "S-1", "2019-01-01");
    let lists = section(&out, "Lists 名单");
    assert_eq!(lists[0], "Lists 名单 (1: on 1 as of 2019-01-01)");
    let r = row(&lists, "blacklist");
    assert!(
        r.contains("2018-07-01") && r.contains("无证办学 屡查屡犯"),
        "{r}"
    );
    assert!(r.contains("tester"), "the operator: {r}");
    let out = show(&ws, "S-1", "2018-06-30");
    assert!(
        out.contains("Lists 名单 (0: on 0 as of 2018-06-30); 1 added after 2018-06-30 not shown"),
        "{out}"
    );
}

#[test]
fn an_unknown_id_exits_1_with_a_message() {
    let ws = register();
    let r = ws
        .run(&[
            "show",
            "--format",
            "table",
            "NOPE-1",
            "--as-of",
            "2019-01-01",
        ])
        .code(1);
    assert!(
        r.stderr.contains("no institution with id \"NOPE-1\""),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
    let r = ws
        .run(&["show", "--format", "table", "S-", "--as-of", "2019-01-01"])
        .code(1);
    assert!(
        r.stderr.contains("ids that start alike: S-1, S-2"),
        "{}",
        r.stderr
    );
}

/// BUG (src/cli/cmd/show.rs): the "ids that start alike" hint slices the id
/// at byte 4, so an id of Chinese characters (a user typing the institution's
/// name) panics with exit code 101 instead of saying there is no such id.
#[test]
fn show_with_a_chinese_name_instead_of_an_id_says_no_such_institution() {
    let ws = register();
    let r = ws.run(&[
        "show",
        "--format",
        "table",
        "星辰数学",
        "--as-of",
        "2019-01-01",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("no institution with id \"星辰数学\""),
        "{}",
        r.stderr
    );
}

#[test]
fn chinese_text_keeps_every_table_aligned() {
    let ws = register();
    let script = ws.write(
        "blacklist.rhai",
        "list_add(\"黑名单\", \"S-1\", \"无证办学\");\n",
    );
    ws.run(&["run", &script, "--as-of", "2018-07-01", "--write"])
        .ok();
    for as_of in ["2018-03-01", "2019-01-01", "2019-06-01"] {
        let out = show(&ws, "S-1", as_of);
        let mut tables: Vec<Vec<&str>> = Vec::new();
        let mut cur: Vec<&str> = Vec::new();
        for l in out.lines() {
            if l.starts_with(['┌', '│', '╞', '├', '└']) {
                cur.push(l);
            } else if !cur.is_empty() {
                tables.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            tables.push(cur);
        }
        assert!(
            tables.len() >= 4,
            "fields, history, inspections, findings:\n{out}"
        );
        for t in &tables {
            assert!(t[0].starts_with('┌') && t.last().unwrap().starts_with('└'));
            let borders: Vec<usize> = t
                .iter()
                .filter(|l| !l.starts_with('│'))
                .map(|l| l.width())
                .collect();
            assert!(
                borders.iter().all(|w| *w == borders[0]),
                "border widths {borders:?}:\n{}",
                t.join("\n")
            );
            for l in t {
                assert_eq!(
                    l.width(),
                    borders[0],
                    "row not as wide as the borders:\n{}",
                    t.join("\n")
                );
            }
        }
    }
}

/// BUG (src/ledger/tx.rs, `Tx::upsert_institution`): re-importing an older file
/// after a later status change writes the older status into the record (the
/// history already holds it, so the "latest-dated status" step is skipped).
/// The register then shows "经营中 operating" as of 2019 although the history's
/// latest entry is 整改中 rectifying from 2018-06-01, and export says the same.
#[test]
fn re_importing_an_older_file_keeps_the_latest_status() {
    let ws = Ws::init();
    let old = ws.write("jan.csv", inst_row("operating", "2018-01-01"));
    let new = ws.write("jun.csv", inst_row("rectifying", "2018-06-01"));
    ws.import("institutions", &old);
    ws.import("institutions", &new);
    ws.import("institutions", &old);
    let out = show(&ws, "S-1", "2019-01-01");
    let status = out.lines().find(|l| l.starts_with("│ status ")).unwrap();
    assert!(status.contains("整改中 rectifying"), "{status}");
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows[0]["status"], "rectifying");
    assert_eq!(rows[0]["status_date"], "2018-06-01");
}

/// GAP (SPEC §3 "round trip is lossless" vs §2 dated status history): export
/// writes each institution's latest status only, so a ledger rebuilt from its
/// exports cannot answer "as of" questions before that date. There is no
/// export kind for the status history (nor for list entries).
#[test]
#[ignore = "spec gap: the status history is not exported, so a rebuilt ledger loses as-of answers"]
fn a_ledger_rebuilt_from_its_exports_answers_as_of_questions_alike() {
    let ws = register();
    let to = Ws::init();
    for kind in ["institutions", "inspections", "findings"] {
        let f = to.write(&format!("{kind}.csv"), ws.export(kind, "csv"));
        to.import(kind, &f);
    }
    let status = |w: &Ws| {
        show(w, "S-1", "2018-03-01")
            .lines()
            .find(|l| l.starts_with("│ status "))
            .unwrap()
            .to_string()
    };
    assert!(status(&ws).contains("经营中 operating"));
    assert_eq!(status(&to), status(&ws));
}
