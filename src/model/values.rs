//! The values records are made of: the machinery every domain enum shares,
//! times of day, dates, yes/no, districts, yuan, areas and the unified social
//! credit code (USCC) with its check character.

use chrono::{Datelike, NaiveDate};

/// Declares an enum with its English name, Chinese names (the first is used for display) and description.
macro_rules! domain_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($variant:ident => $en:literal, [$($zh:literal),*], $desc:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// What the enum is, for error messages.
            pub const WHAT: &'static str = $what;
            /// The English name used in files and scripts.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            /// The Chinese name used on printed registers and notices.
            pub fn zh(self) -> &'static str { match self { $($name::$variant => [$($zh),*][0]),+ } }
            /// Every Chinese name import and scripts accept, the display name first.
            pub fn zh_names(self) -> &'static [&'static str] { match self { $($name::$variant => &[$($zh),*]),+ } }
            /// A one-line description.
            pub fn description(self) -> &'static str { match self { $($name::$variant => $desc),+ } }
            /// Parses the English name or any of the Chinese names (surrounding blanks ignored).
            pub fn parse(s: &str) -> Option<$name> {
                let t = s.trim();
                $( if t.eq_ignore_ascii_case($en) $(|| t == $zh)* { return Some($name::$variant); } )+
                None
            }
            /// Every value with its English and Chinese names, for scripts' comparisons and `casebook schema`.
            pub const VALUES: $crate::model::Values = $crate::model::Values {
                what: $what,
                values: &[$(($en, &[$($zh),*])),+],
            };
            /// The code stored in the ledger.
            pub fn code(self) -> u8 { self as u8 }
            /// The value for a stored code.
            pub fn from_code(c: u8) -> Option<$name> { Self::ALL.get(c as usize).copied() }
            /// "a, b or c": the accepted values, for error messages.
            pub fn choices() -> String {
                let v: Vec<String> = Self::ALL.iter().map(|e| format!("{} ({})", e.as_str(), e.zh())).collect();
                v.join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use domain_enum;

/// The values of an enumerated property, each an English code and the
/// Chinese names import accepts for it (the first is the one printed).
#[derive(Debug)]
pub struct Values {
    /// What the values are, in words ("category").
    pub what: &'static str,
    /// (English code, Chinese names), in declaration order.
    pub values: &'static [(&'static str, &'static [&'static str])],
}

impl Values {
    /// The English code `s` names, in either language (as import reads it:
    /// English in any case, a Chinese name exactly; blanks around ignored).
    pub fn code_of(&self, s: &str) -> Option<&'static str> {
        let t = s.trim();
        self.values
            .iter()
            .find(|(en, zh)| en.eq_ignore_ascii_case(t) || zh.contains(&t))
            .map(|(en, _)| *en)
    }

    /// Where code `en` stands in declaration order.
    pub fn rank(&self, en: &str) -> Option<usize> {
        self.values.iter().position(|(e, _)| *e == en)
    }

    /// "subject (学科类), non_subject (非学科类)": every value in both languages.
    pub fn describe(&self) -> String {
        let v: Vec<String> = self
            .values
            .iter()
            .map(|(en, zh)| format!("{en} ({})", zh.join("/")))
            .collect();
        v.join(", ")
    }
}

/// Parses `HH:MM` (24-hour) into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let bad = || "is not a time of day: write it as HH:MM, e.g. 20:30".to_string();
    let (h, m) = t.split_once([':', '：']).ok_or_else(bad)?;
    // Minutes in two digits: "20:5" could mean 20:05 or 20:50, and the 20:30 rule turns on it.
    if m.trim().len() != 2 {
        return Err(format!(
            "\"{t}\" has the minutes in {} digit(s): write them as two, e.g. 20:05 or 20:50",
            m.trim().chars().count()
        ));
    }
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    let m: u32 = m.trim().parse().map_err(|_| bad())?;
    if h > 23 || m > 59 || t.chars().count() > 5 {
        return Err(format!(
            "\"{t}\" is not a real time of day (00:00 to 23:59)"
        ));
    }
    Ok(h * 60 + m)
}

/// Formats minutes after midnight as `HH:MM`.
pub fn fmt_hhmm(min: u32) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

/// The 11 districts a new ledger is configured with (Guangzhou).
pub const DEFAULT_DISTRICTS: [&str; 11] = [
    "越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城",
];

/// The character set of the unified social credit code (no I, O, S, V, Z).
pub const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The check character a 17-character USCC body must end with, or `None` if the body has a bad character.
pub fn uscc_check_char(body: &str) -> Option<char> {
    let cs = USCC_CHARSET.as_bytes();
    let mut sum = 0u32;
    let mut w = 1u32;
    for b in body.bytes() {
        let v = uscc_value(b)? as u32;
        sum += v * w;
        w = w * 3 % 31;
    }
    Some(cs[((31 - sum % 31) % 31) as usize] as char)
}

