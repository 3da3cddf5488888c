//! The demo city of SPEC §7: a deterministic generator (fixed seed, no I/O) of a
//! Guangzhou-like ledger whose aggregates, as of 2019-02-20 (the day the bureau
//! reported), reproduce every figure of SPEC §1 exactly.
//!
//! How the figures are met, so that a change here keeps them:
//! - 8,562 institutions, 2,263 subject-type and 6,299 non-subject, spread over
//!   the 11 districts by fixed weights (exact counts by largest remainder).
//! - The 1,890 subject-type institutions with problems are one group, and the
//!   report's outcomes partition it: 575 closed (529 of them self-closed, 46
//!   closed by the authorities), 1,108 converted (promised to stop K-12 subject
//!   training), and 207 that rectified and kept operating — 156 of these by
//!   obtaining a school-running licence in 2018–19 (the report's "newly
//!   licensed"), 51 already licensed before 2018 and fined for other problems.
//!   Every finding of the group is verified (销号) on or before 2019-02-20.
//!   The other 373 subject-type institutions are licensed before 2018 and clean.
//! - Only those 156 licences are issued between 2018-01-01 and 2019-02-20;
//!   every other licence is issued before 2018.
//! - 809 inspections, one per institution checked on site (实地清查809家), in
//!   5 joint operations, with inspectors adjusted to total exactly 2,511.
//! - Non-subject institutions get their own findings, some opened in
//!   January–February 2019, and some still open, rectified but not verified, or
//!   overdue on 2019-02-20, so weekly reports have something to show.
//! - The management platform's records (generated last, from a random stream
//!   of their own, so the figures above do not move): one approved licence
//!   application per new licence, decided on the day the licence was issued
//!   and carrying its number and expiry; rejected applications; applications
//!   pending on 2019-02-20 with a planted case for each criterion of
//!   `scripts/licence_review.rhai`; and about 12,000 course filings of
//!   January–February 2019, a few planted to break each rule of
//!   `scripts/course_check.rhai`. [`PLANTED`] says how many of each; the tests
//!   below check the generator against it with the rules' own arithmetic
//!   ([`review_breaches`], [`course_breaches`]).
//!
//! Nothing is dated after 2019-02-20 except what a course filing plans (its
//! starts_on and ends_on): the ledger is the city as the bureau saw it that day.

use std::collections::HashSet;
use std::path::Path;

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

use crate::ledger::{Ledger, LedgerError, Operation};
use crate::model::{
    uscc_check_char, AppStatus, Application, Category, Course, CourseStatus, Department, Finding,
    FindingKind, FindingStatus, Inspection, Institution, Mode, Status, DEFAULT_DISTRICTS,
    USCC_CHARSET,
};

/// The generated city, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCity {
    pub institutions: Vec<Institution>,
    pub inspections: Vec<Inspection>,
    pub findings: Vec<Finding>,
    /// Later status changes: (institution id, effective date, status, reason),
    /// in date order. Each institution's first status is the one in its record.
    pub status_changes: Vec<(String, NaiveDate, Status, String)>,
    /// Licence applications: one approved per new licence, some rejected
    /// earlier, some pending on the report date (see [`PLANTED`]).
    pub applications: Vec<Application>,
    /// Course filings of January–February 2019, all still `filed` (see [`PLANTED`]).
    pub courses: Vec<Course>,
}

/// What [`build`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    pub institutions: u64,
    pub inspections: u64,
    pub findings: u64,
    pub applications: u64,
    pub courses: u64,
}

/// The date of the bureau's report: every figure of SPEC §1 holds as of this day.
/// The sample scripts `casebook demo` runs, bundled into the binary.
pub const SAMPLE_SCRIPTS: &[(&str, &str)] = &[
    (
        "campaign_summary.rhai",
        include_str!("../scripts/campaign_summary.rhai"),
    ),
    (
        "weekly_report.rhai",
        include_str!("../scripts/weekly_report.rhai"),
    ),
    // The platform's rules, in their preview mode (no --write): what they would decide.
    (
        "licence_review.rhai",
        include_str!("../scripts/licence_review.rhai"),
    ),
    (
        "course_check.rhai",
        include_str!("../scripts/course_check.rhai"),
    ),
    (
        "annual_evaluation.rhai",
        include_str!("../scripts/annual_evaluation.rhai"),
    ),
];

/// The date of the bureau's report (2019-02-20).
pub fn report_date() -> NaiveDate {
    ymd(2019, 2, 20)
}

/// A joint enforcement operation of the 2018 campaign and its date window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignOperation {
    pub name: &'static str,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

const fn op(name: &'static str, from: (i32, u32, u32), to: (i32, u32, u32)) -> CampaignOperation {
    match (
        NaiveDate::from_ymd_opt(from.0, from.1, from.2),
        NaiveDate::from_ymd_opt(to.0, to.1, to.2),
    ) {
        (Some(from), Some(to)) => CampaignOperation { name, from, to },
        _ => panic!("not a calendar date"),
    }
}

/// The five joint enforcement operations of the 2018 campaign (SPEC §1: 5 operations).
pub const OPERATIONS: [CampaignOperation; 5] = [
    op(
        "2018春季校外培训机构联合执法行动",
        (2018, 3, 12),
        (2018, 4, 27),
    ),
    op("2018无证办学专项整治行动", (2018, 5, 7), (2018, 6, 29)),
    op("2018暑期校外培训专项检查", (2018, 7, 9), (2018, 8, 31)),
    op("2018秋季开学联合执法行动", (2018, 9, 3), (2018, 10, 31)),
    op("2018年末“回头看”联合检查", (2018, 11, 5), (2018, 12, 28)),
];

/// The figures of SPEC §1 the generator is built to.
const N_SUBJECT: usize = 2263;
const N_NON_SUBJECT: usize = 6299;
const N_PROBLEM_SUBJECT: usize = 1890;
const N_CLOSED: usize = 575;
const N_SELF_CLOSED: usize = 529;
const N_CONVERTED: usize = 1108;
const N_NEW_LICENCES: usize = 156;
const N_INSPECTIONS: usize = 809;
const N_INSPECTORS: i64 = 2511;

/// Non-subject institutions with findings: opened in the 2018 campaign, opened
/// only in 2019, and of the first group those with a 2019 follow-up.
const N_NS_2018: usize = 820;
const N_NS_2019: usize = 180;
const N_NS_FOLLOW_UP: usize = 130;
/// How the 809 on-site checks are spread.
const INSPECT_PROBLEM_SUBJECT: usize = 560;
const INSPECT_CLEAN_SUBJECT: usize = 40;
const INSPECT_NS_2018: usize = 170;
const INSPECT_NS_CLEAN: usize =
    N_INSPECTIONS - INSPECT_PROBLEM_SUBJECT - INSPECT_CLEAN_SUBJECT - INSPECT_NS_2018;

const SEED: u64 = 0x2019_0220_0857_5110;

/// Writes the demo city into a new ledger at `path` (which must not exist yet)
/// in one audited transaction.
pub fn build(path: &Path, operator: &str) -> Result<DemoSummary, LedgerError> {
    let city = generate();
    let ledger = Ledger::create(path)?;
    let op = Operation {
        operator: operator.to_string(),
        command: "casebook demo".to_string(),
        ..Operation::default()
    };
    ledger.transact(&op, false, |tx| -> Result<(), LedgerError> {
        for x in &city.institutions {
            tx.upsert_institution(x, "摸查登记（演示数据）")?;
        }
        for x in &city.inspections {
            tx.upsert_inspection(x)?;
        }
        for x in &city.findings {
            tx.upsert_finding(x)?;
        }
        for (id, date, status, reason) in &city.status_changes {
            tx.set_status(id, *status, *date, reason)?;
        }
        for x in &city.applications {
            tx.upsert_application(x)?;
        }
        for x in &city.courses {
            tx.upsert_course(x)?;
        }
        Ok(())
    })?;
    Ok(DemoSummary {
        institutions: city.institutions.len() as u64,
        inspections: city.inspections.len() as u64,
        findings: city.findings.len() as u64,
        applications: city.applications.len() as u64,
        courses: city.courses.len() as u64,
    })
}

// ---------------------------------------------------------------------------
// Randomness

/// splitmix64: tiny, fast and the same on every platform, which is all a demo needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn weighted(&mut self, w: &[u32]) -> usize {
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
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
    /// Uniform in a..=b.
    fn date(&mut self, a: NaiveDate, b: NaiveDate) -> NaiveDate {
        a + Duration::days(self.range(0, (b - a).num_days()))
    }
    /// Skewed towards `b`: more institutions were founded recently.
    fn recent_date(&mut self, a: NaiveDate, b: NaiveDate) -> NaiveDate {
        let x = self.date(a, b);
        let y = self.date(a, b);
        x.max(y)
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

/// A finding's (rectified_on, verified_on), drawn given its deadline.
type Lifecycle<'a> = dyn Fn(&mut Rng, NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) + 'a;

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Offices work Monday to Friday: a weekend date moves back to the Friday.
fn workday(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d - days(1),
        Weekday::Sun => d - days(2),
        _ => d,
    }
}

/// `years` years after `d`, less one day (a licence runs through the eve of its anniversary).
fn years_after(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(Months::new(12 * years))
        .expect("in range")
        - days(1)
}

// ---------------------------------------------------------------------------
// The city's geography and vocabulary

struct District {
    name: &'static str,
    /// Letters of the ledger number, `GZ-<code>-00001`.
    code: &'static str,
    /// Administrative division code (DOMAIN.md), positions 3–8 of a USCC.
    division: &'static str,
    /// Share of the city's institutions, in percent.
    weight: u32,
    streets: &'static [&'static str],
}

