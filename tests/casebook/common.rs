//! Shared helpers of the integration tests: a temp directory holding one
//! ledger, the real `casebook` binary pointed at it, file writers, the
//! fixture data several areas import, and the parsers of what the binary
//! prints.
//!
//! Every helper leaves the test process as it found it (no environment or
//! current-directory changes): all the tests run in this one process.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A temporary working directory with a ledger path inside it (not created until `init`).
pub struct Ws {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().expect("casebook was killed by a signal"),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Asserts exit code 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the exit code and returns self.
    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that stderr contains every one of `parts`.
    #[track_caller]
    pub fn stderr_has(self, parts: &[&str]) -> Run {
        for p in parts {
            assert!(
                self.stderr.contains(p),
                "stderr does not contain {p:?}:\n{}",
                self.stderr
            );
        }
        self
    }

    /// Asserts that stdout contains every one of `parts`.
    #[track_caller]
    pub fn stdout_has(self, parts: &[&str]) -> Run {
        for p in parts {
            assert!(
                self.stdout.contains(p),
                "stdout does not contain {p:?}:\n{}",
                self.stdout
            );
        }
        self
    }
}

impl Ws {
    /// A fresh directory; the ledger file does not exist yet.
    pub fn new() -> Ws {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ledger.redb");
        Ws { dir, db }
    }

    /// A fresh directory with an empty ledger made by `casebook init`.
    pub fn init() -> Ws {
        let ws = Ws::new();
        ws.run(&["init"]).ok();
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary, run in the temp directory with `--db` set and no stray environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("casebook").expect("the casebook binary");
        c.current_dir(self.dir.path())
            .env_remove("CASEBOOK_DB")
            .env_remove("CASEBOOK_BUSY_TIMEOUT")
            .env("USER", "tester")
            .arg("--db")
            .arg(&self.db);
        c
    }

    /// Runs `casebook --db LEDGER args...`.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().expect("run casebook"))
    }

    /// Runs the binary without any `--db` flag (for usage errors and env tests).
    pub fn run_bare(&self, args: &[&str]) -> Run {
        let mut c = Command::cargo_bin("casebook").expect("the casebook binary");
        c.current_dir(self.dir.path())
            .env_remove("CASEBOOK_DB")
            .env_remove("CASEBOOK_BUSY_TIMEOUT")
            .env("USER", "tester");
        Run::from(c.args(args).output().expect("run casebook"))
    }

    /// Writes a file into the temp directory and returns its name (relative to it).
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        std::fs::write(self.dir.path().join(name), bytes).expect("write fixture");
        name.to_string()
    }

    /// Copies a committed fixture from tests/fixtures into the temp directory.
    pub fn fixture(&self, name: &str) -> String {
        let src = root().join("tests/fixtures").join(name);
        let bytes = std::fs::read(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        self.write(name, bytes)
    }

    /// Runs `casebook import KIND FILE` and asserts success.
    #[track_caller]
    pub fn import(&self, kind: &str, file: &str) -> Run {
        self.run(&["import", kind, file]).ok()
    }

    /// `casebook export KIND --format FORMAT`, asserting success.
    #[track_caller]
    pub fn export(&self, kind: &str, format: &str) -> String {
        self.run(&["export", kind, "--format", format]).ok().stdout
    }

    /// Everything the ledger holds, as the exports of every kind in both formats.
    #[track_caller]
    pub fn snapshot(&self) -> String {
        let mut s = String::new();
        for kind in ["institutions", "inspections", "findings"] {
            for format in ["csv", "jsonl"] {
                s.push_str(&format!("== {kind} {format}\n"));
                s.push_str(&self.export(kind, format));
            }
        }
        s
    }

    /// Runs `casebook --db LEDGER args...` with its output into a pipe whose
    /// reader takes one line and goes away, as `| head -1` does; returns the
    /// exit code and stderr.
    #[track_caller]
    pub fn run_into_a_closed_pipe(&self, args: &[&str]) -> (Option<i32>, String) {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
            .current_dir(self.dir.path())
            .env_remove("CASEBOOK_DB")
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run casebook");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
        // The pipe closes here, with most of the output unread.
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), err)
    }

    /// The number of audit entries (one JSON line each when piped).
    #[track_caller]
    pub fn audit_len(&self) -> usize {
        self.run(&["audit", "--last", "1000000"])
            .ok()
            .stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .count()
    }
}

