//! Chief complaints as a sentinel site's system records them: Chinese free text (some English),
//! optional ICD-10 codes and a measured temperature, one template family per syndrome and one
//! for visits that belong to none (follow-ups, pain, check-ups).
//!
//! Placeholders: `{d}` days (1–5), `{n}` a count (2–8), `{t}` the stated temperature (°C, one
//! decimal, from the template's range). Every template of a syndrome is written so that the
//! project's dictionary gives that syndrome (the unit tests check ≥ 95%).

use rand::Rng;

/// The kind of visit to draw: a syndrome, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Syn {
    Background,
    Fever,
    Ili,
    Gi,
    Rash,
    Jaundice,
    Conjunctivitis,
    Neuro,
    FeverHaem,
}

impl Syn {
    /// Every kind, background first.
    pub(crate) const ALL: [Syn; 9] = [
        Syn::Background,
        Syn::Fever,
        Syn::Ili,
        Syn::Gi,
        Syn::Rash,
        Syn::Jaundice,
        Syn::Conjunctivitis,
        Syn::Neuro,
        Syn::FeverHaem,
    ];

    /// The syndrome's code in the `visits` feed (empty for background).
    #[cfg(test)]
    pub(crate) fn code(self) -> &'static str {
        match self {
            Syn::Background => "",
            Syn::Fever => "fever",
            Syn::Ili => "ili",
            Syn::Gi => "gi",
            Syn::Rash => "rash",
            Syn::Jaundice => "jaundice",
            Syn::Conjunctivitis => "conjunctivitis",
            Syn::Neuro => "neuro",
            Syn::FeverHaem => "fever_haem",
        }
    }
}

/// One way of writing a complaint.
struct Template {
    text: &'static str,
    /// Codes a doctor may add (one is drawn, or none).
    codes: &'static [&'static str],
    /// Range of the stated and measured temperature; `None`: afebrile.
    fever: Option<(f64, f64)>,
}

const fn t(
    text: &'static str,
    codes: &'static [&'static str],
    fever: Option<(f64, f64)>,
) -> Template {
    Template { text, codes, fever }
}

const LOW: Option<(f64, f64)> = Some((37.6, 38.9));
const HIGH: Option<(f64, f64)> = Some((38.1, 40.0));

const BACKGROUND: &[Template] = &[
    t("高血压复诊", &["I10"], None),
    t("高血压复诊，血压控制尚可，要求开药", &["I10"], None),
    t("糖尿病复诊，空腹血糖偏高", &["E11.9"], None),
    t("糖尿病随访，取药", &["E11.9"], None),
    t("腰痛{d}天，活动后加重", &["M54.5"], None),
    t("反复腰背痛{n}年", &["M54.5"], None),
    t("双膝关节疼痛{n}月", &["M17.9"], None),
    t("体检", &["Z00.0"], None),
    t("健康体检，要求查血脂", &["Z00.0"], None),
    t("头晕{d}天", &["R42"], None),
    t("失眠多梦{n}周", &["G47.0"], None),
    t("咳嗽{n}周，无发热", &[], None),
    t("胃痛{d}天，饭后明显，无呕吐", &["K29.7"], None),
    t("牙痛{d}天", &["K08.8"], None),
    t("皮肤瘙痒{n}周", &["L29.9"], None),
    t("颈肩部酸痛{n}月", &["M54.2"], None),
    t("胸闷气短{d}天，活动后加重", &["I20.9"], None),
    t("产前检查", &["Z34.9"], None),
    t("疫苗接种咨询", &["Z23"], None),
    t("伤口换药", &["Z48.0"], None),
    t("血脂偏高复查", &["E78.5"], None),
    t("鼻塞流涕{d}天，无发热", &["J30.4"], None),
    t("右手腕扭伤{d}天", &["S63.5"], None),
    t("便秘{n}天", &["K59.0"], None),
    t("尿频尿急{d}天", &["N39.0"], None),
    t("Hypertension follow-up", &["I10"], None),
    t("Lower back pain for {d} days", &["M54.5"], None),
    t("Annual health check", &["Z00.0"], None),
    t("Prescription refill, type 2 diabetes", &["E11.9"], None),
    t("Knee pain, worse on stairs", &["M17.9"], None),
];

