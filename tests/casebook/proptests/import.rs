//! Mutated import files (byte flips, truncations, inserted quotes, line
//! breaks, BOMs, control characters, GB18030 bytes, bad dates, wrong check
//! characters, duplicated rows) give exit 0 or 1, never a panic; and when the
//! import fails, the ledger is as it was: the same audit log and the same
//! exports.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use crate::common::{Ws, THREE_FINDINGS, THREE_INSTITUTIONS, TWO_INSPECTIONS};

/// One change to a file's bytes; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    Truncate(usize),
    Insert(usize, &'static [u8]),
    /// Replaces the n-th date with an impossible one.
    BadDate(usize, &'static str),
    /// Changes the check character of the USCC in the file.
    WrongCheck(u8),
    /// Repeats the n-th line.
    DuplicateLine(usize),
}

/// Bytes worth inserting: quotes, separators, line breaks, a BOM, control
/// characters, GB18030 text (中文), a lone UTF-8 lead byte.
const INSERTS: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    "\u{feff}".as_bytes(),
    b"\x00",
    b"\x1b]0;x\x07",
    b"\x1b[2J",
    b"\xd6\xd0\xce\xc4",
    b"\xe4",
    b"\t",
    b";",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::sample::select(INSERTS))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (
            any::<usize>(),
            proptest::sample::select(&["2018-02-30", "2018-13-01", "18-4-2", "2018/04/02", ""][..])
        )
            .prop_map(|(i, d)| Mutation::BadDate(i, d)),
        any::<u8>().prop_map(Mutation::WrongCheck),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::FlipBit(i, b) => {
            if !bytes.is_empty() {
                bytes[i % len] ^= 1 << b;
            }
        }
        Mutation::Truncate(i) => bytes.truncate(i % len),
        Mutation::Insert(i, b) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::BadDate(n, d) => {
            // Positions in the bytes themselves: a lossy text of them is
            // longer wherever an earlier mutation left a byte that is not
            // UTF-8, and its positions then ran past the end.
            let dates: Vec<usize> = (0..bytes.len().saturating_sub(9))
                .filter(|&k| is_date(&bytes[k..k + 10]))
                .collect();
            if !dates.is_empty() {
                let k = dates[n % dates.len()];
                bytes.splice(k..k + 10, d.bytes());
            }
        }
        Mutation::WrongCheck(c) => {
            let uscc = crate::common::GOOD_USCC.as_bytes();
            if let Some(k) = bytes.windows(uscc.len()).position(|w| w == uscc) {
                bytes[k + uscc.len() - 1] = b"0123456789ABCDEFGHJKLMNPQRTUWXY"[*c as usize % 31];
            }
        }
        Mutation::DuplicateLine(n) => {
            let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
            if lines.len() > 1 {
                let k = 1 + n % (lines.len() - 1);
                let mut out = Vec::with_capacity(bytes.len() * 2);
                for (j, l) in lines.iter().enumerate() {
                    out.extend_from_slice(l);
                    if j == k {
                        if !l.ends_with(b"\n") {
                            out.push(b'\n');
                        }
                        out.extend_from_slice(l);
                    }
                }
                *bytes = out;
            }
        }
    }
}

fn is_date(b: &[u8]) -> bool {
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// What the ledger holds, as a reader sees it: the audit log and every
/// record (the CSV exports hold every field).
fn state(ws: &Ws) -> String {
    let mut s = ws.run(&["audit", "--last", "1000"]).ok().stdout;
    for kind in ["institutions", "inspections", "findings"] {
        s.push_str(&ws.export(kind, "csv"));
    }
    s
}

#[test]
fn a_mutated_import_file_gives_exit_0_or_1_and_writes_nothing_when_it_fails() {
    // One ledger holding the good files; each case works on a copy of it.
    let base = Ws::init();
    for (kind, text) in [
        ("institutions", THREE_INSTITUTIONS),
        ("inspections", TWO_INSPECTIONS),
        ("findings", THREE_FINDINGS),
    ] {
        let f = base.write(&format!("{kind}.csv"), text);
        base.import(kind, &f);
    }
    let before = state(&base);
    let jsonl = base.export("institutions", "jsonl");
    let sources: Vec<(&str, &str, String)> = vec![
        ("institutions", "csv", THREE_INSTITUTIONS.to_string()),
        ("inspections", "csv", TWO_INSPECTIONS.to_string()),
        ("findings", "csv", THREE_FINDINGS.to_string()),
        ("institutions", "jsonl", jsonl),
    ];
    let (tried, ok, refused) = (Cell::new(0), Cell::new(0), Cell::new(0));
    let mut runner = TestRunner::new(super::config(64));
    let strategy = (
        0..sources.len(),
        proptest::collection::vec(mutation(), 1..4),
    );
    runner
        .run(&strategy, |(which, muts)| {
            let (kind, ext, text) = &sources[which];
            let mut bytes = text.as_bytes().to_vec();
            for m in &muts {
                apply(&mut bytes, m);
            }
            let ws = Ws::new();
            std::fs::copy(&base.db, &ws.db).unwrap();
            let file = ws.write(&format!("mutated.{ext}"), &bytes);
            let r = ws.run(&["import", kind, &file]);
            tried.set(tried.get() + 1);
            prop_assert!(
                r.code == 0 || r.code == 1,
                "exit {} for {kind} {muts:?}\n{}",
                r.code,
                r.stderr
            );
            prop_assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            if r.code == 1 {
                refused.set(refused.get() + 1);
                prop_assert!(!r.stderr.trim().is_empty(), "exit 1 without a word");
                prop_assert_eq!(&state(&ws), &before, "a failed import wrote: {:?}", muts);
            } else {
                ok.set(ok.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "import mutations: {} tried, {} imported, {} refused, 0 failed",
        tried.get(),
        ok.get(),
        refused.get()
    );
}

/// A bad date replaces a date found in the bytes, also after bytes that
/// are not UTF-8 (found in a lossy text of them, its position ran past the
/// end of the bytes and the test itself panicked).
#[test]
fn a_bad_date_lands_on_a_date_after_bytes_that_are_not_utf8() {
    let mut b = b"\xe4\xe4,2018-01-01\n".to_vec();
    apply(&mut b, &Mutation::BadDate(0, "2018-02-30"));
    assert_eq!(b, b"\xe4\xe4,2018-02-30\n");
}
