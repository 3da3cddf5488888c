//! The REPL (SPEC §6) driven as a person drives it: the real binary in a
//! pseudo-terminal, keys in, screen out. This file is the harness; the
//! sessions themselves are in `sessions.rs`.
//!
//! No test depends on timing. Every wait is for something the session prints,
//! with a generous guard ([`GUARD`]) that only turns a hang into a failure.
//! The waits lean on rustyline's own markers: it writes `ESC[?2004h`
//! (bracketed paste on) right after it puts the terminal in raw mode to read a
//! line, and `ESC[?2004l` when it hands the line over. So the text between the
//! two is exactly what casebook printed for one entry, and the next entry is
//! typed only once `ESC[?2004h` and the prompt are on the screen (rustyline
//! drops type-ahead that arrives in the same read as the end of the line it
//! accepts, so sending early would lose keys).
//!
//! Each session gets its own temp dir, ledger and `CASEBOOK_HISTORY`, so no
//! test touches the real history, and a 120×40 window (a pty starts at 0×0,
//! which no real terminal reports).

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rexpect::process::{PtyProcess, WaitStatus};
use unicode_width::UnicodeWidthChar;

/// How long any single wait may take before the test fails (a hang guard, not a timing assumption).
const GUARD: Duration = Duration::from_secs(30);
/// rustyline starts reading a line (raw mode is on).
const LINE_START: &str = "\x1b[?2004h";
/// rustyline has handed a line over.
const LINE_END: &str = "\x1b[?2004l";
const PROMPT: &str = "casebook 2019-02-20> ";

const INSTITUTIONS: &str = "\
id,name,district,category,students,status,status_date
GZ-0001,星辰数学培训中心,天河,subject,320,operating,2017-03-01
GZ-0002,Abc Tutoring,海珠,non_subject,45,rectifying,2018-05-10
GZ-0003,小画家美术工作室,番禺,non_subject,80,operating,2016-09-01
";

/// F-1 is open and overdue on 2019-02-20 but not yet on 2018-04-20; F-2 is closed out.
const FINDINGS: &str = "\
id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on
F-1,GZ-0001,fire_hazard,2,2018-04-02,2018-05-02,,
F-2,GZ-0002,no_licence,3,2018-05-10,2018-06-10,2018-06-01,2018-06-05
";

/// A temp dir with a small ledger made by the binary itself.
struct Ws {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Ws {
    fn new() -> Ws {
        Ws::with(INSTITUTIONS)
    }

    fn with(institutions: &str) -> Ws {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ledger.redb");
        let ws = Ws { dir, db };
        ws.ok(&["init"]);
        std::fs::write(ws.dir.path().join("institutions.csv"), institutions).unwrap();
        std::fs::write(ws.dir.path().join("findings.csv"), FINDINGS).unwrap();
        ws.ok(&["import", "institutions", "institutions.csv"]);
        ws.ok(&["import", "findings", "findings.csv"]);
        ws
    }

    fn history(&self) -> PathBuf {
        self.dir.path().join("history")
    }

    /// The binary with `--db`, in the temp dir, with nothing of the caller's environment that matters.
    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_casebook"));
        c.current_dir(self.dir.path())
            .env_remove("CASEBOOK_DB")
            .env_remove("CASEBOOK_BUSY_TIMEOUT")
            .env_remove("NO_COLOR")
            .env_remove("XDG_DATA_HOME")
            .env("HOME", self.dir.path())
            .env("USER", "tester")
            .env("CASEBOOK_HISTORY", self.history())
            .env("TERM", "xterm")
            .arg("--db")
            .arg(&self.db);
        c
    }

    /// Runs a non-interactive command, asserts success and returns stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.command().args(args).output().expect("run casebook");
        assert!(
            o.status.success(),
            "casebook {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).expect("UTF-8")
    }

    /// `casebook repl --as-of 2019-02-20` in a pty, colours allowed, at its first prompt.
    fn repl(&self) -> Repl {
        self.repl_env(&[])
    }