const FEVER: &[Template] = &[
    t("发热{d}天，最高{t}℃，无咳嗽、咽痛", &["R50.9"], LOW),
    t("发热{d}天，体温{t}℃，伴乏力、头痛", &["R50.9"], LOW),
    t("发烧半天，测体温{t}度", &[], LOW),
    t("低热{d}天，体温{t}℃，伴全身酸痛", &["R50.9"], LOW),
    t("无明显诱因出现发热{d}天，最高{t}℃", &["R50.9"], LOW),
    t("发热待查，体温{t}℃，无腹泻", &["R50.9"], LOW),
    t("Fever for {d} days, max {t} C, no cough", &["R50.9"], LOW),
    t("Febrile since yesterday, temp {t}", &[], LOW),
];

const ILI: &[Template] = &[
    t(
        "发热{d}天，最高{t}℃，伴咳嗽、咽痛",
        &["J11.1", "J10.1"],
        HIGH,
    ),
    t("发热伴咳嗽{d}天，体温{t}℃", &["J11.1"], HIGH),
    t(
        "高热{d}天，体温{t}℃，咽痛明显，伴肌肉酸痛",
        &["J11.1"],
        HIGH,
    ),
    t("发烧{d}天，最高{t}度，咳嗽、流涕", &[], HIGH),
    t("畏寒发热，体温{t}℃，咽喉肿痛{d}天", &["J10.1"], HIGH),
    t(
        "发热{d}天，体温{t}℃，干咳，全身酸痛，乏力",
        &["J11.1"],
        HIGH,
    ),
    t(
        "Fever {t} C with cough and sore throat for {d} days",
        &["J11.1"],
        HIGH,
    ),
    t("High fever {t}, cough, body aches", &["J10.1"], HIGH),
];

const GI: &[Template] = &[
    t("腹泻{n}次，水样便，伴呕吐{d}天", &["A09.9", "A08.1"], None),
    t("呕吐、腹泻{d}天，无发热", &["A09.9"], None),
    t("上吐下泻半天，伴腹痛", &["A08.1", "K52.9"], None),
    t("拉肚子{d}天，稀水样便，每日{n}次", &["K52.9"], None),
    t("恶心呕吐{n}次，腹泻，伴低热{t}℃", &["A08.1"], LOW),
    t("急性胃肠炎，腹泻{n}次", &["K52.9"], None),
    t("腹痛腹泻{d}天，大便次数增多", &["A09.9"], None),
    t("昨晚进食后呕吐{n}次", &[], None),
    t("Diarrhoea and vomiting since last night", &["A08.1"], None),
    t("Vomiting x{n}, loose stools", &["K52.9"], None),
];

const RASH: &[Template] = &[
    t("发热伴手、足、口腔疱疹{d}天，体温{t}℃", &["B08.4"], LOW),
    t("手足口皮疹{d}天，流涎、拒食", &["B08.4"], None),
    t("手心、足底出现红色丘疹{d}天", &["B08.4", "R21"], None),
    t(
        "全身红色斑丘疹{d}天，始于耳后，伴发热、流涕",
        &["B05.9"],
        LOW,
    ),
    t("出疹{d}天，伴发热{t}℃", &["R21"], LOW),
    t("躯干散在水疱{d}天，瘙痒", &["B01.9"], None),
    t("出水痘{d}天", &["B01.9"], None),
    t("皮疹{d}天", &["R21"], None),
    t("Rash on hands and feet with mouth ulcers", &["B08.4"], None),
    t("Fever and rash for {d} days", &["R21"], LOW),
];

const JAUNDICE: &[Template] = &[
    t(
        "皮肤、巩膜黄染{d}天，伴乏力、纳差、尿黄",
        &["R17", "B15.9"],
        None,
    ),
    t("眼黄、尿黄{d}天，伴恶心", &["B15.9"], None),
    t("乏力纳差{n}天，发现眼睛发黄{d}天", &["R17"], None),
    t("身目黄染{d}天，伴低热{t}℃", &["B15.9"], LOW),
    t("Yellow eyes and dark urine for {d} days", &["R17"], None),
];

