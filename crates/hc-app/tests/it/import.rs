//! Bulk import: counts, rejects with line and field, idempotence, bounded batches.

use hc_app::import::{CollectRejects, ImportError, ImportKind, ImportOptions, ImportReport};
use hc_core::idcard::compose;
use hc_core::model::Sex;
use hc_store::testkit::{backends, fresh};

use crate::{ORGUNITS, import, today};

fn id(seq: u32, sex: Sex, birth: &str) -> String {
    compose(
        440305,
        chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap(),
        seq,
        sex,
    )
}

fn report(
    rows: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    rejected: u64,
) -> (u64, u64, u64, u64, u64) {
    (rows, inserted, updated, unchanged, rejected)
}

/// (line, field, reason) of each rejected row.
fn parse_rejects(text: &str) -> Vec<(u64, String, String)> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].parse().unwrap(), r[1].to_owned(), r[2].to_owned()))
        .collect()
}

fn counts(r: &ImportReport) -> (u64, u64, u64, u64, u64) {
    (r.rows, r.inserted, r.updated, r.unchanged, r.rejected)
}

#[tokio::test]
async fn residents_import_rejects_bad_rows_by_line_and_field_and_is_idempotent() {
    let good1 = id(1, Sex::M, "1980-05-01");
    let good2 = id(2, Sex::F, "1990-07-15");
    let bad_check = {
        let mut s = id(3, Sex::M, "1970-01-01");
        let last = s.pop().unwrap();
        s.push(if last == '0' { '1' } else { '0' });
        s
    };
    let mismatch = id(5, Sex::M, "1975-03-03");
    // A BOM, an unknown column, and rows exercising each rule.
    let csv = format!(
        "\u{feff}id_type,id_number,name,sex,birth_date,phone,community_code,extra\n\
resident_id,{good1},李明,M,1980-05-01,13800138000,440305001001,x\n\
resident_id,{good2},王芳,,,,440305001002,\n\
resident_id,{bad_check},张三,M,1970-01-01,,440305001001,\n\
resident_id,{mismatch},赵四,F,1975-03-04,,440305001001,\n\
resident_id,{good2},王芳,F,1990-07-15,,440305001002,\n\
passport,E12345678,John Smith,M,1980-01-01,,440399001001,\n\
passport,E7654321,,M,1980-01-01,,440305001001\n\
hk_macao_permit,H12345678,陈大文,M,1988-08-08,+852 5555 1234,440305001001,\n"
    );
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let (units, _) = import(&db.store, ImportKind::OrgUnits, ORGUNITS, 100).await;
        assert_eq!(counts(&units), report(5, 5, 0, 0, 0), "{b:?}");

        let (r, rejects) = import(&db.store, ImportKind::Residents, &csv, 3).await;
        assert_eq!(counts(&r), report(8, 3, 0, 0, 5), "{b:?}: {rejects}");
        assert!(rejects.starts_with(
            "line,field,reason,id_type,id_number,name,sex,birth_date,phone,community_code,extra\n"
        ));
        let rows = parse_rejects(&rejects);
        let fields: Vec<(u64, &str)> = rows.iter().map(|(l, f, _)| (*l, f.as_str())).collect();
        assert_eq!(
            fields,
            [
                (4, "id_number"),
                (5, "birth_date,sex"),
                (6, "id_number"),
                (7, "community_code"),
                (8, "row,name")
            ],
            "{b:?}"
        );
        assert!(
            rows[0].2.starts_with("id_number: check digit is"),
            "{}",
            rows[0].2
        );
        assert!(rows[1].2.starts_with("birth_date: 1975-03-04 disagrees with the identity number, which encodes 1975-03-03; sex: F"), "{}", rows[1].2);
        assert_eq!(
            rows[2].2, "id_number: duplicates an earlier line of this file",
            "line 3, in an earlier batch"
        );
        assert_eq!(rows[3].2, "community_code: unknown community 440399001001");
        assert_eq!(
            rows[4].2,
            "row: has 7 fields, the header has 8; name: is required"
        );

        // Sex and birth date were taken from the ID number when absent.
        let wang = db.store.residents_by_identity(&good2).await.unwrap();
        assert_eq!(
            (wang[0].record.sex, wang[0].record.birth_date.to_string()),
            (Sex::F, "1990-07-15".to_owned())
        );

        // The same file again changes nothing.
        let (again, _) = import(&db.store, ImportKind::Residents, &csv, 3).await;
        assert_eq!(counts(&again), report(8, 0, 0, 3, 5), "{b:?}");
        assert_eq!(db.store.totals().await.unwrap().residents, 3);

        // A changed row is an update, stored once.
        let changed = format!(
            "id_type,id_number,name,community_code\nresident_id,{good1},李明明,440305001002\n"
        );
        let (upd, _) = import(&db.store, ImportKind::Residents, &changed, 10).await;
        assert_eq!(counts(&upd), report(1, 0, 1, 0, 0), "{b:?}");
        let li = db.store.residents_by_identity(&good1).await.unwrap();
        assert_eq!(
            (
                li[0].record.name.as_str(),
                li[0].record.community_code.as_str()
            ),
            ("李明明", "440305001002")
        );

        // The reject file can be corrected and imported as it is: extra columns are ignored.
        let fixed = rejects.replace("440399001001", "440305001001");
        let (refix, _) = import(&db.store, ImportKind::Residents, &fixed, 10).await;
        assert_eq!(refix.inserted, 1, "{b:?}: the passport row now lands");
    }
}

