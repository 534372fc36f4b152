//! Classification speed on one core: a generated day of a large city's visits (1,000,000 by
//! default), each a chief complaint of one to four clauses in Chinese or English, with
//! diagnosis codes on most and a measured temperature on half, classified by the built-in
//! dictionary. Generating comes first and is not timed; the timed loop classifies every
//! record and keeps only a count. Prints records per second (best and median of five runs)
//! and the syndromes found.
//!
//! `cargo bench -p hc-syndromes --bench classify` (RECORDS=… to change the number).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use hc_syndromes::{Dictionary, Syndrome, Visit};

/// Clauses a complaint is made of: symptoms, negations, temperatures, durations.
const CLAUSES: &[&str] = &[
    "发热2天",
    "最高39.2℃",
    "伴咳嗽、咽痛",
    "咳嗽咳痰1周",
    "无发热",
    "腹泻3次/日",
    "呕吐2次",
    "水样便",
    "无恶心呕吐",
    "全身皮疹伴瘙痒",
    "手足口出疹",
    "低热37.8",
    "皮肤巩膜黄染",
    "双眼红、分泌物多",
    "头痛伴颈项强直",
    "喷射性呕吐",
    "意识不清半小时",
    "发热伴抽搐1次",
    "皮肤瘀点",
    "牙龈出血",
    "无明显诱因出现头晕",
    "血压控制不佳",
    "复诊开药",
    "腰痛3天",
    "体温37.2",
    "咽部不适",
    "否认发热、咳嗽",
    "乏力纳差",
    "流涕鼻塞",
    "fever 38.6 C with cough",
    "denies fever",
    "productive cough x3d",
    "sore throat",
    "vomiting and diarrhea since last night",
    "rash on trunk",
    "no rash",
    "yellow eyes",
    "pink eye",
    "stiff neck and headache",
    "confused and drowsy",
    "nosebleed",
    "temp 101.8F",
    "back pain after lifting",
    "routine check-up",
];

const CODES: &[&str] = &[
    "",
    "J06.9",
    "J10.1",
    "J11.1|R50.9",
    "A09.0",
    "K52.9",
    "B08.4",
    "L50.9",
    "B18.1",
    "H10.3",
    "G03.9",
    "A91",
    "I10",
    "E11.9",
    "M54.5",
    "Z00.0",
    "J18.900x001",
];

/// A small deterministic generator (xorshift64*), so every run classifies the same records.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Record {
    complaint: String,
    codes: &'static str,
    temperature: Option<f64>,
}

fn generate(n: usize) -> Vec<Record> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            let clauses = 1 + rng.below(4);
            let mut complaint = String::new();
            for i in 0..clauses {
                if i > 0 {
                    complaint.push_str(if rng.below(2) == 0 { "，" } else { ", " });
                }
                complaint.push_str(CLAUSES[rng.below(CLAUSES.len())]);
            }
            let temperature = (rng.below(2) == 0).then(|| 36.0 + rng.below(40) as f64 / 10.0);
            Record {
                complaint,
                codes: CODES[rng.below(CODES.len())],
                temperature,
            }
        })
        .collect()
}

fn main() {
    let n: usize = std::env::var("RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let dictionary = Dictionary::builtin().expect("the built-in dictionary");
    println!(
        "dictionary {} loaded and compiled in {:.1} ms",
        dictionary.version(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let records = generate(n);
    let chars: usize = records.iter().map(|r| r.complaint.chars().count()).sum();
    println!(
        "{n} records generated, {:.1} characters of complaint on average",
        chars as f64 / n as f64
    );

    let mut rates = Vec::new();
    let mut found = [0usize; 8];
    for run in 0..5 {
        let t = Instant::now();
        let mut counts = [0usize; 8];
        for r in &records {
            let c = dictionary.classify(black_box(&Visit {
                chief_complaint: &r.complaint,
                diagnosis_codes: r.codes,
                temperature: r.temperature,
            }));
            for s in c.syndromes.iter() {
                counts[s as usize] += 1;
            }
        }
        let seconds = t.elapsed().as_secs_f64();
        rates.push(n as f64 / seconds);
        println!(
            "run {}: {n} records in {seconds:.3} s, {:.0} records/s",
            run + 1,
            n as f64 / seconds
        );
        found = counts;
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "classify: best {:.0} records/s, median {:.0} records/s (one thread)",
        rates[rates.len() - 1],
        rates[rates.len() / 2]
    );
    let shares: Vec<String> = Syndrome::ALL
        .iter()
        .zip(found)
        .map(|(s, k)| format!("{s} {:.1}%", 100.0 * k as f64 / n as f64))
        .collect();
    println!("syndromes found: {}", shares.join(", "));
}
