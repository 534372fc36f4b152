//! The `healthcity` binary as a user runs it: exit codes, printed counts, reject files,
//! settings from file and environment, the demo, and a live server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hc_store::Backend;
use hc_store::testkit::{backends, fresh};

fn healthcity(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthcity"))
        .current_dir(dir)
        .env("HEALTHCITY_DATABASE", db)
        .env_remove("HEALTHCITY_CONFIG")
        .env("HEALTHCITY_LOG", "warn")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A database URL for `backend`: a fresh PostgreSQL database, or a new SQLite file in `dir`.
async fn database(backend: Backend, dir: &Path) -> (String, Option<hc_store::testkit::TestDb>) {
    match backend {
        Backend::Sqlite => (format!("sqlite://{}/cli.db", dir.display()), None),
        Backend::Postgres => {
            let db = fresh(backend).await.unwrap();
            (db.url.clone(), Some(db))
        }
    }
}

const UNITS: &str = "code,name,parent_code,level\n440300,深圳市,440000,city\n440305,南山区,440300,district\n440305001,南头街道,440305,street\n440305001001,南头社区,440305001,community\n";

#[tokio::test]
async fn import_prints_counts_writes_rejects_and_exits_by_file_readability() {
    for b in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _keep) = database(b, dir.path()).await;
        std::fs::write(dir.path().join("units.csv"), UNITS).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "orgunits", "units.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout)
                .contains("accepted 4 (inserted 4, updated 0, unchanged 0), rejected 0"),
            "{}",
            text(&o)
        );
        assert!(
            !dir.path().join("units.csv.rejects.csv").exists(),
            "no reject file when nothing is rejected"
        );

        let residents = "id_type,id_number,name,community_code\nresident_id,11010519491231002X,王芳,440305001001\nresident_id,110105194912310021,错号,440305001001\n";
        std::fs::write(dir.path().join("people.csv"), residents).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "residents", "people.csv"]);
        assert!(
            o.status.success(),
            "rejected rows are not a failure: {}",
            text(&o)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("accepted 1 (inserted 1, updated 0, unchanged 0), rejected 1"),
            "{}",
            text(&o)
        );
        let rejects = std::fs::read_to_string(dir.path().join("people.csv.rejects.csv")).unwrap();
        assert!(
            rejects.starts_with(
                "line,field,reason,id_type,id_number,name,community_code\n3,id_number,"
            ),
            "{rejects}"
        );

        let o = healthcity(dir.path(), &db, &["import", "residents", "people.csv"]);
        assert!(
            String::from_utf8_lossy(&o.stdout)
                .contains("accepted 1 (inserted 0, updated 0, unchanged 1), rejected 1"),
            "{}",
            text(&o)
        );

        let o = healthcity(dir.path(), &db, &["import", "residents", "missing.csv"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        std::fs::write(dir.path().join("bad.csv"), "name,x\n1,2\n").unwrap();
        let o = healthcity(dir.path(), &db, &["import", "residents", "bad.csv"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains("lacks column(s) id_type, id_number, community_code"),
            "{}",
            text(&o)
        );
        let o = healthcity(dir.path(), &db, &["import", "patients", "people.csv"]);
        assert_eq!(o.status.code(), Some(2), "clap usage error: {}", text(&o));
    }
}

/// Two districts of the city as GeoJSON, codes under `adcode` as whole numbers.
const DISTRICTS: &str = r#"{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"adcode": 440300},
   "geometry": {"type": "Polygon", "coordinates": [[[113.8, 22.5], [114.1, 22.5], [114.1, 22.8], [113.8, 22.5]]]}},
  {"type": "Feature", "properties": {"adcode": "440305"},
   "geometry": {"type": "MultiPolygon", "coordinates": [[[[113.9, 22.5], [114.0, 22.5], [114.0, 22.6], [113.9, 22.5]]]]}}]}"#;

