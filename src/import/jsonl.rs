//! A JSON Lines file's rows: each line one JSON object whose keys are the
//! column names (English or Chinese), handed to the sink as a [`Row`].

use std::io::{BufRead, BufReader, Read};

use super::sink::Sink;
use super::ImportError;
use crate::format::FieldRow;
use crate::model::FieldError;

/// Reads every line of a JSON Lines file into `sink`.
pub(super) fn read_jsonl(
    reader: Box<dyn Read + Send>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let r = BufReader::with_capacity(1 << 16, reader);
    // Keys that are not the kind's columns: ignored, and said so once each.
    let mut unknown: Vec<String> = Vec::new();
    for (n, line) in r.lines().enumerate() {
        let line_no = n as u64 + 1;
        let line =
            line.map_err(|e| sink.header_error(line_no, format!("cannot read the file: {e}")))?;
        let t = line.trim().trim_start_matches('\u{feff}');
        if t.is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(t) {
            Ok(o) => o,
            Err(e) => {
                sink.rows += 1;
                sink.push(
                    line_no,
                    "",
                    vec![FieldError::new(
                        "row",
                        "",
                        format!("is not a JSON object: {e}"),
                    )],
                );
                continue;
            }
        };
        let mut fields = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            let Some(f) = sink.kind.field_of_header(&super::csv::nfkc(&k)) else {
                if !unknown.contains(&k) {
                    super::csv::warn_unknown(sink, std::slice::from_ref(&k));
                    unknown.push(k);
                }
                continue;
            };
            let s = match v {
                // An explicit null clears the field; an absent key keeps it.
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            // Full-width digits and letters in codes, numbers and dates.
            let s = match super::csv::is_prose(f) {
                true => s,
                false => match super::csv::nfkc(&s) {
                    std::borrow::Cow::Owned(n) => n,
                    std::borrow::Cow::Borrowed(_) => s,
                },
            };
            fields.push((f, s));
        }
        sink.row(line_no, &FieldRow(fields))?;
    }
    Ok(())
}
