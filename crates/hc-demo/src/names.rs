//! Word lists and the pure helpers that turn random numbers into names, phones and numerals.

use hc_core::model::Sex;
use rand::Rng;

/// Common Chinese surnames with rough relative frequencies (per 10,000 people, national figures
/// nudged towards Guangdong, where 陈, 黄, 林, 梁 and 李 are more common).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 650),
    ("李", 700),
    ("张", 580),
    ("刘", 520),
    ("陈", 620),
    ("杨", 300),
    ("黄", 330),
    ("赵", 210),
    ("吴", 210),
    ("周", 190),
    ("徐", 150),
    ("孙", 130),
    ("马", 120),
    ("朱", 120),
    ("胡", 120),
    ("郭", 110),
    ("何", 120),
    ("林", 150),
    ("罗", 120),
    ("高", 100),
    ("郑", 110),
    ("梁", 110),
    ("谢", 85),
    ("宋", 70),
    ("唐", 75),
    ("许", 70),
    ("韩", 60),
    ("冯", 60),
    ("邓", 75),
    ("曹", 55),
    ("彭", 60),
    ("曾", 70),
    ("肖", 60),
    ("田", 50),
    ("董", 45),
    ("潘", 50),
    ("袁", 45),
    ("蔡", 55),
    ("蒋", 45),
    ("余", 45),
    ("于", 40),
    ("杜", 40),
    ("叶", 50),
    ("程", 40),
    ("魏", 38),
    ("苏", 40),
    ("吕", 35),
    ("丁", 35),
    ("任", 33),
    ("卢", 38),
    ("姚", 30),
    ("沈", 30),
    ("钟", 40),
    ("姜", 28),
    ("崔", 25),
    ("谭", 30),
    ("陆", 27),
    ("范", 26),
    ("汪", 26),
    ("廖", 32),
    ("石", 25),
    ("金", 22),
    ("韦", 25),
    ("贾", 20),
    ("夏", 19),
    ("付", 19),
    ("方", 20),
    ("邹", 20),
    ("熊", 19),
    ("白", 18),
    ("孟", 17),
    ("秦", 16),
    ("邱", 20),
    ("侯", 16),
    ("江", 17),
    ("尹", 14),
    ("薛", 14),
    ("闫", 13),
    ("段", 13),
    ("雷", 14),
    ("龙", 13),
    ("黎", 16),
    ("史", 12),
    ("陶", 12),
    ("贺", 12),
    ("毛", 11),
    ("郝", 10),
    ("顾", 10),
    ("龚", 10),
    ("邵", 10),
    ("万", 10),
    ("覃", 10),
    ("武", 9),
    ("钱", 9),
    ("戴", 9),
    ("严", 9),
    ("欧", 10),
    ("莫", 10),
    ("孔", 8),
    ("向", 8),
    ("常", 8),
    ("汤", 8),
    ("康", 7),
    ("易", 8),
    ("乔", 7),
    ("赖", 10),
    ("文", 8),
    ("施", 6),
    ("洪", 7),
    ("辛", 5),
    ("柯", 6),
    ("庄", 7),
];

/// Characters of given names mostly borne by men.
const MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "洋", "峰", "建",
    "国", "文", "志", "海", "东", "晨", "阳", "博", "轩", "睿", "然", "泽", "诚", "家", "豪", "天",
    "昊", "振", "兴", "嘉", "铭", "远", "宏", "永", "成", "亮", "春", "德", "学", "新", "立", "毅",
    "锋", "翔", "晖", "子", "一", "思", "俊", "伦", "荣", "生", "光", "达", "安", "庆", "彬", "钧",
];

