//! The storage conformance suite: every test runs on SQLite, and on PostgreSQL when
//! `HEALTHCITY_TEST_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use hc_core::model::*;
use hc_store::testkit::{backends, fresh};
use hc_store::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn unit(code: &str, name: &str, parent: Option<&str>, level: OrgLevel) -> OrgUnit {
    OrgUnit {
        code: code.into(),
        name: name.into(),
        parent_code: parent.map(Into::into),
        level,
        valid_from: None,
        valid_to: None,
    }
}

async fn seed(store: &Store) {
    store
        .insert_orgunits(&[
            unit("440300", "深圳市", Some("440000"), OrgLevel::City),
            unit("440305", "南山区", Some("440300"), OrgLevel::District),
            unit("440306", "宝安区", Some("440300"), OrgLevel::District),
            unit("440305001", "南头街道", Some("440305"), OrgLevel::Street),
            unit("440306001", "新安街道", Some("440306"), OrgLevel::Street),
            unit(
                "440305001001",
                "南头社区",
                Some("440305001"),
                OrgLevel::Community,
            ),
            unit(
                "440306001001",
                "新安社区",
                Some("440306001"),
                OrgLevel::Community,
            ),
        ])
        .await
        .unwrap();
    store
        .insert_institutions(&[inst("H1", InstitutionKind::Hospital, "440305001001", 800)])
        .await
        .unwrap();
    store
        .insert_institutions(&[inst("C1", InstitutionKind::Chc, "440306001001", 0)])
        .await
        .unwrap();
}

fn inst(code: &str, kind: InstitutionKind, community: &str, beds: u32) -> Institution {
    Institution {
        code: code.into(),
        name: format!("机构{code}"),
        kind,
        grade: (kind == InstitutionKind::Hospital).then_some(HospitalGrade::TertiaryA),
        community_code: community.into(),
        group_code: None,
        licence_no: Some("PDY-1".into()),
        licence_status: LicenceStatus::Valid,
        beds,
        negative_pressure_rooms: 2,
        fever_clinic: kind == InstitutionKind::Hospital,
    }
}

fn resident(n: u32, community: &str, sex: Sex) -> Resident {
    let birth = d("1980-01-01") + chrono::Days::new(u64::from(n));
    Resident {
        id_type: IdType::ResidentId,
        id_number: hc_core::idcard::compose(440305, birth, n, sex),
        name: format!("居民{n}"),
        sex,
        birth_date: birth,
        phone: Some("13800000000".into()),
        community_code: community.into(),
        residence: Residence::Registered,
    }
}