/// In the order of [`DEFAULT_DISTRICTS`].
const DISTRICTS: [District; 11] = [
    District {
        name: "越秀",
        code: "YX",
        division: "440104",
        weight: 9,
        streets: &[
            "北京街道",
            "人民街道",
            "农林街道",
            "东山街道",
            "大塘街道",
            "六榕街道",
            "华乐街道",
            "建设街道",
            "黄花岗街道",
            "登峰街道",
            "珠光街道",
            "梅花村街道",
        ],
    },
    District {
        name: "海珠",
        code: "HZ",
        division: "440105",
        weight: 11,
        streets: &[
            "赤岗街道",
            "新港街道",
            "昌岗街道",
            "江南中街道",
            "滨江街道",
            "素社街道",
            "海幢街道",
            "南华西街道",
            "凤阳街道",
            "瑞宝街道",
            "江海街道",
            "琶洲街道",
            "南洲街道",
            "官洲街道",
        ],
    },
    District {
        name: "荔湾",
        code: "LW",
        division: "440103",
        weight: 7,
        streets: &[
            "沙面街道",
            "岭南街道",
            "华林街道",
            "多宝街道",
            "逢源街道",
            "龙津街道",
            "金花街道",
            "彩虹街道",
            "西村街道",
            "南源街道",
            "白鹤洞街道",
            "冲口街道",
            "花地街道",
            "茶滘街道",
            "东漖街道",
            "海龙街道",
            "中南街道",
        ],
    },
    District {
        name: "天河",
        code: "TH",
        division: "440106",
        weight: 16,
        streets: &[
            "五山街道",
            "员村街道",
            "车陂街道",
            "沙河街道",
            "石牌街道",
            "兴华街道",
            "沙东街道",
            "天河南街道",
            "林和街道",
            "冼村街道",
            "猎德街道",
            "天园街道",
            "棠下街道",
            "天河北街道",
            "龙洞街道",
            "长兴街道",
            "黄村街道",
            "前进街道",
            "新塘街道",
            "元岗街道",
        ],
    },
    District {
        name: "白云",
        code: "BY",
        division: "440111",
        weight: 15,
        streets: &[
            "三元里街道",
            "松洲街道",
            "景泰街道",
            "同德街道",
            "黄石街道",
            "棠景街道",
            "新市街道",
            "同和街道",
            "京溪街道",
            "永平街道",
            "嘉禾街道",
            "均禾街道",
            "石井街道",
            "金沙街道",
            "云城街道",
            "鹤龙街道",
            "人和镇",
            "太和镇",
            "钟落潭镇",
            "江高镇",
        ],
    },
    District {
        name: "黄埔",
        code: "HP",
        division: "440112",
        weight: 6,
        streets: &[
            "黄埔街道",
            "红山街道",
            "鱼珠街道",
            "大沙街道",
            "文冲街道",
            "穗东街道",
            "南岗街道",
            "夏港街道",
            "萝岗街道",
            "联和街道",
            "永和街道",
            "长岭街道",
            "云埔街道",
            "九龙镇",
        ],
    },
    District {
        name: "番禺",
        code: "PY",
        division: "440113",
        weight: 15,
        streets: &[
            "市桥街道",
            "沙头街道",
            "东环街道",
            "桥南街道",
            "小谷围街道",
            "大石街道",
            "洛浦街道",
            "石壁街道",
            "钟村街道",
            "大龙街道",
            "沙湾镇",
            "南村镇",
            "新造镇",
            "化龙镇",
            "石楼镇",
            "石碁镇",
        ],
    },
    District {
        name: "花都",
        code: "HD",
        division: "440114",
        weight: 7,
        streets: &[
            "新华街道",
            "新雅街道",
            "秀全街道",
            "花城街道",
            "狮岭镇",
            "炭步镇",
            "赤坭镇",
            "花东镇",
            "花山镇",
            "梯面镇",
        ],
    },
    District {
        name: "南沙",
        code: "NS",
        division: "440115",
        weight: 4,
        streets: &[
            "南沙街道",
            "珠江街道",
            "龙穴街道",
            "万顷沙镇",
            "横沥镇",
            "黄阁镇",
            "东涌镇",
            "大岗镇",
            "榄核镇",
        ],
    },
    District {
        name: "从化",
        code: "CH",
        division: "440117",
        weight: 3,
        streets: &[
            "街口街道",
            "城郊街道",
            "江埔街道",
            "温泉镇",
            "良口镇",
            "吕田镇",
            "太平镇",
            "鳌头镇",
        ],
    },
    District {
        name: "增城",
        code: "ZC",
        division: "440118",
        weight: 7,
        streets: &[
            "荔城街道",
            "增江街道",
            "朱村街道",
            "永宁街道",
            "荔湖街道",
            "宁西街道",
            "新塘镇",
            "石滩镇",
            "中新镇",
            "派潭镇",
            "仙村镇",
            "正果镇",
        ],
    },
];

const BRANDS: &[&str] = &[
    "启航",
    "博雅",
    "晨曦",
    "优学",
    "智慧树",
    "明德",
    "卓越",
    "星火",
    "育才",
    "思源",
    "博文",
    "乐学",
    "睿思",
    "金苗",
    "童心",
    "小太阳",
    "彩虹",
    "蓝天",
    "未来星",
    "知行",
    "博学",
    "致远",
    "英才",
    "北辰",
    "阳光",
    "青苗",
    "慧心",
    "启智",
    "天行",
    "书香",
    "翰林",
    "朗文",
    "新思维",
    "领航",
    "状元",
    "学海",
    "同创",
    "德贤",
    "志远",
    "鸿鹄",
    "雏鹰",
    "春晖",
    "朝阳",
    "星辰",
    "凌云",
    "百川",
    "正道",
    "立人",
    "弘文",
    "尚学",
    "精英",
    "追梦",
    "满分",
    "优才",
    "高思",
    "明远",
    "乐贝",
    "小橙子",
    "艺海",
    "七色光",
    "梦想家",
    "麦田",
    "森林",
    "海豚",
    "小天鹅",
    "金话筒",
    "墨香",
    "琴韵",
    "飞扬",
    "跃动",
    "奇点",
    "创想",
    "云帆",
    "远航",
    "望岳",
    "红棉",
    "珠江",
    "羊城",
    "五羊",
    "木棉",
    "荔香",
];

const SUBJECT_FIELDS: &[&str] = &[
    "学科",
    "数学",
    "英语",
    "语文",
    "作文",
    "物理",
    "化学",
    "文化课",
    "课外辅导",
    "升学辅导",
    "外语",
    "中小学辅导",
];

const NON_SUBJECT_FIELDS: &[&str] = &[
    "美术",
    "舞蹈",
    "钢琴",
    "音乐",
    "书法",
    "围棋",
    "跆拳道",
    "游泳",
    "篮球",
    "足球",
    "机器人",
    "编程",
    "口才",
    "播音主持",
    "武术",
    "击剑",
    "轮滑",
    "国学",
    "科学实验",
    "绘画",
    "乐高",
    "声乐",
    "小提琴",
    "体能",
    "象棋",
    "模特",
    "街舞",
    "拉丁舞",
];

const ROAD_WORDS: &[&str] = &[
    "建设", "东风", "解放", "人民", "环市", "新港", "工业", "兴华", "中山", "沿江", "江南", "德政",
    "丰乐", "金沙", "富华", "龙溪", "迎宾", "市广", "清河", "光明", "文化", "育才", "振兴", "和平",
    "幸福", "同和", "广园", "石岗", "华景", "花园", "新市", "长兴", "明珠", "府前", "东华", "恒福",
    "宝岗", "桥东", "云山", "凤凰",
];

const ROAD_KINDS: &[&str] = &[
    "路", "大道", "街", "中路", "北路", "南路", "东路", "西路", "一路", "二路",
];

const SURNAMES: &[&str] = &[
    "陈", "李", "黄", "张", "梁", "林", "刘", "吴", "何", "罗", "郑", "谢", "周", "冯", "钟", "杨",
    "王", "邓", "曾", "许", "朱", "邱", "彭", "苏", "叶", "潘", "卢", "蔡", "麦", "区", "关", "莫",
];

const GIVEN: &[&str] = &[
    "志", "伟", "国", "华", "建", "明", "丽", "敏", "静", "晓", "婷", "俊", "杰", "海", "文", "军",
    "燕", "红", "玲", "峰", "斌", "涛", "辉", "芳", "娟", "秀", "英", "强", "磊", "勇", "嘉", "欣",
    "颖", "锦", "荣", "健", "永", "思", "慧", "雅",
];

/// Chinese notes per finding kind, several wordings each.
fn finding_note(rng: &mut Rng, k: FindingKind) -> &'static str {
    let v: &[&str] = match k {
        FindingKind::NoLicence => &[
            "未取得办学许可证擅自开展学科类培训",
            "以教育咨询公司名义无证开展中小学学科培训",
            "办学许可证正在申请中即已招生开课",
        ],
        FindingKind::FireHazard => &[
            "疏散通道堵塞，灭火器过期",
            "场所未通过消防验收",
            "安全出口不足，应急照明损坏",
            "教室设在地下室，不符合消防要求",
        ],
        FindingKind::FalseAdvertising => &[
            "宣传单含“保过”“提分”等虚假用语",
            "夸大师资，宣称“名校名师授课”",
            "网络广告承诺“不达标全额退费”，与合同不符",
        ],
        FindingKind::IllegalEnrolment => &[
            "以考试成绩选拔招生",
            "与学校合作违规招生",
            "进校园发放招生广告",
        ],
        FindingKind::Competition => &["组织学科竞赛并公布排名", "举办“杯赛”并与升学挂钩宣传"],
        FindingKind::SecretExam => &["组织小升初摸底考试（密考）", "协助民办学校组织选拔性考试"],
        FindingKind::AheadOfSyllabus => &[
            "数学课程超出学校教学进度",
            "英语课程超前超纲教学",
            "开设“预科班”提前教授下一学年内容",
        ],
        FindingKind::LateHours => &["晚间课程结束时间晚于20:30", "周末晚间培训至21:30"],
        FindingKind::PrepaidExcess => &[
            "一次性收取超过3个月费用",
            "按学年收费，预收费超过60课时",
            "大额预收学费，存在携款跑路风险",
        ],
        FindingKind::UnqualifiedTeachers => &[
            "部分学科教师未取得教师资格证",
            "聘用在职中小学教师兼职授课",
            "教师资质信息未公示",
        ],
        FindingKind::Other => &[
            "未公示收费项目和标准",
            "未公示办学许可证、营业执照",
            "培训合同条款不规范",
        ],
    };
    rng.pick(v)
}

fn severity(rng: &mut Rng, k: FindingKind) -> i64 {
    match k {
        FindingKind::NoLicence | FindingKind::SecretExam => 3,
        FindingKind::FireHazard | FindingKind::PrepaidExcess => rng.range(2, 3),
        FindingKind::Competition
        | FindingKind::AheadOfSyllabus
        | FindingKind::IllegalEnrolment
        | FindingKind::UnqualifiedTeachers => 2,
        FindingKind::LateHours | FindingKind::FalseAdvertising => rng.range(1, 2),
        FindingKind::Other => 1,
    }
}

/// Problems besides the missing licence seen at subject-type institutions, with weights.
const SUBJECT_KINDS: &[(FindingKind, u32)] = &[
    (FindingKind::AheadOfSyllabus, 20),
    (FindingKind::UnqualifiedTeachers, 16),
    (FindingKind::LateHours, 12),
    (FindingKind::PrepaidExcess, 12),
    (FindingKind::SecretExam, 10),
    (FindingKind::Competition, 10),
    (FindingKind::FireHazard, 10),
    (FindingKind::FalseAdvertising, 8),
    (FindingKind::IllegalEnrolment, 6),
    (FindingKind::Other, 4),
];