#[tokio::test]
async fn shapes_import_checks_every_feature_then_replaces_and_exports() {
    for b in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _keep) = database(b, dir.path()).await;
        std::fs::write(dir.path().join("units.csv"), UNITS).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "orgunits", "units.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        let export = |dir: &Path| {
            let o = healthcity(dir, &db, &["shapes", "export"]);
            assert!(o.status.success(), "{}", text(&o));
            String::from_utf8(o.stdout).unwrap()
        };
        assert!(
            hc_geo::from_geojson(&export(dir.path()), "code")
                .unwrap()
                .is_empty()
        );

        std::fs::write(dir.path().join("shenzhen.geojson"), DISTRICTS).unwrap();
        let args = [
            "shapes",
            "import",
            "shenzhen.geojson",
            "--code-property",
            "adcode",
        ];
        let o = healthcity(dir.path(), &db, &args);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("imported 2 shapes"),
            "{}",
            text(&o)
        );
        let first = export(dir.path());
        let shapes = hc_geo::from_geojson(&first, "code").unwrap();
        assert_eq!(
            shapes.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(),
            ["440300", "440305"]
        );
        assert_eq!(
            shapes[0].rings,
            [vec![[113.8, 22.5], [114.1, 22.5], [114.1, 22.8]]]
        );

        // Faults name the feature; nothing is written.
        let faults = [
            (
                DISTRICTS.replace("\"adcode\": \"440305\"", "\"adcode\": \"440399\""),
                "features[1] (code 440399)",
                "name no registered org unit",
            ),
            (
                DISTRICTS.replace(
                    "[114.0, 22.6], [113.9, 22.5]]",
                    "[114.0, 22.6], [113.9, 22.55]]",
                ),
                "features[1] (code 440305): ring 0 of polygon 0: is not closed",
                "",
            ),
            (
                DISTRICTS.replace("\"adcode\": 440300", "\"name\": \"深圳\""),
                "features[0]: property \"adcode\" is missing",
                "",
            ),
        ];
        for (file, want, also) in faults {
            std::fs::write(dir.path().join("bad.geojson"), file).unwrap();
            let o = healthcity(
                dir.path(),
                &db,
                &[
                    "shapes",
                    "import",
                    "bad.geojson",
                    "--code-property",
                    "adcode",
                ],
            );
            assert_eq!(o.status.code(), Some(2), "{}", text(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains(want) && err.contains(also), "{}", text(&o));
            assert_eq!(export(dir.path()), first, "nothing written");
        }
        let o = healthcity(dir.path(), &db, &["shapes", "import", "missing.geojson"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));

        // Exported, then imported again under the default property: the same shapes.
        let o = healthcity(
            dir.path(),
            &db,
            &["shapes", "export", "--output", "out.geojson"],
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = healthcity(dir.path(), &db, &["shapes", "import", "out.geojson"]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(export(dir.path()), first);
    }
}

#[tokio::test]
async fn import_takes_surveillance_feeds_once_and_names_bad_records() {
    for b in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _keep) = database(b, dir.path()).await;
        std::fs::write(dir.path().join("units.csv"), UNITS).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "orgunits", "units.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        let institutions =
            "code,name,kind,grade,community_code\nH1,南山医院,hospital,三级甲等,440305001001\n";
        std::fs::write(dir.path().join("inst.csv"), institutions).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "institutions", "inst.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        let visits = "record_id,institution_code,visit_time,community_code,age,sex,chief_complaint,diagnosis_codes,temperature\n\
                      v1,H1,2026-01-19 08:30,440305001001,34,M,发热伴咳嗽,,38.6\n\
                      v2,H1,2026-01-19 08:40,440305001001,34,M,腹泻,XYZ,abc\n";
        std::fs::write(dir.path().join("visits.csv"), visits).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "visits", "visits.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("2 records in")
                && String::from_utf8_lossy(&o.stdout)
                    .contains("inserted 1, updated 0, unchanged 0, rejected 1"),
            "{}",
            text(&o)
        );
        let rejects = std::fs::read_to_string(dir.path().join("visits.csv.rejects.csv")).unwrap();
        assert_eq!(
            rejects,
            "line,record_id,field,reason,reason_zh\n3,v2,diagnosis_codes,\"\"\"XYZ\"\" is not an ICD-10 code\",“XYZ”不是 ICD-10 编码\n3,v2,temperature,\"\"\"abc\"\" is not a temperature in °C\",“abc”不是摄氏温度\n"
        );
        let o = healthcity(dir.path(), &db, &["import", "visits", "visits.csv"]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("inserted 0, updated 0, unchanged 1"),
            "{}",
            text(&o)
        );
        // Re-classifying under the dictionary in force finds nothing to do; under a
        // province's own version every visit is read again.
        let o = healthcity(dir.path(), &db, &["surveillance", "reclassify"]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(": 0 read, 0 changed"),
            "{}",
            text(&o)
        );
        let province = hc_syndromes::BUILTIN.replacen("version = \"", "version = \"p-", 1);
        std::fs::write(dir.path().join("p.toml"), province).unwrap();
        let o = healthcity(
            dir.path(),
            &db,
            &["surveillance", "reclassify", "--dictionary", "p.toml"],
        );
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(": 1 read, 0 changed"),
            "{}",
            text(&o)
        );
        std::fs::write(
            dir.path().join("cases.csv"),
            "record_id,disease_code\n1,A00\n",
        )
        .unwrap();
        let o = healthcity(dir.path(), &db, &["import", "cases", "cases.csv"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("no `onset_date` column"),
            "{}",
            text(&o)
        );
    }
}

