//! Classifying one visit: diagnosis codes, then the complaint (terms, negation, stated
//! temperatures), then the measured temperature, then the syndromes that need a fever.

use std::fmt;

use crate::dictionary::{Dictionary, Role};
use crate::icd::IcdCode;
use crate::syndrome::{Syndrome, SyndromeSet};
use crate::text::{Number, Scale, clause_marks, normalise_into, numbers};

/// What the classifier reads of a visit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Visit<'a> {
    /// The chief complaint (主诉), free text in Chinese or English.
    pub chief_complaint: &'a str,
    /// ICD-10 codes separated by `|` (`J10.1|R50.9`); pieces that are not codes are ignored.
    pub diagnosis_codes: &'a str,
    /// The measured temperature in °C, if taken.
    pub temperature: Option<f64>,
}

/// One fact that put a syndrome on a visit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evidence<'a> {
    /// A term of the syndrome in the complaint, not negated (as the dictionary writes it).
    Term(&'a str),
    /// A fever term that met the fever the syndrome needs (高热 for ILI, 发热 for fever with
    /// bleeding).
    FeverTerm(&'a str),
    /// A temperature written in the complaint, in °C (converted from °F when so written).
    Stated(f64),
    /// The measured temperature, in °C.
    Measured(f64),
    /// A diagnosis code (as the record writes it) in one of the syndrome's entries.
    Code {
        /// The code.
        code: &'a str,
        /// The dictionary entry it falls in (`J09-J11`).
        range: &'a str,
    },
    /// Fever, because the syndrome is a fever with a sign (ILI, fever with bleeding).
    Implied(Syndrome),
}

impl fmt::Display for Evidence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Term(t) => write!(f, "term {t}"),
            Evidence::FeverTerm(t) => write!(f, "fever term {t}"),
            Evidence::Stated(c) => write!(f, "stated {c:.1}°C"),
            Evidence::Measured(c) => write!(f, "measured {c:.1}°C"),
            Evidence::Code { code, range } => write!(f, "code {code} in {range}"),
            Evidence::Implied(s) => write!(f, "implied by {s}"),
        }
    }
}

/// A syndrome and one reason for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reason<'a> {
    /// The syndrome.
    pub syndrome: Syndrome,
    /// Why.
    pub evidence: Evidence<'a>,
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.syndrome, self.evidence)
    }
}

/// A term found in the complaint but negated, and the cue that negated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negated<'a> {
    /// The syndrome the term belongs to.
    pub syndrome: Syndrome,
    /// The term, as the dictionary writes it.
    pub term: &'a str,
    /// The negation cue, as the dictionary writes it.
    pub cue: &'a str,
}

impl fmt::Display for Negated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} negated by {}",
            self.syndrome, self.term, self.cue
        )
    }
}

/// The syndromes of a visit and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classification<'a> {
    /// The syndromes found.
    pub syndromes: SyndromeSet,
    /// Every reason, in syndrome order (a syndrome may have several).
    pub reasons: Vec<Reason<'a>>,
    /// Terms that were found but negated (what the complaint rules out).
    pub negated: Vec<Negated<'a>>,
}

impl<'a> Classification<'a> {
    /// The reasons for `syndrome`.
    pub fn reasons_for(&self, syndrome: Syndrome) -> impl Iterator<Item = &Evidence<'a>> {
        self.reasons
            .iter()
            .filter(move |r| r.syndrome == syndrome)
            .map(|r| &r.evidence)
    }

    fn add(&mut self, syndrome: Syndrome, evidence: Evidence<'a>) {
        self.syndromes.insert(syndrome);
        let reason = Reason { syndrome, evidence };
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
    }
}

/// A pattern found in the text that survived the boundary and containment checks.
#[derive(Debug, Clone, Copy)]
struct Found {
    pattern: usize,
    start: usize,
    end: usize,
}

/// A term occurrence and whether it was negated.
#[derive(Debug, Clone, Copy)]
struct Hit<'a> {
    syndrome: Syndrome,
    high: bool,
    label: &'a str,
    end: usize,
    negated: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Break,
    Found(usize),
    Number(usize),
}

/// Characters between byte offsets `a` and `b` of `text` (0 when `b <= a`).
fn chars_between(text: &str, a: usize, b: usize) -> usize {
    if b <= a {
        return 0;
    }
    text.get(a..b).map_or(usize::MAX, |s| s.chars().count())
}

fn fahrenheit_to_celsius(f: f64) -> f64 {
    (f - 32.0) * 5.0 / 9.0
}