const NON_SUBJECT_KINDS: &[(FindingKind, u32)] = &[
    (FindingKind::FireHazard, 30),
    (FindingKind::FalseAdvertising, 20),
    (FindingKind::Other, 18),
    (FindingKind::PrepaidExcess, 15),
    (FindingKind::IllegalEnrolment, 5),
    (FindingKind::LateHours, 6),
    (FindingKind::UnqualifiedTeachers, 6),
];

/// Adds `n` distinct kinds from `pool` to `kinds`.
fn pick_kinds(rng: &mut Rng, pool: &[(FindingKind, u32)], n: usize, kinds: &mut Vec<FindingKind>) {
    let w: Vec<u32> = pool.iter().map(|p| p.1).collect();
    let want = kinds.len() + n;
    while kinds.len() < want {
        let k = pool[rng.weighted(&w)].0;
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
}

const DEADLINE_DAYS: &[i64] = &[7, 10, 15, 15, 20, 30, 30, 30, 45, 60];

// ---------------------------------------------------------------------------
// The plan of the city

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Subject-type, unlicensed, closed by the authorities.
    Closed,
    /// Subject-type, unlicensed, closed itself.
    SelfClosed,
    /// Subject-type, unlicensed, promised to stop subject training.
    Converted,
    /// Subject-type, unlicensed, obtained a licence in 2018–19.
    NewLicence,
    /// Subject-type, licensed before 2018, rectified other problems.
    LicensedProblem,
    /// Subject-type, licensed before 2018, no problems.
    SubjectClean,
    /// Non-subject with findings of the 2018 campaign (and maybe a 2019 follow-up).
    Ns2018 { follow_up: bool },
    /// Non-subject with findings opened only in 2019.
    Ns2019,
    /// Non-subject without findings.
    NsClean,
}

/// How an institution is registered, which decides its USCC and the style of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reg {
    /// 民办非企业单位 with the civil affairs bureau: USCC `52…`, usually a licensed school.
    Civil,
    /// A company with market regulation: USCC `91…`.
    Company,
    /// Not registered at all.
    None,
}

struct Plan {
    district: usize,
    id: String,
    role: Role,
    inspection: Option<usize>,
    /// Pre-2018 licence, or the new one.
    licence: Option<(NaiveDate, NaiveDate)>,
    new_licence_on: Option<NaiveDate>,
}

impl Role {
    /// Which share of the on-site checks the role falls in, in the order of
    /// the `INSPECT_*` counts; none for institutions first seen in 2019.
    fn check_group(self) -> Option<usize> {
        match self {
            Role::Closed
            | Role::SelfClosed
            | Role::Converted
            | Role::NewLicence
            | Role::LicensedProblem => Some(0),
            Role::SubjectClean => Some(1),
            Role::Ns2018 { .. } => Some(2),
            Role::NsClean => Some(3),
            Role::Ns2019 => None,
        }
    }
}

impl Plan {
    fn category(&self) -> Category {
        match self.role {
            Role::Ns2018 { .. } | Role::Ns2019 | Role::NsClean => Category::NonSubject,
            _ => Category::Subject,
        }
    }
}

/// Splits `n` by `weights` exactly (largest remainder).
fn apportion(n: usize, weights: &[u32]) -> Vec<usize> {
    let total: usize = weights.iter().map(|&w| w as usize).sum();
    let mut out: Vec<usize> = weights.iter().map(|&w| n * w as usize / total).collect();
    let mut rem: Vec<(usize, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| (n * w as usize % total, i))
        .collect();
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let short = n - out.iter().sum::<usize>();
    for &(_, i) in rem.iter().take(short) {
        out[i] += 1;
    }
    out
}