#[tokio::test]
async fn registry_round_trips_and_filters() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        seed(s).await;
        let rs: Vec<Resident> = (0..30)
            .map(|n| {
                resident(
                    n,
                    if n % 3 == 0 {
                        "440306001001"
                    } else {
                        "440305001001"
                    },
                    if n % 2 == 0 { Sex::F } else { Sex::M },
                )
            })
            .collect();
        let out = s.write_batch(&rs, &[], Some(7)).await.unwrap();
        assert_eq!(
            out,
            BatchOutcome {
                inserted: 30,
                updated: 0
            },
            "{b:?}"
        );

        let totals = s.totals().await.unwrap();
        assert_eq!(
            totals,
            Totals {
                orgunits: 7,
                institutions: 2,
                practitioners: 0,
                residents: 30
            }
        );

        // Subtree filter and cursor pagination visit every match exactly once.
        let filter = ResidentFilter {
            under: Some("440305".into()),
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .residents(&filter, Page { after, limit: 7 }, &hc_store::Scope::city())
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|r| r.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 20, "{b:?}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]));

        let women = s
            .residents(
                &ResidentFilter {
                    sex: Some(Sex::F),
                    name: Some("居民1".into()),
                    ..Default::default()
                },
                Page {
                    after: None,
                    limit: 100,
                },
                &hc_store::Scope::city(),
            )
            .await
            .unwrap();
        assert_eq!(
            women
                .items
                .iter()
                .map(|r| r.record.name.as_str())
                .collect::<Vec<_>>(),
            ["居民10", "居民12", "居民14", "居民16", "居民18"]
        );

        let one = s.residents_by_identity(&rs[4].id_number).await.unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].record, rs[4], "{b:?}");

        // Existing lookup and update by id.
        let keys: Vec<&str> = rs.iter().take(3).map(|r| r.id_number.as_str()).collect();
        let existing = s.existing::<Resident>(&keys).await.unwrap();
        assert_eq!(existing.len(), 3);
        assert!(existing.iter().all(|e| e.import_id == Some(7)));
        let mut changed = existing[0].stored.record.clone();
        changed.name = "改名".into();
        let out = s
            .write_batch(&[], &[(existing[0].stored.id, &changed)], Some(8))
            .await
            .unwrap();
        assert_eq!(out.updated, 1);
        assert_eq!(
            s.resident(existing[0].stored.id, &hc_store::Scope::city(), None)
                .await
                .unwrap()
                .record
                .name,
            "改名"
        );

        // Duplicate identity is a conflict, and nothing of the batch is kept.
        let dup = vec![resident(100, "440305001001", Sex::M), rs[0].clone()];
        assert!(
            matches!(
                s.write_batch(&dup, &[], None).await,
                Err(StoreError::Conflict { .. })
            ),
            "{b:?}"
        );
        assert_eq!(s.totals().await.unwrap().residents, 30);

        // An unknown group lead is refused by the foreign key (residents' communities are
        // checked by hc-app instead; see the import and registry tests there).
        let mut orphan = inst("H9", InstitutionKind::Hospital, "440305001001", 1);
        orphan.group_code = Some("NOPE".into());
        assert!(
            matches!(
                s.insert_institutions(&[orphan]).await,
                Err(StoreError::Conflict { .. })
            ),
            "{b:?}"
        );

        // Tree counts.
        let districts = s
            .orgunit_children(Some("440300"), None, &hc_store::Scope::city())
            .await
            .unwrap();
        let counts: Vec<(&str, i64, i64, i64)> = districts
            .iter()
            .map(|c| {
                (
                    c.unit.record.code.as_str(),
                    c.residents,
                    c.institutions,
                    c.beds,
                )
            })
            .collect();
        assert_eq!(
            counts,
            [("440305", 20, 1, 800), ("440306", 10, 1, 0)],
            "{b:?}"
        );
        let cities = s
            .orgunit_children(None, None, &hc_store::Scope::city())
            .await
            .unwrap();
        assert_eq!((cities[0].residents, cities[0].institutions), (30, 2));

        let pyramid = s
            .resident_pyramid(None, d("2026-01-01"), &hc_store::Scope::city())
            .await
            .unwrap();
        assert_eq!(pyramid.iter().map(|b| b.male + b.female).sum::<i64>(), 30);
        assert_eq!(
            pyramid[9].male + pyramid[9].female,
            30,
            "all are 45-49 in 2026"
        );

        let kinds = s
            .institution_summary(Some("440305"), &hc_store::Scope::city())
            .await
            .unwrap();
        assert_eq!(kinds.len(), 1);
        assert_eq!(
            (kinds[0].kind, kinds[0].beds, kinds[0].fever_clinics),
            (InstitutionKind::Hospital, 800, 1)
        );

        let hosp = s
            .institutions(
                &InstitutionFilter {
                    fever_clinic: Some(true),
                    name: Some("H".into()),
                    ..Default::default()
                },
                Page {
                    after: None,
                    limit: 10,
                },
                &hc_store::Scope::city(),
            )
            .await
            .unwrap();
        assert_eq!(hosp.items.len(), 1);
        assert_eq!(
            hosp.items[0].record,
            inst("H1", InstitutionKind::Hospital, "440305001001", 800)
        );

        let streets = s
            .orgunits(
                &OrgUnitFilter {
                    level: Some(OrgLevel::Street),
                    under: Some("440306".into()),
                    ..Default::default()
                },
                Page {
                    after: None,
                    limit: 10,
                },
                &hc_store::Scope::city(),
            )
            .await
            .unwrap();
        assert_eq!(streets.items.len(), 1);
        assert_eq!(streets.items[0].record.name, "新安街道");
    }
}