const CONJUNCTIVITIS: &[Template] = &[
    t("双眼红、眼分泌物增多{d}天", &["H10.9", "B30.3"], None),
    t("左眼充血、流泪{d}天", &["H10.9"], None),
    t("红眼病，眼屎多，异物感{d}天", &["B30.3"], None),
    t("眼睛发红、畏光{d}天", &["H10.3"], None),
    t("Red eyes with discharge for {d} days", &["H10.9"], None),
];

const NEURO: &[Template] = &[
    t("发热伴抽搐1次，体温{t}℃", &["R56.0"], HIGH),
    t("头痛、颈项强直{d}天，伴发热", &["G03.9"], LOW),
    t("嗜睡、精神差{d}天，伴发热{t}℃", &["G04.9", "A83.0"], LOW),
    t("意识模糊半天", &[], None),
    t("Fever and seizure this morning, drowsy", &["G03.9"], LOW),
];

const FEVER_HAEM: &[Template] = &[
    t(
        "发热{d}天，最高{t}℃，伴牙龈出血、皮肤出血点",
        &["A90", "A91"],
        HIGH,
    ),
    t("高热{d}天，体温{t}℃，四肢散在瘀点", &["A90"], HIGH),
    t("发热、头痛、全身肌肉酸痛{d}天，鼻出血", &["A90"], LOW),
    t("发热{d}天，体温{t}℃，刷牙出血", &[], LOW),
    t("Fever {t} with petechiae and bleeding gums", &["A90"], HIGH),
];

fn family(kind: Syn) -> &'static [Template] {
    match kind {
        Syn::Background => BACKGROUND,
        Syn::Fever => FEVER,
        Syn::Ili => ILI,
        Syn::Gi => GI,
        Syn::Rash => RASH,
        Syn::Jaundice => JAUNDICE,
        Syn::Conjunctivitis => CONJUNCTIVITIS,
        Syn::Neuro => NEURO,
        Syn::FeverHaem => FEVER_HAEM,
    }
}

/// A complaint as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Complaint {
    pub text: String,
    /// `|`-separated ICD-10 codes, often empty.
    pub codes: String,
    /// The measured temperature, when the site recorded one.
    pub temperature: Option<f64>,
}

fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A complaint of `kind`.
pub(crate) fn complaint(rng: &mut impl Rng, kind: Syn) -> Complaint {
    let list = family(kind);
    let tpl = &list[rng.random_range(0..list.len())];
    let stated = tpl
        .fever
        .map(|(lo, hi)| tenth(lo + rng.random::<f64>() * (hi - lo)));
    let mut text = String::with_capacity(tpl.text.len() + 8);
    let mut rest = tpl.text;
    while let Some(i) = rest.find('{') {
        text.push_str(&rest[..i]);
        let token = rest.get(i..i + 3).unwrap_or("");
        match token {
            "{d}" => text.push_str(&rng.random_range(1..=5).to_string()),
            "{n}" => text.push_str(&rng.random_range(2..=8).to_string()),
            "{t}" => text.push_str(&format!("{:.1}", stated.unwrap_or(38.5))),
            _ => text.push_str(token),
        }
        rest = rest.get(i + 3..).unwrap_or("");
    }
    text.push_str(rest);
    // Diagnoses are coded at four visits in ten.
    let codes = if !tpl.codes.is_empty() && rng.random_bool(0.4) {
        tpl.codes[rng.random_range(0..tpl.codes.len())].to_owned()
    } else {
        String::new()
    };
    // Seven sites in ten record a temperature: the stated one (minus what the antipyretic
    // took off, never below the template's floor), or a normal one for afebrile visits.
    let temperature = if rng.random_bool(0.7) {
        Some(match (tpl.fever, stated) {
            (Some((lo, _)), Some(s)) => tenth((s - rng.random::<f64>() * 0.6).max(lo)),
            _ => tenth(36.0 + rng.random::<f64>() * 1.2),
        })
    } else {
        None
    };
    Complaint {
        text,
        codes,
        temperature,
    }
}
