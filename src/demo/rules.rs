//! The platform rules' arithmetic, as `scripts/licence_review.rhai` and
//! `scripts/course_check.rhai` compute it: kept here so that the generator
//! can plant cases for each criterion and the tests can count them.

use chrono::{Months, NaiveDate};

use crate::model::{Application, Category, Course, Finding, FindingKind, FindingStatus, Mode};

/// The criteria of licence_review.rhai an application fails, as the script
/// computes them (kept here so the generator can plant and count cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReviewBreaches {
    pub site_area_per_student: bool,
    pub site_area_total: bool,
    pub fire: bool,
    pub subject_teachers: bool,
    pub severe_finding: bool,
}

impl ReviewBreaches {
    /// Whether the application fails any criterion.
    pub fn any(&self) -> bool {
        self.site_area_per_student
            || self.site_area_total
            || self.fire
            || self.subject_teachers
            || self.severe_finding
    }

    /// The reasons in the words of a rejection.
    pub(super) fn reasons(&self, a: &Application, students: i64) -> String {
        let mut r = Vec::new();
        if self.site_area_per_student {
            r.push(format!(
                "生均场地不足：{} m²，{students} 名学员需 {} m²（每人 3 m²）",
                crate::model::fmt_num(a.site_area_m2),
                3 * students
            ));
        }
        if self.site_area_total {
            r.push(format!(
                "场地总面积 {} m² 不足 200 m²（广东省设置标准）",
                crate::model::fmt_num(a.site_area_m2)
            ));
        }
        if self.fire {
            r.push("消防验收未通过".to_string());
        }
        if self.subject_teachers {
            r.push(format!(
                "学科类教师未全部持证：{}/{} 名持有教师资格证",
                a.qualified_teachers, a.teachers
            ));
        }
        if self.severe_finding {
            r.push("存在未销号的严重问题".to_string());
        }
        r.join("；")
    }
}

/// licence_review.rhai's criteria for an application of an institution with
/// `students`, subject-type (and not converted) or not, with or without a
/// severity-3 finding other than `no_licence` not closed out on the day.
pub fn review_breaches(
    a: &Application,
    students: i64,
    subject: bool,
    severe_open: bool,
) -> ReviewBreaches {
    ReviewBreaches {
        site_area_per_student: a.site_area_m2 < (3 * students) as f64,
        site_area_total: a.site_area_m2 < 200.0,
        fire: !a.fire_approved,
        subject_teachers: subject && a.qualified_teachers < a.teachers,
        severe_finding: severe_open,
    }
}

/// Whether the institution has a severity-3 finding other than `no_licence` not closed out on `d`.
pub(super) fn severe_open(findings: &[&Finding], d: NaiveDate) -> bool {
    findings.iter().any(|f| {
        f.visible(d)
            && f.severity == 3
            && f.kind != FindingKind::NoLicence
            && f.status(d) != FindingStatus::Closed
    })
}

/// The rules of course_check.rhai a course breaks, as the script computes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CourseBreaches {
    pub late: bool,
    pub prepay_months: bool,
    pub prepay_hours: bool,
    pub subject_unlicensed: bool,
    pub fee_over_5000: bool,
}

impl CourseBreaches {
    /// Whether the course breaks any rule.
    pub fn any(&self) -> bool {
        self.late
            || self.prepay_months
            || self.prepay_hours
            || self.subject_unlicensed
            || self.fee_over_5000
    }
}

/// The share of a course one prepayment covers: its first `prepay_months`
/// calendar months over the course's days, at most all of it (course_check.rhai).
pub fn prepaid_share(c: &Course) -> f64 {
    if c.prepay_months <= 0 {
        return 0.0;
    }
    let days = (c.ends_on - c.starts_on).num_days() + 1;
    let end = c
        .starts_on
        .checked_add_months(Months::new(c.prepay_months as u32))
        .expect("in range");
    let covered = (end - c.starts_on).num_days();
    if covered >= days {
        1.0
    } else {
        covered as f64 / days as f64
    }
}

/// course_check.rhai's rules for a course at an institution licensed (or not) on the day.
pub fn course_breaches(c: &Course, licensed: bool) -> CourseBreaches {
    let latest = match c.mode {
        Mode::Offline => 20 * 60 + 30,
        Mode::Online => 21 * 60,
    };
    let share = prepaid_share(c);
    CourseBreaches {
        late: c.daily_end_min > latest,
        prepay_months: c.prepay_months > 3,
        prepay_hours: c.class_hours as f64 * share > 60.0,
        subject_unlicensed: c.subject_type == Category::Subject && !licensed,
        fee_over_5000: c.subject_type == Category::NonSubject && c.fee_yuan() * share > 5000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::generate;
    use crate::demo::tests::d;

    #[test]
    fn prepaid_share_is_by_calendar_months() {
        let mut c = generate().courses[0].clone();
        c.starts_on = d("2019-03-01");
        c.ends_on = d("2019-05-31");
        c.prepay_months = 1;
        assert_eq!(prepaid_share(&c), 31.0 / 92.0);
        c.prepay_months = 3;
        assert_eq!(prepaid_share(&c), 1.0);
        c.prepay_months = 0;
        assert_eq!(prepaid_share(&c), 0.0);
    }
}
