//! Who the operator is, for the audit log: every change the ledger records
//! says who made it.

/// The operator: `--operator`, else `$USER`, else `$LOGNAME`, else the
/// name of the account the process runs as (cron sets neither variable on
/// some systems, and the nightly job's audit entries must still say who).
pub fn operator(o: &Option<String>) -> String {
    let set = |s: &String| !s.trim().is_empty();
    o.clone()
        .filter(set)
        .or_else(|| std::env::var("USER").ok().filter(set))
        .or_else(|| std::env::var("LOGNAME").ok().filter(set))
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".into())
}

/// The name of the account the process runs as, from the system's user database.
fn account_name() -> Option<String> {
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
            let rc = libc::getpwuid_r(
                libc::geteuid(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            );
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