#[tokio::test]
async fn validity_interval_filters_org_units() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        let mut old = unit("440300", "深圳市", None, OrgLevel::City);
        old.valid_to = Some(d("2016-12-31"));
        old.code = "440399".into();
        let mut new = unit("440300", "深圳市", None, OrgLevel::City);
        new.valid_from = Some(d("2017-01-01"));
        s.insert_orgunits(&[old, new]).await.unwrap();
        let at = |date: &str| {
            let f = OrgUnitFilter {
                as_of: Some(d(date)),
                ..Default::default()
            };
            async move {
                s.orgunits(
                    &f,
                    Page {
                        after: None,
                        limit: 10,
                    },
                    &hc_store::Scope::city(),
                )
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|u| u.record.code)
                .collect::<Vec<_>>()
            }
        };
        assert_eq!(at("2010-05-01").await, ["440399"], "{b:?}");
        assert_eq!(at("2020-05-01").await, ["440300"], "{b:?}");
    }
}

fn new_user(name: &str) -> hc_store::NewUser<'_> {
    hc_store::NewUser {
        username: name,
        display_name: "管理员",
        password_hash: "$argon2id$x",
        role: "admin",
        scope_orgunit: None,
        scope_institution: None,
        resident_id: None,
        practitioner_id: None,
        totp_secret: None,
        must_change_password: false,
    }
}