/// Builds the demo city. Deterministic: every call returns the same city.
pub fn generate() -> DemoCity {
    debug_assert!(DISTRICTS
        .iter()
        .zip(DEFAULT_DISTRICTS)
        .all(|(a, b)| a.name == b));
    let mut rng = Rng(SEED);
    let as_of = report_date();
    // Status changes to a final status happen by this day, so the report can count them.
    let last_change = ymd(2019, 2, 15);

    // Institutions: districts and numbers.
    let weights: Vec<u32> = DISTRICTS.iter().map(|d| d.weight).collect();
    let per_district = apportion(N_SUBJECT + N_NON_SUBJECT, &weights);
    let mut plans: Vec<Plan> = Vec::with_capacity(N_SUBJECT + N_NON_SUBJECT);
    for (di, &count) in per_district.iter().enumerate() {
        for k in 1..=count {
            plans.push(Plan {
                district: di,
                id: format!("GZ-{}-{:05}", DISTRICTS[di].code, k),
                role: Role::NsClean,
                inspection: None,
                licence: None,
                new_licence_on: None,
            });
        }
    }

    // Roles: shuffled subject and non-subject slots, cut into the report's groups.
    let mut order: Vec<usize> = (0..plans.len()).collect();
    rng.shuffle(&mut order);
    let (subject, non_subject) = order.split_at(N_SUBJECT);
    let subject_roles = [
        (Role::SelfClosed, N_SELF_CLOSED),
        (Role::Closed, N_CLOSED - N_SELF_CLOSED),
        (Role::Converted, N_CONVERTED),
        (Role::NewLicence, N_NEW_LICENCES),
        (
            Role::LicensedProblem,
            N_PROBLEM_SUBJECT - N_CLOSED - N_CONVERTED - N_NEW_LICENCES,
        ),
        (Role::SubjectClean, N_SUBJECT - N_PROBLEM_SUBJECT),
    ];
    let ns_roles = [
        (Role::Ns2018 { follow_up: true }, N_NS_FOLLOW_UP),
        (
            Role::Ns2018 { follow_up: false },
            N_NS_2018 - N_NS_FOLLOW_UP,
        ),
        (Role::Ns2019, N_NS_2019),
        (Role::NsClean, N_NON_SUBJECT - N_NS_2018 - N_NS_2019),
    ];
    for (slots, roles) in [(subject, &subject_roles[..]), (non_subject, &ns_roles[..])] {
        let mut it = slots.iter();
        for &(role, n) in roles {
            for &i in it.by_ref().take(n) {
                plans[i].role = role;
            }
        }
        assert!(it.next().is_none(), "roles cover every slot");
    }

    // Which institutions were checked on site: a random share of each group.
    let mut inspected: Vec<usize> = Vec::with_capacity(N_INSPECTIONS);
    let shares = [
        INSPECT_PROBLEM_SUBJECT,
        INSPECT_CLEAN_SUBJECT,
        INSPECT_NS_2018,
        INSPECT_NS_CLEAN,
    ];
    for (group, n) in shares.into_iter().enumerate() {
        let mut g: Vec<usize> = (0..plans.len())
            .filter(|&i| plans[i].role.check_group() == Some(group))
            .collect();
        rng.shuffle(&mut g);
        inspected.extend_from_slice(&g[..n]);
    }

    // Inspections: operation, date, departments; ids in date order.
    let op_weights = [160u32, 190, 150, 170, 139];
    let mut inspections: Vec<(Inspection, usize)> = inspected
        .iter()
        .map(|&i| {
            let op = rng.weighted(&op_weights);
            let CampaignOperation { name, from, to } = OPERATIONS[op];
            let date = workday(rng.date(from, to));
            let mut departments = vec![Department::Education];
            // Each operation leans on the departments its theme needs.
            let p: [(Department, f64); 5] = match op {
                1 => [
                    (Department::Police, 0.35),
                    (Department::CivilAffairs, 0.45),
                    (Department::Hr, 0.15),
                    (Department::Market, 0.7),
                    (Department::Fire, 0.25),
                ],
                2 => [
                    (Department::Police, 0.3),
                    (Department::CivilAffairs, 0.2),
                    (Department::Hr, 0.15),
                    (Department::Market, 0.4),
                    (Department::Fire, 0.6),
                ],
                _ => [
                    (Department::Police, 0.35),
                    (Department::CivilAffairs, 0.25),
                    (Department::Hr, 0.25),
                    (Department::Market, 0.5),
                    (Department::Fire, 0.4),
                ],
            };
            for (d, q) in p {
                if rng.chance(q) {
                    departments.push(d);
                }
            }
            let inspectors = departments.len() as i64 + rng.range(0, 2);
            (
                Inspection {
                    id: String::new(),
                    institution_id: plans[i].id.clone(),
                    date,
                    operation: Some(name.to_string()),
                    departments,
                    inspectors,
                    note: String::new(),
                },
                i,
            )
        })
        .collect();
    // Staff-times total exactly the report's figure: nudge head counts within
    // one per department and eight per visit.
    let mut sum: i64 = inspections.iter().map(|x| x.0.inspectors).sum();
    while sum != N_INSPECTORS {
        let x = &mut inspections[rng.below(N_INSPECTIONS as u64) as usize].0;
        if sum < N_INSPECTORS && x.inspectors < 8 {
            x.inspectors += 1;
            sum += 1;
        } else if sum > N_INSPECTORS && x.inspectors > x.departments.len() as i64 {
            x.inspectors -= 1;
            sum -= 1;
        }
    }
    inspections
        .sort_by(|a, b| (a.0.date, &a.0.institution_id).cmp(&(b.0.date, &b.0.institution_id)));
    for (n, (x, i)) in inspections.iter_mut().enumerate() {
        x.id = format!("JC2018-{:04}", n + 1);
        plans[*i].inspection = Some(n);
    }
    let mut inspections: Vec<Inspection> = inspections.into_iter().map(|x| x.0).collect();

    // Findings and status changes, one institution at a time.
    let mut findings: Vec<Finding> = Vec::new();
    let mut changes: Vec<(String, NaiveDate, Status, String)> = Vec::new();
    for p in plans.iter_mut() {
        let insp = p
            .inspection
            .map(|n| (inspections[n].id.clone(), inspections[n].date));
        let survey = |rng: &mut Rng| workday(rng.date(ymd(2018, 3, 1), ymd(2018, 12, 28)));
        let mut add = |rng: &mut Rng,
                       kind: FindingKind,
                       opened: NaiveDate,
                       life: &Lifecycle<'_>|
         -> Finding {
            let deadline = opened + days(rng.pick(DEADLINE_DAYS));
            let (rectified_on, verified_on) = life(rng, deadline);
            let f = Finding {
                id: String::new(),
                institution_id: p.id.clone(),
                inspection_id: insp
                    .as_ref()
                    .filter(|(_, d)| *d == opened)
                    .map(|(id, _)| id.clone()),
                kind,
                severity: severity(rng, kind),
                opened_on: opened,
                deadline,
                rectified_on,
                verified_on,
                note: finding_note(rng, kind).to_string(),
            };
            findings.push(f.clone());
            f
        };
        let id = p.id.clone();
        let mut change = |d: NaiveDate, s: Status, why: &str| {
            changes.push((id.clone(), d, s, why.to_string()));
        };
        match p.role {
            Role::Closed
            | Role::SelfClosed
            | Role::Converted
            | Role::NewLicence
            | Role::LicensedProblem => {
                let o = insp
                    .as_ref()
                    .map(|x| x.1)
                    .unwrap_or_else(|| survey(&mut rng));
                let mut kinds = Vec::new();
                let extra = if p.role == Role::LicensedProblem {
                    1 + rng.below(2) as usize
                } else {
                    kinds.push(FindingKind::NoLicence);
                    rng.pick(&[
                        0usize, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
                    ])
                };
                pick_kinds(&mut rng, SUBJECT_KINDS, extra, &mut kinds);
                change(o, Status::Rectifying, "专项治理排查发现问题，责令限期整改");
                match p.role {
                    Role::Closed | Role::SelfClosed => {
                        let c = workday((o + days(rng.range(7, 75))).min(last_change));
                        for &k in &kinds {
                            add(&mut rng, k, o, &|rng, _| {
                                (Some(c), Some((c + days(rng.range(0, 10))).min(as_of)))
                            });
                        }
                        if p.role == Role::Closed {
                            change(
                                c,
                                Status::Closed,
                                rng.pick(&[
                                    "无证开展学科类培训，经联合执法依法取缔",
                                    "逾期未整改，联合执法责令停止办学",
                                    "存在重大安全隐患且无法整改，依法关停",
                                ]),
                            );
                        } else {
                            change(
                                c,
                                Status::SelfClosed,
                                rng.pick(&[
                                    "无证办学，整改期内主动停办并完成退费",
                                    "无法达到设置标准，举办者主动关停",
                                    "场地不符合要求，主动停止办学并妥善安置学员",
                                ]),
                            );
                        }
                    }
                    Role::Converted => {
                        let c = workday((o + days(rng.range(10, 90))).min(last_change));
                        for &k in &kinds {
                            add(&mut rng, k, o, &|rng, _| {
                                (Some(c), Some((c + days(rng.range(1, 20))).min(as_of)))
                            });
                        }
                        change(
                            c,
                            Status::Converted,
                            rng.pick(&[
                                "承诺不再从事中小学学科类培训，转型素质类培训",
                                "签订承诺书，停止学科类培训业务",
                                "变更经营范围，转型为非学科类培训",
                            ]),
                        );
                    }
                    _ => {
                        let licence_on = (p.role == Role::NewLicence)
                            .then(|| workday((o + days(rng.range(30, 160))).min(last_change)));
                        let mut last_verified = o;
                        for &k in &kinds {
                            let f = add(&mut rng, k, o, &|rng, deadline| {
                                let r = match licence_on {
                                    Some(l) if k == FindingKind::NoLicence => l,
                                    _ => (o + days(rng.range(3, (deadline - o).num_days() + 10)))
                                        .min(as_of),
                                };
                                (Some(r), Some((r + days(rng.range(0, 15))).min(as_of)))
                            });
                            last_verified = last_verified.max(f.verified_on.expect("verified"));
                        }
                        p.new_licence_on = licence_on;
                        let why = if licence_on.is_some() {
                            "取得办学许可证，整改完成，验收销号"
                        } else {
                            "整改完成，验收销号"
                        };
                        change(last_verified, Status::Operating, why);
                    }
                }
            }
            Role::Ns2018 { follow_up } => {
                let o = insp
                    .as_ref()
                    .map(|x| x.1)
                    .unwrap_or_else(|| survey(&mut rng));
                let n = if rng.chance(0.25) { 2 } else { 1 };
                let mut kinds = Vec::new();
                pick_kinds(&mut rng, NON_SUBJECT_KINDS, n, &mut kinds);
                let mut event = Vec::new();
                for &k in &kinds {
                    let f = add(&mut rng, k, o, &|rng, deadline| {
                        let x = rng.below(100);
                        if x < 78 {
                            let r = (o + days(rng.range(2, (deadline - o).num_days() + 15)))
                                .min(as_of - days(1));
                            (Some(r), Some((r + days(rng.range(1, 20))).min(as_of)))
                        } else if x < 88 {
                            let r =
                                (o + days(rng.range(5, (deadline - o).num_days() + 60))).min(as_of);
                            (Some(r), None)
                        } else {
                            (None, None)
                        }
                    });
                    event.push(f);
                }
                let closed_on = ns_event_status(&event, o, as_of, &mut change);
                // A follow-up visit in 2019, only after the first round was closed out,
                // so that the status history stays in order.
                let from = closed_on.map(|c| (c + days(1)).max(ymd(2019, 1, 2)));
                if let Some(from) = from.filter(|&f| follow_up && f <= ymd(2019, 2, 15)) {
                    let o2 = rng.date(from, ymd(2019, 2, 19));
                    let f = ns_2019_finding(&mut rng, o2, as_of, &mut add);
                    ns_event_status(&[f], o2, as_of, &mut change);
                }
            }
            Role::Ns2019 => {
                let o = workday(rng.date(ymd(2019, 1, 2), ymd(2019, 2, 19)));
                let n = if rng.chance(0.2) { 2 } else { 1 };
                let event: Vec<Finding> = (0..n)
                    .map(|_| ns_2019_finding(&mut rng, o, as_of, &mut add))
                    .collect();
                ns_event_status(&event, o, as_of, &mut change);
            }
            Role::SubjectClean | Role::NsClean => {}
        }
    }
    // Institution records.
    let mut used_names: HashSet<String> = HashSet::new();
    let mut used_uscc: HashSet<String> = HashSet::new();
    let mut fire_open: HashSet<&str> = HashSet::new();
    let mut fire_closed: HashSet<&str> = HashSet::new();
    let mut unqualified: HashSet<&str> = HashSet::new();
    let mut prepaid: HashSet<&str> = HashSet::new();
    for f in &findings {
        let id = f.institution_id.as_str();
        match f.kind {
            FindingKind::FireHazard => {
                if f.verified_on.is_some() {
                    fire_closed.insert(id);
                } else {
                    fire_open.insert(id);
                }
            }
            FindingKind::UnqualifiedTeachers => {
                unqualified.insert(id);
            }
            FindingKind::PrepaidExcess => {
                prepaid.insert(id);
            }
            _ => {}
        }
    }
    let mut institutions = Vec::with_capacity(plans.len());
    let mut licences: Vec<(NaiveDate, usize)> = Vec::new();
    for (idx, p) in plans.iter_mut().enumerate() {
        let dist = &DISTRICTS[p.district];
        let category = p.category();
        let old_licence = match p.role {
            Role::SubjectClean | Role::LicensedProblem => true,
            Role::Ns2018 { .. } | Role::Ns2019 | Role::NsClean => rng.chance(0.07),
            _ => false,
        };
        let founded = if old_licence {
            rng.recent_date(ymd(2006, 1, 1), ymd(2016, 12, 31))
        } else {
            rng.recent_date(ymd(2008, 1, 1), ymd(2018, 2, 28))
        };
        if old_licence {
            let from = (founded + days(20)).max(ymd(2014, 3, 1));
            let issued = workday(rng.date(from, ymd(2017, 12, 28)));
            let years = if issued >= ymd(2016, 3, 1) && rng.chance(0.3) {
                3
            } else {
                5
            };
            p.licence = Some((issued, years_after(issued, years)));
        } else if let Some(l) = p.new_licence_on {
            p.licence = Some((l, years_after(l, 3)));
        }
        if let Some((issued, _)) = p.licence {
            licences.push((issued, idx));
        }
        let reg = if p.licence.is_some() {
            Reg::Civil
        } else {
            let none = match p.role {
                Role::Closed | Role::SelfClosed => 0.35,
                Role::Converted | Role::NewLicence => 0.15,
                _ => 0.08,
            };
            if rng.chance(none) {
                Reg::None
            } else {
                Reg::Company
            }
        };
        let name = loop {
            let n = institution_name(&mut rng, dist, category, reg);
            if used_names.insert(n.clone()) {
                break n;
            }
        };
        let uscc = match reg {
            Reg::None => None,
            _ => Some(loop {
                let u = make_uscc(&mut rng, dist.division, reg);
                if used_uscc.insert(u.clone()) {
                    break u;
                }
            }),
        };
        let street = rng.pick(dist.streets).to_string();
        let address = format!(
            "广州市{}区{}{}{}号{}",
            dist.name,
            rng.pick(ROAD_WORDS),
            rng.pick(ROAD_KINDS),
            rng.range(1, 488),
            match rng.below(4) {
                0 => format!("{}楼", rng.range(2, 6)),
                1 => format!("{}室", rng.range(2, 12) * 100 + rng.range(1, 20)),
                2 => format!(
                    "{}栋{}层",
                    rng.pick(&["A", "B", "C", "1", "2", "3"]),
                    rng.range(1, 5)
                ),
                _ => String::new(),
            }
        );
        let organizer = if reg == Reg::Civil && rng.chance(0.2) {
            format!("广州{}教育投资有限公司", rng.pick(BRANDS))
        } else {
            person_name(&mut rng)
        };
        let licensed_ever = p.licence.is_some();
        let (students, teachers) = match (category, licensed_ever) {
            (Category::Subject, true) => {
                let s = rng.range(80, 800);
                (s, (s / rng.range(12, 25)).clamp(3, 60))
            }
            (Category::Subject, false) => {
                let s = rng.range(15, 400);
                (s, (s / rng.range(10, 30)).clamp(1, 20))
            }
            (Category::NonSubject, _) => {
                let s = if rng.chance(0.01) {
                    0
                } else {
                    rng.range(8, 500)
                };
                (s, (s / rng.range(10, 35)).clamp(1, 30))
            }
        };
        let share = match (category, licensed_ever, unqualified.contains(p.id.as_str())) {
            (_, _, true) => rng.range(0, 40),
            (Category::Subject, true, _) => rng.range(70, 100),
            (Category::Subject, false, _) => rng.range(30, 90),
            (Category::NonSubject, _, _) => rng.range(0, 60),
        };
        let qualified_teachers = teachers * share / 100;
        // A licensed school met the setting standard when it was licensed: at
        // least 3 m² per student and 200 m² in all (DOMAIN.md).
        let area_m2 = if licensed_ever {
            (200.0f64).max(students as f64 * rng.range(30, 45) as f64 / 10.0)
        } else {
            40.0 + students as f64 * rng.range(5, 18) as f64 / 10.0
        };
        let area_m2 = (area_m2 * 2.0).round() / 2.0;
        let per_student = match category {
            Category::Subject => rng.range(1500, 6000),
            Category::NonSubject => rng.range(800, 5000),
        };
        let mut prepaid_yuan = students * per_student * rng.range(30, 90) / 100;
        if prepaid.contains(p.id.as_str()) {
            prepaid_yuan *= 2;
        }
        let prepaid_fen = prepaid_yuan * 100 + if rng.chance(0.2) { rng.range(1, 99) } else { 0 };
        let fire_approved = if licensed_ever {
            true
        } else if fire_open.contains(p.id.as_str()) {
            false
        } else if fire_closed.contains(p.id.as_str()) {
            rng.chance(0.6)
        } else {
            rng.chance(0.9)
        };
        institutions.push(Institution {
            id: p.id.clone(),
            name,
            uscc,
            district: dist.name.to_string(),
            street,
            address,
            category,
            licence_no: None,
            licence_issued: p.licence.map(|l| l.0),
            licence_expires: p.licence.map(|l| l.1),
            organizer,
            students,
            teachers,
            qualified_teachers,
            area_m2,
            prepaid_fen,
            fire_approved,
            status: Status::Operating,
            status_date: founded,
        });
    }
    // Licence numbers in order of issue within each district.
    licences.sort();
    let mut serial = [0i64; 11];
    for (_, idx) in licences {
        let d = plans[idx].district;
        serial[d] += rng.range(1, 3);
        institutions[idx].licence_no = Some(format!(
            "教民1{}{:07}号",
            DISTRICTS[d].division,
            10000 + serial[d]
        ));
    }

    // Inspection notes say what was found.
    for x in inspections.iter_mut() {
        let found: Vec<&str> = findings
            .iter()
            .filter(|f| f.inspection_id.as_deref() == Some(x.id.as_str()))
            .map(|f| f.kind.zh())
            .collect();
        x.note = if found.is_empty() {
            rng.pick(&[
                "现场检查未发现问题",
                "证照齐全，收费公示规范，未发现违规行为",
                "检查消防设施、师资及收费公示，未发现问题",
            ])
            .to_string()
        } else {
            format!("现场发现：{}，已下达整改通知书", found.join("、"))
        };
    }

    // Finding ids in order of opening, numbered per year.
    findings.sort_by(|a, b| {
        (a.opened_on, &a.institution_id, a.kind).cmp(&(b.opened_on, &b.institution_id, b.kind))
    });
    let mut year = 0;
    let mut n = 0;
    for f in findings.iter_mut() {
        if f.opened_on.year() != year {
            year = f.opened_on.year();
            n = 0;
        }
        n += 1;
        f.id = format!("F{year}-{n:06}");
    }
    changes.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));

    // The platform's records come last, from a stream of their own, so that
    // everything above (and so every figure of SPEC §1) stays as it was.
    let mut prng = Rng(SEED ^ 0x0006_A991_1CA7_1045);
    let applications = applications(&mut prng, &plans, &institutions, &findings);
    let courses = courses(&mut prng, &plans, &institutions);

    DemoCity {
        institutions,
        inspections,
        findings,
        status_changes: changes,
        applications,
        courses,
    }
}