#[tokio::test]
async fn duplicates_across_batches_are_rejected() {
    let a = id(1, Sex::M, "1980-05-01");
    let csv = format!(
        "id_type,id_number,name,community_code\nresident_id,{a},甲,440305001001\nresident_id,{},乙,440305001001\nresident_id,{a},丙,440305001001\n",
        id(3, Sex::M, "1981-01-01")
    );
    for b in backends() {
        let db = fresh(b).await.unwrap();
        import(&db.store, ImportKind::OrgUnits, ORGUNITS, 100).await;
        let (r, rejects) = import(&db.store, ImportKind::Residents, &csv, 1).await;
        assert_eq!(counts(&r), report(3, 2, 0, 0, 1), "{b:?}");
        assert_eq!(
            parse_rejects(&rejects),
            [(
                4,
                "id_number".to_owned(),
                "id_number: duplicates an earlier line of this file".to_owned()
            )]
        );
        assert_eq!(
            db.store.residents_by_identity(&a).await.unwrap()[0]
                .record
                .name,
            "甲"
        );
    }
}

#[tokio::test]
async fn malformed_rows_and_files() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        import(&db.store, ImportKind::OrgUnits, ORGUNITS, 100).await;
        // A short row, a row with invalid UTF-8, a quoted field with a comma and newline.
        let mut bytes = b"code,name,kind,grade,community_code,beds,fever_clinic\n".to_vec();
        bytes.extend_from_slice(b"H0,\"Hospital, Nanshan\",hospital,3a,440305001001,800,1\n");
        bytes.extend_from_slice(b"H1,\"Two\nlines\",hospital,3a,440305001001,800,1\n");
        bytes.extend_from_slice(b"H2,short\n");
        bytes.extend_from_slice(b"H3,\xff\xfe,clinic,,440305001001,0,0\n");
        bytes.extend_from_slice("C1,社康,chc,,440305001001,,\n".as_bytes());
        let mut sink = CollectRejects {
            items: Vec::new(),
            limit: 10,
        };
        let mut opts = ImportOptions::new("t");
        opts.today = today();
        let r = hc_app::import::import(
            &db.store,
            ImportKind::Institutions,
            std::io::Cursor::new(bytes),
            &opts,
            &mut sink,
            &|_| {},
        )
        .await
        .unwrap();
        assert_eq!(counts(&r), report(5, 2, 0, 0, 3), "{b:?}");
        let got: Vec<(u64, &str)> = sink
            .items
            .iter()
            .map(|r| (r.line, r.field.as_str()))
            .collect();
        assert_eq!(
            got,
            [(3, "name"), (5, "row,kind,community_code"), (6, "name")],
            "{b:?}: {:?}",
            sink.items
        );
        assert_eq!(
            db.store
                .institution("H0", &hc_store::Scope::city())
                .await
                .unwrap()
                .record
                .name,
            "Hospital, Nanshan"
        );

        // A header without required columns is a file-level error.
        let err = hc_app::import::import(
            &db.store,
            ImportKind::Residents,
            std::io::Cursor::new(b"name,foo\nx,y\n".to_vec()),
            &opts,
            &mut sink,
            &|_| {},
        )
        .await;
        match err {
            Err(ImportError::MissingColumns { missing, .. }) => {
                assert_eq!(missing, ["id_type", "id_number", "community_code"])
            }
            other => panic!("{other:?}"),
        }
        // An empty file likewise.
        let err = hc_app::import::import(
            &db.store,
            ImportKind::Residents,
            std::io::Cursor::new(Vec::new()),
            &opts,
            &mut sink,
            &|_| {},
        )
        .await;
        assert!(matches!(err, Err(ImportError::MissingColumns { .. })));
    }
}

