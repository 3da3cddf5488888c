//! The demo city's words: its districts (with their streets, codes and
//! weights), the brands, fields and roads institutions are named after, the
//! names of people, the notes inspectors write per kind of finding, and the
//! courses filed on the platform. Also the helpers that compose them into an
//! institution's name, a person's name and a valid USCC.

use super::plan::Reg;
use super::rng::Rng;
use crate::model::{uscc_check_char, Category, FindingKind, USCC_CHARSET};

/// A district of the city and what the generator needs to know of it.
pub(super) struct District {
    pub(super) name: &'static str,
    /// Letters of the ledger number, `GZ-<code>-00001`.
    pub(super) code: &'static str,
    /// Administrative division code (DOMAIN.md), positions 3–8 of a USCC.
    pub(super) division: &'static str,
    /// Share of the city's institutions, in percent.
    pub(super) weight: u32,
    pub(super) streets: &'static [&'static str],
}

/// In the order of [`DEFAULT_DISTRICTS`](crate::model::DEFAULT_DISTRICTS).
pub(super) const DISTRICTS: [District; 11] = [
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

pub(super) const BRANDS: &[&str] = &[
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

pub(super) const SUBJECT_FIELDS: &[&str] = &[
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

pub(super) const NON_SUBJECT_FIELDS: &[&str] = &[
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

pub(super) const ROAD_WORDS: &[&str] = &[
    "建设", "东风", "解放", "人民", "环市", "新港", "工业", "兴华", "中山", "沿江", "江南", "德政",
    "丰乐", "金沙", "富华", "龙溪", "迎宾", "市广", "清河", "光明", "文化", "育才", "振兴", "和平",
    "幸福", "同和", "广园", "石岗", "华景", "花园", "新市", "长兴", "明珠", "府前", "东华", "恒福",
    "宝岗", "桥东", "云山", "凤凰",
];

pub(super) const ROAD_KINDS: &[&str] = &[
    "路", "大道", "街", "中路", "北路", "南路", "东路", "西路", "一路", "二路",
];

pub(super) const SURNAMES: &[&str] = &[
    "陈", "李", "黄", "张", "梁", "林", "刘", "吴", "何", "罗", "郑", "谢", "周", "冯", "钟", "杨",
    "王", "邓", "曾", "许", "朱", "邱", "彭", "苏", "叶", "潘", "卢", "蔡", "麦", "区", "关", "莫",
];

pub(super) const GIVEN: &[&str] = &[
    "志", "伟", "国", "华", "建", "明", "丽", "敏", "静", "晓", "婷", "俊", "杰", "海", "文", "军",
    "燕", "红", "玲", "峰", "斌", "涛", "辉", "芳", "娟", "秀", "英", "强", "磊", "勇", "嘉", "欣",
    "颖", "锦", "荣", "健", "永", "思", "慧", "雅",
];

/// Chinese notes per finding kind, several wordings each.
pub(super) fn finding_note(rng: &mut Rng, k: FindingKind) -> &'static str {
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

pub(super) fn person_name(rng: &mut Rng) -> String {
    let mut s = rng.pick(SURNAMES).to_string();
    s.push_str(rng.pick(GIVEN));
    if rng.chance(0.7) {
        s.push_str(rng.pick(GIVEN));
    }
    s
}

pub(super) fn institution_name(
    rng: &mut Rng,
    d: &District,
    category: Category,
    reg: Reg,
) -> String {
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
pub(super) fn make_uscc(rng: &mut Rng, division: &str, reg: Reg) -> String {
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

// Courses filed on the platform.

pub(super) const SUBJECT_COURSES: &[&str] = &["数学", "英语", "语文", "物理", "化学", "作文"];
pub(super) const SUBJECT_GRADES: &[&str] = &[
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
pub(super) const SUBJECT_LEVELS: &[&str] = &[
    "同步提高班",
    "思维拓展班",
    "培优班",
    "基础巩固班",
    "寒假衔接班",
];
pub(super) const ART_COURSES: &[&str] = &[
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
pub(super) const ART_GRADES: &[&str] = &["4-6岁", "小学低年级", "小学高年级", "初中", "不限"];
pub(super) const ART_LEVELS: &[&str] = &["启蒙班", "基础班", "提高班", "进阶班", "兴趣班"];