#[tokio::test]
async fn accounts_and_sessions() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        let id = s.create_user(&new_user("admin")).await.unwrap();
        assert!(matches!(
            s.create_user(&new_user("admin")).await,
            Err(StoreError::Conflict { .. })
        ));
        s.create_session("tok", id, 3600, Some("10.0.0.1"))
            .await
            .unwrap();
        assert_eq!(s.session("tok").await.unwrap().user.username, "admin");
        s.set_user_disabled("admin", true).await.unwrap();
        assert!(
            matches!(s.session("tok").await, Err(StoreError::NotFound)),
            "{b:?}"
        );
        s.create_session("expired", id, -10, None).await.unwrap();
        s.set_user_disabled("admin", false).await.unwrap();
        assert!(matches!(
            s.session("expired").await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.users().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_audit_trail_is_append_only_and_queryable() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        for (actor, action, resident) in [
            ("a", "read", Some(7)),
            ("b", "login", None),
            ("a", "export", Some(8)),
        ] {
            s.audit(hc_store::AuditEvent {
                actor: actor.into(),
                actor_kind: "user",
                action,
                entity: "resident",
                resident_id: resident,
                outcome: "ok",
                flagged: action == "export",
                ..Default::default()
            })
            .await
            .unwrap();
        }
        let all = s
            .audit_events(&hc_store::AuditFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["export", "login", "read"]
        );
        let by_a = s
            .audit_events(&hc_store::AuditFilter {
                actor: Some("a".into()),
                resident_id: Some(7),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(by_a.len(), 1);
        // Neither UPDATE nor DELETE gets through, whatever the statement.
        let (upd, del) = match s.raw_execute("UPDATE audit_events SET actor = 'x'").await {
            Err(_) => (
                true,
                s.raw_execute("DELETE FROM audit_events").await.is_err(),
            ),
            Ok(()) => (false, false),
        };
        assert!(upd && del, "{b:?}: the trail could be changed");
        assert_eq!(
            s.audit_events(&hc_store::AuditFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
            3
        );
        // Reviews: only of flagged events, once.
        let flagged = all[0].id;
        assert!(matches!(
            s.review_audit(all[1].id, "aud", "ok").await,
            Err(StoreError::NotFound)
        ));
        s.review_audit(flagged, "aud", "checked").await.unwrap();
        assert!(matches!(
            s.review_audit(flagged, "aud", "again").await,
            Err(StoreError::Conflict { .. })
        ));
        let unreviewed = s
            .audit_events(&hc_store::AuditFilter {
                unreviewed: true,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(unreviewed.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identity_lookups_each_get_their_own_rows() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        seed(s).await;
        let rs: Vec<Resident> = (0..40)
            .map(|n| resident(n, "440305001001", if n % 2 == 0 { Sex::F } else { Sex::M }))
            .collect();
        s.write_batch(&rs, &[], None).await.unwrap();
        // 200 lookups at once, a quarter of them for numbers nobody holds: the coalescer
        // batches them, and every caller must still get exactly its own person.
        let mut tasks = Vec::new();
        for i in 0..200usize {
            let store = s.clone();
            let (number, expect) = if i % 4 == 3 {
                (format!("44030519000101{:03}X", i % 1000), None)
            } else {
                let r = &rs[i % rs.len()];
                (r.id_number.clone(), Some(r.name.clone()))
            };
            tasks.push(tokio::spawn(async move {
                (store.residents_by_identity(&number).await.unwrap(), expect)
            }));
        }
        for t in tasks {
            let (found, expect) = t.await.unwrap();
            match expect {
                Some(name) => {
                    assert_eq!(found.len(), 1, "{b:?}");
                    assert_eq!(found[0].record.name, name, "{b:?}");
                }
                None => assert!(found.is_empty(), "{b:?}"),
            }
        }
    }
}

fn visit(id: u32, day: &str, community: &str, contrib: &str) -> FeedRecord {
    FeedRecord {
        source_code: "H1".into(),
        record_id: format!("v{id}"),
        day: d(day),
        community_code: community.into(),
        contrib: contrib.into(),
        denom: 1,
        fields: serde_json::json!({ "chief_complaint": format!("发热 {id}"), "age": id }),
        version: "test-1".into(),
    }
}

/// The counts as the sum over the stored records, to compare with what hc-store kept.
fn recount(records: &[FeedRecord]) -> Vec<(String, String, NaiveDate, i64)> {
    let mut cells = std::collections::BTreeMap::new();
    for r in records {
        for (code, v) in parse_contrib(&r.contrib).unwrap() {
            *cells
                .entry((code.to_owned(), r.community_code.clone(), r.day))
                .or_insert(0) += v;
        }
        *cells
            .entry((DENOMINATOR.to_owned(), r.community_code.clone(), r.day))
            .or_insert(0) += r.denom;
    }
    cells
        .into_iter()
        .map(|((c, k, d), v)| (c, k, d, v))
        .collect()
}

fn kept(counts: Vec<DayCount>) -> Vec<(String, String, NaiveDate, i64)> {
    counts
        .into_iter()
        .filter(|c| c.value != 0)
        .map(|c| (c.code, c.community_code, c.day, c.value))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_records_are_stored_once_and_their_counts_follow_them() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let s = &db.store;
        let (from, to) = (d("2026-01-01"), d("2026-01-31"));
        let first: Vec<_> = (0..50)
            .map(|i| {
                let contrib = if i % 3 == 0 { "fever=1|ili=1" } else { "" };
                visit(i, &format!("2026-01-{:02}", 1 + i % 5), "C1", contrib)
            })
            .collect();
        let out = s.upsert_feed("visits", &first).await.unwrap();
        assert_eq!(
            (out.inserted, out.updated, out.unchanged),
            (50, 0, 0),
            "{b:?}"
        );
        // The same batch again changes nothing.
        let out = s.upsert_feed("visits", &first).await.unwrap();
        assert_eq!(
            (out.inserted, out.updated, out.unchanged),
            (0, 0, 50),
            "{b:?}"
        );
        // Corrections: a visit moves community and day, another loses its syndromes; one new.
        let mut second = vec![
            visit(0, "2026-01-20", "C2", "gi=1"),
            visit(3, "2026-01-04", "C1", ""),
            visit(99, "2026-01-04", "C1", "rash=1"),
        ];
        second[0].fields = serde_json::json!({ "chief_complaint": "腹泻", "age": 0 });
        let out = s.upsert_feed("visits", &second).await.unwrap();
        assert_eq!(
            (out.inserted, out.updated, out.unchanged),
            (1, 2, 0),
            "{b:?}"
        );
        let records = s.feed_records("visits").await.unwrap();
        assert_eq!(records.len(), 51, "{b:?}");
        let v0 = records.iter().find(|r| r.record_id == "v0").unwrap();
        assert_eq!(
            (v0.community_code.as_str(), v0.contrib.as_str()),
            ("C2", "gi=1")
        );
        assert_eq!(v0.fields["chief_complaint"], "腹泻", "{b:?}");
        assert_eq!(
            kept(s.feed_counts("visits", from, to).await.unwrap()),
            recount(&records),
            "{b:?}"
        );
        // Another feed's counts are its own.
        assert!(s.feed_counts("cases", from, to).await.unwrap().is_empty());

        // Eight writers at once send overlapping batches of the same new records: each
        // record is stored once and counted once.
        let batches: Vec<Vec<FeedRecord>> = (0..8)
            .map(|w| {
                (0..40)
                    .map(|i| visit(1000 + (w * 20 + i) % 100, "2026-01-10", "C3", "fever=1"))
                    .collect()
            })
            .collect();
        let tasks: Vec<_> = batches
            .into_iter()
            .map(|batch| {
                let s = s.clone();
                tokio::spawn(async move { s.upsert_feed("visits", &batch).await.unwrap() })
            })
            .collect();
        let mut inserted = 0;
        for t in tasks {
            inserted += t.await.unwrap().inserted;
        }
        assert_eq!(inserted, 100, "{b:?}");
        let records = s.feed_records("visits").await.unwrap();
        assert_eq!(records.len(), 151, "{b:?}");
        assert_eq!(
            kept(s.feed_counts("visits", from, to).await.unwrap()),
            recount(&records),
            "{b:?}"
        );
    }
}

fn shape(code: &str, x: f64, source: &str) -> ShapeRow {
    ShapeRow {
        code: code.into(),
        geometry: format!(
            r#"{{"type":"Polygon","coordinates":[[[{x},22.5],[{},22.5],[{x},22.6],[{x},22.5]]]}}"#,
            x + 0.1
        ),
        x: x + 1.0 / 30.0,
        y: 22.533333333333335,
        source: source.into(),
    }
}

#[tokio::test]
async fn shapes_are_replaced_whole_and_read_back() {
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let store = &db.store;
        assert!(store.shapes().await.unwrap().is_empty());
        // More rows than one insert statement takes.
        let first: Vec<ShapeRow> = (0..1203)
            .map(|i| {
                shape(
                    &format!("440305{i:06}"),
                    113.8 + f64::from(i) * 1e-4,
                    "demo",
                )
            })
            .collect();
        store.put_shapes(&first).await.unwrap();
        assert_eq!(store.shapes().await.unwrap(), first, "{b:?}");

        // A code given twice: refused, and the stored set is untouched.
        let twice = [
            shape("440306", 114.0, "a.geojson"),
            shape("440306", 114.1, "a.geojson"),
        ];
        let err = store.put_shapes(&twice).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{b:?}: {err}");
        assert_eq!(store.shapes().await.unwrap().len(), first.len(), "{b:?}");

        // A new set replaces the old one whole.
        let second = [
            shape("440304", 114.05, "futian.geojson"),
            shape("440303", 114.12, "futian.geojson"),
        ];
        store.put_shapes(&second).await.unwrap();
        let got = store.shapes().await.unwrap();
        assert_eq!(got, [second[1].clone(), second[0].clone()], "{b:?}");
        store.put_shapes(&[]).await.unwrap();
        assert!(store.shapes().await.unwrap().is_empty());
    }
}