/// Characters of given names mostly borne by women.
const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "红", "琳", "颖",
    "倩", "洁", "莹", "萍", "梅", "琴", "兰", "秀", "英", "华", "欣", "怡", "佳", "雨", "涵", "诗",
    "梦", "可", "馨", "悦", "彤", "晴", "瑶", "思", "雅", "婧", "璐", "蕾", "薇", "紫", "子", "一",
    "月", "心", "菲", "晓", "春", "美", "玉", "凤", "珊", "妍", "琪", "露", "嘉", "文", "淑", "丹",
];

/// Whole community names in the style of Shenzhen's (used without regard to where the real
/// ones are).
const COMMUNITY_NAMES: &[&str] = &[
    "桃园",
    "前海",
    "荔湾",
    "翠竹",
    "华侨城",
    "新安",
    "海滨",
    "蛇口",
    "沙河",
    "白石洲",
    "水围",
    "渔农",
    "皇岗",
    "上沙",
    "下沙",
    "车公庙",
    "景田",
    "香蜜",
    "梅林",
    "莲花",
    "石厦",
    "岗厦",
    "福民",
    "益田",
    "彩田",
    "红荔",
    "园岭",
    "百花",
    "华富",
    "黄木岗",
    "笋岗",
    "湖贝",
    "东门",
    "黄贝岭",
    "莲塘",
    "仙湖",
    "清水河",
    "布心",
    "翠湖",
    "文锦",
    "滨河",
    "南园",
    "南头",
    "月亮湾",
    "大冲",
    "科技园",
    "粤海",
    "高新",
    "麻磡",
    "西丽",
    "留仙",
    "塘朗",
    "桃源",
    "珠光",
    "龙井",
    "新围",
    "大磡",
    "平山",
    "松坪",
    "西乡",
    "固戍",
    "臣田",
    "福永",
    "凤凰",
    "沙井",
    "松岗",
    "石岩",
    "观澜",
    "民治",
    "大浪",
    "龙华",
    "坂田",
    "布吉",
    "横岗",
    "平湖",
    "坪地",
    "葵涌",
    "大鹏",
    "南澳",
    "坪山",
    "坑梓",
    "光明",
    "公明",
    "玉塘",
    "马田",
    "梅沙",
    "沙头角",
    "海山",
];

/// First syllables of composed community names.
const COMMUNITY_FIRST: &[&str] = &[
    "桃", "荔", "翠", "华", "新", "海", "龙", "凤", "金", "银", "玉", "松", "竹", "梅", "兰", "福",
    "安", "和", "祥", "康", "宝", "富", "民", "德", "泰", "云", "鹏", "景", "丽", "盛", "兴", "东",
    "西", "南", "北", "清", "碧", "青", "石", "沙", "莲", "锦", "星", "月", "阳", "光", "长", "永",
];

/// Second syllables of composed community names.
const COMMUNITY_SECOND: &[&str] = &[
    "园", "林", "苑", "湾", "岭", "田", "湖", "山", "村", "城", "景", "花", "港", "坊", "庭", "滨",
    "岗", "源", "溪", "坑", "围", "塘", "涌", "峰", "华", "安", "丰", "盛",
];

/// Pharmacy chains.
pub(crate) const PHARMACY_CHAINS: &[&str] = &[
    "海王星辰",
    "大参林",
    "老百姓",
    "益丰",
    "国大",
    "一心堂",
    "中联",
    "万泽",
    "健之佳",
    "百和堂",
];

/// Three-digit mobile prefixes in use in mainland China.
const MOBILE_PREFIXES: &[u16] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156, 157, 158,
    159, 166, 170, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191,
    193, 195, 196, 197, 198, 199,
];

/// Sum of the surname weights.
const SURNAME_TOTAL: u32 = {
    let mut total = 0;
    let mut i = 0;
    while i < SURNAMES.len() {
        total += SURNAMES[i].1;
        i += 1;
    }
    total
};

/// A surname drawn by frequency.
pub(crate) fn surname(rng: &mut impl Rng) -> &'static str {
    let mut x = rng.random_range(0..SURNAME_TOTAL);
    for (s, w) in SURNAMES {
        if x < *w {
            return s;
        }
        x -= w;
    }
    "王"
}