/// One finding opened in January–February 2019: open, rectified or closed out
/// by the report date, whichever its dates reach.
fn ns_2019_finding(
    rng: &mut Rng,
    o: NaiveDate,
    as_of: NaiveDate,
    add: &mut impl FnMut(&mut Rng, FindingKind, NaiveDate, &Lifecycle<'_>) -> Finding,
) -> Finding {
    let w: Vec<u32> = NON_SUBJECT_KINDS.iter().map(|p| p.1).collect();
    let kind = NON_SUBJECT_KINDS[rng.weighted(&w)].0;
    add(rng, kind, o, &|rng, _| {
        let r = o + days(rng.range(2, 25));
        if r > as_of || !rng.chance(0.55) {
            return (None, None);
        }
        let v = r + days(rng.range(1, 10));
        if v > as_of || !rng.chance(0.5) {
            (Some(r), None)
        } else {
            (Some(r), Some(v))
        }
    })
}

/// The status changes of one round of findings at a non-subject institution:
/// rectifying from `o` if any finding is serious, operating again when all are
/// closed out. Returns the day the round was closed out, if it was.
fn ns_event_status(
    event: &[Finding],
    o: NaiveDate,
    as_of: NaiveDate,
    change: &mut impl FnMut(NaiveDate, Status, &str),
) -> Option<NaiveDate> {
    let closed = event
        .iter()
        .map(|f| f.verified_on.filter(|&v| v <= as_of))
        .collect::<Option<Vec<NaiveDate>>>()
        .and_then(|v| v.into_iter().max());
    if event.iter().any(|f| f.severity >= 2) {
        change(o, Status::Rectifying, "检查发现问题，责令限期整改");
        if let Some(c) = closed {
            change(c, Status::Operating, "整改完成，验收销号");
        }
    }
    closed
}

fn person_name(rng: &mut Rng) -> String {
    let mut s = rng.pick(SURNAMES).to_string();
    s.push_str(rng.pick(GIVEN));
    if rng.chance(0.7) {
        s.push_str(rng.pick(GIVEN));
    }
    s
}

fn institution_name(rng: &mut Rng, d: &District, category: Category, reg: Reg) -> String {
    let brand = rng.pick(BRANDS);
    let field = match category {
        Category::Subject => rng.pick(SUBJECT_FIELDS),
        Category::NonSubject => rng.pick(NON_SUBJECT_FIELDS),
    };
    match reg {
        Reg::Civil => {
            let kind = rng.pick(&["培训中心", "培训学校", "培训中心", "进修学校"]);
            format!("广州市{}区{brand}{field}{kind}", d.name)
        }
        Reg::Company => {
            let kind = match category {
                Category::Subject => {
                    rng.pick(&["教育科技有限公司", "教育咨询有限公司", "文化传播有限公司"])
                }
                Category::NonSubject => rng.pick(&[
                    "文化艺术有限公司",
                    "体育发展有限公司",
                    "教育科技有限公司",
                    "艺术培训有限公司",
                ]),
            };
            if rng.chance(0.5) {
                format!("广州{brand}{field}{kind}")
            } else {
                format!("广州市{}区{brand}{field}{kind}", d.name)
            }
        }
        Reg::None => {
            let kind = rng.pick(&["辅导班", "工作室", "培训点", "托管中心", "学堂"]);
            format!("{}区{brand}{field}{kind}", d.name)
        }
    }
}

/// A valid unified social credit code (GB 32100-2015) for the district.
fn make_uscc(rng: &mut Rng, division: &str, reg: Reg) -> String {
    let cs = USCC_CHARSET.as_bytes();
    let mut body = match reg {
        Reg::Civil => format!("52{division}MJ"),
        _ => format!("91{division}MA5"),
    };
    while body.len() < 17 {
        body.push(cs[rng.below(cs.len() as u64) as usize] as char);
    }
    let check = uscc_check_char(&body).expect("charset characters only");
    body.push(check);
    body
}

// ---------------------------------------------------------------------------
// The management platform: licence applications and course filings

/// The cases the demo city plants for `scripts/licence_review.rhai` and
/// `scripts/course_check.rhai`, as of the report date: run on the demo city,
/// the rules must find exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planted {
    /// Applications approved in 2018–19: one per new licence, decided on the
    /// day the licence was issued, with its number and expiry.
    pub approved: usize,
    /// Applications rejected before the report date (at institutions that
    /// later closed or converted, and first attempts of newly licensed ones).
    pub rejected: usize,
    /// Applications still `submitted` on the report date.
    pub pending: usize,
    /// Of the pending, those meeting every criterion of licence_review.rhai.
    pub pending_approve: usize,
    /// Of those, renewals: the institution already holds a licence (the number stays).
    pub pending_renewals: usize,
    /// Of the pending, those failing at least one criterion.
    pub pending_reject: usize,
    /// Pending applications failing each criterion (one application may fail
    /// several: `pending_reject` is less than their sum).
    pub site_area_per_student: usize,
    pub site_area_total: usize,
    pub fire: usize,
    pub subject_teachers: usize,
    pub severe_finding: usize,
    /// Course filings, every one `filed`.
    pub courses: usize,
    /// Courses breaking at least one rule of course_check.rhai.
    pub courses_rejected: usize,
    /// Courses breaking each rule (one course may break two).
    pub late_offline: usize,
    pub late_online: usize,
    pub prepay_months: usize,
    pub prepay_hours: usize,
    pub subject_unlicensed: usize,
    pub fee_over_5000: usize,
}

