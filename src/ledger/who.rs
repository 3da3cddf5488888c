//! Who really made a change, as the system knows it: the account the process
//! runs as (its uid and its name from the user database, not from `$USER`,
//! which anyone can set), the host, and the whole command line. The audit log
//! records these beside the operator a person declares (`--operator`).

/// The account, host and command line of this process: the same for every
/// entry it writes, so looked up once (the REPL writes an entry per statement).
pub fn who() -> serde_json::Value {
    static WHO: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    WHO.get_or_init(look_up).clone()
}

fn look_up() -> serde_json::Value {
    let uid = uid();
    serde_json::json!({
        "uid": uid,
        "account": account_name(uid),
        "host": host_name(),
        "argv": std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
    })
}

/// The account this process runs as.
fn uid() -> libc::uid_t {
    // SAFETY: geteuid cannot fail and has no preconditions.
    unsafe { libc::geteuid() }
}

/// The name of the account this process runs as, from the user database.
pub fn current_account() -> Option<String> {
    account_name(uid())
}

/// The name of account `uid` in the system's user database.
fn account_name(uid: libc::uid_t) -> Option<String> {
    // A directory service's entries can be long: grow the buffer while the
    // call says it is too small (ERANGE), up to 1 MiB.
    let mut size = 4096;
    loop {
        // SAFETY: an all-zero `passwd` is a valid value of the plain C struct.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut buf = vec![0 as libc::c_char; size];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwuid_r writes only into `pw` and `buf`, whose sizes it
        // is given, and points `found` at `pw` or leaves it null; the name
        // it returns lives in `buf`, read before `buf` is dropped.
        unsafe {
            let rc = libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found);
            if rc == libc::ERANGE && size < 1 << 20 {
                size *= 4;
                continue;
            }
            if rc != 0 || found.is_null() || pw.pw_name.is_null() {
                return None;
            }
            let name = std::ffi::CStr::from_ptr(pw.pw_name).to_string_lossy();
            return Some(name.into_owned()).filter(|s| !s.is_empty());
        }
    }
}

/// The host's name, from the system.
fn host_name() -> Option<String> {
    let mut buf = vec![0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..end]).into_owned()).filter(|s| !s.is_empty())
}

static OPERATOR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Declares who runs this process (`--operator`, or the account), for the
/// entries written outside a caller's [`Operation`](super::Operation): a
/// migration made when the ledger is opened for writing. Set once, by the
/// command line; later calls are ignored.
pub fn declare_operator(name: &str) {
    let _ = OPERATOR.set(name.to_string());
}

/// The operator [`declare_operator`] set, else "casebook".
pub fn declared_operator() -> &'static str {
    OPERATOR.get().map_or("casebook", |s| s.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_comes_from_the_system_not_the_environment() {
        let w = who();
        assert_eq!(w["uid"], unsafe { libc::geteuid() });
        assert!(w["account"].is_string(), "{w}");
        assert!(w["argv"].as_array().is_some_and(|a| !a.is_empty()), "{w}");
    }
}