#[tokio::test]
async fn orgunits_and_institutions_resolve_references_within_the_file() {
    let units = "code,name,parent_code,level\n440300,深圳市,440000,city\n440305001,南头街道,440305,street\n440305,南山区,440300,district\n440305001001,南头社区,440305001,community\n440305,重复,440300,district\n";
    let insts = "code,name,kind,grade,community_code,group_code,licence_status,beds\n\
C1,社康,chc,,440305001001,H1,valid,0\n\
H1,医院,hospital,3a,440305001001,,valid,900\n\
C2,社康二,chs,,440305001001,H1,revoked,0\n\
C3,社康三,chs,,440305001001,H9,valid,0\n";
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let (r, rejects) = import(&db.store, ImportKind::OrgUnits, units, 100).await;
        // The street comes before its district: rejected; the duplicate district too.
        // ...and so is the community under that street.
        assert_eq!(counts(&r), report(5, 2, 0, 0, 3), "{b:?}: {rejects}");
        assert!(
            rejects.contains("3,parent_code,parent_code: unknown district 440305"),
            "{rejects}"
        );
        assert!(
            rejects.contains("5,parent_code,parent_code: unknown street 440305001"),
            "{rejects}"
        );
        assert!(
            rejects.contains("6,code,code: duplicates line 4 of this file"),
            "{rejects}"
        );
        let (r, _) = import(&db.store, ImportKind::OrgUnits, units, 100).await;
        assert_eq!(
            counts(&r),
            report(5, 2, 0, 2, 1),
            "{b:?}: the street now finds its district"
        );
        let (r, rejects) = import(&db.store, ImportKind::Institutions, insts, 100).await;
        assert_eq!(counts(&r), report(4, 2, 0, 0, 2), "{b:?}: {rejects}");
        assert!(
            rejects.contains("2,group_code,"),
            "lead comes later: {rejects}"
        );
        assert!(rejects.contains("5,group_code,"), "unknown lead: {rejects}");
        assert_eq!(
            db.store
                .institution("C2", &hc_store::Scope::city())
                .await
                .unwrap()
                .record
                .group_code
                .as_deref(),
            Some("H1")
        );
    }
}

#[tokio::test]
async fn practitioners_need_a_registered_institution() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        import(&db.store, ImportKind::OrgUnits, ORGUNITS, 100).await;
        import(
            &db.store,
            ImportKind::Institutions,
            "code,name,kind,community_code\nC1,社康,chc,440305001001\n",
            100,
        )
        .await;
        let csv = format!(
            "id_type,id_number,name,kind,institution_code,licence_no\nresident_id,{},刘医生,gp,C1,110440300001\nresident_id,{},孙护士,nurse,X9,\nresident_id,{},钱,surgeon,C1,\n",
            id(7, Sex::F, "1985-01-01"),
            id(9, Sex::F, "1986-01-01"),
            id(11, Sex::M, "1987-01-01")
        );
        let (r, rejects) = import(&db.store, ImportKind::Practitioners, &csv, 100).await;
        assert_eq!(counts(&r), report(3, 1, 0, 0, 2), "{b:?}: {rejects}");
        assert!(
            rejects.contains("3,institution_code,institution_code: unknown institution X9"),
            "{rejects}"
        );
        assert!(
            rejects.contains("4,kind,\"kind: unknown value \"\"surgeon\"\""),
            "{rejects}"
        );
    }
}