/// The header of an institutions CSV with every column, in export order.
pub const INSTITUTION_HEADER: &str = "id,name,uscc,district,street,address,category,licence_no,licence_issued,licence_expires,organizer,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date";

/// A valid USCC (GB 32100-2015 check character correct).
pub const GOOD_USCC: &str = "91440101MA5CJQ4N59";

/// Three valid institutions (UTF-8, LF), in export order, with every column.
pub const THREE_INSTITUTIONS: &str = "\
id,name,uscc,district,street,address,category,licence_no,licence_issued,licence_expires,organizer,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date
GZ-0001,星辰数学培训中心,91440101MA5CJQ4N59,天河,石牌街,天河路1号,subject,教民144010600001,2017-03-01,2020-02-29,广州星辰教育科技有限公司,320,18,15,450.5,128000.50,true,operating,2017-03-01
GZ-0002,小画家美术工作室,,海珠,南华西街,,non_subject,,,,李四,45,3,1,80,0,false,rectifying,2018-05-10
GZ-0003,启航英语,,番禺,市桥街,番禺大道88号,subject,,,,王五,150,9,4,200,56000,false,self_closed,2018-09-01
";

/// Inspections of the three institutions above.
pub const TWO_INSPECTIONS: &str = "\
id,institution_id,date,operation,departments,inspectors,note
INS-1,GZ-0001,2018-04-02,春季联合执法,education;fire;market,6,首次检查
INS-2,GZ-0002,2018-05-10,春季联合执法,education;police,4,
";

/// Findings of the institutions and inspections above.
pub const THREE_FINDINGS: &str = "\
id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note
F-1,GZ-0001,INS-1,fire_hazard,3,2018-04-02,2018-05-02,2018-04-20,2018-05-05,安全出口堵塞
F-2,GZ-0002,INS-2,no_licence,2,2018-05-10,2018-08-10,,,无证办学
F-3,GZ-0001,,late_hours,1,2018-09-01,2018-10-01,2018-09-15,,晚上九点后上课
";

/// Institutions with Chinese headers and values: a licensed subject-type
/// school (licence to 2019-02-28), an unlicensed non-subject studio, an
/// unlicensed subject-type tutor.
pub const INSTITUTIONS_ZH: &str = "\
机构编号,机构名称,所属区,类别,办学许可证号,发证日期,许可证有效期至,学员数,教师数,持证教师数,场地面积,预收费余额,消防验收,状态,状态日期
P-01,明德数学培训学校,天河,学科类,教民14401060001号,2016-03-01,2019-02-28,80,4,4,300,20000,是,经营中,2016-03-01
P-02,小画家美术工作室,海珠,非学科类,,,,40,3,1,150,0,是,经营中,2017-05-01
P-03,启航英语辅导班,番禺,学科类,,,,60,3,2,120,0,否,经营中,2017-09-01
";

/// Applications with Chinese headers and values, deliberately out of date order.
pub const APPLICATIONS_ZH: &str = "\
申请编号,机构编号,申请日期,场地面积,消防验收,教师数,持证教师数,审批状态,审批日期,审批意见,办学许可证号,许可证有效期至
A-3,P-02,2019-01-20,260,是,3,1,待审批,,,,
A-1,P-03,2018-06-01,120,否,3,2,已驳回,2018-06-20,场地面积不足；消防验收未通过,,
A-2,P-01,2016-02-01,300,是,4,4,已批准,2016-03-01,符合设置标准,教民14401060001号,2019-02-28
A-4,P-01,2019-01-10,320,是,4,4,待审批,,,,
";

/// Courses with Chinese headers and values, out of date order.
pub const COURSES_ZH: &str = "\
课程编号,机构编号,课程名称,科目,课程类别,年级,授课方式,课时,收费总额,预收月数,开课日期,结课日期,每日结束时间,备案日期,备案状态,审核意见
K-2,P-02,少儿美术启蒙班,美术,非学科类,4-6岁,线下,36,2880.5,3,2019-03-01,2019-05-31,20:45,2019-02-10,已备案,
K-1,P-01,初中数学培优班,数学,学科类,初中二年级,线上,48,7200,1,2019-03-01,2019-05-31,21:00,2019-01-15,待审核,
K-3,P-03,小学英语同步班,英语,学科类,小学三年级,线下,24,2400,0,2019-03-01,2019-04-30,19:30,2019-02-01,已通过,
";

