//! Rt against EpiEstim 2.2-4 (`test_data/surveillance/rt_*`), and its errors.

use hc_detect::rt::{RtConfig, RtError, estimate};

use crate::support::{Mismatches, number, read_csv, read_tsv, same, show};

#[test]
fn matches_epiestim() {
    let mut mismatches = Mismatches::default();
    for case in read_tsv("surveillance/rt_manifest.tsv") {
        let name = &case["name"];
        assert_eq!(case["method"], "parametric_si", "{name}: unknown method");
        let mean_si: f64 = case["mean_si"].parse().unwrap();
        let std_si: f64 = case["std_si"].parse().unwrap();
        let incidence: Vec<f64> = read_csv(&format!("surveillance/{name}.input.csv"))
            .iter()
            .map(|r| number(&r["incidence"]).unwrap())
            .collect();
        let theirs = read_csv(&format!("surveillance/{name}.expected.csv"));
        let mut found = Vec::new();
        let ours = match estimate(&incidence, &RtConfig::new(mean_si, std_si)) {
            Ok(ours) => ours,
            Err(e) => {
                mismatches.case(name, vec![e.to_string()]);
                continue;
            }
        };
        found.extend(compare(&ours, &theirs));
        mismatches.case(name, found);
    }
    mismatches.finish();
}

#[test]
fn estimates_start_after_the_mean_serial_interval() {
    // Measles: a mean serial interval of 14.9 days; windows must end after ~15.
    let incidence = vec![3.0; 40];
    let out = estimate(&incidence, &RtConfig::new(14.9, 3.9)).unwrap();
    let first = &out[0];
    assert!(first.t_end as f64 > 14.9 && first.t_end <= 16, "{first:?}");
    assert_eq!(first.t_end - first.t_start, 6);
    assert_eq!(out.last().unwrap().t_end, 40);
}

#[test]
fn constant_incidence_gives_rt_near_one() {
    let incidence = vec![50.0; 60];
    let out = estimate(&incidence, &RtConfig::new(2.6, 1.5)).unwrap();
    let last = out.last().unwrap();
    assert!((last.mean - 1.0).abs() < 0.05, "{last:?}");
    assert!(last.q025 < last.median && last.median < last.q975);
}

#[test]
fn errors_name_the_problem() {
    let ok = vec![1.0; 10];
    assert_eq!(
        estimate(&ok, &RtConfig::new(1.0, 1.5)),
        Err(RtError::MeanSi(1.0))
    );
    assert_eq!(
        estimate(&ok, &RtConfig::new(2.6, 0.0)),
        Err(RtError::StdSi(0.0))
    );
    assert!(matches!(
        estimate(&ok[..7], &RtConfig::new(2.6, 1.5)),
        Err(RtError::TooShort {
            len: 7,
            needed: 8,
            ..
        })
    ));
    let mut bad = ok.clone();
    bad[4] = -1.0;
    let err = estimate(&bad, &RtConfig::new(2.6, 1.5)).unwrap_err();
    assert_eq!(
        err,
        RtError::Incidence {
            step: 5,
            value: -1.0
        }
    );
    assert!(err.to_string().contains("time step 5"));
    bad[4] = f64::NAN;
    assert!(matches!(
        estimate(&bad, &RtConfig::new(2.6, 1.5)),
        Err(RtError::Incidence { step: 5, .. })
    ));
    let mut config = RtConfig::new(2.6, 1.5);
    config.window = 0;
    assert_eq!(estimate(&ok, &config), Err(RtError::Window));
    config.window = 7;
    config.std_prior = 0.0;
    assert!(matches!(estimate(&ok, &config), Err(RtError::Prior { .. })));
}

/// Our estimates against R's rows: R's leading `NA` rows (windows ending before the mean serial
/// interval) are left out by us; the rest must match within 1e-6.
fn compare(
    ours: &[hc_detect::rt::RtEstimate],
    theirs: &[std::collections::BTreeMap<String, String>],
) -> Vec<String> {
    let mut found = Vec::new();
    // R's NA rows (windows ending before the mean serial interval) come first; we leave
    // them out.
    let skipped = theirs
        .iter()
        .take_while(|r| number(&r["mean"]).is_none())
        .count();
    if ours.len() + skipped != theirs.len() {
        found.push(format!(
            "{} estimates, R has {} of which {skipped} NA",
            ours.len(),
            theirs.len()
        ));
    }
    for (o, t) in ours.iter().zip(&theirs[skipped..]) {
        let at = format!("window {}..{}", o.t_start, o.t_end);
        if o.t_start.to_string() != t["t_start"] || o.t_end.to_string() != t["t_end"] {
            found.push(format!("{at}: R has {}..{}", t["t_start"], t["t_end"]));
            continue;
        }
        for (col, v) in [
            ("mean", o.mean),
            ("std", o.std),
            ("q025", o.q025),
            ("median", o.median),
            ("q975", o.q975),
        ] {
            let r = number(&t[col]);
            if !same(Some(v), r) {
                found.push(format!("{at}: {col} {v} but R {}", show(r)));
            }
        }
    }
    found
}

/// EpiEstim's `method = "non_parametric_si"` with the serial-interval distributions bundled
/// with its Flu2009 and SARS2003 data (`test_data/rt/make_rt_np.R`).
#[test]
fn non_parametric_matches_epiestim() {
    let mut mismatches = Mismatches::default();
    for name in ["rt_np_Flu2009", "rt_np_SARS2003"] {
        let incidence: Vec<f64> = read_csv(&format!("rt/{name}.input.csv"))
            .iter()
            .map(|r| number(&r["incidence"]).unwrap())
            .collect();
        let si: Vec<f64> = read_csv(&format!("rt/{name}.si.csv"))
            .iter()
            .map(|r| number(&r["si"]).unwrap())
            .collect();
        let theirs = read_csv(&format!("rt/{name}.expected.csv"));
        match estimate(&incidence, &RtConfig::non_parametric(si)) {
            Ok(ours) => mismatches.case(name, compare(&ours, &theirs)),
            Err(e) => mismatches.case(name, vec![e.to_string()]),
        }
    }
    mismatches.finish();
}

#[test]
fn a_serial_interval_that_is_not_a_distribution_is_refused() {
    let incidence = [1.0; 20];
    for (si, why) in [
        (vec![0.1, 0.9], "must give day 0 a weight of 0"),
        (vec![0.0, 0.5, 0.2], "must sum to 1"),
        (vec![0.0, 1.5, -0.5], "has a negative or non-numeric weight"),
    ] {
        assert_eq!(
            estimate(&incidence, &RtConfig::non_parametric(si)),
            Err(RtError::SiDistr(why))
        );
    }
}