/// What the demo city plants (checked by the tests of this module).
pub const PLANTED: Planted = Planted {
    approved: N_NEW_LICENCES,
    rejected: 42,
    pending: 38,
    pending_approve: 20,
    pending_renewals: 6,
    pending_reject: 18,
    site_area_per_student: 6,
    site_area_total: 3,
    fire: 5,
    subject_teachers: 3,
    severe_finding: 3,
    courses: 11_846,
    courses_rejected: 82,
    late_offline: 19,
    late_online: 6,
    prepay_months: 17,
    prepay_hours: 12,
    subject_unlicensed: 17,
    fee_over_5000: 17,
};

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
    pub fn any(&self) -> bool {
        self.site_area_per_student
            || self.site_area_total
            || self.fire
            || self.subject_teachers
            || self.severe_finding
    }

    /// The reasons in the words of a rejection.
    fn reasons(&self, a: &Application, students: i64) -> String {
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
fn severe_open(findings: &[&Finding], d: NaiveDate) -> bool {
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

fn round_half(x: f64) -> f64 {
    (x * 2.0).round() / 2.0
}

/// The pending applications planted for licence_review.rhai, and how many of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Pass,
    Renewal,
    AreaPerStudent,
    AreaTotal,
    Fire,
    RenewalFire,
    RenewalTeachers,
    SevereFinding,
    AreaAndFire,
}

const PENDING_CASES: [(Pending, usize); 9] = [
    (Pending::Pass, 14),
    (Pending::Renewal, 6),
    (Pending::AreaPerStudent, 4),
    (Pending::AreaTotal, 3),
    (Pending::Fire, 2),
    (Pending::RenewalFire, 1),
    (Pending::RenewalTeachers, 3),
    (Pending::SevereFinding, 3),
    (Pending::AreaAndFire, 2),
];

/// Licence applications: approved ones for the new licences, rejected ones,
/// and pending ones with a planted case for each criterion.
fn applications(
    rng: &mut Rng,
    plans: &[Plan],
    insts: &[Institution],
    findings: &[Finding],
) -> Vec<Application> {
    let as_of = report_date();
    let mut by_inst: std::collections::HashMap<&str, Vec<&Finding>> =
        std::collections::HashMap::new();
    for f in findings {
        by_inst
            .entry(f.institution_id.as_str())
            .or_default()
            .push(f);
    }
    let none: Vec<&Finding> = Vec::new();
    let fs = |id: &str| by_inst.get(id).unwrap_or(&none);
    // The day the campaign found the institution (its first finding), if it did.
    let found = |id: &str| fs(id).iter().map(|f| f.opened_on).min();
    let blank = |x: &Institution, submitted: NaiveDate| Application {
        id: String::new(),
        institution_id: x.id.clone(),
        submitted_on: submitted,
        site_area_m2: x.area_m2,
        fire_approved: x.fire_approved,
        teachers: x.teachers,
        qualified_teachers: x.qualified_teachers,
        status: AppStatus::Submitted,
        decided_on: None,
        decision_reason: String::new(),
        licence_no: None,
        licence_expires: None,
    };
    let mut apps: Vec<Application> = Vec::new();
    let reject = |a: &mut Application, x: &Institution, subject: bool, decided: NaiveDate| {
        let b = review_breaches(a, x.students, subject, severe_open(fs(&x.id), decided));
        assert!(b.any(), "a rejected application fails a criterion: {a:?}");
        a.status = AppStatus::Rejected;
        a.decided_on = Some(decided);
        a.decision_reason = b.reasons(a, x.students);
    };

    // Approved: one per new licence; some had a first attempt rejected.
    let mut new_licence: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].role == Role::NewLicence)
        .collect();
    rng.shuffle(&mut new_licence);
    let mut second_tries = 0;
    for &i in &new_licence {
        let x = &insts[i];
        let issued = x.licence_issued.expect("a new licence");
        let o = found(&x.id).expect("found in the campaign");
        let submitted = workday(issued - days(rng.range(12, 25))).max(o);
        if second_tries < 12 && (issued - o).num_days() >= 60 {
            second_tries += 1;
            let s1 = workday(o + days(rng.range(3, 8)));
            let mut a = blank(x, s1);
            if second_tries % 2 == 0 {
                a.fire_approved = false;
            } else {
                a.site_area_m2 = round_half(x.students as f64 * rng.range(15, 27) as f64 / 10.0);
            }
            reject(&mut a, x, true, workday(s1 + days(rng.range(10, 20))));
            apps.push(a);
        }
        let mut a = blank(x, submitted);
        // The qualified teachers are the ones listed; more were hired later.
        a.teachers = x.qualified_teachers;
        a.status = AppStatus::Approved;
        a.decided_on = Some(issued);
        a.decision_reason = "符合设置标准，准予办学".to_string();
        a.licence_no = x.licence_no.clone();
        a.licence_expires = x.licence_expires;
        apps.push(a);
    }
    assert_eq!(
        second_tries, 12,
        "enough new licences a while after the check"
    );

    // Rejected: unlicensed subject-type institutions that then closed or converted.
    let mut gone: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            matches!(
                plans[i].role,
                Role::Closed | Role::SelfClosed | Role::Converted
            )
        })
        .collect();
    rng.shuffle(&mut gone);
    for &i in &gone[..PLANTED.rejected - 12] {
        let x = &insts[i];
        let nl = fs(&x.id)
            .iter()
            .find(|f| f.kind == FindingKind::NoLicence)
            .expect("found without a licence");
        let (o, end) = (nl.opened_on, nl.rectified_on.expect("rectified"));
        let span = (end - o).num_days().max(2);
        let s1 = o + days(rng.range(1, span / 2));
        let decided = s1 + days(rng.range(1, (end - s1).num_days().max(1)));
        let mut a = blank(x, s1);
        reject(&mut a, x, true, decided);
        apps.push(a);
    }

    // Pending on the report date.
    let clean_now = |id: &str| {
        fs(id)
            .iter()
            .all(|f| f.status(as_of) == FindingStatus::Closed)
    };
    let mut new_ns: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            matches!(
                plans[i].role,
                Role::Ns2018 { .. } | Role::Ns2019 | Role::NsClean
            ) && insts[i].licence_no.is_none()
                && clean_now(&insts[i].id)
                && insts[i].students >= 10
        })
        .collect();
    let mut severe: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            plans[i].category() == Category::NonSubject
                && insts[i].licence_no.is_none()
                && severe_open(fs(&insts[i].id), as_of)
        })
        .collect();
    let end_2019 = ymd(2019, 12, 31);
    let mut renewals: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            matches!(plans[i].role, Role::SubjectClean | Role::LicensedProblem)
                && insts[i].licence_expires.is_some_and(|e| e <= end_2019)
                && insts[i].teachers >= 3
        })
        .collect();
    rng.shuffle(&mut new_ns);
    rng.shuffle(&mut severe);
    rng.shuffle(&mut renewals);
    let (mut new_ns, mut severe, mut renewals) =
        (new_ns.into_iter(), severe.into_iter(), renewals.into_iter());
    for (case, n) in PENDING_CASES {
        for _ in 0..n {
            let i = match case {
                Pending::Renewal | Pending::RenewalFire | Pending::RenewalTeachers => {
                    renewals.next()
                }
                Pending::SevereFinding => severe.next(),
                Pending::AreaPerStudent | Pending::AreaAndFire => {
                    new_ns.by_ref().find(|&i| insts[i].students >= 100)
                }
                Pending::AreaTotal => new_ns.by_ref().find(|&i| insts[i].students <= 60),
                Pending::Pass | Pending::Fire => new_ns.next(),
            }
            .expect("enough candidates");
            let x = &insts[i];
            let mut a = blank(x, workday(rng.date(ymd(2019, 1, 7), ymd(2019, 2, 19))));
            let need = (200.0f64).max(3.0 * x.students as f64);
            a.site_area_m2 = round_half(need * rng.range(105, 160) as f64 / 100.0);
            a.fire_approved = true;
            if plans[i].category() == Category::Subject {
                a.qualified_teachers = a.teachers;
            }
            match case {
                Pending::AreaPerStudent | Pending::AreaAndFire => {
                    let s3 = 3.0 * x.students as f64;
                    a.site_area_m2 = round_half(
                        (s3 * rng.range(60, 90) as f64 / 100.0)
                            .max(205.0 + rng.range(0, 40) as f64),
                    );
                    assert!(a.site_area_m2 < s3);
                }
                Pending::AreaTotal => {
                    let lo = (3 * x.students).max(120);
                    a.site_area_m2 = rng.range(lo, 195) as f64;
                }
                Pending::RenewalTeachers => {
                    a.qualified_teachers = a.teachers - rng.range(1, 2);
                }
                _ => {}
            }
            if matches!(
                case,
                Pending::Fire | Pending::RenewalFire | Pending::AreaAndFire
            ) {
                a.fire_approved = false;
            }
            apps.push(a);
        }
    }

    // Ids in order of submission, numbered per year.
    apps.sort_by(|a, b| {
        (a.submitted_on, &a.institution_id).cmp(&(b.submitted_on, &b.institution_id))
    });
    let mut year = 0;
    let mut n = 0;
    for a in apps.iter_mut() {
        if a.submitted_on.year() != year {
            year = a.submitted_on.year();
            n = 0;
        }
        n += 1;
        a.id = format!("SQ{year}-{n:04}");
    }
    apps
}

const SUBJECT_COURSES: &[&str] = &["数学", "英语", "语文", "物理", "化学", "作文"];
const SUBJECT_GRADES: &[&str] = &[
    "小学一年级",
    "小学二年级",
    "小学三年级",
    "小学四年级",
    "小学五年级",
    "小学六年级",
    "初中一年级",
    "初中二年级",
    "初中三年级",
    "高中一年级",
    "高中二年级",
];
const SUBJECT_LEVELS: &[&str] = &[
    "同步提高班",
    "思维拓展班",
    "培优班",
    "基础巩固班",
    "寒假衔接班",
];
const ART_COURSES: &[&str] = &[
    "美术",
    "舞蹈",
    "钢琴",
    "书法",
    "围棋",
    "跆拳道",
    "游泳",
    "篮球",
    "足球",
    "机器人",
    "编程",
    "口才",
    "武术",
    "声乐",
    "象棋",
    "街舞",
    "科学实验",
    "乐高",
];
const ART_GRADES: &[&str] = &["4-6岁", "小学低年级", "小学高年级", "初中", "不限"];
const ART_LEVELS: &[&str] = &["启蒙班", "基础班", "提高班", "进阶班", "兴趣班"];

/// Offline end times (minutes) for fine courses, with weights: none after 20:30.
const OFFLINE_ENDS: &[(u32, u32)] = &[
    (17 * 60, 10),
    (17 * 60 + 30, 12),
    (18 * 60, 14),
    (18 * 60 + 30, 10),
    (19 * 60, 14),
    (19 * 60 + 30, 12),
    (20 * 60, 16),
    (20 * 60 + 30, 12),
];
/// Online end times: up to 21:00.
const ONLINE_ENDS: &[(u32, u32)] = &[
    (19 * 60, 10),
    (19 * 60 + 30, 10),
    (20 * 60, 20),
    (20 * 60 + 30, 25),
    (20 * 60 + 45, 15),
    (21 * 60, 20),
];

/// What a course is planted to break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plant {
    LateOffline,
    LateOnline,
    Months,
    Hours,
    Unlicensed,
    Fee,
    LateAndFee,
    MonthsAndUnlicensed,
}

const COURSE_PLANTS: [(Plant, usize); 8] = [
    (Plant::LateOffline, 16),
    (Plant::LateOnline, 6),
    (Plant::Months, 14),
    (Plant::Hours, 12),
    (Plant::Unlicensed, 14),
    (Plant::Fee, 14),
    (Plant::LateAndFee, 3),
    (Plant::MonthsAndUnlicensed, 3),
];

fn pick_weighted<T: Copy>(rng: &mut Rng, xs: &[(T, u32)]) -> T {
    let w: Vec<u32> = xs.iter().map(|x| x.1).collect();
    xs[rng.weighted(&w)].0
}

fn set_subject(rng: &mut Rng, c: &mut Course, subject: bool) {
    if subject {
        let s = rng.pick(SUBJECT_COURSES);
        let g = rng.pick(SUBJECT_GRADES);
        c.subject = s.to_string();
        c.grade = g.to_string();
        c.name = format!("{g}{s}{}", rng.pick(SUBJECT_LEVELS));
        c.subject_type = Category::Subject;
    } else {
        let s = rng.pick(ART_COURSES);
        c.subject = s.to_string();
        c.grade = rng.pick(ART_GRADES).to_string();
        c.name = format!("少儿{s}{}", rng.pick(ART_LEVELS));
        c.subject_type = Category::NonSubject;
    }
}