/// A ledger holding the three institutions, two inspections and three findings.
pub fn populated() -> Ws {
    let ws = Ws::init();
    let f = ws.write("inst.csv", THREE_INSTITUTIONS);
    ws.import("institutions", &f);
    let f = ws.write("insp.csv", TWO_INSPECTIONS);
    ws.import("inspections", &f);
    let f = ws.write("find.csv", THREE_FINDINGS);
    ws.import("findings", &f);
    ws
}

/// An institutions CSV of `n` rows, ids `{prefix}00000` on, named 机构0 on,
/// all of `category` and operating in 天河 since 2018-01-01.
pub fn institutions_csv(prefix: &str, n: usize, category: &str) -> String {
    let mut csv = String::from("id,name,district,category,status,status_date\n");
    for n in 0..n {
        csv.push_str(&format!(
            "{prefix}{n:05},机构{n},天河,{category},operating,2018-01-01\n"
        ));
    }
    csv
}

/// Parses a CSV text into rows of cells.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|x| x.expect("valid CSV").iter().map(String::from).collect())
        .collect()
}

/// The CSV export parsed into maps from column to value, one per row.
pub fn csv_maps(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let rows = csv_rows(text);
    let (head, body) = rows.split_first().expect("a header row");
    body.iter()
        .map(|r| head.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

/// The crate's root: where `scripts/`, `templates/`, `examples/` and
/// `tests/fixtures/` are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The path of a shipped script, `scripts/NAME`.
pub fn script(name: &str) -> String {
    root().join("scripts").join(name).display().to_string()
}

/// The real binary with nothing set, for tests that build the whole command line.
pub fn casebook() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
}

/// JSON Lines where every line must be a JSON value.
pub fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// JSON Lines, blank lines skipped.
pub fn parse_jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// A JSON value that must be an integer.
pub fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// The SHA-256 of `bytes` in lower-case hex, as the audit log writes it.
pub fn sha256(bytes: impl AsRef<[u8]>) -> String {
    format!("{:x}", Sha256::digest(bytes.as_ref()))
}

/// The SHA-256 of a file's bytes.
pub fn sha256_file(path: impl AsRef<Path>) -> String {
    sha256(std::fs::read(path.as_ref()).expect("read the file to hash"))
}

/// What the script tests' fixtures share: a ledger in a temp directory,
/// CSV files and scripts written into it. Each fixture says how it runs the
/// binary (its operator, its working directory).
pub trait LedgerDir {
    /// The temp directory the fixture owns.
    fn dir(&self) -> &Path;

    /// The binary pointed at the fixture's ledger.
    fn cmd(&self) -> Command;

    /// Writes `csv` as `KIND.csv` and imports it; the import must succeed.
    fn import(&self, kind: &str, csv: &str) {
        let p = self.dir().join(format!("{kind}.csv"));
        std::fs::write(&p, csv).unwrap();
        self.cmd().args(["import", kind]).arg(&p).assert().success();
    }

    /// Writes a script under a fresh name and returns its path.
    fn script(&self, src: &str) -> PathBuf {
        let n = std::fs::read_dir(self.dir()).unwrap().count();
        let p = self.dir().join(format!("s{n}.rhai"));
        std::fs::write(&p, src).unwrap();
        p
    }
}

/// The binary on ledger `db` as `operator`, whatever `CASEBOOK_DB` the test
/// process has.
pub fn casebook_on(db: &Path, operator: &str) -> Command {
    let mut c = Command::cargo_bin("casebook").unwrap();
    c.env_remove("CASEBOOK_DB")
        .arg("--db")
        .arg(db)
        .arg("--operator")
        .arg(operator);
    c
}

/// The number of the entry `audit --last 1` (piped, so JSON Lines) prints.
#[track_caller]
pub fn last_entry(audit: &str) -> String {
    let v: Value = serde_json::from_str(audit.lines().last().expect("an entry")).expect("JSON");
    v["entry"].to_string()
}

/// Debian's Chromium, where installed (`.ci/run` installs it); the page tests
/// skip their browser check without it, saying so.
pub fn chromium() -> Option<std::path::PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

/// Headless Chromium with a throw-away profile, no network of its own, and a
/// window of `size` ("width,height") pixels.
pub fn headless(browser: &Path, profile: &Path, size: &str) -> std::process::Command {
    let mut c = std::process::Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--window-size={size}"))
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}
