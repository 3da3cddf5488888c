//! The published black/white list page (issue 5 item 6), loaded in headless
//! Chromium as a phone would. `.ci/run` installs Debian's chromium; where it
//! is missing (a developer machine) the browser part says so and is skipped.

use std::path::Path;
use std::process::Command;

use crate::common::{casebook, chromium, headless};

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run casebook");
    assert!(
        out.status.success(),
        "{:?} failed:\n{}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_lists_page_shows_each_entry_escaped_and_by_district() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.redb");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ok(casebook().arg("init").arg("--db").arg(&db));
    let csv = dir.path().join("inst.csv");
    std::fs::write(
        &csv,
        "id,name,district,category,status,status_date\n\
         W1,启航艺术培训中心,天河,non_subject,operating,2018-01-01\n\
         B1,<script>alert(1)</script>补习班,海珠,subject,operating,2018-01-01\n",
    )
    .unwrap();
    ok(casebook()
        .args(["import", "institutions"])
        .arg(&csv)
        .arg("--db")
        .arg(&db));
    let add = dir.path().join("add.rhai");
    std::fs::write(
        &add,
        "list_add(\"whitelist\", \"W1\", \"持证、消防合格、无未整改问题\");\nlist_add(\"blacklist\", \"B1\", \"无证办学 & 逾期未整改\");\n",
    )
    .unwrap();
    ok(casebook()
        .arg("run")
        .arg(&add)
        .args(["--as-of", "2019-02-20", "--write", "--db"])
        .arg(&db));
    let out = dir.path().join("out");
    let published = casebook()
        .arg("run")
        .arg(root.join("scripts/publish_lists.rhai"))
        .args(["--as-of", "2019-02-20", "--format", "csv", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .arg("--templates")
        .arg(root.join("templates"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&published.stderr);
    assert!(published.status.success(), "{said}");
    // Without --write nothing is committed: the page is a file, not a change to the ledger.
    assert!(
        said.contains("wrote ") && said.contains("lists.html"),
        "{said}"
    );
    assert!(!said.contains("committed"), "{said}");
    let html = std::fs::read_to_string(out.join("lists.html")).unwrap();
    assert!(
        html.contains("&lt;script&gt;"),
        "names are escaped:\n{html}"
    );
    assert!(
        !html.contains("<script>alert"),
        "no markup from data:\n{html}"
    );
    assert!(html.contains("name=\"viewport\""), "usable on a phone");
    assert!(html.contains("截至 2019-02-20"));
    let rows = std::fs::read_to_string(out.join("publish_lists-2019-02-20.csv")).unwrap();
    assert!(rows.contains("W1") && rows.contains("B1"), "{rows}");

    let Some(browser) = chromium() else {
        eprintln!("skipped the browser check: chromium is not installed (.ci/run installs it)");
        return;
    };
    let profile = dir.path().join("profile");
    let page = format!("file://{}", out.join("lists.html").display());
    let dom = headless(&browser, &profile, "390,844")
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("启航艺术培训中心"),
        "whitelisted name visible:\n{dom}"
    );
    assert!(
        dom.contains("持证、消防合格、无未整改问题"),
        "reason visible"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;补习班"),
        "shown as text, not run:\n{dom}"
    );
    assert!(
        dom.contains("天河区") && dom.contains("海珠区"),
        "by district"
    );
    // Keep a screenshot of the phone-sized page with the test's output.
    let artifacts = root.join("target").join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("lists_page.png");
    let _ = std::fs::remove_file(&shot);
    let status = headless(&browser, &profile, "390,844")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .status()
        .expect("run chromium");
    assert!(status.success());
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 1000)
            .unwrap_or(false),
        "screenshot written"
    );
    eprintln!("screenshot: {}", shot.display());
}