/// A byte's value in [`USCC_CHARSET`] (its position), by table: an import
/// checks 18 characters of each of a hundred thousand codes.
fn uscc_value(b: u8) -> Option<u8> {
    const TABLE: [u8; 256] = {
        let mut t = [u8::MAX; 256];
        let cs = USCC_CHARSET.as_bytes();
        let mut i = 0;
        while i < cs.len() {
            t[cs[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    Some(TABLE[b as usize]).filter(|&v| v != u8::MAX)
}

/// Checks a unified social credit code (GB 32100-2015).
pub fn check_uscc(code: &str) -> Result<(), String> {
    let n = code.chars().count();
    if n != 18 {
        return Err(format!("must be 18 characters, has {n}"));
    }
    if let Some((i, c)) = code
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii() || uscc_value(*c as u8).is_none())
    {
        return Err(format!(
            "character {} '{c}' is not allowed (digits and capitals except I O S V Z)",
            i + 1
        ));
    }
    let expect = uscc_check_char(&code[..17]).expect("charset checked");
    let got = code.as_bytes()[17] as char;
    if got != expect {
        return Err(format!(
            "check character is '{got}' but the first 17 characters give '{expect}' (GB 32100-2015): a typing error?"
        ));
    }
    Ok(())
}

/// Parses a calendar date. ISO `YYYY-MM-DD` is the format; `YYYY/M/D`, `YYYY-M-D` and
/// `YYYY年M月D日` are also accepted because spreadsheet programs rewrite dates so.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    // Fast path for the canonical form: imports parse millions of these.
    let b = t.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| {
            b[r].iter().try_fold(0u32, |a, &c| {
                c.is_ascii_digit().then(|| a * 10 + (c - b'0') as u32)
            })
        };
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) {
            if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Ok(date);
            }
        }
    }
    let norm: String = t.replace(['年', '月', '/'], "-").replace('日', "");
    let parts: Vec<&str> = norm.split('-').collect();
    let bad = || "is not a date: write it as YYYY-MM-DD, e.g. 2019-02-20".to_string();
    if parts.len() != 3
        || parts[0].len() != 4
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let y: i32 = parts[0].parse().map_err(|_| bad())?;
    let m: u32 = parts[1].parse().map_err(|_| bad())?;
    let d: u32 = parts[2].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) {
        return Err(format!("has month {m}: there is no such month"));
    }
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| format!("is not a real calendar date ({y}-{m:02} has no day {d})"))
}

/// Formats a date as ISO `YYYY-MM-DD`. Digit by digit for years 0–9999:
/// an export writes four dates a finding, and `format!` was a tenth of a
/// Parquet export's reading thread.
pub fn fmt_date(d: NaiveDate) -> String {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{day:02}");
    }
    let y = y as u32;
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let b = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    String::from(std::str::from_utf8(&b).expect("digits and dashes are ASCII"))
}

/// Parses a yes/no value: true/false, 是/否, yes/no, 1/0, and the words an
/// inspection form uses for an acceptance (通过/未通过, 合格/不合格, √/×).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "是" | "yes" | "y" | "1" | "t" | "通过" | "合格" | "√" | "✓" => {
            Some(true)
        }
        "false" | "否" | "no" | "n" | "0" | "f" | "未通过" | "不通过" | "不合格" | "×" | "✗" => {
            Some(false)
        }
        _ => None,
    }
}

/// The ledger's name of a district written `v`: as configured (天河), or
/// with the 区 that its full name ends in (天河区).
pub fn district_name<'d>(v: &str, districts: &'d [String]) -> Option<&'d str> {
    let v = v.trim();
    let short = v.strip_suffix('区').unwrap_or(v);
    districts
        .iter()
        .find(|d| d.as_str() == v || d.as_str() == short)
        .map(|d| d.as_str())
}

/// An amount without the currency sign or unit a spreadsheet may show
/// with it (`¥1,000`, `1000元`).
pub fn without_currency(s: &str) -> &str {
    let t = s.trim();
    let t = t.strip_prefix(['¥', '￥']).unwrap_or(t);
    t.strip_suffix('元').unwrap_or(t).trim()
}

/// Parses an amount in yuan with at most two decimals into fen.
pub fn parse_yuan(s: &str) -> Result<i64, String> {
    let t = s.trim().replace(',', "");
    let bad = || "is not an amount in yuan (e.g. 1500 or 1500.50)".to_string();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
        return Err("has more than two decimals (fen is the smallest unit)".into());
    }
    let i: i64 = int.parse().map_err(|_| bad())?;
    let mut f: i64 = 0;
    for (k, b) in frac.bytes().take(2).enumerate() {
        f += (b - b'0') as i64 * if k == 0 { 10 } else { 1 };
    }
    let v = i
        .checked_mul(100)
        .and_then(|v| v.checked_add(f))
        .ok_or_else(bad)?;
    Ok(if neg { -v } else { v })
}