fn pick<'a>(rng: &mut impl Rng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// A full name: a surname and a given name of one (about 20%) or two characters.
pub(crate) fn person_name(rng: &mut impl Rng, sex: Sex) -> String {
    let chars = match sex {
        Sex::M => MALE_CHARS,
        Sex::F => FEMALE_CHARS,
    };
    let mut name = String::with_capacity(9);
    name.push_str(surname(rng));
    name.push_str(pick(rng, chars));
    if rng.random_bool(0.8) {
        name.push_str(pick(rng, chars));
    }
    name
}

/// A mobile number: a real 3-digit prefix and 8 digits.
pub(crate) fn mobile(rng: &mut impl Rng) -> String {
    let prefix = MOBILE_PREFIXES[rng.random_range(0..MOBILE_PREFIXES.len())];
    format!("{prefix}{:08}", rng.random_range(0..100_000_000u32))
}

/// A community name (without the 社区 suffix) not in `used`; falls back to
/// `<street>第N` names, which cannot collide, when the lists run dry.
pub(crate) fn community_name(
    rng: &mut impl Rng,
    used: &std::collections::HashSet<String>,
    street_short: &str,
    n: usize,
) -> String {
    for _ in 0..200 {
        let candidate = if rng.random_bool(0.4) {
            pick(rng, COMMUNITY_NAMES).to_owned()
        } else {
            let a = pick(rng, COMMUNITY_FIRST);
            let b = pick(rng, COMMUNITY_SECOND);
            if a == b {
                continue;
            }
            format!("{a}{b}")
        };
        if !used.contains(&candidate) {
            return candidate;
        }
    }
    format!("{street_short}第{}", numeral(n as u32))
}

/// A street's name without its 街道 suffix (other units keep their names).
pub(crate) fn street_short(name: &str) -> &str {
    name.strip_suffix("街道").unwrap_or(name)
}

/// Chinese numeral for `n` (一, 十二, 二十, 一百零五, ...); Arabic digits from 10,000 on.
pub(crate) fn numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if n >= 10_000 {
        return n.to_string();
    }
    if n == 0 {
        return DIGITS[0].to_owned();
    }
    if (10..20).contains(&n) {
        // 十, 十一 ... 十九, not 一十一.
        let mut s = "十".to_owned();
        if n > 10 {
            s.push_str(DIGITS[(n - 10) as usize]);
        }
        return s;
    }
    const UNITS: [(u32, &str); 4] = [(1000, "千"), (100, "百"), (10, "十"), (1, "")];
    let mut s = String::new();
    let mut zero_pending = false;
    let mut rest = n;
    for (value, unit) in UNITS {
        let d = rest / value;
        rest %= value;
        if d == 0 {
            if !s.is_empty() {
                zero_pending = true;
            }
            continue;
        }
        if zero_pending {
            s.push_str(DIGITS[0]);
            zero_pending = false;
        }
        s.push_str(DIGITS[d as usize]);
        s.push_str(unit);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_read_naturally() {
        let cases = [
            (1, "一"),
            (2, "二"),
            (10, "十"),
            (12, "十二"),
            (20, "二十"),
            (21, "二十一"),
            (100, "一百"),
            (105, "一百零五"),
            (110, "一百一十"),
            (1001, "一千零一"),
            (2030, "二千零三十"),
        ];
        for (n, s) in cases {
            assert_eq!(numeral(n), s, "{n}");
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(street_short("西乡街道"), "西乡");
        assert_eq!(street_short("前海合作区"), "前海合作区");
    }

    #[test]
    fn names_and_phones_have_the_right_shape() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let n = person_name(&mut rng, Sex::F);
            assert!((2..=3).contains(&n.chars().count()), "{n}");
            let p = mobile(&mut rng);
            assert_eq!(p.len(), 11);
            assert!(p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