    /// The same with extra environment variables.
    fn repl_env(&self, env: &[(&str, &str)]) -> Repl {
        let mut c = self.command();
        c.args(["repl", "--as-of", "2019-02-20"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let mut r = Repl::spawn(c);
        r.expect("casebook repl on ");
        r.expect("(3 institutions)");
        r.ready();
        r
    }
}

#[derive(Default)]
struct Screen {
    bytes: Vec<u8>,
    eof: bool,
}

/// One session in a pseudo-terminal: what it printed so far, and how far the test has read.
struct Repl {
    proc: PtyProcess,
    keys: File,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    pos: usize,
    /// The prompt the next line is expected under.
    prompt: String,
}

impl Repl {
    /// Starts `cmd` in a 120×40 pseudo-terminal.
    fn spawn(cmd: Command) -> Repl {
        Repl::spawn_sized(cmd, 120, 40)
    }

    /// Starts `cmd` in a pseudo-terminal of `cols`×`rows` (0×0: one that reports no size).
    fn spawn_sized(mut cmd: Command, cols: u16, rows: u16) -> Repl {
        // SAFETY: between fork and exec only an ioctl on the child's own stdin (the pty slave).
        unsafe {
            cmd.pre_exec(move || {
                let size = libc::winsize {
                    ws_row: rows,
                    ws_col: cols,
                    ws_xpixel: 0,
                    ws_ypixel: 0,
                };
                if libc::ioctl(0, libc::TIOCSWINSZ, &size) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut proc = PtyProcess::new(cmd).expect("start casebook in a pty");
        // If a test fails mid-session, dropping the process must not hang.
        proc.set_kill_timeout(Some(5_000));
        let mut out = proc.get_file_handle().expect("pty");
        let keys = proc.get_file_handle().expect("pty");
        let screen: Arc<(Mutex<Screen>, Condvar)> = Default::default();
        let s = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                // EIO once the child has exited and closed the terminal.
                let n = out.read(&mut buf).unwrap_or(0);
                let (lock, cv) = &*s;
                let mut sc = lock.lock().unwrap_or_else(|e| e.into_inner());
                if n == 0 {
                    sc.eof = true;
                } else {
                    sc.bytes.extend_from_slice(&buf[..n]);
                }
                cv.notify_all();
                if n == 0 {
                    break;
                }
            }
        });
        Repl {
            proc,
            keys,
            screen,
            pos: 0,
            prompt: PROMPT.to_string(),
        }
    }

    /// Types keys.
    fn send(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).expect("type");
        self.keys.flush().expect("type");
    }

    /// Waits until `needle` is printed; returns what was printed before it, and reads past it.
    #[track_caller]
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + GUARD;
        let (lock, cv) = &*self.screen;
        let mut sc = lock.lock().unwrap();
        loop {
            let rest = &sc.bytes[self.pos..];
            if let Some(i) = rest
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                let before = String::from_utf8_lossy(&rest[..i]).into_owned();
                self.pos += i + needle.len();
                return before;
            }
            let now = Instant::now();
            if sc.eof || now >= deadline {
                let why = if sc.eof {
                    "the session ended"
                } else {
                    "nothing came"
                };
                let tail = String::from_utf8_lossy(&sc.bytes[self.pos.saturating_sub(2000)..])
                    .into_owned();
                // Not while holding the lock: the reader thread must not see it poisoned.
                drop(sc);
                panic!(
                    "{why} while waiting for {needle:?}; the screen since the last match (and a little before):\n{tail:?}"
                );
            }
            sc = cv.wait_timeout(sc, deadline - now).unwrap().0;
        }
    }

    /// Waits for a fresh prompt: raw mode on and the prompt drawn.
    #[track_caller]
    fn ready(&mut self) {
        self.expect(LINE_START);
        let prompt = self.prompt.clone();
        self.expect(&prompt);
    }

    /// Presses Enter on what was typed and returns what casebook printed for it.
    #[track_caller]
    fn submit(&mut self) -> String {
        self.send("\r");
        self.expect(LINE_END);
        let out = self.expect(LINE_START);
        let prompt = self.prompt.clone();
        self.expect(&prompt);
        // The terminal turns "\n" into "\r\n"; give back what casebook wrote.
        out.replace("\r\n", "\n")
            .trim_start_matches('\n')
            .trim_end()
            .to_string()
    }

    /// Types one entry, presses Enter, returns casebook's output for it.
    #[track_caller]
    fn entry(&mut self, line: &str) -> String {
        self.send(line);
        self.submit()
    }

    /// Everything the session printed, as text.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.0.lock().unwrap().bytes).into_owned()
    }

    /// Presses Ctrl-D at the prompt and returns the exit code.
    #[track_caller]
    fn ctrl_d(&mut self) -> i32 {
        self.send("\x04");
        self.wait_exit()
    }

    #[track_caller]
    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + GUARD;
        {
            let (lock, cv) = &*self.screen;
            let mut sc = lock.lock().unwrap();
            while !sc.eof {
                let now = Instant::now();
                assert!(now < deadline, "the session did not end");
                sc = cv.wait_timeout(sc, deadline - now).unwrap().0;
            }
        }
        match self.proc.wait().expect("wait") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("casebook did not exit normally: {other:?}"),
        }
    }
}

/// Whether `s` holds an SGR (colour) escape sequence `ESC [ digits/; m`.
fn has_sgr(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        if b[i] != 0x1b || b.get(i + 1) != Some(&b'[') {
            return false;
        }
        let mut j = i + 2;
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b';') {
            j += 1;
        }
        b.get(j) == Some(&b'm')
    })
}

/// The display columns of the border and separator characters on a table line.
fn separator_columns(line: &str) -> Vec<usize> {
    let mut col = 0;
    let mut v = Vec::new();
    for c in line.chars() {
        if "│┆┌┐└┘├┤┬┴┼╞╡╪".contains(c) {
            v.push(col);
        }
        col += c.width().unwrap_or(0);
    }
    v
}

/// Asserts that `out` holds one box-drawn table whose lines all line up on screen.
#[track_caller]
fn assert_aligned_table(out: &str) {
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .collect();
    assert!(lines.len() >= 5, "no table in:\n{out}");
    let first = separator_columns(lines[0]);
    for l in &lines {
        assert_eq!(
            separator_columns(l),
            first,
            "line {l:?} is not aligned with {:?} in:\n{out}",
            lines[0]
        );
    }
}

mod sessions;