#[tokio::test]
async fn surveillance_run_raises_a_signal_once_and_lists_it_by_the_contract() {
    for b in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _keep) = database(b, dir.path()).await;
        std::fs::write(dir.path().join("units.csv"), UNITS).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "orgunits", "units.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        // One confirmed cholera case: a class A disease, where one case is a signal.
        let cases = "record_id,disease_code,onset_date,diagnosis_date,report_date,community_code,classification,age,sex\n\
                     c1,A00,2026-11-20,2026-11-20,2026-11-20,440305001001,confirmed,41,F\n";
        std::fs::write(dir.path().join("cases.csv"), cases).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "cases", "cases.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        let run = |args: &[&str]| {
            let mut all = vec!["surveillance", "run"];
            all.extend_from_slice(args);
            healthcity(dir.path(), &db, &all)
        };
        let o = run(&["--from", "2026-11-01", "--date", "2026-11-30"]);
        assert!(o.status.success(), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            out.contains("2026-11-01 to 2026-11-30") && out.contains("1 new signals"),
            "{}",
            text(&o)
        );
        // Re-running the same days raises nothing new: the open signal covers them.
        let o = run(&["--from", "2026-11-15", "--date", "2026-11-30"]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(" 0 new signals"),
            "{}",
            text(&o)
        );
        let o = healthcity(
            dir.path(),
            &db,
            &[
                "surveillance",
                "signals",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let csv = String::from_utf8_lossy(&o.stdout).to_string();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "signal_id,stream,source,syndrome,area_code,level,date,observed,expected,threshold,method,status"
            )
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 1, "{csv}");
        let row = &rows[0];
        assert_eq!(row[1], "cases/A00/440305001001/day", "{csv}");
        assert_eq!(
            (row[2], row[3], row[4], row[5], row[6], row[7]),
            (
                "cases",
                "A00",
                "440305001001",
                "community",
                "2026-11-20",
                "1"
            ),
            "{csv}"
        );
        assert_eq!((row[10], row[11]), ("fixed", "new"), "{csv}");
        // Outside the span: nothing.
        let o = healthcity(
            dir.path(),
            &db,
            &[
                "surveillance",
                "signals",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).lines().count(),
            1,
            "{}",
            text(&o)
        );
        // JSON carries what explains the signal.
        let o = healthcity(
            dir.path(),
            &db,
            &[
                "surveillance",
                "signals",
                "--from",
                "2026-11-01",
                "--format",
                "json",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let first = &json.as_array().unwrap()[0];
        assert_eq!(first["method"], "fixed", "{first}");
        assert!(first.to_string().contains("threshold=1"), "{first}");
        // A date that is not one, and a span backwards, are refused with the flag named.
        let o = run(&["--date", "2026-13-01"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--date"),
            "{}",
            text(&o)
        );
        let o = run(&["--from", "2026-12-01", "--date", "2026-11-30"]);
        assert!(!o.status.success(), "{}", text(&o));
    }
}

#[tokio::test]
async fn users_migrate_and_settings() {
    for b in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _keep) = database(b, dir.path()).await;
        let o = healthcity(dir.path(), &db, &["migrate"]);
        assert!(o.status.success(), "{}", text(&o));
        let add = Command::new(env!("CARGO_BIN_EXE_healthcity"))
            .current_dir(dir.path())
            .env("HEALTHCITY_DATABASE", &db)
            .env("HEALTHCITY_PASSWORD", "S3cret-pass")
            .args([
                "user",
                "add",
                "li.na",
                "--role",
                "cdc_analyst",
                "--display-name",
                "李娜",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let o = add.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let o = healthcity(dir.path(), &db, &["user", "list"]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("li.na"),
            "{}",
            text(&o)
        );
        let o = Command::new(env!("CARGO_BIN_EXE_healthcity"))
            .current_dir(dir.path())
            .env("HEALTHCITY_DATABASE", &db)
            .env("HEALTHCITY_PASSWORD", "short")
            .args(["user", "add", "x1x", "--role", "commission"])
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("password: must be at least 8 characters"),
            "{}",
            text(&o)
        );
        // Without HEALTHCITY_PASSWORD a one-time password is generated and printed.
        let o = healthcity(
            dir.path(),
            &db,
            &["user", "add", "wang", "--role", "commission"],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("one-time password"));
        let o = healthcity(dir.path(), &db, &["user", "add", "bad", "--role", "root"]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("unknown role"));
        // A district role without a district is refused.
        let o = healthcity(
            dir.path(),
            &db,
            &["user", "add", "dist", "--role", "district_bureau"],
        );
        assert!(!o.status.success(), "{}", text(&o));
        let o = healthcity(dir.path(), &db, &["user", "reset-password", "wang"]);
        assert!(String::from_utf8_lossy(&o.stdout).contains("one-time password of wang"));
        let o = healthcity(dir.path(), &db, &["user", "disable", "wang"]);
        assert!(o.status.success(), "{}", text(&o));
        let o = healthcity(dir.path(), &db, &["user", "list"]);
        let list = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            list.lines()
                .any(|l| l.starts_with("wang") && l.contains("disabled")),
            "{list}"
        );

        // Tokens: `create` prints the token alone; it is listed (never its secret) and revoked.
        let o = healthcity(
            dir.path(),
            &db,
            &[
                "token",
                "create",
                "--name",
                "pharmacy-feed",
                "--role",
                "cdc_analyst",
                "--expires-days",
                "7",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(out.lines().count(), 1, "{out}");
        let token = out.trim().to_owned();
        assert!(token.starts_with("hct_") && token.len() == 68, "{token}");
        let o = healthcity(dir.path(), &db, &["token", "list"]);
        let list = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            list.contains("pharmacy-feed") && list.contains("live") && !list.contains(&token[4..])
        );
        let o = healthcity(dir.path(), &db, &["token", "revoke", "pharmacy-feed"]);
        assert!(o.status.success(), "{}", text(&o));
        let o = healthcity(dir.path(), &db, &["token", "list"]);
        assert!(String::from_utf8_lossy(&o.stdout).contains("revoked"));
        let o = healthcity(dir.path(), &db, &["token", "revoke", "pharmacy-feed"]);
        assert!(!o.status.success());
        let o = healthcity(
            dir.path(),
            &db,
            &["token", "create", "--name", "x", "--role", "admin"],
        );
        assert!(!o.status.success());
    }
    // healthcity.toml in the working directory supplies the database when nothing else does.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("healthcity.toml"),
        "database = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_healthcity"))
        .current_dir(dir.path())
        .env_remove("HEALTHCITY_DATABASE")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("from-file.db").exists());
    let o = Command::new(env!("CARGO_BIN_EXE_healthcity"))
        .current_dir(dir.path())
        .env_remove("HEALTHCITY_DATABASE")
        .args(["--database", "mysql://x", "migrate"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

/// GET over a raw TCP connection (no HTTP client dependency needed for one request).
fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn demo_builds_a_small_city_and_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/demo.db", dir.path().display());
    let o = healthcity(
        dir.path(),
        &db,
        &["demo", "--scale", "0.0005", "--no-serve"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("built the demo city"), "{}", text(&o));
    assert!(out.contains("admin: one-time password"), "{}", text(&o));
    assert!(
        out.contains("otpauth://totp/HealthCity:admin"),
        "{}",
        text(&o)
    );

    // The primary-care indicators of the demo city, as the issue's CSV contract.
    let o = healthcity(
        dir.path(),
        &db,
        &["indicators", "--year", "2025", "--today", "2026-11-23"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("indicator,org_code,org_name,numerator,denominator,value")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let codes: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        codes,
        [
            "contract_rate",
            "key_population_contract_rate",
            "fulfilment_rate",
            "renewal_rate",
            "hypertension_standardised_rate",
            "hypertension_control_rate",
            "diabetes_standardised_rate",
            "diabetes_control_rate",
            "elderly_management_rate"
        ]
    );
    for r in &rows {
        assert_eq!(r[1], "440300", "{r:?}");
        let (n, d): (u64, u64) = (r[3].parse().unwrap(), r[4].parse().unwrap());
        assert!(d > 0 && n <= d, "{r:?}");
        let v: f64 = r[5].parse().unwrap();
        assert!((v - n as f64 / d as f64).abs() < 1e-4, "{r:?}");
    }
    let o = healthcity(
        dir.path(),
        &db,
        &[
            "indicators",
            "--year",
            "2025",
            "--level",
            "district",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by_district = json.as_array().unwrap();
    assert_eq!(
        by_district.len(),
        9 * 9,
        "nine indicators for nine districts"
    );
    let sum: u64 = by_district
        .iter()
        .filter(|r| r["indicator"] == "contract_rate")
        .map(|r| r["denominator"].as_u64().unwrap())
        .sum();
    assert_eq!(
        sum.to_string(),
        rows[0][4],
        "the districts add up to the city"
    );
    let o = healthcity(
        dir.path(),
        &db,
        &["indicators", "--year", "2025", "--org", "999999"],
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("org unit not found"),
        "{}",
        text(&o)
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_healthcity"))
        .current_dir(dir.path())
        .env("HEALTHCITY_DATABASE", &db)
        .args(["serve", "--listen", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready = None;
    while Instant::now() < deadline {
        if let Some(r) = http_get(&addr, "/readyz") {
            ready = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let login = http_get(&addr, "/login");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        ready.unwrap_or_default().starts_with("HTTP/1.1 200"),
        "server did not become ready"
    );
    let login = login.unwrap_or_default();
    assert!(
        login.starts_with("HTTP/1.1 200") && login.contains("lang=\"zh-CN\""),
        "{login}"
    );
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Numeric CSV cells agree when both are empty or within 1e-6 relative.
fn same_cell(ours: &str, theirs: &str) -> bool {
    match (ours.parse::<f64>(), theirs.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-9),
        _ => ours == theirs,
    }
}

#[test]
fn detect_matches_r_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "detect",
            "--method",
            "farrington-flexible",
            "--input",
            &data("salmonella_agona.input.csv"),
            "--from",
            "1995-01-16",
            "--to",
            "1995-12-18",
            "--param",
            "b=5",
            "--param",
            "w=3",
            "--params",
            "no_periods=10;weights_threshold=2.58;past_weeks_not_included=26;p_threshold_trend=1;threshold_method=nbplugin",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let ours = String::from_utf8_lossy(&o.stdout);
    let theirs =
        std::fs::read_to_string(data("salmonella_agona__ff_noufaily.expected.csv")).unwrap();
    assert_eq!(ours.lines().count(), theirs.lines().count(), "{ours}");
    for (a, b) in ours.lines().zip(theirs.lines()) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        assert_eq!(a.len(), b.len(), "{a:?} vs R {b:?}");
        assert!(
            a.iter().zip(&b).all(|(x, y)| same_cell(x, y)),
            "{a:?} vs R {b:?}"
        );
    }
    // The command needs no database: none was created.
    assert!(!dir.path().join("unused.db").exists());
}

#[test]
fn detect_reports_a_bad_series_and_runs_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("series,date,count\n");
    for day in 1..=28 {
        csv.push_str(&format!("good,2024-02-{day:02},{}\n", 3 + day % 4));
    }
    csv.push_str("short,2024-02-01,1\nshort,2024-02-02,2\n");
    csv.push_str("negative,2024-02-01,1\nnegative,2024-02-02,-4\n");
    std::fs::write(dir.path().join("in.csv"), csv).unwrap();
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "detect", "--method", "ears", "--input", "in.csv", "--output", "out.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("series short: ears needs"), "{err}");
    assert!(
        err.contains("series negative: line 33: count `-4` on 2024-02-02"),
        "{err}"
    );
    let out = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert!(
        out.starts_with("series,date,count,expected,upperbound,alarm\n"),
        "{out}"
    );
    assert!(out.lines().skip(1).all(|l| l.starts_with("good,")), "{out}");
    assert!(out.lines().count() > 10, "{out}");

    // Unknown parameters and methods are usage errors (exit 2) naming what is wrong.
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "detect",
            "--method",
            "ears",
            "--input",
            "in.csv",
            "--param",
            "alpah=0.1",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("method ears has no parameter alpah"));
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &["detect", "--method", "nope", "--input", "in.csv"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn rt_matches_epiestim_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "rt",
            "--input",
            &data("rt_Flu2009.input.csv"),
            "--mean-si",
            "2.6",
            "--std-si",
            "1.5",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let ours = String::from_utf8_lossy(&o.stdout);
    let theirs = std::fs::read_to_string(data("rt_Flu2009.expected.csv")).unwrap();
    assert_eq!(ours.lines().count(), theirs.lines().count());
    for (a, b) in ours.lines().zip(theirs.lines()) {
        assert!(
            a.split(',').zip(b.split(',')).all(|(x, y)| same_cell(x, y)),
            "{a} vs R {b}"
        );
    }
}

#[test]
fn scan_finds_a_planted_cluster_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut locations = String::from("id,x,y\n");
    for i in 0..10 {
        // On a line, one unit apart: L0's nearest neighbour is L1 alone.
        locations.push_str(&format!("L{i},{i},0\n"));
    }
    let mut cases = String::from("location,date,count\n");
    for day in 1..=28 {
        for i in 0..10 {
            // A steady background, and a burst in L0 and L1 over the last three days.
            let burst = if day >= 26 && i < 2 { 6 } else { 0 };
            cases.push_str(&format!(
                "L{i},2024-03-{day:02},{}\n",
                1 + (day + i) % 2 + burst
            ));
        }
    }
    std::fs::write(dir.path().join("loc.csv"), locations).unwrap();
    std::fs::write(dir.path().join("cases.csv"), cases).unwrap();
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "scan",
            "--input",
            "cases.csv",
            "--locations",
            "loc.csv",
            "--permutations",
            "199",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "rank,center,locations,radius,start,end,observed,expected,observed_over_expected,llr,p_value,recurrence_days"
        )
    );
    let best: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut members: Vec<&str> = best[2].split('|').collect();
    members.sort_unstable();
    assert_eq!(members, ["L0", "L1"], "{out}");
    assert_eq!((best[4], best[5]), ("2024-03-26", "2024-03-28"), "{out}");
    assert!(best[10].parse::<f64>().unwrap() <= 0.01, "{out}");

    // A case at an unknown location is an input error naming the line.
    std::fs::write(
        dir.path().join("bad.csv"),
        "location,date\nL0,2024-03-01\nL99,2024-03-02\n",
    )
    .unwrap();
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &["scan", "--input", "bad.csv", "--locations", "loc.csv"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("line 3, field location: `L99` is not in the locations file"),
        "{}",
        text(&o)
    );
}

#[test]
fn rt_takes_a_non_parametric_serial_interval_and_names_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let input = data("rt_Flu2009.input.csv");
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &["rt", "--input", &input, "--si-distr", "0,0.25,0.5,0.25"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .starts_with("t_start,t_end,mean,std,q025,median,q975\n2,8,")
    );
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &["rt", "--input", &input, "--si-distr", "0.5,0.5"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the serial interval distribution must give day 0 a weight of 0"),
        "{}",
        text(&o)
    );
}

#[test]
fn programs_evaluate_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("followups.csv");
    std::fs::write(
        &input,
        "patient_id,birth_date,visit_date,sbp,dbp,fpg,danger_sign,adverse_reaction,complication\n\
         d1,1960-03-02,2025-12-20,,,7.8,0,none,none\n\
         d1,1960-03-02,2026-01-03,,,8.1,0,,\n\
         d1,1960-03-02,2026-01-17,,,6.2,0,,\n\
         d2,1958-07-01,2026-02-10,185,100,6.0,0,,\n\
         d2,1958-07-01,2026-03-31,130,80,5.1,0,,\n\
         d3,1980-01-01,2026-02-10,,,3.6,0,,\n\
         d3,1980-01-01,2026-03-01,,,6.5,0,controlled,stable\n\
         d4,1980-01-01,2026-02-10,,,0,0,,\n",
    )
    .unwrap();
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "programs",
            "evaluate",
            "--program",
            "diabetes",
            "--input",
            input.to_str().unwrap(),
            "--today",
            "2026-11-23",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "a row was left out: {}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("line 9, field fpg"),
        "{}",
        text(&o)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "patient_id,visit_date,classification,action,next_due\n\
         d1,2025-12-20,unsatisfied,revisit_2w,2026-01-03\n\
         d1,2026-01-03,unsatisfied,refer,2026-01-17\n\
         d1,2026-01-17,satisfied,routine,2026-04-17\n\
         d2,2026-02-10,satisfied,urgent_refer,2026-02-24\n\
         d2,2026-03-31,satisfied,routine,2026-06-30\n\
         d3,2026-02-10,satisfied,urgent_refer,2026-02-24\n\
         d3,2026-03-01,adverse_reaction,revisit_2w,2026-03-15\n"
    );
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "programs",
            "evaluate",
            "--program",
            "asthma",
            "--input",
            input.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!dir.path().join("unused.db").exists(), "no database needed");
}

