//! exploratory
use std::fs::File;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rexpect::process::PtyProcess;

#[derive(Default)]
struct Buf {
    bytes: Vec<u8>,
    eof: bool,
}

struct Repl {
    proc: PtyProcess,
    w: File,
    shared: Arc<(Mutex<Buf>, Condvar)>,
    pos: usize,
}

impl Repl {
    fn spawn(cmd: Command) -> Repl {
        let mut proc = PtyProcess::new(cmd).expect("spawn");
        proc.set_kill_timeout(Some(5000));
        let mut r = proc.get_file_handle().unwrap();
        let w = proc.get_file_handle().unwrap();
        let shared: Arc<(Mutex<Buf>, Condvar)> = Default::default();
        let s2 = shared.clone();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            loop {
                let n = r.read(&mut b).unwrap_or(0);
                let (m, c) = &*s2;
                let mut g = m.lock().unwrap();
                if n == 0 {
                    g.eof = true;
                    c.notify_all();
                    break;
                }
                g.bytes.extend_from_slice(&b[..n]);
                c.notify_all();
            }
        });
        Repl {
            proc,
            w,
            shared,
            pos: 0,
        }
    }
    fn send(&mut self, s: &str) {
        self.w.write_all(s.as_bytes()).unwrap();
        self.w.flush().unwrap();
    }
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let (m, c) = &*self.shared;
        let mut g = m.lock().unwrap();
        loop {
            let hay = &g.bytes[self.pos..];
            if let Some(i) = hay
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                let out = String::from_utf8_lossy(&hay[..i]).into_owned();
                self.pos += i + needle.len();
                return out;
            }
            let now = Instant::now();
            if g.eof || now >= deadline {
                panic!(
                    "expected {needle:?}; got {:?}",
                    String::from_utf8_lossy(hay)
                );
            }
            g = c.wait_timeout(g, deadline - now).unwrap().0;
        }
    }
    fn all(&self) -> String {
        String::from_utf8_lossy(&self.shared.0.lock().unwrap().bytes).into_owned()
    }
}

#[test]
fn explore() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.redb");
    let bin = env!("CARGO_BIN_EXE_casebook");
    let run = |args: &[&str]| {
        let o = Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
    };
    run(&["init"]);
    std::fs::write(
        dir.path().join("i.csv"),
        "id,name,district,category,students,status,status_date\nGZ-0001,星辰数学培训中心,天河,subject,320,operating,2017-03-01\nGZ-0002,Abc Tutoring,海珠,non_subject,45,rectifying,2018-05-10\n",
    )
    .unwrap();
    run(&[
        "import",
        "institutions",
        dir.path().join("i.csv").to_str().unwrap(),
    ]);
    let mut c = Command::new(bin);
    c.arg("--db")
        .arg(&db)
        .args(["repl", "--as-of", "2019-02-20"])
        .env("CASEBOOK_HISTORY", dir.path().join("history"))
        .env("TERM", "xterm");
    if std::env::var_os("NC").is_some() {
        c.env("NO_COLOR", "1");
    }
    let mut r = Repl::spawn(c);
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("40 + 2\r");
    r.expect("42");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("fn double(x) {\r  x * 2\r}\r");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("double(21) + 100\r");
    r.expect("142");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("let inst = institution(\"GZ-0001\");\r");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("inst.stud\t\r");
    r.expect("320");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("inst.licen\t\t");
    r.expect("licensed");
    r.send("sed\r");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("institutions()\r");
    r.expect("records");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("print(\"st\" + \"art\"); loop { }\r");
    r.expect("start");
    r.send("\x03");
    r.expect("cancelled");
    r.expect("\x1b[?2004h");
    r.expect("casebook 2019-02-20> ");
    r.send("\x04");
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write("/tmp/transcript.txt", r.all()).unwrap();
}