/// Sets a course's length, hours, fee per hour and prepayment.
fn set_terms(c: &mut Course, months: u32, hours: i64, per_hour: i64, prepay: i64) {
    c.ends_on = c
        .starts_on
        .checked_add_months(Months::new(months))
        .expect("in range")
        - days(1);
    c.class_hours = hours;
    c.fee_fen = hours * per_hour * 100;
    c.prepay_months = prepay;
}

/// Course filings of January–February 2019 at the institutions still running,
/// most within every rule, some planted to break each rule of course_check.rhai.
fn courses(rng: &mut Rng, plans: &[Plan], insts: &[Institution]) -> Vec<Course> {
    let as_of = report_date();
    let mut out: Vec<(Course, bool)> = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        if matches!(p.role, Role::Closed | Role::SelfClosed) || !rng.chance(0.65) {
            continue;
        }
        let x = &insts[i];
        let licensed = x.licensed(as_of);
        let subject_school = p.category() == Category::Subject && p.role != Role::Converted;
        let n = pick_weighted(rng, &[(1usize, 30), (2, 30), (3, 22), (4, 18)]);
        for _ in 0..n {
            let mut filed = workday(rng.date(ymd(2019, 1, 2), as_of));
            let subject = subject_school && rng.chance(0.85);
            if subject {
                // A school files its subject courses once it holds the licence.
                filed = filed.max(x.licence_issued.expect("licensed"));
            }
            let mut c = Course {
                id: String::new(),
                institution_id: x.id.clone(),
                name: String::new(),
                subject: String::new(),
                subject_type: Category::NonSubject,
                grade: String::new(),
                mode: if rng.chance(0.15) {
                    Mode::Online
                } else {
                    Mode::Offline
                },
                class_hours: 0,
                fee_fen: 0,
                prepay_months: 0,
                starts_on: filed + days(rng.range(5, 40)),
                ends_on: filed,
                daily_end_min: 0,
                filed_on: filed,
                status: CourseStatus::Filed,
                decision_reason: String::new(),
            };
            set_subject(rng, &mut c, subject);
            c.daily_end_min = match c.mode {
                Mode::Offline => pick_weighted(rng, OFFLINE_ENDS),
                Mode::Online => pick_weighted(rng, ONLINE_ENDS),
            };
            let months = pick_weighted(
                rng,
                &[(1u32, 10), (2, 15), (3, 30), (4, 20), (5, 10), (6, 15)],
            );
            let per_month = rng.pick(&[4i64, 6, 8, 12, 16]);
            let per_hour = if subject {
                rng.range(10, 25) * 10
            } else {
                rng.range(6, 20) * 10
            };
            let mut prepay = if rng.chance(0.2) {
                0
            } else {
                rng.range(1, 3.min(months as i64))
            };
            set_terms(&mut c, months, months as i64 * per_month, per_hour, prepay);
            while prepay > 0 && course_breaches(&c, licensed).any() {
                prepay -= 1;
                c.prepay_months = prepay;
            }
            debug_assert!(!course_breaches(&c, licensed).any(), "{c:?}");
            out.push((c, licensed));
        }
    }

    // Plant the breaches, each in a course of its own.
    let mut order: Vec<usize> = (0..out.len()).collect();
    rng.shuffle(&mut order);
    let mut taken = vec![false; out.len()];
    for (plant, n) in COURSE_PLANTS {
        for _ in 0..n {
            let k = order
                .iter()
                .copied()
                .find(|&k| {
                    let (c, licensed) = &out[k];
                    !taken[k]
                        && match plant {
                            Plant::LateOffline => c.mode == Mode::Offline,
                            Plant::LateOnline => c.mode == Mode::Online,
                            Plant::Unlicensed | Plant::MonthsAndUnlicensed => {
                                !licensed && c.subject_type == Category::NonSubject
                            }
                            Plant::Fee => c.subject_type == Category::NonSubject,
                            Plant::LateAndFee => {
                                c.subject_type == Category::NonSubject && c.mode == Mode::Offline
                            }
                            Plant::Months | Plant::Hours => true,
                        }
                })
                .expect("enough courses to plant in");
            taken[k] = true;
            let c = &mut out[k].0;
            let nonsub = c.subject_type == Category::NonSubject;
            match plant {
                Plant::LateOffline => c.daily_end_min = rng.pick(&[1245, 1260, 1275, 1290]),
                Plant::LateOnline => c.daily_end_min = rng.pick(&[1275, 1290, 1320]),
                Plant::Months => {
                    // Six months paid four to six at a time; hours and fee within bounds.
                    let per_hour = if nonsub {
                        rng.range(6, 10) * 10
                    } else {
                        rng.range(10, 20) * 10
                    };
                    set_terms(c, 6, 48, per_hour, rng.range(4, 6));
                }
                Plant::Hours => {
                    // Three months of 64–96 hours paid in full.
                    let hours = rng.pick(&[64i64, 72, 80, 96]);
                    let per_hour = if nonsub {
                        4800 / hours / 10 * 10
                    } else {
                        rng.range(10, 20) * 10
                    };
                    set_terms(c, 3, hours, per_hour, 3);
                }
                Plant::Unlicensed => set_subject(rng, c, true),
                Plant::Fee => set_terms(c, 3, 36, rng.range(16, 25) * 10, 3),
                Plant::LateAndFee => {
                    set_terms(c, 3, 36, rng.range(16, 25) * 10, 3);
                    c.daily_end_min = 1260;
                }
                Plant::MonthsAndUnlicensed => {
                    set_subject(rng, c, true);
                    set_terms(c, 6, 48, rng.range(10, 20) * 10, 6);
                }
            }
        }
    }

    // Ids in order of filing.
    let mut out: Vec<Course> = out.into_iter().map(|x| x.0).collect();
    out.sort_by(|a, b| (a.filed_on, &a.institution_id).cmp(&(b.filed_on, &b.institution_id)));
    for (n, c) in out.iter_mut().enumerate() {
        c.id = format!("KC2019-{:05}", n + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{check_uscc, FindingStatus};
    use std::collections::HashMap;

    fn d(s: &str) -> NaiveDate {
        crate::model::parse_date(s).unwrap()
    }

    /// Status as of `as_of`: the latest entry dated on or before it (ties: the later entry).
    fn statuses_as_of(city: &DemoCity, as_of: NaiveDate) -> HashMap<&str, Status> {
        let mut cur: HashMap<&str, (NaiveDate, Status)> = city
            .institutions
            .iter()
            .filter(|x| x.status_date <= as_of)
            .map(|x| (x.id.as_str(), (x.status_date, x.status)))
            .collect();
        for (id, date, status, _) in &city.status_changes {
            if *date > as_of {
                continue;
            }
            match cur.get(id.as_str()) {
                Some((cd, _)) if cd > date => {}
                _ => {
                    cur.insert(id.as_str(), (*date, *status));
                }
            }
        }
        cur.into_iter().map(|(k, v)| (k, v.1)).collect()
    }

    #[test]
    fn demo_reproduces_every_figure_of_the_2019_report() {
        let city = generate();
        let as_of = d("2019-02-20");

        // 8,562 surveyed: 2,263 subject / 6,299 non-subject.
        assert_eq!(city.institutions.len(), 8562);
        let subject: HashSet<&str> = city
            .institutions
            .iter()
            .filter(|x| x.category == Category::Subject)
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(subject.len(), 2263);
        let non_subject = city
            .institutions
            .iter()
            .filter(|x| x.category == Category::NonSubject)
            .count();
        assert_eq!(non_subject, 6299);

        // 1,890 subject-type institutions with problems, all handled.
        let subject_findings: Vec<&Finding> = city
            .findings
            .iter()
            .filter(|f| f.visible(as_of) && subject.contains(f.institution_id.as_str()))
            .collect();
        let with_problems: HashSet<&str> = subject_findings
            .iter()
            .map(|f| f.institution_id.as_str())
            .collect();
        assert_eq!(with_problems.len(), 1890);
        let unhandled = subject_findings
            .iter()
            .filter(|f| f.status(as_of) != FindingStatus::Closed)
            .count();
        assert_eq!(
            unhandled, 0,
            "every finding of a subject-type institution is closed out"
        );

        // 575 closed, 529 of them self-closed; 1,108 converted.
        let st = statuses_as_of(&city, as_of);
        let count = |s: Status| st.values().filter(|&&x| x == s).count();
        assert_eq!(count(Status::Closed) + count(Status::SelfClosed), 575);
        assert_eq!(count(Status::SelfClosed), 529);
        assert_eq!(count(Status::Converted), 1108);

        // 156 newly licensed.
        let new_licences = city
            .institutions
            .iter()
            .filter(|x| {
                x.licence_issued
                    .is_some_and(|i| (d("2018-01-01")..=as_of).contains(&i))
            })
            .count();
        assert_eq!(new_licences, 156);

        // 5 operations, 2,511 staff-times, 809 on-site checks.
        let ops: HashSet<&str> = city
            .inspections
            .iter()
            .filter_map(|x| x.operation.as_deref())
            .collect();
        assert_eq!(ops.len(), 5);
        assert_eq!(
            city.inspections.iter().map(|x| x.inspectors).sum::<i64>(),
            2511
        );
        assert_eq!(city.inspections.len(), 809);
    }

    #[test]
    fn demo_records_are_valid_and_consistent() {
        let city = generate();
        let as_of = d("2019-02-20");
        let districts: Vec<String> = DEFAULT_DISTRICTS.iter().map(|s| s.to_string()).collect();
        for (i, dist) in DISTRICTS.iter().enumerate() {
            assert_eq!(dist.name, DEFAULT_DISTRICTS[i]);
        }
        let id_ok =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let mut by_id: HashMap<&str, &Institution> = HashMap::new();
        let mut with_uscc = 0;
        for x in &city.institutions {
            assert!(
                x.validate(&districts).is_empty(),
                "{x:?}: {:?}",
                x.validate(&districts)
            );
            assert!(id_ok(&x.id));
            assert!(
                by_id.insert(x.id.as_str(), x).is_none(),
                "duplicate id {}",
                x.id
            );
            assert!(x.status_date < d("2018-03-01"));
            assert!(matches!(x.status, Status::Operating | Status::Rectifying));
            assert!((0..=800).contains(&x.students) && (1..=60).contains(&x.teachers));
            if let Some(u) = &x.uscc {
                assert_eq!(check_uscc(u), Ok(()));
                with_uscc += 1;
            }
            if let Some(i) = x.licence_issued {
                assert!(i >= x.status_date, "licensed after founding: {x:?}");
                assert!(x.licence_no.as_deref().unwrap().starts_with("教民1440"));
            }
        }
        assert!(
            with_uscc * 10 > city.institutions.len() * 8,
            "most have a USCC"
        );
        for name in DEFAULT_DISTRICTS {
            let n = city
                .institutions
                .iter()
                .filter(|x| x.district == name)
                .count();
            assert!(n > 200, "{name} has {n}");
        }
        let mut insp: HashMap<&str, &Inspection> = HashMap::new();
        for x in &city.inspections {
            assert!(x.validate().is_empty(), "{x:?}");
            assert!(id_ok(&x.id));
            assert!(by_id.contains_key(x.institution_id.as_str()));
            assert!(insp.insert(x.id.as_str(), x).is_none());
            assert!(x.departments.contains(&Department::Education));
            assert!(x.inspectors >= x.departments.len() as i64);
            assert!((d("2018-03-01")..=d("2018-12-31")).contains(&x.date));
        }
        let mut finding_ids = HashSet::new();
        let mut open = 0;
        let mut rectified = 0;
        let mut overdue = 0;
        let mut opened_2019 = 0;
        for f in &city.findings {
            assert!(f.validate().is_empty(), "{f:?}: {:?}", f.validate());
            assert!(id_ok(&f.id) && finding_ids.insert(f.id.as_str()));
            let inst = by_id[f.institution_id.as_str()];
            if let Some(n) = &f.inspection_id {
                let i = insp[n.as_str()];
                assert_eq!(i.institution_id, f.institution_id, "{f:?}");
                assert_eq!(i.date, f.opened_on);
            }
            assert!(f.opened_on >= d("2018-03-01") && f.opened_on <= as_of);
            assert!(f.rectified_on.is_none_or(|r| r <= as_of));
            assert!(f.verified_on.is_none_or(|r| r <= as_of));
            let days = (f.deadline - f.opened_on).num_days();
            assert!((7..=60).contains(&days));
            if inst.category == Category::Subject {
                assert!(f.opened_on <= d("2018-12-31"));
            }
            match f.status(as_of) {
                FindingStatus::Open => open += 1,
                FindingStatus::Rectified => rectified += 1,
                FindingStatus::Closed => {}
            }
            overdue += f.overdue(as_of) as usize;
            opened_2019 += (f.opened_on.year() == 2019) as usize;
        }
        assert!(
            open > 50 && rectified > 50 && overdue > 50 && opened_2019 > 100,
            "open {open} rectified {rectified} overdue {overdue} opened in 2019 {opened_2019}"
        );
        for (id, date, _, reason) in &city.status_changes {
            let x = by_id[id.as_str()];
            assert!(*date > x.status_date && *date <= as_of && !reason.is_empty());
        }
        // Final statuses come after the institution's findings were opened, by 2019-02-15.
        for (id, date, s, _) in &city.status_changes {
            if matches!(s, Status::Closed | Status::SelfClosed | Status::Converted) {
                assert!(*date >= d("2018-03-01") && *date <= d("2019-02-15"));
                assert_eq!(by_id[id.as_str()].category, Category::Subject);
            }
        }
    }

    #[test]
    fn demo_is_deterministic() {
        let a = generate();
        let b = generate();
        assert_eq!(a, b);
        assert_eq!(a.institutions[0].id, "GZ-YX-00001");
        assert_eq!(a.findings[0].id, "F2018-000001");
        assert_eq!(a.inspections[0].id, "JC2018-0001");
    }

    #[test]
    fn demo_builds_a_ledger_with_the_report_figures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.redb");
        let summary = build(&path, "tester").unwrap();
        assert_eq!((summary.institutions, summary.inspections), (8562, 809));
        let ledger = Ledger::open_read(&path).unwrap();
        let reader = ledger.reader().unwrap();
        assert_eq!(reader.counts().unwrap(), (8562, 809, summary.findings));
        let as_of = d("2019-02-20");
        let mut n = HashMap::new();
        for x in reader.institutions().unwrap() {
            let x = x.unwrap();
            let s = reader.status_as_of(&x, as_of).unwrap().expect("a status");
            *n.entry(s).or_insert(0) += 1;
        }
        assert_eq!(n[&Status::SelfClosed], 529);
        assert_eq!(n[&Status::Closed], 46);
        assert_eq!(n[&Status::Converted], 1108);
        // Before the campaign every institution was operating.
        let x = reader.institution("GZ-TH-00001").unwrap().unwrap();
        assert_eq!(
            reader.status_as_of(&x, d("2018-02-28")).unwrap(),
            Some(Status::Operating)
        );
        let audit = reader.audit().unwrap();
        assert_eq!(audit.len(), 1);
        assert!(audit[0].1.contains("casebook demo") && audit[0].1.contains("tester"));
    }

    #[test]
    fn demo_applications_are_valid_and_match_the_new_licences() {
        let city = generate();
        let as_of = d("2019-02-20");
        let by_id: HashMap<&str, &Institution> = city
            .institutions
            .iter()
            .map(|x| (x.id.as_str(), x))
            .collect();
        let mut ids = HashSet::new();
        let mut approved = HashSet::new();
        let (mut rejected, mut pending) = (0, 0);
        for a in &city.applications {
            assert!(a.validate().is_empty(), "{a:?}: {:?}", a.validate());
            assert!(ids.insert(a.id.as_str()), "duplicate id {}", a.id);
            assert!(a.id.starts_with(&format!("SQ{}-", a.submitted_on.year())));
            let x = by_id[a.institution_id.as_str()];
            assert!(a.submitted_on <= as_of && a.decided_on.is_none_or(|d| d <= as_of));
            assert!(a.submitted_on >= x.status_date, "{a:?}");
            match a.status {
                AppStatus::Approved => {
                    assert!(approved.insert(a.institution_id.as_str()), "{a:?}");
                    assert_eq!(a.decided_on, x.licence_issued, "{a:?}");
                    assert_eq!(a.licence_no, x.licence_no);
                    assert_eq!(a.licence_expires, x.licence_expires);
                    // An approved application met the standard it was approved on.
                    let b = review_breaches(a, x.students, true, false);
                    assert!(!b.any(), "{a:?} {b:?}");
                }
                AppStatus::Rejected => {
                    rejected += 1;
                    assert!(!a.decision_reason.is_empty());
                    assert!(a.decided_on.unwrap() < d("2019-02-16"));
                }
                AppStatus::Submitted => pending += 1,
            }
        }
        // Exactly the 156 licences of 2018–19 came through an approved application.
        let new: HashSet<&str> = city
            .institutions
            .iter()
            .filter(|x| x.licence_issued.is_some_and(|i| i >= d("2018-01-01")))
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(approved, new);
        assert_eq!(approved.len(), PLANTED.approved);
        assert_eq!(rejected, PLANTED.rejected);
        assert_eq!(pending, PLANTED.pending);
    }

    /// The pending applications as licence_review.rhai sees them on the report date.
    fn pending_breaches(city: &DemoCity) -> Vec<(&Application, &Institution, ReviewBreaches)> {
        let as_of = d("2019-02-20");
        let st = statuses_as_of(city, as_of);
        city.applications
            .iter()
            .filter(|a| a.status == AppStatus::Submitted)
            .map(|a| {
                let x = city
                    .institutions
                    .iter()
                    .find(|x| x.id == a.institution_id)
                    .unwrap();
                let fs: Vec<&Finding> = city
                    .findings
                    .iter()
                    .filter(|f| f.institution_id == x.id)
                    .collect();
                let subject =
                    x.category == Category::Subject && st[x.id.as_str()] != Status::Converted;
                assert!(!matches!(
                    st[x.id.as_str()],
                    Status::Closed | Status::SelfClosed
                ));
                (
                    a,
                    x,
                    review_breaches(a, x.students, subject, severe_open(&fs, as_of)),
                )
            })
            .collect()
    }

    #[test]
    fn demo_plants_a_pending_case_for_every_licence_criterion() {
        let city = generate();
        let v = pending_breaches(&city);
        let count = |f: fn(&ReviewBreaches) -> bool| v.iter().filter(|x| f(&x.2)).count();
        assert_eq!(count(|b| !b.any()), PLANTED.pending_approve);
        assert_eq!(count(|b| b.any()), PLANTED.pending_reject);
        assert_eq!(
            count(|b| b.site_area_per_student),
            PLANTED.site_area_per_student
        );
        assert_eq!(count(|b| b.site_area_total), PLANTED.site_area_total);
        assert_eq!(count(|b| b.fire), PLANTED.fire);
        assert_eq!(count(|b| b.subject_teachers), PLANTED.subject_teachers);
        assert_eq!(count(|b| b.severe_finding), PLANTED.severe_finding);
        let renewals = v
            .iter()
            .filter(|x| !x.2.any() && x.1.licence_no.is_some())
            .count();
        assert_eq!(renewals, PLANTED.pending_renewals);
        for (a, _, _) in &v {
            assert!(a.submitted_on >= d("2019-01-01"));
        }
    }

    #[test]
    fn demo_courses_are_valid_and_break_the_rules_as_planted() {
        let city = generate();
        let as_of = d("2019-02-20");
        let st = statuses_as_of(&city, as_of);
        let by_id: HashMap<&str, &Institution> = city
            .institutions
            .iter()
            .map(|x| (x.id.as_str(), x))
            .collect();
        let mut ids = HashSet::new();
        let mut n = Planted {
            courses: city.courses.len(),
            courses_rejected: 0,
            late_offline: 0,
            late_online: 0,
            prepay_months: 0,
            prepay_hours: 0,
            subject_unlicensed: 0,
            fee_over_5000: 0,
            ..PLANTED
        };
        let mut per_inst: HashMap<&str, usize> = HashMap::new();
        for c in &city.courses {
            assert!(c.validate().is_empty(), "{c:?}: {:?}", c.validate());
            assert!(ids.insert(c.id.as_str()));
            assert_eq!(c.status, CourseStatus::Filed);
            assert!((d("2019-01-01")..=as_of).contains(&c.filed_on), "{c:?}");
            assert!(c.starts_on > c.filed_on);
            let x = by_id[c.institution_id.as_str()];
            assert!(!matches!(
                st[x.id.as_str()],
                Status::Closed | Status::SelfClosed
            ));
            *per_inst.entry(x.id.as_str()).or_default() += 1;
            let b = course_breaches(c, x.licensed(as_of));
            n.courses_rejected += b.any() as usize;
            n.late_offline += (b.late && c.mode == Mode::Offline) as usize;
            n.late_online += (b.late && c.mode == Mode::Online) as usize;
            n.prepay_months += b.prepay_months as usize;
            n.prepay_hours += b.prepay_hours as usize;
            n.subject_unlicensed += b.subject_unlicensed as usize;
            n.fee_over_5000 += b.fee_over_5000 as usize;
        }
        assert_eq!(n, PLANTED);
        assert!(per_inst.values().all(|&k| (1..=4).contains(&k)));
        assert!(
            per_inst.len() > 4000,
            "{} institutions file courses",
            per_inst.len()
        );
    }

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