const VISITS_HEADER: &str = "record_id,institution_code,visit_time,community_code,age,sex,chief_complaint,diagnosis_codes,temperature\n";

#[test]
fn syndromes_classify_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let visits = format!(
        "{VISITS_HEADER}\
         v1,440305001,2026-03-02 08:10,440305001001,34,F,\"发热2天，最高39.2℃，伴咳嗽、咽痛\",,38.6\n\
         v2,440305001,2026-03-02 08:20,440305001001,5,M,\"腹泻3次/日，无发热\",A09.0,\n\
         v3,440305001,2026-03-02 08:25,440305001001,4,M,\"患儿手足口出疹，低热37.8\",B08.4,abc\n\
         v4,440305001,2026-03-02 08:30,440305001001,4,M,too few fields\n\
         v5,440305001,2026-03-02 08:40,440305001001,61,M,\"头痛伴颈项强直，喷射性呕吐\",,\n\
         v6,440305001,2026-03-02 08:50,440305001001,29,F,\"denies fever, productive cough x3d\",J20.9,36.9\n\
         v7,440305001,2026-03-02 09:00,440305001001,40,M,复诊,J101,\n\
         v8,440305001,2026-03-02 09:10,440305001001,33,F,\"fever with petechiae, bleeding gums\",,38.4\n"
    );
    std::fs::write(dir.path().join("visits.csv"), &visits).unwrap();
    let expected = "record_id,syndromes\n\
                    v1,fever|ili\n\
                    v2,gi\n\
                    v5,neuro\n\
                    v6,\n\
                    v7,fever|ili\n\
                    v8,fever|fever_haem\n";

    // To standard output: the bad rows are named with line and field, the rest classified.
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &["syndromes", "classify", "--input", "visits.csv"],
    );
    assert_eq!(o.status.code(), Some(1), "rows were left out: {}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("visits.csv: line 4, field temperature: `abc` is not a temperature in °C"),
        "{err}"
    );
    assert!(
        err.contains("visits.csv: line 5: 7 fields, but the header has 9"),
        "{err}"
    );
    assert!(err.contains("2 of 8 rows could not be read"), "{err}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), expected);

    // To a file, the same rows; nothing on standard output.
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &[
            "syndromes",
            "classify",
            "--input",
            "visits.csv",
            "--output",
            "out.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        expected
    );

    // A clean file exits 0; --explain says why.
    let clean: String = visits
        .lines()
        .filter(|l| !l.starts_with("v3,") && !l.starts_with("v4,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("clean.csv"), &clean).unwrap();
    let o = healthcity(
        dir.path(),
        "sqlite://unused.db",
        &["syndromes", "classify", "--input", "clean.csv", "--explain"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("record_id,syndromes,reasons\n"), "{out}");
    assert!(
        out.contains("v1,fever|ili,fever: measured 38.6°C; fever: stated 39.2°C; fever: term 发热; ili: term 咳嗽; ili: term 咽痛; ili: stated 39.2°C\n"),
        "{out}"
    );
    assert!(out.contains("v6,,\n"), "{out}");

    // The command needs no database: none was created.
    assert!(!dir.path().join("unused.db").exists());
}

#[test]
fn syndromes_classify_refuses_unusable_files_and_dictionaries() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["syndromes"];
        all.extend_from_slice(args);
        healthcity(dir.path(), "sqlite://unused.db", &all)
    };
    // A needed column missing, an empty file, a missing file: exit 2, no output written.
    std::fs::write(
        dir.path().join("nocol.csv"),
        "record_id,chief_complaint,diagnosis_codes\nv1,发热,\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.csv"), VISITS_HEADER).unwrap();
    for (file, message) in [
        ("nocol.csv", "the header has no `temperature` column"),
        ("empty.csv", "the file has no data rows"),
        ("absent.csv", "cannot read absent.csv"),
    ] {
        let o = run(&["classify", "--input", file, "--output", "out.csv"]);
        assert_eq!(o.status.code(), Some(2), "{file}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(message),
            "{file}: {}",
            text(&o)
        );
        assert!(!dir.path().join("out.csv").exists(), "{file}");
    }

    // The built-in dictionary, printed, is a dictionary a province can edit and load.
    let o = run(&["dictionary"]);
    assert!(o.status.success(), "{}", text(&o));
    let builtin = String::from_utf8(o.stdout).unwrap();
    assert!(builtin.contains("version = \"healthcity-2026.1\""));
    std::fs::write(
        dir.path().join("visits.csv"),
        format!("{VISITS_HEADER}v1,I1,2026-03-02 08:10,C1,34,F,鼻出血,,37.4\n"),
    )
    .unwrap();
    let province = builtin.replace("at_least = 37.5", "at_least = 37.3");
    std::fs::write(dir.path().join("province.toml"), province).unwrap();
    let o = run(&["classify", "--input", "visits.csv"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "record_id,syndromes\nv1,\n",
        "{}",
        text(&o)
    );
    let o = run(&[
        "classify",
        "--input",
        "visits.csv",
        "--dictionary",
        "province.toml",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "record_id,syndromes\nv1,fever|fever_haem\n",
        "{}",
        text(&o)
    );

    // A broken dictionary names the key at fault.
    std::fs::write(
        dir.path().join("bad.toml"),
        builtin.replace("\"R50\"", "\"R5O\""),
    )
    .unwrap();
    let o = run(&[
        "classify",
        "--input",
        "visits.csv",
        "--dictionary",
        "bad.toml",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "dictionary bad.toml: dictionary syndromes.fever.icd10: `R5O` is not an ICD-10 category or subdivision"
        ),
        "{}",
        text(&o)
    );
}

/// POST over a raw TCP connection; the status and the body, or `None` if the connection failed.
fn http_post(addr: &str, path: &str, token: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split(' ').nth(1)?.parse().ok()?;
    Some((status, out.split_once("\r\n\r\n")?.1.to_owned()))
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn start_server(dir: &Path, db: &str, addr: &str) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_healthcity"))
        .current_dir(dir)
        .env("HEALTHCITY_DATABASE", db)
        .env("HEALTHCITY_LOG", "warn")
        .args(["serve", "--listen", addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http_get(addr, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not become ready at {addr}");
}

/// Batch `k` of the stream: 100 new visits, and the last 30 of batch `k - 1` again (a sender
/// retrying what it is unsure of).
fn visit_batch(k: usize) -> (Vec<String>, String) {
    let start = if k == 0 { 0 } else { (k - 1) * 100 + 70 };
    let ids: Vec<String> = (start..k * 100 + 100).map(|i| format!("s{i}")).collect();
    let records: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let complaint = ["发热伴咳嗽", "腹泻", "头晕"][n % 3];
            format!(
                r#"{{"record_id":"{id}","institution_code":"H1","visit_time":"2026-01-19 08:{:02}","community_code":"440305001001","age":30,"sex":"F","chief_complaint":"{complaint}","temperature":38.5}}"#,
                n % 60
            )
        })
        .collect();
    (ids, format!("[{}]", records.join(",")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_stream_keeps_every_acknowledged_record_once() {
    for b in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _keep) = database(b, dir.path()).await;
        std::fs::write(dir.path().join("units.csv"), UNITS).unwrap();
        let o = healthcity(dir.path(), &db, &["import", "orgunits", "units.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::write(
            dir.path().join("inst.csv"),
            "code,name,kind,grade,community_code\nH1,南山医院,hospital,三级甲等,440305001001\n",
        )
        .unwrap();
        let o = healthcity(dir.path(), &db, &["import", "institutions", "inst.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        let o = healthcity(
            dir.path(),
            &db,
            &["token", "create", "--name", "his", "--role", "cdc_analyst"],
        );
        assert!(o.status.success(), "{}", text(&o));
        let token = String::from_utf8_lossy(&o.stdout).trim().to_owned();

        let addr = free_addr();
        let mut server = start_server(dir.path(), &db, &addr);
        // A sender streams batches until the server goes away; the main thread kills the
        // server (SIGKILL) once a few batches are acknowledged.
        let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<usize>::new()));
        let sender = {
            let (acked, addr, token) = (acked.clone(), addr.clone(), token.clone());
            std::thread::spawn(move || {
                for k in 0..10_000 {
                    let (_, body) = visit_batch(k);
                    match http_post(&addr, "/api/v1/feeds/visits", &token, &body) {
                        Some((200, _)) => acked.lock().unwrap().push(k),
                        Some((status, body)) => panic!("batch {k}: {status} {body}"),
                        None => return k,
                    }
                }
                10_000
            })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() < 8 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill().unwrap();
        server.wait().unwrap();
        let stopped_at = sender.join().unwrap();
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() >= 8,
            "{b:?}: only {} batches before the kill",
            acked.len()
        );

        // After a restart: every acknowledged record is there, and the counts are exactly the
        // sum over the stored records (nothing counted twice, nothing half-written).
        let mut server = start_server(dir.path(), &db, &addr);
        let store = hc_store::Store::connect(&db).await.unwrap();
        let stored = store.feed_records("visits").await.unwrap();
        let ids: std::collections::HashSet<&str> =
            stored.iter().map(|r| r.record_id.as_str()).collect();
        assert_eq!(ids.len(), stored.len(), "{b:?}: a record stored twice");
        for k in &acked {
            for id in visit_batch(*k).0 {
                assert!(ids.contains(id.as_str()), "{b:?}: acknowledged {id} lost");
            }
        }
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 19).unwrap();
        let counts = store.feed_counts("visits", day, day).await.unwrap();
        let count = |code: &str| {
            counts
                .iter()
                .filter(|c| c.code == code)
                .map(|c| c.value)
                .sum::<i64>()
        };
        assert_eq!(count("*"), stored.len() as i64, "{b:?}");
        let fevers = stored
            .iter()
            .filter(|r| r.contrib.contains("fever="))
            .count();
        assert_eq!(count("fever"), fevers as i64, "{b:?}");
        // The sender resends what it was not told about: all of it lands, once.
        for k in 0..=stopped_at.min(acked.len() + 2) {
            let (_, body) = visit_batch(k);
            let (status, answer) = http_post(&addr, "/api/v1/feeds/visits", &token, &body).unwrap();
            assert_eq!(status, 200, "{answer}");
        }
        let stored = store.feed_records("visits").await.unwrap();
        let counts = store.feed_counts("visits", day, day).await.unwrap();
        let total: i64 = counts
            .iter()
            .filter(|c| c.code == "*")
            .map(|c| c.value)
            .sum();
        assert_eq!(total, stored.len() as i64, "{b:?}");
        server.kill().unwrap();
        server.wait().unwrap();
        store.close().await;
    }
}
