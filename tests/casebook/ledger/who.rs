//! Who made a change, as the system knows it: the audit log records the
//! account (uid and name from the user database, not from `$USER`), the host
//! and the whole command line beside the operator a person declares.

use crate::common::*;

/// The audit entries, parsed (piped, `casebook audit` prints one JSON line each).
fn audit(ws: &Ws) -> Vec<serde_json::Value> {
    ws.run(&["audit", "--last", "1000"])
        .ok()
        .stdout
        .lines()
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect()
}

#[test]
fn the_audit_log_records_the_real_account_host_and_whole_command_line() {
    let ws = populated();
    let s = ws.write(
        "close.rhai",
        "set_status(\"GZ-0001\", \"rectifying\", args.why);\n",
    );
    let o = ws
        .cmd()
        .env("USER", "alice")
        .args(["--operator", "alice", "run", &s, "--as-of", "2019-06-01"])
        .args(["--write", "--arg", "why=检查发现无证"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let entries = audit(&ws);
    let last = entries.last().unwrap();
    // The declared operator is kept, and the system's account stands beside it.
    assert_eq!(last["operator"], "alice");
    let uid = unsafe { libc::geteuid() };
    assert_eq!(last["who"]["uid"], uid, "{last}");
    let name = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let name = String::from_utf8(name.stdout).unwrap();
    assert_eq!(last["who"]["account"], name.trim(), "{last}");
    assert!(last["who"]["host"].is_string(), "{last}");
    // The whole command line, --arg values included.
    let argv: Vec<&str> = last["who"]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(argv.contains(&"--arg"), "{argv:?}");
    assert!(argv.contains(&"why=检查发现无证"), "{argv:?}");
    assert!(argv.contains(&"--operator"), "{argv:?}");
    // Imports too.
    assert!(
        entries.iter().all(|e| e["who"]["uid"] == uid),
        "{entries:?}"
    );
}