/// Formats fen as yuan: whole yuan without decimals, else two decimals.
pub fn fmt_yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        (fen / 100).to_string()
    } else {
        let sign = if fen < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", (fen / 100).abs(), (fen % 100).abs())
    }
}

/// Formats an area: no decimals when whole.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Category, FindingKind, Status};

    #[test]
    fn times_of_day_need_two_digit_minutes() {
        assert_eq!(parse_hhmm("20:30"), Ok(1230));
        assert_eq!(parse_hhmm("9:05"), Ok(545));
        assert_eq!(parse_hhmm("21：00"), Ok(1260));
        let e = parse_hhmm("20:5").unwrap_err();
        assert!(e.contains("two, e.g. 20:05 or 20:50"), "{e}");
        assert!(parse_hhmm("20:300").is_err());
        assert!(parse_hhmm("24:00").is_err());
        assert!(parse_hhmm("20.30").is_err());
    }

    #[test]
    fn uscc_example_from_domain_md_is_valid() {
        assert_eq!(check_uscc("91440101MA5CJQ4N59"), Ok(()));
    }

    #[test]
    fn uscc_wrong_check_character_is_explained() {
        let e = check_uscc("91440101MA5CJQ4N58").unwrap_err();
        assert!(e.contains("'8'") && e.contains("'9'"), "{e}");
        assert!(check_uscc("91440101MA5CJQ4N5").unwrap_err().contains("18"));
        assert!(check_uscc("91440101MA5CJQ4NI9")
            .unwrap_err()
            .contains("'I'"));
    }

    #[test]
    fn uscc_characters_outside_the_set_are_named_wherever_they_are() {
        // Lower case, a full-width digit, a Chinese character: none is in the set.
        let e = check_uscc("91440101ma5CJQ4N59").unwrap_err();
        assert!(e.contains("character 9 'm'"), "{e}");
        let e = check_uscc("9144010１MA5CJQ4N59").unwrap_err();
        assert!(e.contains("character 8 '１'"), "{e}");
        let e = check_uscc("中1440101MA5CJQ4N59").unwrap_err();
        assert!(e.contains("character 1 '中'"), "{e}");
        assert_eq!(uscc_check_char("91440101MA5CJQ4N5"), Some('9'));
        assert_eq!(uscc_check_char("91440101MA5CJQ4Nz"), None);
    }

    #[test]
    fn dates_are_written_as_format_would() {
        let mut d = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        while d.year() < 10001 {
            let want = format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
            assert_eq!(fmt_date(d), want);
            d = d + chrono::Days::new(if d.year() > 1899 && d.year() < 2101 {
                1
            } else {
                97
            });
        }
        assert_eq!(
            fmt_date(NaiveDate::MIN),
            format!("{:04}-01-01", NaiveDate::MIN.year())
        );
        assert_eq!(
            fmt_date(NaiveDate::from_ymd_opt(-5, 3, 9).unwrap()),
            "-005-03-09"
        );
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!(parse_date("2019-02-20").unwrap().to_string(), "2019-02-20");
        assert_eq!(parse_date("2019/2/5").unwrap().to_string(), "2019-02-05");
        assert_eq!(
            parse_date("2019年2月5日").unwrap().to_string(),
            "2019-02-05"
        );
        assert!(parse_date("2019-02-30")
            .unwrap_err()
            .contains("real calendar"));
        assert!(parse_date("2019-13-01").unwrap_err().contains("month"));
        assert!(parse_date("20/02/2019").is_err());
        assert!(parse_date("").is_err());
    }

    #[test]
    fn yuan_parses_to_fen() {
        assert_eq!(parse_yuan("1500"), Ok(150000));
        assert_eq!(parse_yuan("1500.5"), Ok(150050));
        assert_eq!(parse_yuan("1,500.05"), Ok(150005));
        assert_eq!(without_currency(" ¥1,500.05 "), "1,500.05");
        assert_eq!(without_currency("￥20000元"), "20000");
        assert_eq!(without_currency("1500"), "1500");
        assert!(parse_yuan("1.005").is_err());
        assert!(parse_yuan("abc").is_err());
        assert_eq!(fmt_yuan(150050), "1500.50");
        assert_eq!(fmt_yuan(150000), "1500");
    }

    #[test]
    fn enums_parse_english_and_chinese() {
        assert_eq!(Category::parse("学科类"), Some(Category::Subject));
        assert_eq!(Status::parse("主动关停"), Some(Status::SelfClosed));
        assert_eq!(Status::parse("self_closed"), Some(Status::SelfClosed));
        assert_eq!(FindingKind::parse("密考"), Some(FindingKind::SecretExam));
        assert_eq!(
            Status::from_code(Status::Converted.code()),
            Some(Status::Converted)
        );
        assert_eq!(Status::parse("bogus"), None);
    }
}
