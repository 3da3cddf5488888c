//! The demo's randomness and calendar helpers: a seeded splitmix64 stream
//! (the whole city depends on the exact order of its draws) and the date
//! arithmetic every part of the generator shares.

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

/// splitmix64: tiny, fast and the same on every platform, which is all a demo needs.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in lo..=hi.
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    pub(super) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub(super) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    pub(super) fn weighted(&mut self, w: &[u32]) -> usize {
        let total: u64 = w.iter().map(|&x| x as u64).sum();
        let mut r = self.below(total);
        for (i, &x) in w.iter().enumerate() {
            if r < x as u64 {
                return i;
            }
            r -= x as u64;
        }
        w.len() - 1
    }
    pub(super) fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
    /// Uniform in a..=b.
    pub(super) fn date(&mut self, a: NaiveDate, b: NaiveDate) -> NaiveDate {
        a + Duration::days(self.range(0, (b - a).num_days()))
    }
    /// Skewed towards `b`: more institutions were founded recently.
    pub(super) fn recent_date(&mut self, a: NaiveDate, b: NaiveDate) -> NaiveDate {
        let x = self.date(a, b);
        let y = self.date(a, b);
        x.max(y)
    }
}

/// A calendar date from literals known to be valid.
pub(super) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

pub(super) fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Offices work Monday to Friday: a weekend date moves back to the Friday.
pub(super) fn workday(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d - days(1),
        Weekday::Sun => d - days(2),
        _ => d,
    }
}

/// `years` years after `d`, less one day (a licence runs through the eve of its anniversary).
pub(super) fn years_after(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(Months::new(12 * years))
        .expect("in range")
        - days(1)
}
