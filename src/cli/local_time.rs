//! Times in the bureau's zone: the audit log and the decision log store UTC
//! (RFC 3339 with `Z`); people read them in local time with the offset
//! (`TZ=Asia/Shanghai` is respected).

use chrono::{DateTime, Local};

/// A stored time shown in local time with its offset
/// (`2026-12-06T19:30:16+08:00`); text that is no time stays as it is.
pub fn shown(stored: &str) -> String {
    match DateTime::parse_from_rfc3339(stored) {
        Ok(t) => t
            .with_timezone(&Local)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Err(_) => stored.to_string(),
    }
}

/// An audit header (JSON text) with its `"at"` shown in local time.
pub fn shown_in_header(header: &str) -> String {
    const KEY: &str = "\"at\":\"";
    let Some(i) = header.find(KEY) else {
        return header.to_string();
    };
    let start = i + KEY.len();
    let Some(len) = header[start..].find('"') else {
        return header.to_string();
    };
    format!(
        "{}{}{}",
        &header[..start],
        shown(&header[start..start + len]),
        &header[start + len..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_utc_reads_back_with_an_offset() {
        let s = shown("2026-12-06T11:30:16Z");
        assert!(s.len() == 25 && s.starts_with("2026-12-0"), "{s}");
        assert!(
            shown_in_header(r#"{"at":"2026-12-06T11:30:16Z","operator":"x"}"#)
                .contains(r#""operator":"x""#)
        );
        assert_eq!(shown("not a time"), "not a time");
    }
}