impl Dictionary {
    /// Classifies one visit: the syndromes, each with its reasons, and the terms the
    /// complaint negates. Pure and cheap (one pass of the automaton over the complaint).
    pub fn classify<'a>(&'a self, visit: &Visit<'a>) -> Classification<'a> {
        let mut out = Classification::default();
        for raw in visit.diagnosis_codes.split('|') {
            let Some(code) = IcdCode::parse(raw) else {
                continue;
            };
            for (syndrome, range) in &self.icd {
                if range.contains(&code) {
                    out.add(
                        *syndrome,
                        Evidence::Code {
                            code: raw.trim(),
                            range: &range.text,
                        },
                    );
                }
            }
        }

        let mut text = String::new();
        normalise_into(visit.chief_complaint, &mut text);
        let (hits, stated) = self.read(&text);

        // Fever, and the fever a syndrome with a sign can lean on: (°C, evidence), best first
        // on ties (measured, then stated, then words).
        let mut candidates: Vec<(f64, Evidence<'a>)> = Vec::new();
        if let Some(t) = visit.temperature.filter(|t| t.is_finite()) {
            if t >= self.fever_at_least {
                out.add(Syndrome::Fever, Evidence::Measured(t));
            }
            candidates.push((t, Evidence::Measured(t)));
        }
        for &t in &stated {
            if t >= self.fever_at_least {
                out.add(Syndrome::Fever, Evidence::Stated(t));
            }
            candidates.push((t, Evidence::Stated(t)));
        }
        for h in &hits {
            if h.syndrome == Syndrome::Fever && h.negated.is_none() {
                out.add(Syndrome::Fever, Evidence::Term(h.label));
                let level = if h.high {
                    self.high_at_least
                } else {
                    self.fever_at_least
                };
                candidates.push((level, Evidence::FeverTerm(h.label)));
            }
        }
        let mut best: Option<(f64, Evidence<'a>)> = None;
        for c in candidates {
            if best.is_none_or(|b| c.0 > b.0) {
                best = Some(c);
            }
        }

        for syndrome in Syndrome::ALL.into_iter().skip(1) {
            let needs = self.needs_fever[syndrome as usize];
            let fever = match needs {
                None => None,
                Some(at_least) => match best.filter(|b| b.0 >= at_least) {
                    Some(b) => Some(b.1),
                    None => continue,
                },
            };
            let mut any = false;
            for h in hits
                .iter()
                .filter(|h| h.syndrome == syndrome && h.negated.is_none())
            {
                out.add(syndrome, Evidence::Term(h.label));
                any = true;
            }
            if let (true, Some(evidence)) = (any, fever) {
                out.add(syndrome, evidence);
            }
        }
        for syndrome in Syndrome::ALL {
            if self.needs_fever[syndrome as usize].is_some()
                && out.syndromes.contains(syndrome)
                && !out.syndromes.contains(Syndrome::Fever)
            {
                out.add(Syndrome::Fever, Evidence::Implied(syndrome));
            }
        }
        out.reasons.sort_by_key(|r| r.syndrome);

        for h in &hits {
            if let Some(cue) = h.negated {
                let n = Negated {
                    syndrome: h.syndrome,
                    term: h.label,
                    cue,
                };
                if !out.negated.contains(&n) {
                    out.negated.push(n);
                }
            }
        }
        out
    }

    /// The term occurrences of normalised `text` (each with its negation, if any) and the
    /// temperatures it states outside a negated clause.
    fn read<'a>(&'a self, text: &str) -> (Vec<Hit<'a>>, Vec<f64>) {
        let bytes = text.as_bytes();
        let letter_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_alphabetic);
        let mut found: Vec<Found> = self
            .automaton
            .find_overlapping_iter(text)
            .filter_map(|m| {
                let p = &self.patterns[m.pattern().as_usize()];
                let left_ok = !p.left || m.start() == 0 || !letter_at(m.start() - 1);
                let right_ok = !p.right || !letter_at(m.end());
                (left_ok && right_ok).then_some(Found {
                    pattern: m.pattern().as_usize(),
                    start: m.start(),
                    end: m.end(),
                })
            })
            .collect();
        // Longest first among those starting together, so a container precedes what it holds.
        found.sort_unstable_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut keep = vec![true; found.len()];
        for i in 0..found.len() {
            let inner = found[i];
            let inner_terms = self.patterns[inner.pattern].terms;
            keep[i] = !found[..i].iter().any(|outer| {
                outer.end >= inner.end && outer.end - outer.start > inner.end - inner.start && {
                    // Terms of different syndromes both count (scarlet fever).
                    let outer_terms = self.patterns[outer.pattern].terms;
                    inner_terms.is_empty()
                        || outer_terms.is_empty()
                        || inner_terms.overlaps(outer_terms)
                }
            });
        }

        let mut marks = Vec::new();
        clause_marks(text, &self.clause_marks, &mut marks);
        let mut nums: Vec<Number> = Vec::new();
        numbers(text, &self.units, &mut nums);

        let mut events: Vec<(usize, Event)> =
            Vec::with_capacity(found.len() + marks.len() + nums.len());
        events.extend(marks.iter().map(|&p| (p, Event::Break)));
        events.extend(
            found
                .iter()
                .enumerate()
                .filter(|(i, _)| keep[*i])
                .map(|(i, f)| (f.start, Event::Found(i))),
        );
        events.extend(
            nums.iter()
                .enumerate()
                .map(|(i, n)| (n.start, Event::Number(i))),
        );
        events.sort_unstable();

        let mut hits: Vec<Hit<'a>> = Vec::new();
        let mut stated = Vec::new();
        let mut clause_start = 0; // index into hits of the clause's first term
        let mut clause_cue: Option<&'a str> = None;
        let mut near_cue: Option<(&'a str, usize)> = None; // cue and where it ends
        let mut near_target: Option<usize> = None; // start of the terms it negates
        let mut last_cue_end: Option<usize> = None; // of a temperature cue or fever term
        for (_, event) in events {
            let f = match event {
                Event::Break => {
                    clause_start = hits.len();
                    clause_cue = None;
                    near_cue = None;
                    near_target = None;
                    last_cue_end = None;
                    continue;
                }
                Event::Number(i) => {
                    let n = &nums[i];
                    if clause_cue.is_some() {
                        continue;
                    }
                    let cued = last_cue_end.is_some_and(|e| {
                        e <= n.start && chars_between(text, e, n.start) <= self.cue_window
                    });
                    if let Some(t) = self.temperature(n, cued) {
                        stated.push(t);
                    }
                    continue;
                }
                Event::Found(i) => found[i],
            };
            let p = &self.patterns[f.pattern];
            for role in &p.roles {
                match *role {
                    Role::ClauseWord => {
                        clause_start = hits.len();
                        clause_cue = None;
                        near_cue = None;
                        near_target = None;
                        last_cue_end = None;
                    }
                    Role::Before => clause_cue = Some(&p.label),
                    Role::BeforeNear => {
                        near_cue = Some((&p.label, f.end));
                        near_target = None;
                    }
                    Role::After => {
                        for h in hits[clause_start..].iter_mut() {
                            if h.end <= f.start && h.negated.is_none() {
                                h.negated = Some(&p.label);
                            }
                        }
                    }
                    Role::AfterNear => {
                        for h in hits[clause_start..].iter_mut() {
                            if h.end <= f.start
                                && chars_between(text, h.end, f.start) <= self.near
                                && h.negated.is_none()
                            {
                                h.negated = Some(&p.label);
                            }
                        }
                    }
                    Role::TemperatureCue => last_cue_end = Some(f.end),
                    Role::Ignore => {}
                    Role::Term { syndrome, high } => {
                        let mut negated = clause_cue;
                        if let Some((cue, cue_end)) = near_cue {
                            // A near cue negates the first term after it (and any other term
                            // starting at the same place), if it is near enough.
                            let target = *near_target.get_or_insert(f.start);
                            if target == f.start {
                                if chars_between(text, cue_end, f.start) <= self.near {
                                    negated = negated.or(Some(cue));
                                }
                            } else {
                                near_cue = None;
                                near_target = None;
                            }
                        }
                        if syndrome == Syndrome::Fever {
                            last_cue_end = Some(f.end);
                        }
                        hits.push(Hit {
                            syndrome,
                            high,
                            label: &p.label,
                            end: f.end,
                            negated,
                        });
                    }
                }
            }
        }
        (hits, stated)
    }

    /// The temperature (°C) number `n` states, if it is one.
    fn temperature(&self, n: &Number, cued: bool) -> Option<f64> {
        if n.not_temperature {
            return None;
        }
        let (lo, hi) = self.plausible;
        let celsius = match n.unit {
            Some(Scale::Celsius) => n.value,
            Some(Scale::Fahrenheit) => fahrenheit_to_celsius(n.value),
            // After a cue, a number too high for °C is read as °F (temp 101.3).
            None if cued && n.value > hi => fahrenheit_to_celsius(n.value),
            None if cued || (self.bare_decimals && n.decimal) => n.value,
            None => return None,
        };
        (lo..=hi).contains(&celsius).then_some(celsius)
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn dictionary() -> Dictionary {
        Dictionary::builtin().unwrap()
    }

    /// The syndromes of a complaint alone.
    fn text(complaint: &str) -> String {
        visit(complaint, "", None)
    }

    fn visit(complaint: &str, codes: &str, temperature: Option<f64>) -> String {
        dictionary()
            .classify(&Visit {
                chief_complaint: complaint,
                diagnosis_codes: codes,
                temperature,
            })
            .syndromes
            .to_string()
    }

    /// The syndromes, every reason and every negated term, one a line.
    fn explain(complaint: &str, codes: &str, temperature: Option<f64>, expect: Expect) {
        let d = dictionary();
        let c = d.classify(&Visit {
            chief_complaint: complaint,
            diagnosis_codes: codes,
            temperature,
        });
        let mut out = format!("[{}]\n", c.syndromes);
        for r in &c.reasons {
            out.push_str(&format!("{r}\n"));
        }
        for n in &c.negated {
            out.push_str(&format!("not {n}\n"));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn fever_by_words_measure_and_statement() {
        assert_eq!(text("发热2天"), "fever");
        assert_eq!(text("低烧"), "fever");
        assert_eq!(text("fever since yesterday"), "fever");
        assert_eq!(text("febrile child"), "fever");
        assert_eq!(visit("腹痛", "", Some(37.5)), "fever");
        assert_eq!(visit("腹痛", "", Some(37.4)), "");
        assert_eq!(visit("头痛", "", Some(f64::NAN)), "");
    }

    #[test]
    fn a_stated_temperature_below_the_threshold_is_not_fever_by_itself() {
        for below in ["体温37.2", "temp 37.0C", "T 37.4", "体温37度", "temp 99.1"] {
            assert_eq!(text(below), "", "{below}");
        }
        for above in [
            "发热38.5℃",
            "T 39.1",
            "fever 38.6 C",
            "体温39度",
            "体温37.5",
            "烧到38度5",
            "temp 101.3 F",
            "Tmax 102",
            "最高38.2",
            "38.6，咽痛",
        ] {
            assert_eq!(&text(above)[..5], "fever", "{above}");
        }
        // Numbers that are not temperatures.
        for other in [
            "体重38.5kg",
            "孕38周",
            "咳嗽36小时",
            "38岁",
            "cough for 38 days",
        ] {
            assert_eq!(text(other), "", "{other}");
        }
    }

    #[test]
    fn negated_fever_is_no_fever() {
        for negated in [
            "无发热",
            "不发烧",
            "denies fever",
            "no fever",
            "afebrile",
            "apyrexial",
            "发热(-)",
            "发热：无",
            "fever: absent",
            "有无发热不详",
            "没发烧",
            "否认畏寒发热",
            "without fever",
            "negative for fever",
            "发热门诊就诊",
            "hay fever",
        ] {
            assert_eq!(text(negated), "", "{negated}");
        }
        // Pseudo-negations leave the fever alone.
        for fever in [
            "无明显诱因出现发热",
            "发热不退",
            "发烧没退",
            "不明原因发热",
            "fever not improving",
        ] {
            assert_eq!(text(fever), "fever", "{fever}");
        }
    }

    #[test]
    fn ili_needs_a_fever_of_38_and_a_respiratory_sign() {
        assert_eq!(text("发热38.0℃，咳嗽"), "fever|ili");
        assert_eq!(text("发热37.9℃，咳嗽"), "fever");
        assert_eq!(
            text("发热，咳嗽"),
            "fever",
            "a fever without a number is not 38"
        );
        assert_eq!(text("高热，咳嗽"), "fever|ili", "a stated high fever is");
        assert_eq!(text("高烧伴嗓子疼"), "fever|ili");
        assert_eq!(text("high fever and sore throat"), "fever|ili");
        assert_eq!(visit("咳嗽", "", Some(38.0)), "fever|ili");
        assert_eq!(visit("咽痛", "", Some(37.9)), "fever");
        assert_eq!(
            text("体温39.0，流涕"),
            "fever",
            "a runny nose is not a sign of ILI"
        );
        assert_eq!(text("体温39.0，无咳嗽、咽痛"), "fever");
        assert_eq!(text("咳嗽，喉咙痛"), "", "no fever");
        assert_eq!(text("cough, temp 38.4"), "fever|ili");
        assert_eq!(text("sore throat, T 39.1"), "fever|ili");
        assert_eq!(
            text("denies fever, productive cough x3d, T 38.2"),
            "fever|ili"
        );
    }

    #[test]
    fn each_syndrome_by_chinese_and_english_words() {
        let cases = [
            ("腹泻3次", "gi"),
            ("拉肚子", "gi"),
            ("呕吐2次", "gi"),
            ("watery stools", "gi"),
            ("diarrhoea", "gi"),
            ("vomiting since noon", "gi"),
            ("全身皮疹", "rash"),
            ("手足口出疹", "rash"),
            ("口腔疱疹", "rash"),
            ("rash on the arms", "rash"),
            ("blisters on the hands", "rash"),
            ("red spots on the legs", "rash"),
            ("皮肤巩膜黄染", "jaundice"),
            ("黄疸3天", "jaundice"),
            ("yellow eyes", "jaundice"),
            ("jaundiced", "jaundice"),
            ("结膜充血", "conjunctivitis"),
            ("双眼红", "conjunctivitis"),
            ("红眼病", "conjunctivitis"),
            ("pink eye", "conjunctivitis"),
            ("red eyes", "conjunctivitis"),
            ("颈项强直", "neuro"),
            ("意识障碍", "neuro"),
            ("嗜睡", "neuro"),
            ("抽搐1次", "neuro"),
            ("惊厥", "neuro"),
            ("stiff neck", "neuro"),
            ("confusion", "neuro"),
            ("unconscious", "neuro"),
            ("seizure", "neuro"),
            ("convulsions", "neuro"),
        ];
        for (complaint, expected) in cases {
            assert_eq!(text(complaint), expected, "{complaint}");
        }
    }

    #[test]
    fn fever_with_bleeding_needs_both_and_is_a_fever() {
        assert_eq!(text("发热伴皮肤瘀点"), "fever|fever_haem");
        assert_eq!(text("发烧，牙龈出血"), "fever|fever_haem");
        assert_eq!(text("fever with petechiae"), "fever|fever_haem");
        assert_eq!(text("epistaxis, T 38.1"), "fever|fever_haem");
        assert_eq!(visit("鼻出血", "", Some(38.0)), "fever|fever_haem");
        assert_eq!(text("鼻出血"), "", "bleeding alone");
        assert_eq!(text("nosebleed, no fever"), "");
        // By code, and fever follows.
        explain(
            "复诊",
            "A91",
            None,
            expect![[r#"
                [fever|fever_haem]
                fever: implied by fever_haem
                fever_haem: code A91 in A90-A99
            "#]],
        );
    }

    #[test]
    fn codes_count_on_their_own_however_written() {
        let cases = [
            ("R50.9", "fever"),
            ("J10.1", "fever|ili"),
            ("J101", "fever|ili"),
            ("j11", "fever|ili"),
            ("J10.100x001", "fever|ili"),
            ("A09", "gi"),
            ("K52.9", "gi"),
            ("B08.2", "rash"),
            ("B082", "rash"),
            ("B08.4", "rash"),
            ("B08.5", ""),
            ("R21", "rash"),
            ("B17.1", "jaundice"),
            ("P59.9", "jaundice"),
            ("H10.3", "conjunctivitis"),
            ("B30.1", "conjunctivitis"),
            ("A39.0†", "neuro"),
            ("A87.9", "neuro"),
            ("G05", "neuro"),
            ("G06", ""),
            ("A98.5", "fever|fever_haem"),
            ("J18.9|I10", ""),
            ("I10|A09.0", "gi"),
            ("not a code", ""),
        ];
        for (codes, expected) in cases {
            assert_eq!(visit("复诊", codes, None), expected, "{codes}");
        }
    }

    #[test]
    fn negation_stops_at_the_end_of_its_clause() {
        // 、 lists what one cue negates; ，。； and "but" end it.
        assert_eq!(visit("无发热、咳嗽", "", None), "");
        assert_eq!(visit("发热，无咳嗽", "", Some(38.5)), "fever");
        assert_eq!(visit("无发热，咳嗽", "", Some(38.5)), "fever|ili");
        assert_eq!(visit("no fever or cough", "", Some(38.5)), "fever");
        assert_eq!(
            visit("no cough but sore throat", "", Some(38.5)),
            "fever|ili"
        );
        assert_eq!(visit("无腹泻，但有呕吐", "", None), "gi");
        assert_eq!(visit("无腹泻但呕吐", "", None), "gi");
        assert_eq!(visit("否认发热，有咳嗽", "", Some(38.2)), "fever|ili");
        // 不 negates the word after it, not the rest.
        assert_eq!(visit("不发热，咳嗽", "", Some(38.2)), "fever|ili");
        assert_eq!(visit("咽部不适伴咳嗽", "", Some(38.2)), "fever|ili");
        assert_eq!(visit("神志不清", "", None), "neuro");
        // Cues after the term.
        assert_eq!(visit("皮疹(-)，腹泻(+)", "", None), "gi");
        assert_eq!(visit("呕吐、腹泻均无", "", None), "");
        assert_eq!(visit("脑膜刺激征阴性", "", None), "");
        assert_eq!(visit("既往惊厥史", "", None), "");
    }

    #[test]
    fn words_match_whole_and_the_longer_phrase_wins() {
        assert_eq!(text("car crash"), "");
        assert_eq!(text("thrash"), "");
        assert_eq!(text("glaucoma"), "");
        assert_eq!(text("荨麻疹"), "", "hives, though 麻疹 is measles");
        assert_eq!(text("湿疹"), "");
        assert_eq!(text("带状疱疹"), "");
        assert_eq!(text("喷射性呕吐"), "");
        assert_eq!(text("眼皮抽搐"), "");
        assert_eq!(text("fever blister"), "");
        assert_eq!(text("diaper rash"), "");
        // Terms of two syndromes inside one another both count.
        assert_eq!(text("scarlet fever"), "fever|rash");
        assert_eq!(text("ＦＥＶＥＲ ３８．９，ＣＯＵＧＨ"), "fever|ili");
    }

    #[test]
    fn a_classification_explains_itself() {
        explain(
            "发热2天，最高39.2℃，伴咳嗽、咽痛，无腹泻",
            "J06.9",
            Some(38.1),
            expect![[r#"
                [fever|ili]
                fever: measured 38.1°C
                fever: stated 39.2°C
                fever: term 发热
                ili: term 咳嗽
                ili: term 咽痛
                ili: stated 39.2°C
                not gi: 腹泻 negated by 无
            "#]],
        );
        explain(
            "患儿高热伴抽搐，颈项强直，皮肤瘀斑",
            "",
            None,
            expect![[r#"
                [fever|neuro|fever_haem]
                fever: term 高热
                neuro: term 抽搐
                neuro: term 颈项强直
                fever_haem: term 瘀斑
                fever_haem: fever term 高热
            "#]],
        );
        explain(
            "denies fever, productive cough x3d",
            "",
            None,
            expect![[r#"
                []
                not fever: fever* negated by denies
            "#]],
        );
    }

    #[test]
    fn a_province_can_make_a_syndrome_need_fever() {
        // 发热伴出疹: rash terms count only with a fever, and such a rash is a fever.
        let province = crate::BUILTIN.replace(
            "[syndromes.rash]\n",
            "[syndromes.rash]\nfever_at_least = 37.5\n",
        );
        let d = Dictionary::from_toml(&province).unwrap();
        let classify = |complaint, codes| {
            d.classify(&Visit {
                chief_complaint: complaint,
                diagnosis_codes: codes,
                temperature: None,
            })
            .syndromes
            .to_string()
        };
        assert_eq!(classify("全身皮疹", ""), "");
        assert_eq!(classify("发热伴全身皮疹", ""), "fever|rash");
        assert_eq!(classify("复诊", "B05.9"), "fever|rash");
    }

    #[test]
    fn a_province_can_move_the_threshold() {
        // Some provinces' fever clinics take 37.3 °C as fever (both the fever threshold and
        // the fever that fever with bleeding needs move).
        let province = crate::BUILTIN
            .replace("version = \"healthcity-2026.1\"", "version = \"gd-2026\"")
            .replace("at_least = 37.5", "at_least = 37.3");
        let d = Dictionary::from_toml(&province).unwrap();
        assert_eq!(d.version(), "gd-2026");
        let v = Visit {
            chief_complaint: "体温37.4，鼻出血",
            ..Visit::default()
        };
        assert_eq!(d.classify(&v).syndromes.to_string(), "fever|fever_haem");
        assert_eq!(dictionary().classify(&v).syndromes.to_string(), "");
    }
}
